"""The four work processes as a funnel: screened -> paired -> interviewed -> helped ->
followed up, with what each step lost, as a figure and as a table by place. Pure."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.queries.overview import FUNNEL_STEPS
from dashboard.views.charts import LEVEL_COLOURS, figure
from dashboard.views.tables import MIN_GROUP, shown_floats, suppressed_last, with_secondary
from domain.i18n import t
from domain.thai_text import wrap_label

STEP_COLOURS = ("#5B6770", LEVEL_COLOURS[2], LEVEL_COLOURS[2], LEVEL_COLOURS[3], LEVEL_COLOURS[3])


def funnel_totals(frame: pd.DataFrame) -> list[int]:
    """The households at each step, over every place."""
    return [int(frame[step].sum()) for step in FUNNEL_STEPS]


def losses(totals: list[int]) -> list[int]:
    """What each step lost from the one before (0 for the first)."""
    return [0, *(before - after for before, after in itertools.pairwise(totals))]


def step_labels(lang: str) -> list[str]:
    return [t(f"funnel.step_{step}", lang) for step in FUNNEL_STEPS]


def funnel_chart(frame: pd.DataFrame, lang: str, height: int = 300) -> go.Figure:
    """Bars narrowing step by step, each with its count and, after the first, the households
    lost since the step before."""
    totals = funnel_totals(frame)
    lost = losses(totals)
    text = [f"{n:,}" if i == 0 else t("funnel.bar_text", lang, n=f"{n:,}", lost=f"{d:,}")
            for i, (n, d) in enumerate(zip(totals, lost, strict=True))]
    return figure(
        [{"type": "funnel", "y": [wrap_label(label, 16) for label in step_labels(lang)],
          "x": totals, "text": text,
          "textinfo": "text", "textposition": "inside", "insidetextanchor": "middle",
          "marker": {"color": list(STEP_COLOURS)}, "connector": {"fillcolor": "#e8ecef"},
          "hovertemplate": "%{y}: %{x:,}<extra></extra>"}],
        height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis={"automargin": True})


def funnel_table(frame: pd.DataFrame, names: Mapping[str, str], lang: str) -> pd.DataFrame:
    """One row per place: households at each step, lost on the way (screened minus followed
    up) and the share followed up (hidden under :data:`MIN_GROUP` households, and one more
    where a single place would be given away); least followed up first, hidden places last
    by name; a total row at the end."""
    place = frame.columns[0]
    screened = frame["screened"].to_numpy()
    share = frame["followed_up"].to_numpy() / np.maximum(screened, 1)
    hidden = with_secondary(screened < MIN_GROUP, screened)
    ranked = np.lexsort((frame[place].to_numpy(), np.where(hidden, 0.0, share)))
    labels = [names.get(c, c) for c in frame[place].to_numpy()[ranked].tolist()]
    order = ranked[suppressed_last(labels, hidden[ranked])]
    totals = funnel_totals(frame)
    share_col = t("funnel.col_share", lang)
    out = pd.DataFrame({
        t(f"table.{place}", lang): [names.get(c, c) for c in frame[place].to_numpy()[order]]
        + [t("table.total", lang)],
        **{label: np.append(frame[step].to_numpy()[order], total).astype("int64")
           for label, step, total in zip(step_labels(lang), FUNNEL_STEPS, totals, strict=True)},
        t("funnel.col_lost", lang): np.append((screened - frame["followed_up"].to_numpy())[order],
                                              totals[0] - totals[-1]).astype("int64"),
        share_col: shown_floats(np.append(share[order], totals[-1] / max(totals[0], 1)) * 100,
                                np.append(hidden[order], False)).round(1),
    })
    out.attrs["decimals"] = {share_col: 1}
    return out


def funnel_sentence(frame: pd.DataFrame, lang: str) -> str:
    """The biggest loss between two steps, in words."""
    totals = funnel_totals(frame)
    lost = losses(totals)
    worst = int(np.argmax(lost[1:])) + 1
    labels = step_labels(lang)
    return t("funnel.sentence", lang, screened=f"{totals[0]:,}", followed=f"{totals[-1]:,}",
             lost=f"{lost[worst]:,}", before=labels[worst - 1], after=labels[worst])
