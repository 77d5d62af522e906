"""A household's follow-up case on screen: the form to change it (for those who may), its
state and history read-only (for everyone else, and on the Households profile).

A save carries the version the form was shown at (kept in the session), not the one read on
the rerun the click makes: a case changed in between is refused by the store's door and the
user is shown who changed it and its new state, with what they typed still in the form.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import store, ui
from dashboard.briefing.visit_list import visit_list_pdf
from dashboard.store import CaseConflict, CaseRecord
from dashboard.store.privacy import NotAllowedError
from dashboard.ui import PageContext, download_buttons
from dashboard.views import followup as views
from dashboard.views.households import markdown_text
from domain.cases import NOTE_MAX, STATUSES, Case, CaseEdit, CaseError
from domain.reference import agency_names
from domain.thai_dates import format_date

KEY_SHOWN_AT = "_followup_shown_at"  # household -> the case version its form was shown at
KEY_FLASH = "_followup_flash"  # a message for the next run (after a save's rerun)


def case_state(ctx: PageContext, case: Case | None) -> None:
    """A case's current state, in a few lines."""
    if case is None:
        st.caption(ctx.t("followup.no_case"))
        return
    agencies = agency_names(ctx.lang)
    lines = [f"**{ctx.t('followup.col.status')}:** {views.status_word(case.status, ctx.lang)}"]
    for label, value in (
            ("next_action", case.next_action),
            ("case_agency", agencies.get(case.agency_code, case.agency_code)),
            ("due_date", format_date(case.due_date, ctx.lang) if case.due_date else ""),
            ("close_reason", case.close_reason), ("note", case.note)):
        if value:  # typed by people: shown as text, never as links or formatting
            lines.append(f"**{ctx.t(f'followup.col.{label}')}:** {markdown_text(value)}")
    lines.append(ctx.t("followup.changed", by=markdown_text(case.changed_by),
                       at=views.local_time(case.changed_at, ctx.lang)))
    st.markdown("  \n".join(lines))


def history(ctx: PageContext, record: CaseRecord) -> None:
    st.markdown(f"**{ctx.t('followup.history')}**")
    if record.history.empty:
        st.caption(ctx.t("followup.no_history"))
    else:
        st.dataframe(views.history_for_display(record.history, ctx.lang), hide_index=True)


def case_panel(ctx: PageContext, household_id: str, summary: str = "") -> None:
    """The Follow-up page's panel for one household: its case, editable or read-only;
    ``summary``: who and why, as the list shows them."""
    record = store.read_case(ctx.viewer, household_id)
    if record is None:  # no such household, or outside the viewer's area
        st.info(ctx.t("households.not_found"), icon=":material/person_search:")
        return
    st.subheader(ctx.t("followup.case_title", household=household_id))
    if summary:
        st.caption(summary)
    flash = st.session_state.pop(KEY_FLASH, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    if not record.editable:
        st.caption(ctx.t("followup.read_only"))
        case_state(ctx, record.case)
    else:
        _form(ctx, household_id, record.case)
    history(ctx, record)


def _form(ctx: PageContext, household_id: str, case: Case | None) -> None:
    shown_at: dict[str, int] = st.session_state.setdefault(KEY_SHOWN_AT, {})
    agencies = agency_names(ctx.lang)
    key = f"followup_{household_id}"
    with st.form(key=f"{key}_form", border=True):
        left, right = st.columns(2)
        status = left.selectbox(
            ctx.t("followup.col.status"), STATUSES, key=f"{key}_status",
            index=STATUSES.index(case.status) if case else 0,
            format_func=lambda s: views.status_word(s, ctx.lang))
        agency = right.selectbox(
            ctx.t("followup.col.case_agency"), ["", *agencies], key=f"{key}_agency",
            index=["", *agencies].index(case.agency_code) if case and
            case.agency_code in agencies else 0,
            format_func=lambda c: agencies.get(c, "–"))
        action = left.text_input(ctx.t("followup.col.next_action"), key=f"{key}_action",
                                 value=case.next_action if case else "")
        due = right.date_input(ctx.t("followup.col.due_date"), key=f"{key}_due",
                               value=case.due_date if case else None)
        note = st.text_area(ctx.t("followup.col.note"), key=f"{key}_note",
                            value=case.note if case else "",
                            help=ctx.t("followup.note_help", most=NOTE_MAX))
        reason = st.text_input(ctx.t("followup.col.close_reason"), key=f"{key}_reason",
                               value=case.close_reason if case else "")
        submitted = st.form_submit_button(ctx.t("followup.save"), key=f"{key}_save",
                                          type="primary", icon=":material/save:")
    if not submitted:
        shown_at[household_id] = case.version if case else 0
        return
    edit = CaseEdit(household_id=household_id, status=status, next_action=action,
                    agency_code=agency, due_date=due if isinstance(due, dt.date) else None,
                    note=note, close_reason=reason)
    _save(ctx, edit, shown_at)


def _save(ctx: PageContext, edit: CaseEdit, shown_at: dict[str, int]) -> None:
    read_version = shown_at.get(edit.household_id, 0)
    try:
        saved = store.save_case(ctx.viewer, edit, read_version, ui.today())
    except CaseError as bad:
        params = {k: format_date(v, ctx.lang) if isinstance(v, dt.date) else v
                  for k, v in bad.params.items()}
        st.error(ctx.t(bad.key, **params), icon=":material/error:")
    except NotAllowedError:
        st.error(ctx.t("followup.not_allowed"), icon=":material/lock:")
    except CaseConflict as conflict:
        now = conflict.current
        shown_at[edit.household_id] = now.version if now else 0
        st.warning(ctx.t("followup.conflict", by=now.changed_by,
                         at=views.local_time(now.changed_at, ctx.lang)) if now else
                   ctx.t("followup.conflict_new"), icon=":material/sync_problem:")
        case_state(ctx, now)
    else:
        shown_at[edit.household_id] = saved.version
        st.session_state[KEY_FLASH] = ctx.t("followup.saved", version=saved.version)
        st.rerun()  # the list above follows the saved case


def profile_case(ctx: PageContext, household_id: str) -> None:
    """The Households profile's follow-up section: the case and its history, read-only."""
    record = store.read_case(ctx.viewer, household_id)
    if record is None:
        return
    st.markdown(f"**{ctx.t('followup.profile_case')}**")
    if record.case is None and record.history.empty:
        st.caption(ctx.t("followup.profile_no_case"))
        return
    case_state(ctx, record.case)
    history(ctx, record)


def visit_list_section(ctx: PageContext, rows: pd.DataFrame, day: dt.date) -> None:
    """One buddy's visit list: the PDF to print and take into the field, and its CSV/XLSX.
    The files are written when a button is clicked, and go on record then."""
    paired = rows[rows["official_id"].notna()]
    first = paired.drop_duplicates("official_id")
    labels = dict(zip(first["official_id"], views.buddy_labels(first, ctx.lang), strict=True))
    if not labels:
        return
    buddy = st.selectbox(ctx.t("followup.visit_list_buddy"), sorted(labels, key=labels.get),
                         key="followup_buddy", format_func=labels.get)
    shown = views.list_for_display(paired[paired["official_id"] == buddy], ctx.definitions,
                                   ctx.lang)
    stem = f"visit_list_{buddy}"

    def pdf() -> bytes:
        store.audit(ctx.viewer, "download_personal", f"{stem}.pdf ({len(shown)} rows)")
        return visit_list_pdf(shown, labels[buddy], ctx.as_of, day, ctx.lang)

    st.download_button(ctx.t("followup.visit_list_pdf"), pdf, file_name=f"{stem}.pdf",
                       mime="application/pdf", key="followup_pdf", on_click="ignore",
                       icon=":material/picture_as_pdf:", type="primary",
                       help=ctx.t("followup.visit_list_help"))
    download_buttons(ctx, shown, stem, key="followup_visit_dl", personal=True)
