"""Figure builders: small frames in, plotly figures out. Pure: no Streamlit, no queries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from dashboard.definitions import Target
from dashboard.i18n import t
from dashboard.thai_dates import BE_OFFSET, MONTHS_EN, MONTHS_TH

FONT_FAMILY = "Sarabun, Noto Sans Thai, Tahoma, sans-serif"
# Okabe-Ito colours: distinguishable with colour-blindness and on a projector
LEVEL_COLOURS = {0: "#D55E00", 1: "#E69F00", 2: "#0072B2", 3: "#009E73"}
NEUTRAL = "#5B6770"


def quarter_label(index: int) -> str:
    """Short axis label: quarter/fiscal year in BE, e.g. ``4/2565``."""
    fiscal_year, quarter = divmod(index, 10)
    return f"{quarter}/{fiscal_year}"


def _layout(fig: go.Figure, height: int = 380) -> go.Figure:
    fig.update_layout(
        font={"family": FONT_FAMILY, "size": 15},
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        plot_bgcolor="white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hoverlabel={"font": {"family": FONT_FAMILY}},
    )
    fig.update_xaxes(showgrid=False, linecolor="#999")
    fig.update_yaxes(gridcolor="#e5e5e5", zeroline=False)
    return fig


def period_label(period: str, value: int, lang: str) -> str:
    """Axis label of a trend period: fiscal quarter ``4/2565``, month ``ก.ย. 65`` /
    ``Sep 65`` (BE year), survey round ``รอบ 3`` / ``Round 3`` (round 0 is the baseline)."""
    if period == "quarter":
        return quarter_label(value)
    if period == "month":
        year, month = divmod(value, 100)
        names = MONTHS_TH if lang == "th" else MONTHS_EN
        return f"{names[month - 1]} {str(year + BE_OFFSET)[-2:]}"
    return t("chart.baseline_round", lang) if value == 0 else t("chart.round", lang, n=value)


def plan_points(plan: Mapping[int, float], period: str, periods: Sequence[int]) -> list[
        tuple[int, float]]:
    """The plan's fiscal-year-end shares placed on a trend's own periods: the year's last
    quarter (``fy*10+4``) or September of the year (``(fy-543)*100+9``); none for rounds."""
    known = set(periods)
    points = []
    for fiscal_year, share in plan.items():
        at = {"quarter": fiscal_year * 10 + 4,
              "month": (fiscal_year - BE_OFFSET) * 100 + 9}.get(period)
        if at in known:
            points.append((at, share))
    return sorted(points)


def target_trend_chart(
    trend: pd.DataFrame,
    targets: Sequence[Target],
    plan: Mapping[str, Mapping[int, float]],
    lang: str,
    period: str = "quarter",
) -> go.Figure:
    """Share of assessed households at or above each target per period (solid), and the
    planned share at the end of each fiscal year (dotted). ``trend`` has ``period`` (or
    ``q_idx``) and ``share_<level>`` columns."""
    fig = go.Figure()
    periods = [int(p) for p in trend["period" if "period" in trend else "q_idx"]]
    x = [period_label(period, p, lang) for p in periods]
    for tg in targets:
        name = tg.name_th if lang == "th" else tg.name_en
        colour = LEVEL_COLOURS[tg.level]
        fig.add_trace(go.Scatter(
            x=x, y=trend[f"share_{tg.level}"], name=name, mode="lines+markers",
            line={"color": colour, "width": 3}, marker={"size": 7},
            hovertemplate="%{x}: %{y:.1%}<extra>" + name + "</extra>",
        ))
        points = plan_points(plan.get(tg.key, {}), period, periods)
        if points:
            fig.add_trace(go.Scatter(
                x=[period_label(period, q, lang) for q, _ in points], y=[s for _, s in points],
                name=t("chart.plan_of", lang, target=name), mode="lines+markers",
                line={"color": colour, "width": 2, "dash": "dot"},
                marker={"symbol": "diamond-open", "size": 10},
                hovertemplate="%{x}: %{y:.0%}<extra>" + t("chart.plan", lang) + "</extra>",
            ))
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02],
                     title=t("chart.share_households", lang))
    fig.update_xaxes(title=t(f"chart.period_{period}", lang), type="category",
                     categoryorder="array", categoryarray=x)
    return _layout(fig)


def place_ranking_chart(summary: pd.DataFrame, names: Mapping[str, str], level_name: str,
                        lang: str, by: str = "amphoe_code", min_households: int = 5) -> go.Figure:
    """Horizontal bars: share of assessed households at or above a target per place (amphoe
    or tambon), best on top; places with fewer than ``min_households`` assessed households are
    drawn empty and labelled, never shown as a share."""
    frame = summary.sort_values("level_share", ascending=True, na_position="first")
    small = frame["assessed"] < min_households
    shares = frame["level_share"].where(~small)
    labels = [t("chart.suppressed", lang) if s else f"{v:.0%}"
              for s, v in zip(small, shares.fillna(0), strict=True)]
    fig = go.Figure(go.Bar(
        x=shares, y=[names.get(c, c) for c in frame[by]], orientation="h",
        marker={"color": LEVEL_COLOURS[2]}, text=labels, textposition="outside",
        customdata=frame[[by, "assessed"]], width=0.7,
        hovertemplate="%{y}: %{x:.1%} (n=%{customdata[1]})<extra></extra>",
    ))
    fig.update_xaxes(tickformat=".0%", range=[0, 1.1],
                     title=t("chart.share_at_level", lang, level=level_name))
    fig.update_yaxes(range=[-0.6, max(len(frame), 6) - 0.4])  # a lone bar stays slim
    return _layout(fig, height=max(300, 26 * len(frame) + 80))


def sparkline_values(trend: pd.DataFrame, level: int) -> list[float]:
    return [round(float(v) * 100, 1) for v in trend[f"share_{level}"].fillna(0)]


def transition_sankey(frame: pd.DataFrame, names: Mapping[int, str], lang: str) -> go.Figure:
    """Flows of households from their level at baseline (left) to their level now (right)."""
    levels = sorted(names)
    left = {lv: i for i, lv in enumerate(levels)}
    right = {lv: len(levels) + i for i, lv in enumerate(levels)}
    totals_left = frame.groupby("baseline_level")["households"].sum()
    totals_right = frame.groupby("level")["households"].sum()
    labels = [f"{names[lv]} ({int(totals_left.get(lv, 0)):,})" for lv in levels] + [
        f"{names[lv]} ({int(totals_right.get(lv, 0)):,})" for lv in levels]
    colours = [LEVEL_COLOURS[lv] for lv in levels] * 2

    def link_colour(row: pd.Series) -> str:
        if row["level"] < row["baseline_level"]:
            return "rgba(213, 94, 0, 0.55)"  # fell back
        if row["level"] > row["baseline_level"]:
            return "rgba(0, 158, 115, 0.35)"
        return "rgba(91, 103, 112, 0.25)"

    fig = go.Figure(go.Sankey(
        arrangement="fixed",
        node={"label": labels, "color": colours, "pad": 18, "thickness": 22,
              "x": [0.01] * len(levels) + [0.99] * len(levels),
              "y": [0.1 + 0.8 * i / max(len(levels) - 1, 1) for i in range(len(levels))] * 2},
        link={"source": [left[v] for v in frame["baseline_level"]],
              "target": [right[v] for v in frame["level"]],
              "value": frame["households"].tolist(),
              "color": [link_colour(r) for _, r in frame.iterrows()],
              "hovertemplate": "%{source.label} → %{target.label}: %{value:,}<extra></extra>"},
    ))
    for x, key, anchor in ((0, "chart.baseline", "left"), (1, "chart.latest", "right")):
        fig.add_annotation(x=x, y=1.08, xref="paper", yref="paper", yanchor="bottom",
                           xanchor=anchor, showarrow=False, text=t(key, lang),
                           font={"size": 15})
    _layout(fig, height=460)
    fig.update_layout(margin={"t": 75})  # room for the two column headings above the nodes
    return fig


def income_histogram_chart(hist: pd.DataFrame, income_line: float, lang: str,
                           cap: int) -> go.Figure:
    """Households by income per member at baseline and now, with the income line."""
    width = int(hist["bin_start"].iloc[1] - hist["bin_start"].iloc[0]) if len(hist) > 1 else 1
    centres = hist["bin_start"] + width / 2
    fig = go.Figure()
    for column, colour, key in (("baseline", NEUTRAL, "chart.baseline"),
                                ("latest", LEVEL_COLOURS[2], "chart.latest")):
        fig.add_trace(go.Bar(x=centres, y=hist[column], name=t(key, lang), width=width * 0.9,
                             marker={"color": colour}, opacity=0.65,
                             hovertemplate="%{x:,.0f}: %{y:,}<extra>" + t(key, lang)
                             + "</extra>"))
    fig.add_vline(x=income_line, line={"color": LEVEL_COLOURS[0], "width": 3, "dash": "dash"},
                  annotation_text=t("chart.income_line", lang, line=f"{income_line:,.0f}"),
                  annotation_position="top right")
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title=t("chart.income_per_member", lang, cap=f"{cap:,.0f}"),
                     tickformat=",.0f")
    fig.update_yaxes(title=t("chart.households", lang))
    return _layout(fig)


def dimension_chart(frame: pd.DataFrame, names: Mapping[str, str], lang: str) -> go.Figure:
    """Share of surveyed households deprived in each TPMAP dimension, baseline vs now."""
    y = [names[k] for k in frame["dimension"]]
    fig = go.Figure()
    for column, colour, key in (("baseline_share", NEUTRAL, "chart.baseline"),
                                ("latest_share", LEVEL_COLOURS[2], "chart.latest")):
        fig.add_trace(go.Bar(y=y, x=frame[column], name=t(key, lang), orientation="h",
                             marker={"color": colour}, text=[f"{v:.0%}" for v in frame[column]],
                             textposition="outside",
                             hovertemplate="%{y}: %{x:.1%}<extra>" + t(key, lang) + "</extra>"))
    fig.update_layout(barmode="group")
    fig.update_xaxes(tickformat=".0%", range=[0, 1.1], title=t("chart.share_deprived", lang))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig)


def comparison_chart(frame: pd.DataFrame, by: str, names: Mapping[str, str], level_name: str,
                     lang: str, min_households: int = 5) -> go.Figure:
    """Dumbbells: share at or above a target at baseline (grey) and now (blue) per group;
    groups under ``min_households`` are left out of the chart (they stay in the table,
    suppressed)."""
    shown = frame[frame["assessed"] >= min_households].sort_values("share_now")
    y = [names.get(c, c) for c in shown[by]]
    fig = go.Figure()
    for (_, row), label in zip(shown.iterrows(), y, strict=True):
        fig.add_trace(go.Scatter(x=[row["share_baseline"], row["share_now"]], y=[label, label],
                                 mode="lines", line={"color": "#c8cdd2", "width": 4},
                                 showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=shown["share_baseline"], y=y, mode="markers",
                             name=t("chart.baseline", lang),
                             marker={"color": NEUTRAL, "size": 11},
                             hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    fig.add_trace(go.Scatter(x=shown["share_now"], y=y, mode="markers",
                             name=t("chart.latest", lang),
                             marker={"color": LEVEL_COLOURS[2], "size": 13},
                             customdata=shown[[by, "assessed"]],
                             hovertemplate="%{y}: %{x:.1%} (n=%{customdata[1]})<extra></extra>"))
    fig.update_xaxes(tickformat=".0%", range=[0, 1.02],
                     title=t("chart.share_at_level", lang, level=level_name))
    return _layout(fig, height=max(320, 24 * len(shown) + 90))


def gap_chart(gaps: pd.DataFrame, labels: Mapping[str, str], level_names: Mapping[int, str],
              lang: str) -> go.Figure:
    """What keeps households from the next target: households missing each condition,
    grouped by the level they are at now."""
    fig = go.Figure()
    for level in sorted(gaps["level"].unique()):
        part = gaps[gaps["level"] == level].sort_values("households")
        nxt = level_names.get(int(level) + 1, "")
        fig.add_trace(go.Bar(
            y=[labels.get(g, g) for g in part["gap"]], x=part["households"], orientation="h",
            name=t("chart.gap_group", lang, now=level_names[int(level)], next=nxt),
            marker={"color": LEVEL_COLOURS[int(level) + 1]},
            text=[f"{v:,}" for v in part["households"]], textposition="outside",
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        ))
    fig.update_xaxes(title=t("chart.households", lang))
    fig.update_yaxes(automargin=True)
    return _layout(fig, height=max(320, 30 * len(gaps) + 120))
