"""นำเข้าข้อมูล / Import: the data officer's workbench for the field teams' files."""

import hashlib

import pandas as pd
import streamlit as st

from dashboard import store
from dashboard.store.privacy import protect
from dashboard.ui import context, download_buttons, page_header
from domain.i18n import format_number
from loaders.contracts import DATASETS, IMPORT_ORDER
from loaders.importer import MAX_UPLOAD_BYTES, rejected_rows
from loaders.readers import SUPPORTED_SUFFIXES
from loaders.report import issue_message, issues_frame, markdown_safe, totals_lines

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


if upload is None:
    forget_checked()
else:
    data = upload.getvalue()
    key = (hashlib.sha256(data).hexdigest(), dataset, ctx.data.version)
    if st.session_state.get("import_checked", (None,))[0] != key:
        forget_checked()  # another file, dataset or data version: check again
        bar = st.progress(0.0, text=ctx.t("import.checking"))
        st.session_state["import_checked"] = (key, store.check_upload(
            ctx.viewer, data, upload.name, dataset,
            lambda share, stage: bar.progress(min(share, 1.0),
                                              text=ctx.t(f"import.stage_{stage}"))))
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
        with st.expander(ctx.t("import.mapping"), icon=":material/swap_horiz:"):
            st.dataframe(pd.DataFrame({
                ctx.t("import.file_header"): list(report.headers.mapping),
                ctx.t("import.column"): list(report.headers.mapping.values()),
            }), hide_index=True)
            if report.headers.unknown:
                st.caption(ctx.t("import.unknown_headers", headers=markdown_safe(
                    ", ".join(report.headers.unknown))))
    if report.frame is not None:
        with st.expander(ctx.t("import.preview"), icon=":material/preview:"):
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
        saved = store.write_upload(
            ctx.viewer, checked, who.strip(),
            lambda share, stage: bar.progress(share, text=ctx.t(f"import.stage_{stage}")))
        st.session_state["import_done"] = ctx.t(
            "report.committed", import_id=saved.import_id, inserted=saved.rows_inserted,
            updated=saved.rows_updated) if saved.committed else ctx.t("report.refused")
        st.session_state.pop("import_checked", None)
        st.session_state["import_round"] = st.session_state.get("import_round", 0) + 1
        st.rerun()
if message := st.session_state.pop("import_done", None):
    st.success(message, icon=":material/check_circle:")

st.subheader(ctx.t("import.history"))
history = store.import_history(ctx.data)
history["dataset"] = history["dataset"].map(
    lambda d: getattr(DATASETS[d], f"title_{ctx.lang}") if d in DATASETS else d)
shown = history[["import_id", "imported_at", "imported_by", "dataset", "file_name",
                 "file_sha256", "rows_read", "rows_accepted", "rows_rejected", "rows_inserted",
                 "rows_updated", "warnings"]].rename(columns=lambda c: ctx.t(f"import.col_{c}"))
st.dataframe(shown, hide_index=True, key="import_history")
if not history.empty:
    last = history.iloc[0]
    with st.expander(ctx.t("import.undo_title"), icon=":material/undo:"):
        st.write(ctx.t("import.undo_what", import_id=int(last["import_id"]),
                       file=markdown_safe(str(last["file_name"])), dataset=last["dataset"]))
        sure = st.checkbox(ctx.t("import.undo_confirm"), key="import_undo_sure")
        if st.button(ctx.t("import.undo"), disabled=not (sure and who.strip()),
                     key="import_undo", help=None if who.strip() else ctx.t("import.who_needed")):
            result = store.undo_last_import(ctx.viewer, who.strip())
            st.session_state["import_done"] = ctx.t(
                "import.undone", import_id=result.import_id, removed=result.rows_removed,
                restored=result.rows_restored) if result else ctx.t("import.nothing_to_undo")
            st.rerun()
