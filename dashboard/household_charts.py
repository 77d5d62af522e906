"""Figure builders for one household's profile. Pure: a visits frame in, a plotly figure out.

Both charts put the visits on the same category axis (date in BE and survey round), so laid
one above the other they line up visit by visit. No chart carries personal data: the visits
frame holds figures and levels only.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts import LEVEL_COLOURS, _layout, period_label
from dashboard.definitions import INCOME_SOURCES
from dashboard.i18n import t
from dashboard.thai_dates import format_date

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


def _visit_axis(fig: go.Figure, labels: list[str]) -> None:
    # upright, slightly smaller ticks: a dozen visits stay readable without turning
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=labels,
                     tickangle=0, tickfont={"size": 12}, range=[-0.5, len(labels) - 0.5])
    fig.update_yaxes(automargin=False, tickfont={"size": 12})
    fig.update_layout(margin={"l": LEFT_MARGIN})


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
    fig = go.Figure()
    dates = visit_dates(visits, lang)
    for source in INCOME_SOURCES:
        name = t(f"source.{source}", lang)
        fig.add_trace(go.Bar(
            x=x, y=per_member[source].round(), name=name, customdata=dates,
            marker={"color": SOURCE_COLOURS[source]},
            hovertemplate="%{customdata}: %{y:,.0f}<extra>" + name + "</extra>",
        ))
    line = {"color": LINE_COLOUR, "width": 3, "dash": "dash"}
    fig.add_hline(y=income_line, line=line)
    # the line's label lives in the legend: written on the plot, the bars would hide it
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line=line, hoverinfo="skip",
                             name=t("chart.income_line", lang, line=f"{income_line:,.0f}")))
    top = float(per_member.sum(axis=1).max()) if len(per_member) else 0.0
    fig.update_layout(barmode="stack", legend={"traceorder": "normal"})
    fig.update_yaxes(title=t("hh_chart.income_axis", lang), tickformat=",.0f",
                     range=[0, max(top, income_line) * 1.15])
    _layout(fig, height=400)
    _visit_axis(fig, x)
    return fig


def level_step_chart(visits: pd.DataFrame, level_names: Mapping[int, str],
                     lang: str) -> go.Figure:
    """The household's level on the three-step ladder at each visit, as steps."""
    x = visit_labels(visits, lang)
    levels = [int(v) for v in visits["level"]]
    fig = go.Figure(go.Scatter(
        x=x, y=levels, mode="lines+markers", line={"shape": "hv", "color": "#5B6770",
                                                   "width": 3},
        marker={"size": 14, "color": [LEVEL_COLOURS.get(v, "#5B6770") for v in levels],
                "line": {"color": "white", "width": 2}},
        text=[level_names.get(v, str(v)) for v in levels], name=t("hh_chart.level", lang),
        customdata=visit_dates(visits, lang), hovertemplate="%{customdata}: %{text}<extra></extra>",
        showlegend=False,
    ))
    ladder = sorted(level_names)
    fig.update_yaxes(tickvals=ladder, ticktext=[level_names[v] for v in ladder],
                     range=[min(ladder) - 0.4, max(ladder) + 0.4], title=None)
    _layout(fig, height=260)
    _visit_axis(fig, x)
    return fig
