"""ผู้ใช้และบันทึกการเข้าถึง / Users and access log: who may use the dashboard, in which role
and area, and the record of who saw whose data (administrators only)."""

import streamlit as st

from dashboard import store
from dashboard.ui import context, download_buttons, page_header
from domain.access import ROLES, UserError, checked_user
from domain.i18n import t
from domain.reference import agency_names, amphoe_names

ctx = context()
page_header(ctx, "admin.title")
if not ctx.viewer.administers:
    store.audit(ctx.viewer, "refused", "admin page")
    st.info(ctx.t("admin.not_allowed"), icon=":material/lock:")
    st.stop()

st.subheader(ctx.t("admin.users"))
people = store.list_users(ctx.viewer)
if people.empty:
    st.info(ctx.t("admin.no_users"), icon=":material/group_off:")
else:
    st.dataframe(people.rename(columns=lambda c: ctx.t(f"admin.col_{c}")), hide_index=True)

with st.form("admin_user", clear_on_submit=False):
    st.markdown(f"**{ctx.t('admin.add')}**")
    left, right = st.columns(2)
    email = left.text_input(ctx.t("admin.email"), max_chars=254, key="admin_email")
    name = right.text_input(ctx.t("admin.name"), max_chars=200, key="admin_name")
    role = left.selectbox(ctx.t("admin.role"), ROLES, key="admin_role",
                          format_func=lambda r: ctx.t(f"role.{r}"))
    places, agencies = amphoe_names(ctx.lang), agency_names(ctx.lang)
    amphoe = right.multiselect(ctx.t("admin.amphoe"), list(places), key="admin_amphoe",
                               format_func=places.__getitem__,
                               placeholder=ctx.t("admin.everywhere"))
    agency = right.multiselect(ctx.t("admin.agency"), list(agencies), key="admin_agency",
                               format_func=agencies.__getitem__,
                               placeholder=ctx.t("admin.everywhere"))
    save, remove = st.columns(2)
    saved = save.form_submit_button(ctx.t("admin.save"), type="primary")
    removed = remove.form_submit_button(ctx.t("admin.remove"))
if saved or removed:
    try:
        if saved:
            user = checked_user(email, role, name, tuple(amphoe), tuple(agency))
            store.save_user(ctx.viewer, user)
            st.success(ctx.t("admin.saved", email=user.email), icon=":material/check_circle:")
        else:
            store.remove_user(ctx.viewer, email)
            st.success(ctx.t("admin.removed", email=email.strip().lower()),
                       icon=":material/check_circle:")
    except UserError as exc:
        st.error(t(exc.key, ctx.lang, **exc.params), icon=":material/error:")

st.subheader(ctx.t("admin.log"))
log = store.audit_log(ctx.viewer)
left, right = st.columns(2)
actions = left.multiselect(ctx.t("admin.action_filter"), sorted(log["action"].unique()),
                           key="admin_log_actions")
who = right.text_input(ctx.t("admin.user_filter"), key="admin_log_user", max_chars=100)
shown = log[log["action"].isin(actions)] if actions else log
if who.strip():
    shown = shown[shown["user_email"].str.contains(who.strip().lower(), regex=False)]
shown = shown.rename(columns=lambda c: ctx.t(f"admin.col_{c}"))
st.dataframe(shown.head(1000), hide_index=True)
if len(shown) > 1000:
    st.caption(ctx.t("download.shown_of", shown="1,000", total=f"{len(shown):,}"))
download_buttons(ctx, shown, "audit_log", key="admin_log_dl", personal=True)
