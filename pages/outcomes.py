"""ผลลัพธ์ / Outcomes: how households move on the ladder, and where."""

import streamlit as st

from dashboard.queries import forecast as q_forecast
from dashboard.queries import outcomes
from dashboard.queries.outcomes import INCOME_CAP, PERIODS
from dashboard.ui import (
    agency_names,
    amphoe_names,
    context,
    download_buttons,
    figure_columns,
    grid,
    lazy_expander,
    level_names,
    one_section,
    page_header,
)
from dashboard.ui.forecast import climb_section, forecast_section
from dashboard.views import charts, tables
from domain.i18n import format_number
from domain.targets import describe_gap

ctx = context()
page_header(ctx, "page.outcomes")
names = level_names(ctx)
target_two = ctx.definitions.targets[1]


@st.fragment
def trend_section() -> bool:
    """The trend by the period chosen: choosing another redraws this section only."""
    period = st.segmented_control(ctx.t("outcomes.period"), PERIODS, default="quarter",
                                  required=True, key="outcomes_period",
                                  format_func=lambda p: ctx.t(f"outcomes.period_{p}"))
    trend = ctx.data.read(outcomes.level_trend, ctx.filters, ctx.definitions, period=period)
    if trend.empty:
        st.info(ctx.t("outcomes.no_data"), icon=":material/search_off:")
        return False
    st.plotly_chart(charts.target_trend_chart(trend, ctx.definitions.targets,
                                              ctx.definitions.plan, ctx.lang, period),
                    key="outcomes_trend")
    st.caption(ctx.t(f"outcomes.period_{period}_note"))
    return True


st.subheader(ctx.t("outcomes.trend"))
if not trend_section():
    st.stop()

ahead = lazy_expander(ctx.t("forecast.title"), "outcomes_forecast_box",
                      ":material/trending_up:")
with ahead:
    if ahead.open:  # the forecast costs a filter change about 0.3 s: computed when asked
        forecast_section(ctx, ctx.data.read(q_forecast.ladder_forecast, ctx.filters,
                                            ctx.definitions))


def transitions_section() -> None:
    st.subheader(ctx.t("outcomes.transitions"))
    moves = ctx.data.read(outcomes.transitions, ctx.filters)
    climbed = int(moves.loc[moves["level"] > moves["baseline_level"], "households"].sum())
    fell = int(moves.loc[moves["level"] < moves["baseline_level"], "households"].sum())
    same = int(moves["households"].sum()) - climbed - fell
    m1, m2, m3 = st.columns(3)
    m1.metric(ctx.t("outcomes.climbed"), format_number(climbed), border=True)
    m2.metric(ctx.t("outcomes.same"), format_number(same), border=True)
    m3.metric(ctx.t("outcomes.fell_back"), format_number(fell), border=True)
    left, right = st.columns([4, 5])  # the table whole, its total in view, at 1,280 px
    left.plotly_chart(charts.transition_sankey(moves, names, ctx.lang), key="outcomes_sankey",
                      config={"staticPlot": True})
    transition_table = tables.transition_table(moves, names, ctx.lang)
    # a static table: its headers wrap, so the total stays in view beside the flow at 1,280
    # px (a data grid there scrolled sideways to reach it)
    with right.container(key="outcomes_transitions"):
        st.table(transition_table.set_index(transition_table.columns[0]).style.format("{:,}"))
    right.caption(ctx.t("outcomes.transitions_note"))
    with right:
        download_buttons(ctx, transition_table, "outcomes_transitions", key="transitions_dl")


def income_section() -> None:
    left, right = st.columns(2)
    with left:
        st.subheader(ctx.t("outcomes.income"))
        base_median, now_median = ctx.data.read(outcomes.income_medians, ctx.filters)
        histogram = ctx.data.read(outcomes.income_histogram, ctx.filters, cap=INCOME_CAP)
        st.plotly_chart(charts.income_histogram_chart(histogram, ctx.definitions.income_line,
                                                      ctx.lang, INCOME_CAP),
                        key="outcomes_income")
        st.caption(ctx.t("outcomes.income_medians", baseline=format_number(base_median),
                         latest=format_number(now_median)))
    with right:
        st.subheader(ctx.t("outcomes.dimensions"))
        dims = ctx.data.read(outcomes.dimension_deprivation, ctx.filters, ctx.definitions)
        dim_names = {d.key: d.name_th if ctx.lang == "th" else d.name_en
                     for d in ctx.definitions.dimensions}
        st.plotly_chart(charts.dimension_chart(dims, dim_names, ctx.lang),
                        key="outcomes_dims")
        st.caption(ctx.t("outcomes.dimensions_note"))


def gaps_section() -> None:
    st.subheader(ctx.t("outcomes.gaps"))
    gaps = ctx.data.read(outcomes.gap_counts, ctx.filters)
    gap_labels = {code: describe_gap(code, ctx.definitions, ctx.lang) for code in gaps["gap"]}
    st.plotly_chart(charts.gap_chart(gaps, gap_labels, names, ctx.lang), key="outcomes_gaps")


@st.fragment
def comparison_section() -> None:
    """Amphoe or agencies compared: switching redraws this section only."""
    st.subheader(ctx.t("outcomes.compare", name=names[target_two.level]))
    by = st.segmented_control(ctx.t("outcomes.compare_by"), ["amphoe_code", "agency_code"],
                              default="amphoe_code", required=True, key="outcomes_compare_by",
                              format_func=lambda b: ctx.t(f"table.{b}"))
    compare = ctx.data.read(outcomes.group_comparison, ctx.filters, ctx.definitions,
                            by=by, level=target_two.level)
    group_names = amphoe_names(ctx.lang) if by == "amphoe_code" else agency_names(ctx.lang)
    left, right = st.columns([2, 3])
    left.plotly_chart(charts.comparison_chart(compare, by, group_names,
                               names[target_two.level], ctx.lang, tables.MIN_GROUP),
                      key="outcomes_compare")
    compare_table = tables.comparison_table(compare, by, group_names, names[target_two.level],
                                            ctx.lang)
    right.dataframe(grid(tables.for_display(compare_table, compare_table.attrs["decimals"])),
                    hide_index=True, column_config=figure_columns(compare_table),
                    height=min(36 * (len(compare_table) + 1), 720))
    right.caption(ctx.t("outcomes.compare_note", min=tables.MIN_GROUP, small=tables.SMALL_GROUP))
    download_buttons(ctx, compare_table, f"outcomes_{by.removesuffix('_code')}", key="compare_dl")


# one section at a time: a filter change drew and sent six charts when all were on the page
one_section(ctx, "outcomes_section", {"transitions": transitions_section,
                                      "income": income_section, "gaps": gaps_section,
                                      "compare": comparison_section}, "outcomes")

climbs = lazy_expander(ctx.t("climb.title"), "outcomes_climb_box", ":material/stairs:")
with climbs:
    if climbs.open:  # the comparison costs a filter change about 0.5 s: computed when asked
        climb_section(ctx)
