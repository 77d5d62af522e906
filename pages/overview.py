"""ภาพรวม / Overview: the deputy governor's one screen."""

import streamlit as st

from dashboard import store
from dashboard.queries import followup as q_followup
from dashboard.queries import forecast as q_forecast
from dashboard.queries import overview as q_overview
from dashboard.ui import (
    amphoe_names,
    context,
    lazy_expander,
    level_names,
    page_header,
    stale_warning,
    tambon_names,
    today,
)
from dashboard.ui.forecast import overview_forecast
from dashboard.ui.overview import (
    figures_section,
    followup_section,
    funnel_section,
    push_box,
    target_cards,
    target_gaps,
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
stale_warning(ctx)

# first what the deputy governor asks: each target against this year's plan, and where to push
names = level_names(ctx)
target_two = ctx.definitions.targets[1]
by = "tambon_code" if ctx.filters.amphoe else "amphoe_code"
summary = ctx.data.read(q_overview.place_summary, ctx.filters, ctx.definitions,
                        level=target_two.level, by=by)
gaps = target_gaps(ctx, kpis)
*target_columns, push_column = st.columns([1, 1, 1, 1.15])
target_cards(ctx, target_columns, gaps, trend)
push_box(ctx, push_column, summary, gaps[1])

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

left, right = st.columns([3, 2])
with left:
    st.subheader(ctx.t("overview.trend"))
    st.plotly_chart(charts.target_trend_chart(trend, ctx.definitions.targets,
                                              ctx.definitions.plan, ctx.lang),
                    key="overview_trend", config={"displaylogo": False})
    st.caption(ctx.t("overview.trend_note"))
with right:
    st.subheader(ctx.t("overview.ranking_tambon" if ctx.filters.amphoe else "overview.ranking",
                       name=names[target_two.level]))
    place_names = tambon_names(ctx.lang) if ctx.filters.amphoe else amphoe_names(ctx.lang)
    st.plotly_chart(charts.place_ranking_chart(summary, place_names,
                             names[target_two.level], ctx.lang, by=by),
                    key="overview_ranking", config={"displaylogo": False})

ahead = lazy_expander(ctx.t("forecast.title"), "overview_forecast", ":material/trending_up:")
with ahead:
    if ahead.open:  # the forecast costs a filter change about 0.3 s: computed when asked
        overview_forecast(ctx, ctx.data.read(q_forecast.ladder_forecast, ctx.filters,
                                             ctx.definitions))
funnel_section(ctx, ctx.data.read(q_overview.process_funnel, ctx.filters, ctx.definitions))
followup_section(ctx, ctx.data.read(q_followup.cases_by_place, ctx.filters, today(),
                                    store.cases_version(), by=by), by)

figures_section(ctx, kpis, names)
