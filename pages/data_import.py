"""นำเข้าข้อมูล / Import: the data officer's workbench for the field teams' files."""

import hashlib

import streamlit as st

from dashboard import store
from dashboard.store.privacy import protect
from dashboard.ui import context, download_buttons, page_header
from dashboard.ui.imports import (
    MAPPING_ROUND,
    chosen_mapping,
    history_section,
    mapping_section,
    sheet_choice,
)
from domain.i18n import format_number
from loaders.contracts import DATASETS, IMPORT_ORDER
from loaders.importer import MAX_UPLOAD_BYTES, rejected_rows
from loaders.readers import SUPPORTED_SUFFIXES
from loaders.report import issue_message, issues_frame, totals_lines

KEY_CANCELLED = "import_cancelled"  # the file whose check the officer stopped
ctx = context()
page_header(ctx, "page.import")
if not ctx.viewer.imports:
    st.info(ctx.t("import.officer_only"), icon=":material/lock:")
    st.stop()

left, right = st.columns(2)
dataset = left.selectbox(ctx.t("import.dataset"), IMPORT_ORDER, key="import_dataset",
                         format_func=lambda d: getattr(DATASETS[d], f"title_{ctx.lang}"))
# who imports: the signed-in user; typed only where sign-in is not configured (this computer)
who = ctx.viewer.email or right.text_input(ctx.t("import.who"), key="import_by", max_chars=80,
                                           placeholder=ctx.t("import.who_placeholder"))
st.caption(ctx.t("import.order_hint"))
# a new key after each import empties the uploader, so a saved file is not shown again
upload = st.file_uploader(ctx.t("import.file"),
                          key=f"import_file_{st.session_state.get('import_round', 0)}",
                          type=[s.lstrip(".") for s in SUPPORTED_SUFFIXES],
                          max_upload_size=MAX_UPLOAD_BYTES // (1024 * 1024),
                          help=ctx.t("import.file_help", mb=MAX_UPLOAD_BYTES // (1024 * 1024)))



def forget_checked() -> None:
    """Remove the staged rows of a file checked before and not written."""
    kept = st.session_state.pop("import_checked", None)
    if kept is not None:
        kept[1].close()


def cancel_check(key: tuple[str, str, str]) -> None:
    """The officer stopped the check of this file: what it staged goes, nothing is saved."""
    forget_checked()
    st.session_state[KEY_CANCELLED] = key


if upload is None:
    forget_checked()
else:
    data = upload.getvalue()
    file_key = (hashlib.sha256(data).hexdigest(), dataset)
    sheet = sheet_choice(ctx, data, upload.name, file_key[0][:12])
    mapping = chosen_mapping(file_key, dataset)
    key = (*file_key, ctx.data.version, st.session_state.get(MAPPING_ROUND, 0),
           tuple(mapping.columns.items()) if mapping else None, sheet)
    if st.session_state.get("import_checked", (None,))[0] != key:
        forget_checked()  # another file, dataset or data version: check again
        if st.session_state.get(KEY_CANCELLED) == key:
            st.info(ctx.t("import.cancelled"), icon=":material/cancel:")
            st.button(ctx.t("import.check_again"), key="import_check_again",
                      on_click=lambda: st.session_state.pop(KEY_CANCELLED, None))
            st.stop()
        # a click stops this run at its next progress step; the staged rows are removed
        st.button(ctx.t("import.cancel"), key="import_cancel", icon=":material/cancel:",
                  on_click=cancel_check, args=(key,))
        bar = st.progress(0.0, text=ctx.t("import.checking"))
        st.session_state["import_checked"] = (key, store.check_upload(
            ctx.viewer, data, upload.name, dataset,
            lambda share, stage: bar.progress(min(share, 1.0),
                                              text=ctx.t(f"import.stage_{stage}")),
            mapping, sheet))
        bar.empty()
    checked = st.session_state["import_checked"][1]
    report = checked.reports[0]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(ctx.t("import.rows_read"), format_number(report.rows_read), border=True)
    c2.metric(ctx.t("import.rows_accepted"), format_number(report.rows_accepted), border=True)
    c3.metric(ctx.t("import.rows_rejected"), format_number(report.rows_rejected), border=True)
    c4.metric(ctx.t("import.warnings"), format_number(len(report.warnings)), border=True)
    calendars = ", ".join(f"{h}: {ctx.t(f'import.calendar_{c}')}"
                          for h, c in report.calendars.items()) or "–"
    st.caption(ctx.t("import.detected", format=report.file_format or "–",
                     encoding=report.encoding or "–", calendars=calendars))
    if report.headers is not None:
        mapping_section(ctx, report.headers, dataset, file_key)
    if report.frame is not None:
        with st.expander(ctx.t("import.preview"), icon=":material/preview:",
                         key=f"import_preview_{dataset}"):
            preview = report.frame.drop(columns="_row").head(20)
            st.dataframe(protect(preview, ctx.viewer), hide_index=True)
    if report.issues:  # the totals of each kind, errors first, then every row
        st.text("\n".join(totals_lines(report, ctx.lang)))
        st.dataframe(issues_frame(report, ctx.lang), hide_index=True, key="import_issues")
    if report.errors:
        st.error(ctx.t("report.refused"), icon=":material/block:")
        fix = rejected_rows(report, lambda issue: issue_message(issue, ctx.lang))
        if not fix.empty:
            st.caption(ctx.t("import.fix_hint"))
            download_buttons(ctx, fix, f"rejected_{upload.name.rsplit('.', 1)[0]}",
                             key="import_rejected", personal=True)
    elif st.button(ctx.t("import.commit", n=format_number(report.rows_accepted)),
                   type="primary", disabled=not who.strip(), key="import_commit",
                   help=None if who.strip() else ctx.t("import.who_needed")):
        bar = st.progress(0.0, text=ctx.t("import.stage_read"))
        try:
            saved = store.write_upload(
                ctx.viewer, checked, who.strip(),
                lambda share, stage: bar.progress(share, text=ctx.t(f"import.stage_{stage}")))
        except store.StoreBusyError:  # a shared store: another server is writing
            st.error(ctx.t("import.busy"), icon=":material/hourglass:")
            st.stop()
        st.session_state["import_done"] = ctx.t(
            "report.committed", import_id=saved.import_id, inserted=saved.rows_inserted,
            updated=saved.rows_updated) if saved.committed else ctx.t("report.refused")
        st.session_state.pop("import_checked", None)
        st.session_state["import_round"] = st.session_state.get("import_round", 0) + 1
        st.rerun()
if message := st.session_state.pop("import_done", None):
    st.success(message, icon=":material/check_circle:")

history_section(ctx, who)
