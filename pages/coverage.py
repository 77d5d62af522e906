"""ความครอบคลุม / Coverage: who looks after whom, the buddies' caseload, and visit recency."""


import streamlit as st

from dashboard.queries import coverage as q_coverage
from dashboard.ui import (
    agency_names,
    amphoe_names,
    context,
    counts_config,
    download_buttons,
    grid,
    one_section,
    page_header,
    place_names,
    protected_rows,
    table_box,
    tambon_names,
)
from dashboard.views import coverage, tables
from domain.i18n import format_number, format_percent
from domain.reference import agency_table
from domain.thai_dates import format_date

ctx = context()
page_header(ctx, "coverage.title")
days = ctx.definitions.visited_within_days


counts = ctx.data.read(q_coverage.coverage_counts, ctx.filters, ctx.definitions)  # one read
matrix = q_coverage.matrix_of(counts)
if matrix.households == 0:
    st.info(ctx.t("coverage.no_households"), icon=":material/search_off:")
    st.stop()
check = ctx.data.read(q_coverage.caseload_check, ctx.filters)
as_of = format_date(check.as_of, ctx.lang)  # the selected quarter's, not the latest
place = ctx.filters.place_column  # the chosen amphoe's tambon, as on the Overview
bands = {by: q_coverage.bands_of(counts, by) for by in (place, "agency_code")}
places, agencies = place_names(ctx), coverage.short_agency_names(ctx.lang)
st.info(coverage.coverage_sentence(bands[place], check, places, days, ctx.lang),
        icon=":material/campaign:")

c1, c2, c3, c4 = st.columns(4)
c1.metric(ctx.t("coverage.kpi_paired"), format_percent(matrix.paired / matrix.households),
          delta=ctx.t("coverage.kpi_of", n=format_number(matrix.households)), delta_color="off",
          delta_arrow="off", border=True, help=ctx.t("coverage.kpi_paired_help"))
c2.metric(ctx.t("coverage.kpi_officials"), format_number(matrix.officials), border=True,
          help=ctx.t("coverage.kpi_officials_help"))
c3.metric(ctx.t("coverage.kpi_off"), format_number(check.officials_off), border=True,
          delta=ctx.t("coverage.kpi_off_of", n=format_number(check.officials_checked)),
          delta_color="off", delta_arrow="off", help=ctx.t("coverage.kpi_off_help"))
c4.metric(ctx.t("coverage.kpi_unpaired"), format_number(len(check.unpaired)), border=True,
          help=ctx.t("coverage.kpi_unpaired_help"))

@st.fragment
def matrix_section() -> None:
    """The matrix by the measure chosen: switching redraws this section only."""
    measure = st.segmented_control(ctx.t("coverage.measure"), ["households", "officials"],
                                   default="households", required=True, key="coverage_measure",
                                   format_func=lambda m: ctx.t(f"coverage.measure_{m}"))
    order = [c for c in agency_table()["agency_code"] if ctx.filters.agency in (None, c)]
    left, right = st.columns([3, 2])
    full_names = agency_names(ctx.lang)
    left.plotly_chart(coverage.matrix_chart(matrix, measure, places, full_names, order, ctx.lang),
                      key="coverage_matrix", config={"displaylogo": False})
    table = coverage.matrix_table(matrix, measure, places, order, ctx.lang, agencies)
    # the key columns in view at 1,280 px: the place (kept as the rest scroll) and its total
    # next to it; the agencies after them, narrow, each named in full on hover
    place_column, total = table.columns[0], table.columns[-1]
    right.dataframe(grid(table), hide_index=True,
                    height=min(coverage.matrix_height(len(table) - 1),
                               35 * (len(table) + 1) + 3),
                    column_order=[place_column, total, *table.columns[1:-1]],
                    column_config=counts_config(table) | {
                        place_column: st.column_config.TextColumn(pinned=True),
                        total: st.column_config.NumberColumn(format="localized", width=70)} | {
                        agencies.get(c, c): st.column_config.NumberColumn(
                            agencies.get(c, c), help=full_names[c], format="localized",
                            width="small")
                        for c in order})
    with right:
        download_buttons(ctx, table, f"coverage_{measure}", key="matrix_dl")


st.subheader(ctx.t("coverage.matrix"))
matrix_section()
st.caption(ctx.t("coverage.matrix_note"))

def caseload_section() -> None:
    st.subheader(ctx.t("coverage.caseload"))
    st.caption(ctx.t("coverage.distribution", date=as_of, counts=" · ".join(
        ctx.t("coverage.distribution_item", load=k, n=format_number(n))
        for k, n in check.distribution.items())) + "  \n" + ctx.t("coverage.scope_note"))
    if ctx.filters.agency:
        st.caption(ctx.t("coverage.agency_filter_note"))
    left, right = st.columns([4, 3])
    with left:
        st.markdown(f"**{ctx.t('coverage.officials_off')}**")
        protected_rows(ctx, coverage.protected(check.officials, ctx.viewer),
                       lambda rows: coverage.caseload_table(rows, amphoe_names(ctx.lang),
                                                            agencies, ctx.lang),
                       "coverage.none_off", "coverage_caseload", key="coverage_caseload_dl")
    with right:
        st.markdown(f"**{ctx.t('coverage.unpaired')}**")
        protected_rows(ctx, coverage.protected(check.unpaired, ctx.viewer),
                       lambda rows: coverage.unpaired_table(rows, amphoe_names(ctx.lang),
                                                            tambon_names(ctx.lang), ctx.lang),
                       "coverage.none_unpaired", "coverage_unpaired", key="coverage_unpaired_dl")


def recency_section() -> None:
    st.subheader(ctx.t("coverage.recency"))
    for column, by, names in zip(st.columns(2), bands, (places, agencies), strict=True):
        with column:
            st.markdown("**" + ctx.t(f"coverage.recency_by_{by.removesuffix('_code')}") + "**")
            st.plotly_chart(coverage.recency_chart(bands[by], by, names, days, ctx.lang),
                            key=f"coverage_recency_{by}", config={"displaylogo": False})
            table_box(ctx, f"recency_{by}_table",
                      lambda by=by, names=names: coverage.recency_table(bands[by], by, names,
                                                                        days, ctx.lang),
                      coverage.for_screen, f"coverage_recency_{by.removesuffix('_code')}",
                      f"recency_{by}_dl")
    st.caption(ctx.t("coverage.recency_note", date=as_of, days=days, min=tables.MIN_GROUP))


# one section at a time: a filter change draws only the chosen one's tables and charts
one_section(ctx, "coverage_section", {"caseload": caseload_section, "recency": recency_section},
            "coverage")
