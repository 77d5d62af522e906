"""Figure builders: small frames in, plotly figures out. Pure: no Streamlit, no queries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from dashboard.definitions import Target
from dashboard.i18n import t

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


def target_trend_chart(
    trend: pd.DataFrame,
    targets: Sequence[Target],
    plan: Mapping[str, Mapping[int, float]],
    lang: str,
) -> go.Figure:
    """Share of assessed households at or above each target per fiscal quarter (solid), and
    the planned share at the end of each fiscal year (dotted)."""
    fig = go.Figure()
    x = [quarter_label(int(q)) for q in trend["q_idx"]]
    known = set(trend["q_idx"].astype(int))
    for tg in targets:
        name = tg.name_th if lang == "th" else tg.name_en
        colour = LEVEL_COLOURS[tg.level]
        fig.add_trace(go.Scatter(
            x=x, y=trend[f"share_{tg.level}"], name=name, mode="lines+markers",
            line={"color": colour, "width": 3}, marker={"size": 7},
            hovertemplate="%{x}: %{y:.1%}<extra>" + name + "</extra>",
        ))
        points = sorted((fy * 10 + 4, share) for fy, share in plan.get(tg.key, {}).items()
                        if fy * 10 + 4 in known)
        if points:
            fig.add_trace(go.Scatter(
                x=[quarter_label(q) for q, _ in points], y=[s for _, s in points],
                name=t("chart.plan_of", lang, target=name), mode="lines+markers",
                line={"color": colour, "width": 2, "dash": "dot"},
                marker={"symbol": "diamond-open", "size": 10},
                hovertemplate="%{x}: %{y:.0%}<extra>" + t("chart.plan", lang) + "</extra>",
            ))
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02],
                     title=t("chart.share_households", lang))
    fig.update_xaxes(title=t("chart.fiscal_quarter", lang), type="category")
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
