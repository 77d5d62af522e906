"""The Import page's header mapping, its history of imports, and the undo of the last one."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import store
from dashboard.ui import PageContext, counts_config
from dashboard.views.tables import history_table
from domain.i18n import format_number, t
from loaders.contracts import DATASETS, Dataset
from loaders.headers import IGNORE, HeaderMapping
from loaders.mappings import SavedMapping
from loaders.readers import FileReadError, list_sheets
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
        with st.expander(ctx.t("import.undo_title"), icon=":material/undo:",
                         key="import_undo_box"):
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


MAPPING_KEY = "import_mapping"
"""Session state: (file key, {header: column}) the officer chose for the file of that key."""
SHEETS_KEY = "import_sheets"
"""Session state: (file tag, its sheets) of the workbook last uploaded."""
MAPPING_ROUND = "import_mapping_round"
"""Session state: one more at each mapping saved, so the file is checked again with it."""


def column_label(column: str, dataset: Dataset, lang: str) -> str:
    """A column as the officer picks it: its name in the page's language, its name in the
    system, and * when the file must have it."""
    if column == IGNORE:
        return t("import.mapping_ignore", lang)
    col = dataset.column(column)
    name = next((a for a in col.aliases if a.isascii() == (lang == "en")), column)
    return f"{name} · {column}{' *' if col.required else ''}"


def _status(headers: HeaderMapping, header: str, lang: str) -> str:
    if header in headers.mapping:
        return "✓ " + t("import.mapping_sure", lang)
    if header in headers.suggestions:
        score = round(headers.suggestions[header].score * 100)
        return "? " + t("import.mapping_unsure", lang, score=score)
    return t("import.mapping_none", lang)


def chosen_mapping(file_key: tuple[str, str], dataset: str) -> SavedMapping | None:
    """The mapping the officer chose for this file, if any."""
    chosen = st.session_state.get(MAPPING_KEY)
    if not chosen or chosen[0] != file_key:
        return None
    return SavedMapping("", dataset, dict(chosen[1]))


def mapping_section(ctx: PageContext, headers: HeaderMapping, dataset_name: str,
                    file_key: tuple[str, str]) -> None:
    """Every header of the file with the column it goes to, for the officer to change, to
    use for this file, and to save under a name for the next files with these headers."""
    dataset = DATASETS[dataset_name]
    unsure = bool(headers.suggestions or headers.missing_required or headers.duplicated)
    with st.expander(ctx.t("import.mapping"), icon=":material/swap_horiz:",
                     expanded=unsure or bool(headers.chosen)):
        if headers.saved_name:
            st.info(ctx.t("import.mapping_saved_applied",
                          name=markdown_safe(headers.saved_name)), icon=":material/bookmark:")
        elif headers.chosen:
            st.caption(ctx.t("import.mapping_chosen"))
        if headers.suggestions:
            st.warning(ctx.t("import.mapping_suggested", n=len(headers.suggestions)),
                       icon=":material/help:")
        if (dataset_name == "households" and "household_id" not in headers.mapping.values()
                and "house_code" in headers.mapping.values()):
            st.caption(ctx.t("import.house_code_key"))
        st.caption(ctx.t("import.mapping_help"))
        options = [IGNORE, *(c.name for c in dataset.columns)]
        tag = file_key[0][:12]
        with st.form(f"import_mapping_{tag}", border=False):
            grid = st.columns(2)
            choices: dict[str, str] = {}
            for i, header in enumerate(headers.file_headers):
                current = headers.column_of(header)
                if header in headers.suggestions:
                    current = headers.suggestions[header].column
                label = f"{markdown_safe(header)} · {_status(headers, header, ctx.lang)}"
                choices[header] = grid[i % 2].selectbox(
                    label, options, index=options.index(current), key=f"import_map_{tag}_{i}",
                    format_func=lambda c: column_label(c, dataset, ctx.lang))
            name = st.text_input(ctx.t("import.mapping_name"), key=f"import_mapping_name_{tag}",
                                 max_chars=80, placeholder=ctx.t("import.mapping_name_placeholder"))
            use, keep = st.columns(2)
            applied = use.form_submit_button(ctx.t("import.mapping_apply"),
                                             type="primary" if unsure else "secondary",
                                             icon=":material/check:")
            saved = keep.form_submit_button(ctx.t("import.mapping_save"),
                                            icon=":material/bookmark_add:")
        if saved:
            try:
                store.save_mapping(ctx.viewer, SavedMapping(name, dataset_name, choices))
            except store.MappingError as exc:
                st.error(ctx.t(exc.key, **exc.params), icon=":material/error:")
                return
            st.session_state.pop(MAPPING_KEY, None)  # the saved mapping applies by itself
            st.session_state[MAPPING_ROUND] = st.session_state.get(MAPPING_ROUND, 0) + 1
            st.session_state["import_mapping_done"] = ctx.t(
                "import.mapping_saved", name=markdown_safe(" ".join(name.split())))
            st.rerun()
        if applied:
            st.session_state[MAPPING_KEY] = (file_key, choices)
            st.rerun()
        if headers.chosen:
            st.button(ctx.t("import.mapping_reset"), key=f"import_mapping_reset_{tag}",
                      on_click=lambda: st.session_state.pop(MAPPING_KEY, None))
    if message := st.session_state.pop("import_mapping_done", None):
        st.success(message, icon=":material/bookmark_added:")


def sheet_choice(ctx: PageContext, data: bytes, file_name: str, tag: str) -> str | None:
    """The sheet of an Excel file with several to read: the officer's choice, with the first
    rows of the chosen sheet to see; ``None`` (the first sheet with the dataset's headers,
    which the report names) until the officer chooses, and for any other file."""
    if not file_name.lower().endswith((".xlsx", ".xlsm")):
        return None
    kept = st.session_state.get(SHEETS_KEY)
    if kept is None or kept[0] != tag:  # the workbook is opened once per file, not per rerun
        try:
            kept = (tag, list_sheets(data))
        except FileReadError:  # the check says why the file cannot be read
            kept = (tag, [])
        st.session_state[SHEETS_KEY] = kept
    sheets = kept[1]
    if len(sheets) < 2:
        return None
    by_name = {s.name: s for s in sheets}

    def label(name: str) -> str:
        if not name:
            return ctx.t("import.sheet_auto")
        found = by_name[name]
        hidden = "" if found.visible else " · " + ctx.t("import.sheet_hidden")
        return f"{name} · {ctx.t('import.sheet_rows', n=format_number(found.rows))}{hidden}"

    chosen = st.selectbox(ctx.t("import.sheet", n=len(sheets)), ["", *by_name],
                          format_func=label, key=f"import_sheet_{tag}",
                          help=ctx.t("import.sheet_help"))
    if not chosen:  # the report names the sheet read
        return None
    shown = by_name[chosen]
    with st.expander(ctx.t("import.sheet_preview", sheet=shown.name), icon=":material/grid_on:",
                     key=f"import_sheet_preview_{tag}"):
        width = max((len(row) for row in shown.preview), default=0)
        st.dataframe(pd.DataFrame([[("" if c is None else str(c)) for c in row]
                                   + [""] * (width - len(row)) for row in shown.preview]),
                     hide_index=True)
    return chosen
