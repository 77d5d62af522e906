"""Figure builders for one household's profile. Pure: a visits frame in, a plotly figure out.

Both charts put the visits on the same category axis (date in BE and survey round), so laid
one above the other they line up visit by visit. No chart carries personal data: the visits
frame holds figures and levels only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashboard.views.charts import BASE_LAYOUT, LEVEL_COLOURS, figure, period_label
from domain.definitions import INCOME_SOURCES
from domain.i18n import t
from domain.thai_dates import format_date

# Okabe-Ito, in the order of INCOME_SOURCES: earned income in blues, transfers apart
SOURCE_COLOURS = {"main": "#0072B2", "secondary": "#56B4E9", "remittance": "#CC79A7",
                  "welfare": "#E69F00", "own_food": "#009E73"}
LINE_COLOUR = "#D55E00"


def visit_labels(visits: pd.DataFrame, lang: str) -> list[str]:
    """One distinct, short category per visit: its survey round above its month (BE), so a
    dozen visits fit side by side without turning the labels."""
    labels: list[str] = []
    for day, round_, visit_id in zip(visits["visit_date"], visits["round"], visits["visit_id"],
                                     strict=True):
        when = pd.Timestamp(day)
        label = (f"{period_label('round', int(round_), lang)}<br>"
                 f"{period_label('month', when.year * 100 + when.month, lang)}")
        labels.append(f"{label} ({visit_id})" if label in labels else label)
    return labels


def visit_dates(visits: pd.DataFrame, lang: str) -> list[str]:
    """The full visit dates (BE), for hover text."""
    return [format_date(pd.Timestamp(day).date(), lang) for day in visits["visit_date"]]


LEFT_MARGIN = 110  # both charts alike, so their visits line up one above the other


def _visit_axis(labels: list[str], yaxis: dict[str, Any]) -> dict[str, Any]:
    """The layout both charts share: the visits on the x axis, the ticks of the chart's own
    value axis ``yaxis``, and the left margin."""
    # upright, slightly smaller ticks: a dozen visits stay readable without turning
    return {"xaxis": {"type": "category", "categoryorder": "array", "categoryarray": labels,
                      "tickangle": 0, "tickfont": {"size": 12},
                      "range": [-0.5, len(labels) - 0.5]},
            "yaxis": {**yaxis, "automargin": False, "tickfont": {"size": 12}},
            "margin": {**BASE_LAYOUT["margin"], "l": LEFT_MARGIN}}


def per_member_by_source(visits: pd.DataFrame) -> pd.DataFrame:
    """Income per member per year (baht) from each source at each visit: ``income_<source>``
    (per household per year) divided by the members on the visit date."""
    members = visits["members"].where(visits["members"] > 0)
    return pd.DataFrame({source: visits[f"income_{source}"].fillna(0) / members
                         for source in INCOME_SOURCES})


def income_timeline_chart(visits: pd.DataFrame, income_line: float, lang: str) -> go.Figure:
    """Stacked bars: income per member per year by source at each visit, with the จปฐ.
    income line; the top of each bar is the household's income per member."""
    x = visit_labels(visits, lang)
    per_member = per_member_by_source(visits)
    dates = visit_dates(visits, lang)
    traces = []
    for source in INCOME_SOURCES:
        name = t(f"source.{source}", lang)
        traces.append({
            "type": "bar", "x": x, "y": per_member[source].round().to_numpy(), "name": name,
            "customdata": dates, "marker": {"color": SOURCE_COLOURS[source]},
            "hovertemplate": "%{customdata}: %{y:,.0f}<extra>" + name + "</extra>",
        })
    line = {"color": LINE_COLOUR, "width": 3, "dash": "dash"}
    # the line's label lives in the legend: written on the plot, the bars would hide it
    traces.append({"type": "scatter", "x": [None], "y": [None], "mode": "lines", "line": line,
                   "hoverinfo": "skip",
                   "name": t("chart.income_line", lang, line=f"{income_line:,.0f}")})
    top = float(per_member.sum(axis=1).max()) if len(per_member) else 0.0
    return figure(
        traces, height=400, barmode="stack",
        legend={**BASE_LAYOUT["legend"], "traceorder": "normal"},
        # the income line across the plot, as plotly's add_hline draws it
        shapes=[{"type": "line", "xref": "x domain", "yref": "y", "x0": 0, "x1": 1,
                 "y0": income_line, "y1": income_line, "line": line}],
        **_visit_axis(x, {"title": {"text": t("hh_chart.income_axis", lang)},
                          "tickformat": ",.0f", "range": [0, max(top, income_line) * 1.15]}))


def level_step_chart(visits: pd.DataFrame, level_names: Mapping[int, str],
                     lang: str) -> go.Figure:
    """The household's level on the three-step ladder at each visit, as steps."""
    x = visit_labels(visits, lang)
    levels = [int(v) for v in visits["level"]]
    ladder = sorted(level_names)
    fig = figure(
        [{"type": "scatter", "x": x, "y": levels, "mode": "lines+markers",
          "line": {"shape": "hv", "color": "#5B6770", "width": 3},
          "marker": {"size": 14, "color": [LEVEL_COLOURS.get(v, "#5B6770") for v in levels],
                     "line": {"color": "white", "width": 2}},
          "text": [level_names.get(v, str(v)) for v in levels], "name": t("hh_chart.level", lang),
          "customdata": visit_dates(visits, lang),
          "hovertemplate": "%{customdata}: %{text}<extra></extra>", "showlegend": False}],
        height=260,
        **_visit_axis(x, {"tickvals": ladder, "ticktext": [level_names[v] for v in ladder],
                          "range": [min(ladder) - 0.4, max(ladder) + 0.4]}))
    # no axis title; set as before, it is written as an empty one (a dict would be left out)
    fig.layout.yaxis.update(title=None)
    return fig
