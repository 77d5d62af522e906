"""ภาพรวม / Overview: the deputy governor's one screen."""

import pandas as pd
import streamlit as st

from dashboard.queries import overview as q_overview
from dashboard.ui import (
    amphoe_names,
    context,
    download_buttons,
    filters_summary,
    level_names,
    page_header,
    tambon_names,
)
from dashboard.views import charts
from domain.i18n import format_number, format_percent

ctx = context()
page_header(ctx, "page.overview")
kpis = ctx.data.read(q_overview.overview_kpis, ctx.filters, ctx.definitions)
trend = ctx.data.read(q_overview.target_trend, ctx.filters, ctx.definitions)

if kpis.households == 0:
    st.info(ctx.t("overview.no_households"), icon=":material/search_off:")
    st.stop()

c1, c2, c3, c4 = st.columns(4)
c1.metric(ctx.t("kpi.households"), format_number(kpis.households), border=True,
          delta=ctx.t("kpi.assessed", n=format_number(kpis.assessed)), delta_color="off",
          delta_arrow="off", help=ctx.t("kpi.households_help"))
c2.metric(ctx.t("kpi.paired"), format_percent(kpis.paired_share), border=True,
          delta=ctx.t("kpi.of_households", n=format_number(kpis.paired)), delta_color="off",
          delta_arrow="off", help=ctx.t("kpi.paired_help"))
per_official = kpis.paired / kpis.officials if kpis.officials else None
c3.metric(ctx.t("kpi.officials"), format_number(kpis.officials), border=True,
          delta=ctx.t("kpi.per_official", n=format_number(per_official, 2)), delta_color="off",
          delta_arrow="off", help=ctx.t("kpi.officials_help"))
c4.metric(ctx.t("kpi.visited", days=ctx.definitions.visited_within_days),
          format_percent(kpis.visited_share), border=True,
          delta=ctx.t("kpi.of_households", n=format_number(kpis.visited_recently)),
          delta_color="off", delta_arrow="off",
          help=ctx.t("kpi.visited_help", days=ctx.definitions.visited_within_days))

names = level_names(ctx)
st.subheader(ctx.t("overview.targets"))
for column, target in zip(st.columns(3), ctx.definitions.targets, strict=True):
    now, base = kpis.share_at_least(target.level), kpis.baseline_share_at_least(target.level)
    delta = None if now is None or base is None else (now - base) * 100
    column.metric(
        ctx.t("kpi.at_target", n=target.level, name=names[target.level]),
        format_percent(now),
        delta=None if delta is None else ctx.t("kpi.vs_baseline", points=f"{delta:+.1f}"),
        delta_color="normal" if delta is None or delta >= 0 else "inverse",
        chart_data=charts.sparkline_values(trend, target.level), chart_type="area",
        border=True, help=ctx.t("kpi.at_target_help", name=names[target.level]),
    )

left, right = st.columns([3, 2])
with left:
    st.subheader(ctx.t("overview.trend"))
    st.plotly_chart(charts.target_trend_chart(trend, ctx.definitions.targets,
                                              ctx.definitions.plan, ctx.lang),
                    key="overview_trend", config={"displaylogo": False})
    st.caption(ctx.t("overview.trend_note"))
with right:
    target_two = ctx.definitions.targets[1]
    by = "tambon_code" if ctx.filters.amphoe else "amphoe_code"
    st.subheader(ctx.t("overview.ranking_tambon" if ctx.filters.amphoe else "overview.ranking",
                       name=names[target_two.level]))
    summary = ctx.data.read(q_overview.place_summary, ctx.filters, ctx.definitions,
                                 level=target_two.level, by=by)
    place_names = tambon_names(ctx.lang) if ctx.filters.amphoe else amphoe_names(ctx.lang)
    st.plotly_chart(charts.place_ranking_chart(summary, place_names,
                             names[target_two.level], ctx.lang, by=by),
                    key="overview_ranking", config={"displaylogo": False})

figures = pd.DataFrame({
    ctx.t("download.figure"): [
        ctx.t("kpi.households"), ctx.t("kpi.paired"), ctx.t("kpi.officials"),
        ctx.t("kpi.visited", days=ctx.definitions.visited_within_days),
        *[ctx.t("kpi.at_target", n=tg.level, name=names[tg.level])
          for tg in ctx.definitions.targets],
    ],
    ctx.t("download.value"): [
        kpis.households, kpis.paired, kpis.officials, kpis.visited_recently,
        *[kpis.at_least[tg.level] for tg in ctx.definitions.targets],
    ],
    ctx.t("download.share"): [
        None, kpis.paired_share, None, kpis.visited_share,
        *[kpis.share_at_least(tg.level) for tg in ctx.definitions.targets],
    ],
    ctx.t("download.filters"): filters_summary(ctx),
})
with st.expander(ctx.t("download.title"), icon=":material/download:"):
    st.dataframe(figures, hide_index=True)
    download_buttons(ctx, figures, "overview", key="overview_dl")
