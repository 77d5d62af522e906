"""Display tables: small frames shaped for people (on screen and in downloads). Pure.

Groups with fewer than :data:`MIN_GROUP` households never show a share ("suppressed"); groups
under :data:`SMALL_GROUP` are flagged, because one household moves their share by 5 points or
more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from dashboard.i18n import t

MIN_GROUP = 5
SMALL_GROUP = 20


def group_note(n: int, lang: str) -> str:
    if n < MIN_GROUP:
        return t("table.suppressed", lang, n=MIN_GROUP)
    if n < SMALL_GROUP:
        return t("table.small_group", lang, n=SMALL_GROUP)
    return ""


def comparison_table(frame: pd.DataFrame, by: str, names: Mapping[str, str],
                     level_name: str, lang: str) -> pd.DataFrame:
    """One row per group: name, surveyed, share at the target at baseline and now (percent),
    change in points, climbed, fell back, note. Suppressed groups show no figure but n."""
    frame = frame.assign(_hidden=frame["assessed"] < MIN_GROUP).sort_values(
        "_hidden", kind="stable")  # suppressed groups go last, the rest keep their order
    hidden = frame["_hidden"]

    def masked(series: pd.Series) -> pd.Series:
        return series.where(~hidden).astype("Float64")

    return pd.DataFrame({
        t(f"table.{by}", lang): [names.get(c, c) for c in frame[by]],
        t("table.surveyed", lang): frame["assessed"].astype(int),
        t("table.share_baseline", lang, level=level_name): masked(frame["share_baseline"] * 100)
        .round(1),
        t("table.share_now", lang, level=level_name): masked(frame["share_now"] * 100).round(1),
        t("table.change_points", lang): masked(frame["change_points"]).round(1),
        t("table.climbed", lang): masked(frame["climbed"]).astype("Int64"),
        t("table.fell_back", lang): masked(frame["fell_back"]).astype("Int64"),
        t("table.note", lang): [group_note(int(n), lang) for n in frame["assessed"]],
    })


def transition_table(frame: pd.DataFrame, names: Mapping[int, str], lang: str) -> pd.DataFrame:
    """Baseline level (rows) by latest level (columns), counts of households, with totals
    (added up directly: pandas' pivot_table takes ten times as long for these 16 cells)."""
    levels = sorted(names)
    position = {level: i for i, level in enumerate(levels)}
    grid = np.zeros((len(levels), len(levels)), dtype="int64")
    for baseline, latest, households in zip(frame["baseline_level"], frame["level"],
                                            frame["households"], strict=True):
        if baseline in position and latest in position:
            grid[position[baseline], position[latest]] += int(households)
    total = t("table.total", lang)
    body = np.vstack([np.hstack([grid, grid.sum(axis=1, keepdims=True)]),
                      np.append(grid.sum(axis=0), grid.sum())])
    table = pd.DataFrame(body, columns=[names[level] for level in levels] + [total])
    table.insert(0, t("table.baseline_vs_latest", lang), [names[level] for level in levels]
                 + [total])
    return table


def for_display(frame: pd.DataFrame) -> pd.DataFrame:
    """Empty cells (suppressed figures) shown as a dash instead of "None" on screen, and
    whole-number columns with thousands separators (186,588). Written column by column in
    plain Python: the frame-wide ``where`` took three times as long on a 26-row table."""
    out: dict[str, Any] = {}
    for column in frame.columns:
        values = frame[column]
        missing = values.isna().to_numpy()
        cells = values.to_numpy(dtype=object)
        if pd.api.types.is_integer_dtype(values):
            out[column] = ["–" if gap else f"{int(v):,}" for v, gap in zip(cells, missing,
                                                                         strict=True)]
        else:
            kept = cells.copy()
            kept[missing] = "–"
            out[column] = pd.Series(kept, index=frame.index, dtype=object)
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)
