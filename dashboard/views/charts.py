"""Figure builders: small frames in, plotly figures out. Pure: no Streamlit, no queries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.views.tables import with_secondary
from domain.definitions import Target
from domain.i18n import t
from domain.thai_dates import BE_OFFSET, MONTHS_EN, MONTHS_TH
from domain.thai_text import sort_key

FONT_FAMILY = "Sarabun, Noto Sans Thai, Tahoma, sans-serif"
# Okabe-Ito colours: distinguishable with colour-blindness and on a projector
LEVEL_COLOURS = {0: "#D55E00", 1: "#E69F00", 2: "#0072B2", 3: "#009E73"}
NEUTRAL = "#5B6770"


def quarter_label(index: int) -> str:
    """Short axis label: quarter/fiscal year in BE, e.g. ``4/2565``."""
    fiscal_year, quarter = divmod(index, 10)
    return f"{quarter}/{fiscal_year}"


BASE_LAYOUT = {
    "font": {"family": FONT_FAMILY, "size": 15},
    "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
    "plot_bgcolor": "white",
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    "hoverlabel": {"font": {"family": FONT_FAMILY}},
}
BASE_XAXIS = {"showgrid": False, "linecolor": "#999"}
BASE_YAXIS = {"gridcolor": "#e5e5e5", "zeroline": False}


def figure(traces: Sequence[Mapping[str, Any]], height: int = 380,
           xaxis: Mapping[str, Any] | None = None, yaxis: Mapping[str, Any] | None = None,
           **layout: Any) -> go.Figure:
    """A figure in the house style, made in one step from plain trace and layout dicts
    (``{"type": "bar", ...}``), where adding traces and updating axes one call at a time
    costs a millisecond or more a call."""
    return from_spec({"data": list(traces),
                      "layout": {**BASE_LAYOUT, "height": height,
                                 "xaxis": {**BASE_XAXIS, **(xaxis or {})},
                                 "yaxis": {**BASE_YAXIS, **(yaxis or {})}, **layout}})


def from_spec(spec: Mapping[str, Any]) -> go.Figure:
    """A figure from a plain ``{"data": [...], "layout": {...}}`` (plotly checks every
    property and value)."""
    return go.Figure(spec)


def sort_positions(values: np.ndarray, na_first: bool = False) -> np.ndarray:
    """Positions that sort ``values`` ascending, NaN last (or first): the order pandas'
    ``sort_values`` on one column gives, ties included, as it also sorts the other values
    with numpy's default sort. For the few rows of a chart, where pandas' filter and sort of
    the frame cost a millisecond."""
    missing = np.isnan(values)
    present, absent = np.flatnonzero(~missing), np.flatnonzero(missing)
    ordered = present[values[present].argsort(kind="quicksort")]
    return np.concatenate([absent, ordered] if na_first else [ordered, absent])


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
    periods = [int(p) for p in trend["period" if "period" in trend else "q_idx"]]
    x = [period_label(period, p, lang) for p in periods]
    traces = []
    for tg in targets:
        name = tg.name_th if lang == "th" else tg.name_en
        colour = LEVEL_COLOURS[tg.level]
        traces.append({
            "type": "scatter", "x": x, "y": trend[f"share_{tg.level}"].to_numpy(), "name": name,
            "mode": "lines+markers", "line": {"color": colour, "width": 3}, "marker": {"size": 7},
            "hovertemplate": "%{x}: %{y:.1%}<extra>" + name + "</extra>",
        })
        points = plan_points(plan.get(tg.key, {}), period, periods)
        if points:
            traces.append({
                "type": "scatter", "x": [period_label(period, q, lang) for q, _ in points],
                "y": [s for _, s in points], "name": t("chart.plan_of", lang, target=name),
                "mode": "lines+markers", "line": {"color": colour, "width": 2, "dash": "dot"},
                "marker": {"symbol": "diamond-open", "size": 10},
                "hovertemplate": "%{x}: %{y:.1%}<extra>" + t("chart.plan", lang) + "</extra>",
            })
    return figure(
        traces,
        yaxis={"tickformat": ".0%", "range": [0, 1.02],
               "title": {"text": t("chart.share_households", lang)}},
        xaxis={"title": {"text": t(f"chart.period_{period}", lang)}, "type": "category",
               "categoryorder": "array", "categoryarray": x})


def place_ranking_chart(summary: pd.DataFrame, names: Mapping[str, str], level_name: str,
                        lang: str, by: str = "amphoe_code", min_households: int = 5) -> go.Figure:
    """Horizontal bars: share of assessed households at or above a target per place (amphoe
    or tambon), best on top; places with fewer than ``min_households`` assessed households are
    drawn empty and labelled, never shown as a share."""
    # suppressed places sort as if they had no value, and among themselves by name (they sit
    # at the bottom in a block of their own), so their hidden share cannot be read from their
    # neighbours
    small_all = with_secondary(summary["assessed"].to_numpy() < min_households,
                               summary["assessed"].to_numpy())
    values = np.where(small_all, np.nan, summary["level_share"].to_numpy(dtype=float))
    all_codes = summary[by].tolist()
    named = [names.get(c, c) for c in all_codes]
    present = sort_positions(values)[: int((~np.isnan(values)).sum())]
    absent = sorted(np.flatnonzero(np.isnan(values)).tolist(),
                    key=lambda i: sort_key(named[i]),
                    reverse=True)  # drawn bottom up: the first name ends up on top
    order = np.concatenate([np.asarray(absent, dtype=int), present]).astype(int)
    codes = [all_codes[i] for i in order]
    assessed = summary["assessed"].to_numpy()[order]
    small = small_all[order]
    shares = np.where(small, np.nan, summary["level_share"].to_numpy()[order])
    labels = [(t("chart.suppressed", lang) if n < min_households else t("chart.secondary", lang))
              if s else f"{0 if np.isnan(v) else v:.1%}"
              for s, v, n in zip(small.tolist(), shares.tolist(), assessed.tolist(), strict=True)]
    return figure(
        [{"type": "bar", "x": shares, "y": [names.get(c, c) for c in codes],
          "orientation": "h", "marker": {"color": LEVEL_COLOURS[2]}, "text": labels,
          "textposition": "outside",
          "customdata": [[c, n] for c, n in zip(codes, assessed.tolist(), strict=True)],
          "width": 0.7, "hovertemplate": "%{y}: %{x:.1%} (n=%{customdata[1]})<extra></extra>"}],
        height=max(300, 26 * len(order) + 80),
        xaxis={"tickformat": ".0%", "range": [0, 1.1],
               "title": {"text": t("chart.share_at_level", lang, level=level_name)}},
        yaxis={"range": [-0.6, max(len(order), 6) - 0.4]})  # a lone bar stays slim


def sparkline_values(trend: pd.DataFrame, level: int) -> list[float]:
    return [round(float(v) * 100, 1) for v in trend[f"share_{level}"].fillna(0)]


SANKEY_HEIGHT, SANKEY_TOP, SANKEY_PAD_PX = 460, 75, 18
SANKEY_PLOT_PX = SANKEY_HEIGHT - SANKEY_TOP - BASE_LAYOUT["margin"]["b"]


def transition_sankey(frame: pd.DataFrame, names: Mapping[int, str], lang: str) -> go.Figure:
    """Flows of households from their level at baseline (left) to their level now (right)."""
    levels = sorted(names)
    left = {lv: i for i, lv in enumerate(levels)}
    right = {lv: len(levels) + i for i, lv in enumerate(levels)}
    baselines, nows = frame["baseline_level"].tolist(), frame["level"].tolist()
    households = frame["households"].tolist()
    totals_left: dict[int, int] = {}  # added up directly: a groupby costs 0.3 ms
    totals_right: dict[int, int] = {}
    for baseline, now, n in zip(baselines, nows, households, strict=True):
        totals_left[baseline] = totals_left.get(baseline, 0) + n
        totals_right[now] = totals_right.get(now, 0) + n
    labels = [f"{names[lv]} ({int(totals_left.get(lv, 0)):,})" for lv in levels] + [
        f"{names[lv]} ({int(totals_right.get(lv, 0)):,})" for lv in levels]
    colours = [LEVEL_COLOURS[lv] for lv in levels] * 2

    def link_colour(baseline: int, now: int) -> str:
        if now < baseline:
            return "rgba(213, 94, 0, 0.55)"  # fell back
        if now > baseline:
            return "rgba(0, 158, 115, 0.35)"
        return "rgba(91, 103, 112, 0.25)"

    def centres(totals: dict[int, int]) -> list[float]:
        """Each level's node centre (0 top, 1 bottom), the nodes stacked in level order with
        their heights in proportion to their households: at fixed centres spread evenly, a
        large node ran over its neighbour and looked smaller than it is."""
        free = 1 - SANKEY_PAD_PX / SANKEY_PLOT_PX * (len(levels) - 1)
        whole = sum(totals.get(lv, 0) for lv in levels) or 1
        out, top = [], 0.0
        for lv in levels:
            height = free * totals.get(lv, 0) / whole
            out.append(min(max(top + height / 2, 0.001), 0.999))
            top += height + SANKEY_PAD_PX / SANKEY_PLOT_PX
        return out

    headings = [{"x": x, "y": 1.08, "xref": "paper", "yref": "paper", "yanchor": "bottom",
                 "xanchor": anchor, "showarrow": False, "text": t(key, lang),
                 "font": {"size": 15}}
                for x, key, anchor in ((0, "chart.baseline", "left"),
                                       (1, "chart.latest", "right"))]
    return figure(
        [{"type": "sankey", "arrangement": "fixed",
          "node": {"label": labels, "color": colours, "pad": SANKEY_PAD_PX, "thickness": 22,
                   "x": [0.01] * len(levels) + [0.99] * len(levels),
                   "y": centres(totals_left) + centres(totals_right)},
          "link": {"source": [left[v] for v in baselines],
                   "target": [right[v] for v in nows],
                   "value": households,
                   "color": [link_colour(base, now) for base, now
                             in zip(baselines, nows, strict=True)],
                   "hovertemplate": "%{source.label} → %{target.label}: %{value:,}"
                                    "<extra></extra>"}}],
        height=SANKEY_HEIGHT, annotations=headings,
        margin={**BASE_LAYOUT["margin"], "t": SANKEY_TOP})  # room for the two headings


def income_histogram_chart(hist: pd.DataFrame, income_line: float, lang: str,
                           cap: int) -> go.Figure:
    """Households by income per member at baseline and now, with the income line."""
    starts = hist["bin_start"].to_numpy()
    width = int(starts[1] - starts[0]) if len(starts) > 1 else 1
    centres = starts + width / 2
    traces = [{"type": "bar", "x": centres, "y": hist[column].to_numpy(), "name": t(key, lang),
               "width": width * 0.9, "marker": {"color": colour}, "opacity": 0.65,
               "hovertemplate": "%{x:,.0f}: %{y:,}<extra>" + t(key, lang) + "</extra>"}
              for column, colour, key in (("baseline", NEUTRAL, "chart.baseline"),
                                          ("latest", LEVEL_COLOURS[2], "chart.latest"))]
    # the income line, as plotly's add_vline draws it: full height, labelled top right
    line = {"type": "line", "xref": "x", "yref": "y domain", "x0": income_line,
            "x1": income_line, "y0": 0, "y1": 1,
            "line": {"color": LEVEL_COLOURS[0], "width": 3, "dash": "dash"}}
    label = {"xref": "x", "yref": "y domain", "x": income_line, "y": 1, "xanchor": "left",
             "yanchor": "top", "showarrow": False,
             "text": t("chart.income_line", lang, line=f"{income_line:,.0f}")}
    return figure(
        traces, barmode="overlay", shapes=[line], annotations=[label],
        xaxis={"title": {"text": t("chart.income_per_member", lang, cap=f"{cap:,.0f}")},
               "tickformat": ",.0f"},
        yaxis={"title": {"text": t("chart.households", lang)}})


def dimension_chart(frame: pd.DataFrame, names: Mapping[str, str], lang: str) -> go.Figure:
    """Share of surveyed households deprived in each TPMAP dimension, baseline vs now."""
    y = [names[k] for k in frame["dimension"]]
    traces = [{"type": "bar", "y": y, "x": frame[column].to_numpy(), "name": t(key, lang),
               "orientation": "h", "marker": {"color": colour},
               "text": [f"{v:.1%}" for v in frame[column]], "textposition": "outside",
               "hovertemplate": "%{y}: %{x:.1%}<extra>" + t(key, lang) + "</extra>"}
              for column, colour, key in (("baseline_share", NEUTRAL, "chart.baseline"),
                                          ("latest_share", LEVEL_COLOURS[2], "chart.latest"))]
    return figure(
        traces, barmode="group",
        xaxis={"tickformat": ".0%", "range": [0, 1.1],
               "title": {"text": t("chart.share_deprived", lang)}},
        yaxis={"autorange": "reversed"})


def comparison_chart(frame: pd.DataFrame, by: str, names: Mapping[str, str], level_name: str,
                     lang: str, min_households: int = 5) -> go.Figure:
    """Dumbbells: share at or above a target at baseline (grey) and now (blue) per group;
    groups under ``min_households`` are left out of the chart (they stay in the table,
    suppressed)."""
    assessed = frame["assessed"].to_numpy()
    shown = np.flatnonzero(~with_secondary(assessed < min_households, assessed))
    shown = shown[sort_positions(frame["share_now"].to_numpy()[shown])]
    codes = frame[by].to_numpy()[shown].tolist()
    baselines = frame["share_baseline"].to_numpy()[shown]
    nows = frame["share_now"].to_numpy()[shown]
    y = [names.get(c, c) for c in codes]
    traces: list[dict[str, Any]] = [
        {"type": "scatter", "x": [baseline, now], "y": [label, label], "mode": "lines",
         "line": {"color": "#c8cdd2", "width": 4}, "showlegend": False, "hoverinfo": "skip"}
        for baseline, now, label in zip(baselines.tolist(), nows.tolist(), y, strict=True)]
    traces.append({"type": "scatter", "x": baselines, "y": y,
                   "mode": "markers", "name": t("chart.baseline", lang),
                   "marker": {"color": NEUTRAL, "size": 11},
                   "hovertemplate": "%{y}: %{x:.1%}<extra></extra>"})
    assessed = frame["assessed"].to_numpy()[shown].tolist()
    traces.append({"type": "scatter", "x": nows, "y": y,
                   "mode": "markers", "name": t("chart.latest", lang),
                   "marker": {"color": LEVEL_COLOURS[2], "size": 13},
                   "customdata": [[c, n] for c, n in zip(codes, assessed, strict=True)],
                   "hovertemplate": "%{y}: %{x:.1%} (n=%{customdata[1]})<extra></extra>"})
    return figure(
        traces, height=max(320, 24 * len(shown) + 90),
        xaxis={"tickformat": ".0%", "range": [0, 1.02],
               "title": {"text": t("chart.share_at_level", lang, level=level_name)}})


def gap_chart(gaps: pd.DataFrame, labels: Mapping[str, str], level_names: Mapping[int, str],
              lang: str) -> go.Figure:
    """What keeps households from the next target: households missing each condition,
    grouped by the level they are at now."""
    levels, households = gaps["level"].to_numpy(), gaps["households"].to_numpy()
    codes = gaps["gap"].to_numpy()
    traces = []
    for level in sorted(set(levels.tolist())):
        part = np.flatnonzero(levels == level)
        part = part[sort_positions(households[part])]  # fewest households first
        nxt = level_names.get(level + 1, "")
        traces.append({
            "type": "bar", "y": [labels.get(g, g) for g in codes[part].tolist()],
            "x": households[part], "orientation": "h",
            "name": t("chart.gap_group", lang, now=level_names[level], next=nxt),
            "marker": {"color": LEVEL_COLOURS[level + 1]},
            "text": [f"{v:,}" for v in households[part].tolist()], "textposition": "outside",
            "hovertemplate": "%{y}: %{x:,}<extra></extra>",
        })
    return figure(traces, height=max(320, 30 * len(gaps) + 120),
                  xaxis={"title": {"text": t("chart.households", lang)}},
                  yaxis={"automargin": True})
