"""Progress against the plan: the gap of each target's share to the plan year in force, and
the places furthest behind it. Pure: small frames in, frames and text out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.store.privacy import MIN_GROUP
from dashboard.views.tables import with_secondary
from domain.i18n import format_percent, t
from domain.thai_text import sort_key


@dataclass(frozen=True)
class Gap:
    share: float | None  # share of assessed households at or above the target now (0-1)
    plan_year: int | None  # fiscal year (BE) of the plan in force
    planned: float | None  # the plan's share for that year (0-1)
    baseline: float | None  # the same households' share at baseline (0-1)

    @property
    def points(self) -> float | None:
        """Share minus plan, in percentage points (negative: behind the plan)."""
        if self.share is None or self.planned is None:
            return None
        return round((self.share - self.planned) * 100, 1)

    @property
    def since_baseline(self) -> float | None:
        if self.share is None or self.baseline is None:
            return None
        return round((self.share - self.baseline) * 100, 1)


def format_share(share: float | None) -> str:
    return format_percent(share)


def gap_delta(gap: Gap, lang: str) -> str | None:
    """The card's main delta: points to the plan year's share, e.g. ``-4.0 จุด จากแผน 95.0%``;
    the sign leads, so the card colours it."""
    if gap.points is None:
        return None
    return t("kpi.vs_plan", lang, points=f"{gap.points:+.1f}", year=gap.plan_year,
             plan=format_percent(gap.planned))


def baseline_note(gap: Gap, lang: str) -> str:
    """The card's second line: the plan year compared with, and the change since baseline,
    in points."""
    baseline = (t("kpi.no_baseline", lang) if gap.since_baseline is None
                else t("kpi.vs_baseline", lang, points=f"{gap.since_baseline:+.1f}"))
    if gap.plan_year is None:
        return baseline
    return t("kpi.plan_year_note", lang, year=gap.plan_year, baseline=baseline)


def places_to_push(summary: pd.DataFrame, planned: float | None, by: str,
                   names: Mapping[str, str], count: int = 3) -> tuple[pd.DataFrame, list[str]]:
    """The ``count`` places furthest behind the plan at the ranked target (their share minus
    ``planned``, in points; most behind first, ties by name), and the names of the places
    too small to rank (fewer than ``MIN_GROUP`` surveyed households), in name order: they are
    listed apart, never placed among the ranked ones. Columns: code, name, share, gap,
    assessed."""
    assessed = summary["assessed"].to_numpy()
    hidden = with_secondary(assessed < MIN_GROUP, assessed)
    frame = pd.DataFrame({
        "code": summary[by].to_numpy(),
        "name": [names.get(c, c) for c in summary[by].tolist()],
        "share": summary["level_share"].to_numpy(dtype=float),
        "assessed": assessed,
    })
    held = sorted(frame.loc[hidden, "name"].tolist(), key=sort_key)
    ranked = frame.loc[~hidden].copy()
    base = planned if planned is not None else np.nan
    ranked["gap"] = ((ranked["share"] - base) * 100).round(1)
    ranked = ranked.sort_values(["share", "name"], ascending=[True, True], ignore_index=True)
    return ranked.head(count), held


def push_lines(top: pd.DataFrame, held: list[str], planned: float | None, lang: str) -> list[str]:
    """One markdown line per place to push, then one naming the places too small to rank."""
    lines = []
    for rank, row in enumerate(top.itertuples(index=False), start=1):
        if planned is None:
            lines.append(t("overview.push_line_noplan", lang, rank=rank, name=row.name,
                           share=format_percent(row.share)))
        else:
            lines.append(t("overview.push_line", lang, rank=rank, name=row.name,
                           share=format_percent(row.share), points=f"{row.gap:+.1f}"))
    if held:  # a paragraph of its own, not a continuation of the last ranked place
        lines.append("\n" + t("overview.push_held", lang, n=MIN_GROUP, names=", ".join(held)))
    return lines
