"""หน่วยงาน / Agencies & buddies: the 15 agencies side by side, and the buddies overdue.

Choosing an agency here (the selector, or a click on its bar) narrows this page only, so the
league stays whole for comparison; "apply to every page" sets the shared agency filter.
"""

import dataclasses

import streamlit as st

from dashboard.queries import coverage as q_coverage
from dashboard.ui import (
    amphoe_names,
    context,
    download_buttons,
    figure_columns,
    grid,
    lazy_expander,
    level_names,
    page_header,
    place_names,
    protected_rows,
)
from dashboard.views import coverage, tables
from domain.filters import ALL, KEY_AGENCY
from domain.i18n import format_number, format_percent
from domain.thai_dates import format_date

KEY_PICK, KEY_CHART, KEY_MEASURE = "agencies_pick", "agencies_chart", "agencies_measure"
ctx = context()
page_header(ctx, "agencies.title")
target = ctx.definitions.targets[1]
level_name = level_names(ctx)[target.level]
names, places = coverage.short_agency_names(ctx.lang), amphoe_names(ctx.lang)
days = ctx.definitions.visited_within_days
# the league and its overdue officials come from one read
league, listed = ctx.data.read(q_coverage.league_and_overdue, ctx.filters, ctx.definitions,
                                    level=target.level)
league = coverage.with_need(league)
measure = st.session_state.get(KEY_MEASURE, coverage.MEASURES[0])
st.info(coverage.agencies_sentence(league, names, ctx.lang, measure), icon=":material/campaign:")


def pick_from_chart() -> None:
    points = st.session_state[KEY_CHART].selection.points
    if points:
        st.session_state[KEY_PICK] = points[0]["customdata"][0]


def apply_everywhere() -> None:
    st.session_state[KEY_AGENCY], st.session_state[KEY_PICK] = st.session_state[KEY_PICK], ALL


if ctx.filters.agency:
    picked: str | None = ctx.filters.agency
    st.caption(ctx.t("agencies.sidebar_pick"))
else:
    options = [ALL, *league["agency_code"]]
    if st.session_state.get(KEY_PICK) not in options:
        st.session_state[KEY_PICK] = ALL
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    picked = left.selectbox(ctx.t("agencies.pick"), options, key=KEY_PICK,
                            format_func=lambda c: names.get(c, ctx.t("agencies.all"))) or None
    right.button(ctx.t("agencies.apply"), on_click=apply_everywhere, disabled=picked is None,
                 help=ctx.t("agencies.apply_help"), icon=":material/filter_alt:",
                 width="stretch")

st.subheader(ctx.t("agencies.league"))
st.segmented_control(ctx.t("agencies.pick_measure"), coverage.MEASURES, key=KEY_MEASURE,
                     default=coverage.MEASURES[0], required=True,
                     format_func=lambda m: ctx.t(f"agencies.measure_short_{m}"),
                     help=ctx.t("agencies.pick_measure_help"))
# the chart, then the table under it at full width: beside the chart, the table's measures
# (visited, climbed) fell off a 1,280 px screen
st.plotly_chart(coverage.league_chart(league, names, picked, ctx.lang, measure), key=KEY_CHART,
                on_select=pick_from_chart, selection_mode="points",
                config={"displaylogo": False, "doubleClickDelay": 200})
table = coverage.league_table(league, names, level_name, ctx.lang, measure)
st.dataframe(grid(coverage.for_screen(table)), hide_index=True,
             height=min(36 * (len(table) + 1), 580),
             column_config=figure_columns(table) | {
                 table.columns[0]: st.column_config.TextColumn(width=230)})
download_buttons(ctx, table, "agencies_league", key="league_dl")
st.caption(ctx.t("agencies.league_note", quarters=int(league["quarters"].max()),
                 min=tables.MIN_GROUP))

narrowed = dataclasses.replace(ctx.filters, agency=picked)
st.subheader(ctx.t("agencies.selected", name=names[picked]) if picked else ctx.t("agencies.all"))
summary = coverage.league_summary(league[league["agency_code"] == picked] if picked else league)
cards = st.columns(5)
cards[0].metric(ctx.t("agencies.kpi_officials"), format_number(summary.officials), border=True,
                delta=ctx.t("agencies.kpi_per_official", n=format_number(
                    summary.households / summary.officials if summary.officials else None, 2)),
                delta_color="off", delta_arrow="off")
cards[1].metric(ctx.t("agencies.kpi_households"), format_number(summary.households), border=True)
cards[2].metric(ctx.t("agencies.kpi_rate"), format_number(summary.visits_per_household_quarter, 2),
                border=True, help=ctx.t("agencies.kpi_rate_help", quarters=summary.quarters))
for card, label, share in (
        (cards[3], ctx.t("agencies.kpi_climbed"), summary.climbed_share),
        (cards[4], ctx.t("kpi.at_target", n=target.level, name=level_name), summary.level_share)):
    card.metric(label, format_percent(share), border=True,
                delta=ctx.t("agencies.kpi_of_assessed", n=format_number(summary.assessed)),
                delta_color="off", delta_arrow="off")

st.markdown(f"**{ctx.t('agencies.overdue')}** · "
            f"{ctx.t('agencies.kpi_overdue')}: {format_number(summary.officials_overdue)}")
overdue = coverage.protected(
    listed if narrowed == ctx.filters
    else ctx.data.read(q_coverage.overdue_officials, narrowed, ctx.definitions), ctx.viewer)
protected_rows(ctx, overdue, lambda rows: coverage.overdue_table(rows, places, names, ctx.lang),
               "agencies.none_overdue", "agencies_overdue", key="overdue_dl", max_height=420)
st.caption(ctx.t("agencies.overdue_note", days=days))

# below the first screen: read and drawn only while open, one click away
place = ctx.filters.place_column  # the chosen amphoe's tambon, as on the Overview
# a label that stays the same whatever the filters: a new label would make a new expander,
# closed, at every choice of an amphoe
recency = lazy_expander(ctx.t("agencies.recency"), "agencies_recency_box",
                        ":material/event_repeat:")
with recency:
    if recency.open:
        heading = ctx.t(f"agencies.recency_{place.removesuffix('_code')}")
        st.markdown(f"**{heading}**")
        bands = ctx.data.read(q_coverage.recency_bands, narrowed, ctx.definitions, by=place)
        st.plotly_chart(coverage.recency_chart(bands, place, place_names(ctx), days, ctx.lang),
                        key="agencies_recency", config={"displaylogo": False})
        st.caption(ctx.t("coverage.recency_note", date=format_date(summary.as_of, ctx.lang),
                         days=days, min=tables.MIN_GROUP))
        recency_table = coverage.recency_table(bands, place, place_names(ctx), days, ctx.lang)
        st.dataframe(grid(coverage.for_screen(recency_table)), hide_index=True,
                     column_config=figure_columns(recency_table))
        download_buttons(ctx, recency_table, "agencies_recency", key="agencies_recency_dl")
