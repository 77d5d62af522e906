"""ครัวเรือน / Households: find one household and read its whole story on one screen.

Rows and profiles arrive from the data layer already protected for the viewer's role
(dashboard.queries.households -> dashboard.store.privacy.protect): this page never masks or unmasks.
"""

import streamlit as st

from dashboard.queries import households as q_households
from dashboard.store.privacy import NotAllowedError
from dashboard.ui import (
    chosen_columns,
    context,
    grid,
    level_names,
    page_header,
    rows_caption_and_download,
)
from dashboard.ui.households import on_record, profile_section, table_config
from dashboard.views import households
from domain.filters import Filters

KEY_OPEN = "household"  # also the URL parameter of a link to a profile: ?household=<id>
KEY_TABLE = "households_table"
ctx = context()
page_header(ctx, "households.title")
names = level_names(ctx)
line, window = ctx.definitions.income_line, ctx.definitions.visited_within_days


def aggregates_only() -> None:
    st.info(ctx.t("households.aggregates_only"), icon=":material/lock:")
    st.stop()


if not ctx.viewer.sees_rows:  # no search box for a role that may not search households
    aggregates_only()

search_col, income_col, recency_col, sort_col = st.columns([3, 2, 2, 2])
search = search_col.text_input(ctx.t("households.search"), key="households_search",
                               placeholder=ctx.t("households.search_placeholder"),
                               help=ctx.t("households.search_help"))
income = income_col.selectbox(ctx.t("households.income_filter"), q_households.INCOME_FILTERS,
                              key="households_income", format_func=lambda v: ctx.t(
                                  f"households.income_{v or 'all'}", line=f"{line:,.0f}"))
recency = recency_col.selectbox(ctx.t("households.recency_filter"), q_households.RECENCY_FILTERS,
                                key="households_recency", format_func=lambda v: ctx.t(
                                    f"households.recency_{v or 'all'}", days=window))
sort = sort_col.selectbox(ctx.t("households.sort"), q_households.SORTS, key="households_sort",
                          format_func=lambda v: ctx.t(f"households.sort_{v}"))
try:
    result = ctx.data.read(q_households.household_table, ctx.filters, ctx.definitions,
                           viewer=ctx.viewer, search=search, income=income, recency=recency,
                           sort=sort)
except NotAllowedError:  # the data layer's own check: it holds whatever the page does
    aggregates_only()

if search.strip() and result.total == 0:
    st.info(ctx.t("households.no_match", q=search.strip()), icon=":material/search_off:")
table = households.table_for_display(result.rows, ctx.lang, names, line)
ids = list(result.rows["household_id"])


def open_selected() -> None:
    rows = st.session_state[KEY_TABLE].selection.rows
    st.session_state[KEY_OPEN] = ids[rows[0]] if rows and rows[0] < len(ids) else ""


heads = households.table_columns(ctx.lang)
shown = chosen_columns(ctx, "households_columns", list(table.columns),
                       [heads[c] for c in households.DEFAULT_COLUMNS])
if len(table):  # none: the count below says so (an empty grid writes "empty" in English)
    st.dataframe(grid(table), key=KEY_TABLE, on_select=open_selected, column_order=shown,
                 selection_mode="single-row", hide_index=True, height=460,
                 column_config=table_config(ctx, heads, line))
rows_caption_and_download(ctx, table, result.total, "households")

st.divider()
st.subheader(ctx.t("households.profile"))
st.text_input(ctx.t("households.open"), key=KEY_OPEN, bind="query-params",
              placeholder=ctx.t("households.open_placeholder", example=ids[0] if ids else "H1"),
              help=ctx.t("households.open_help"))
household_id = q_households.valid_household_id(st.session_state.get(KEY_OPEN))
profile = household_id and ctx.data.read(
    q_households.household_profile, Filters(), ctx.definitions, household_id=household_id,
    viewer=ctx.viewer)
on_record(ctx, "open_profile" if profile else "refused", household_id)
if not profile:
    st.info(ctx.t("households.not_found" if household_id else "households.pick"),
            icon=":material/person_search:")
    st.stop()

profile_section(ctx, profile, household_id)
