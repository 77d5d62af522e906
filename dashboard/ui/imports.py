"""The Import page's history of imports, and the undo of the last one."""

from __future__ import annotations

import streamlit as st

from dashboard import store
from dashboard.ui import PageContext, counts_config
from dashboard.views.tables import history_table
from loaders.contracts import DATASETS
from loaders.report import markdown_safe


def history_section(ctx: PageContext, who: str) -> None:
    """Every import, newest first, and the undo of the last one (by ``who``)."""
    st.subheader(ctx.t("import.history"))
    history = store.import_history(ctx.data)
    history["dataset"] = history["dataset"].map(
        lambda d: getattr(DATASETS[d], f"title_{ctx.lang}") if d in DATASETS else d)
    shown = history_table(history, ctx.lang).rename(columns=lambda c: ctx.t(f"import.col_{c}"))
    st.dataframe(shown, hide_index=True, key="import_history", column_config={
        **counts_config(shown), ctx.t("import.col_file_sha256"): st.column_config.TextColumn(
            width="small", help=ctx.t("import.sha_help"))})
    if not history.empty:
        last = history.iloc[0]
        with st.expander(ctx.t("import.undo_title"), icon=":material/undo:"):
            st.write(ctx.t("import.undo_what", import_id=int(last["import_id"]),
                           file=markdown_safe(str(last["file_name"])), dataset=last["dataset"]))
            sure = st.checkbox(ctx.t("import.undo_confirm"), key="import_undo_sure")
            if st.button(ctx.t("import.undo"), disabled=not (sure and who.strip()),
                         key="import_undo",
                         help=None if who.strip() else ctx.t("import.who_needed")):
                try:
                    result = store.undo_last_import(ctx.viewer, who.strip())
                except store.StoreBusyError:  # a shared store: another server is writing
                    st.error(ctx.t("import.busy"), icon=":material/hourglass:")
                    st.stop()
                st.session_state["import_done"] = ctx.t(
                    "import.undone", import_id=result.import_id, removed=result.rows_removed,
                    restored=result.rows_restored) if result else ctx.t("import.nothing_to_undo")
                st.rerun()
