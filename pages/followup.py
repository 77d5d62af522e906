"""ติดตามช่วยเหลือ / Follow-up: the households that need action, most urgent first, with their
reasons, plan and status; a case editable by those who may.

Rows arrive from the data layer already protected for the viewer's role
(dashboard.queries.followup -> dashboard.store.privacy.protect): this page never masks.
"""

import streamlit as st

from dashboard import store
from dashboard.queries import followup as q_followup
from dashboard.queries.households import valid_household_id
from dashboard.ui import context, grid, page_header, rows_caption_and_download, today
from dashboard.ui.followup import case_panel, visit_list_section
from dashboard.views import followup as views
from domain.definitions import FOLLOWUP_REASONS
from domain.i18n import format_number
from domain.thai_dates import format_date

KEY_OPEN = "followup_household"  # also the URL parameter: ?followup_household=<id>
KEY_TABLE = "followup_table"
ctx = context()
page_header(ctx, "followup.title")
day, cases = today(), store.cases_version()
counts = ctx.data.read(q_followup.reason_counts, ctx.filters, ctx.definitions, day, cases)
st.caption(ctx.t("followup.intro", as_of=format_date(ctx.as_of, ctx.lang)))
total, badges = st.columns([1.4, 4], vertical_alignment="center")
total.metric(ctx.t("followup.households"), format_number(counts["households"]), border=True)
badges.markdown(" ".join(
    f":{'red' if reason == 'action_overdue' else 'orange'}-badge["
    f"{views.reason_words(reason, ctx.definitions, ctx.lang)} · {counts[reason]:,}]"
    for reason in FOLLOWUP_REASONS))

if not ctx.viewer.sees_rows:
    st.info(ctx.t("followup.aggregates_only"), icon=":material/lock:")
    st.stop()
if counts["households"] == 0:
    st.success(ctx.t("followup.none"), icon=":material/check_circle:")
    st.stop()

result = ctx.data.read(q_followup.followup_list, ctx.filters, ctx.definitions,
                       viewer=ctx.viewer, today=day, cases=cases)
group = st.segmented_control(ctx.t("followup.group_by"), views.GROUPS, key="followup_group",
                             format_func=lambda g: ctx.t(f"followup.group_{g or 'none'}"),
                             default="") or ""
table = views.list_for_display(result.rows, ctx.definitions, ctx.lang, group)
ids = list(table[views.headers(ctx.lang)["household_id"]])
if group:
    summary = views.group_summary(table, group, ctx.lang)
    with st.expander(ctx.t("followup.groups"), expanded=True, icon=":material/workspaces:",
                     key="followup_groups_box"):
        st.dataframe(summary, hide_index=True, height=min(36 * 8, 36 * (len(summary) + 1)))


def open_selected() -> None:
    rows = st.session_state[KEY_TABLE].selection.rows
    st.session_state[KEY_OPEN] = ids[rows[0]] if rows and rows[0] < len(ids) else ""


st.dataframe(grid(table), key=KEY_TABLE, on_select=open_selected, hide_index=True,
             selection_mode="single-row", height=420, column_config={
                 views.headers(ctx.lang)["reasons"]: st.column_config.TextColumn(width="medium")})
rows_caption_and_download(ctx, table, result.total, "followup")
with st.expander(ctx.t("followup.visit_list"), icon=":material/print:",
                 key="followup_visit_list_box"):
    visit_list_section(ctx, result.rows, day)

st.divider()
st.text_input(ctx.t("followup.open"), key=KEY_OPEN, bind="query-params",
              placeholder=ctx.t("followup.pick"))
household_id = valid_household_id(st.session_state.get(KEY_OPEN))
if household_id:
    case_panel(ctx, household_id, views.summary_line(table, household_id, ctx.lang))
