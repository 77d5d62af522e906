"""Streamlit helpers shared by the pages: the page context, captions, downloads, KPI cards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import store
from dashboard.store import Snapshot
from dashboard.store.privacy import Viewer
from dashboard.views import exports
from dashboard.views.tables import grid
from domain.definitions import Definitions
from domain.filters import Choices, Filters
from domain.i18n import format_number, t
from domain.reference import agency_names, amphoe_names, tambon_names
from domain.thai_dates import format_date, format_quarter

CONTEXT_KEY = "_page_context"


@dataclass(frozen=True)
class PageContext:
    """What the entrypoint decided for this run; every page reads it."""

    lang: str
    filters: Filters
    choices: Choices
    data: Snapshot
    definitions: Definitions
    as_of: dt.date | None
    viewer: Viewer

    def t(self, key: str, **params: object) -> str:
        return t(key, self.lang, **params)


def set_context(ctx: PageContext) -> None:
    st.session_state[CONTEXT_KEY] = ctx


def context() -> PageContext:
    ctx = st.session_state.get(CONTEXT_KEY)
    if ctx is None:  # a page opened without the entrypoint's frame
        st.error(t("app.no_context"))
        st.stop()
    return ctx


def every_label(kind: str, offered: int, lang: str) -> str:
    """"Every amphoe (26)", or, for a user of a narrower area, "every amphoe of yours (1)"."""
    whole = len(amphoe_names(lang) if kind == "amphoe" else agency_names(lang))
    key = {"amphoe": ("all_amphoe", "your_amphoe"), "agency": ("all_agencies",
                                                               "your_agencies")}[kind]
    return t(f"filters.{key[0] if offered == whole else key[1]}", lang, n=offered)


def place_names(ctx: PageContext) -> dict[str, str]:
    """Names of the places the pages compare: amphoe, or the chosen amphoe's tambon."""
    return tambon_names(ctx.lang) if ctx.filters.amphoe else amphoe_names(ctx.lang)


def level_names(ctx: PageContext) -> dict[int, str]:
    return ctx.definitions.level_names(ctx.lang)


def filters_summary(ctx: PageContext) -> str:
    """The filters in force, in words: shown on every page and in every export."""
    f = ctx.filters
    parts = [ctx.t("filters.as_of_quarter",
                   quarter=format_quarter(f.quarter or ctx.choices.latest_quarter or 0,
                                          ctx.lang))]
    parts.append(amphoe_names(ctx.lang).get(f.amphoe, "") if f.amphoe
                 else every_label("amphoe", len(ctx.choices.amphoe), ctx.lang))
    if f.tambon:
        parts.append(ctx.t("filters.tambon_prefix") + tambon_names(ctx.lang).get(f.tambon, ""))
    parts.append(agency_names(ctx.lang).get(f.agency, "") if f.agency
                 else every_label("agency", len(ctx.choices.agency), ctx.lang))
    if f.levels:
        names = level_names(ctx)
        parts.append(", ".join(names[level] for level in f.levels))
    return " · ".join(parts)


def page_header(ctx: PageContext, title_key: str) -> None:
    st.title(ctx.t(title_key))
    st.caption(f":material/filter_alt: {filters_summary(ctx)}  \n"
               f":material/event: {ctx.t('app.data_as_of', date=format_date(ctx.as_of, ctx.lang))}")


def today() -> dt.date:
    """Today's date where the server runs (a test replaces it)."""
    return dt.date.today()


def stale_warning(ctx: PageContext) -> None:
    """A warning when the data end longer ago than the definitions file allows."""
    days = ctx.definitions.days_stale(ctx.as_of, today())
    if days is not None:
        st.warning(ctx.t("overview.stale", date=format_date(ctx.as_of, ctx.lang),
                         days=format_number(days), limit=ctx.definitions.stale_after_days),
                   icon=":material/history:")


def counts_config(frame: pd.DataFrame) -> dict[str, Any]:
    """Whole-number columns shown with thousands separators (186,588, not 186588), still
    sorting as numbers."""
    return {c: st.column_config.NumberColumn(format="localized") for c in frame.columns
            if pd.api.types.is_integer_dtype(frame[c])}


def figure_columns(frame: pd.DataFrame) -> dict[str, Any]:
    """The figure columns of ``frame`` aligned right on screen, as figures are read and
    compared (units under units), also once :func:`~dashboard.views.tables.for_display` has
    written them as text, which a grid would align left: its number columns and those it
    gives decimals for."""
    decimals = frame.attrs.get("decimals", {})
    return {c: st.column_config.Column(alignment="right") for c in frame.columns
            if c in decimals or pd.api.types.is_numeric_dtype(frame[c])}


def chosen_columns(ctx: PageContext, key: str, columns: list[str], default: list[str]
                   ) -> list[str]:
    """The columns a wide table shows: ``default`` (the key columns, which fit at 1,280 px)
    until the user picks others in the "Columns" chooser beside it. The download keeps
    every column."""
    with st.popover(ctx.t("table.columns"), icon=":material/view_column:"):
        picked = st.multiselect(ctx.t("table.columns_help"), columns, default=default,
                                key=key)
    return [c for c in columns if c in picked] or default


def rows_or_note(ctx: PageContext, frame: pd.DataFrame, where: Any = st,
                 **dataframe_options: Any) -> None:
    """A data grid of ``frame``, or, when it has no rows, a line saying so in the user's
    language: an empty grid writes "empty" across itself, in English on a Thai page."""
    if frame.empty:
        where.caption(ctx.t("table.no_rows"))
    else:
        where.dataframe(frame, **dataframe_options)


SHOWN_ROWS = 500
"""Rows of a list (officials, households) sent to the browser at most; the downloads hold
every row. At a million households a list can run to thousands of rows."""


def row_list(ctx: PageContext, table: pd.DataFrame, stem: str, key: str,
             max_height: int = 400, **dataframe_options: Any) -> None:
    """A list of rows on screen (the first :data:`SHOWN_ROWS`, saying so when there are
    more) and all of it as CSV and XLSX."""
    shown = min(len(table), SHOWN_ROWS)
    st.dataframe(grid(table, SHOWN_ROWS), hide_index=True,
                 height=min(36 * (shown + 1), max_height),
                 **{"column_config": counts_config(table), **dataframe_options})
    if len(table) > shown:
        st.caption(ctx.t("download.shown_of", shown=format_number(shown),
                         total=format_number(len(table))))
    download_buttons(ctx, table, stem, key=key, personal=True)


def table_expander(ctx: PageContext, key: str) -> Any:
    """The expander "the figures as a table, and downloads", which a page fills only while
    it is open (``.open`` is True; opening or closing it reruns the page): a closed one
    costs the page nothing, where making and sending its table and files cost 2-4 ms on
    every rerun."""
    return lazy_expander(ctx.t("download.title"), key, ":material/download:")


def lazy_expander(label: str, key: str, icon: str) -> Any:
    """An expander a page fills only while it is open (``.open``; opening or closing it
    reruns the page): a section whose figures cost a filter change hundreds of
    milliseconds, one click away instead of computed on every change."""
    return st.expander(label, icon=icon, key=key, on_change="rerun")


def one_section(ctx: PageContext, key: str, sections: Mapping[str, Callable[[], None]],
                labels: str) -> None:
    """A picker of a page's sections below its first screen, and the chosen one drawn: a
    filter change reads and draws that section only, each other one click away. The picker's
    values are the sections' codes, labelled ``<labels>.tab_<code>`` under the heading
    ``<labels>.section``, so the choice outlives a language switch."""
    chosen = st.segmented_control(ctx.t(f"{labels}.section"), list(sections),
                                  default=next(iter(sections)), required=True, key=key,
                                  format_func=lambda code: ctx.t(f"{labels}.tab_{code}"))
    sections[chosen]()


def download_buttons(ctx: PageContext, frame: pd.DataFrame, stem: str, key: str,
                     personal: bool = False) -> None:
    """CSV (UTF-8 with BOM) and XLSX of exactly ``frame``, side by side. The files are
    written when a button is clicked, not on every rerun of the page; a file of
    ``personal`` rows (households, officials) goes on record when it is written."""

    def written(make: Callable[[], bytes], name: str) -> Callable[[], bytes]:
        def write() -> bytes:
            if personal:
                store.audit(ctx.viewer, "download_personal", f"{name} ({len(frame)} rows)")
            return make()
        return write

    left, right = st.columns(2)
    left.download_button(
        ctx.t("download.csv"), written(lambda: exports.to_csv_bytes(frame), f"{stem}.csv"),
        file_name=f"{stem}.csv", mime="text/csv", key=f"{key}_csv",
        icon=":material/download:", on_click="ignore", width="stretch",
    )
    right.download_button(
        ctx.t("download.xlsx"),
        written(lambda: exports.to_xlsx_bytes(frame, stem), f"{stem}.xlsx"),
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_xlsx", icon=":material/table_view:", on_click="ignore", width="stretch",
    )


def rows_caption_and_download(ctx: PageContext, table: pd.DataFrame, total: int,
                              section: str) -> None:
    """Under a page's table of household rows: how many there are (of how many, when cut)
    and, on request, the table's CSV/XLSX (an XLSX of thousands of rows takes about a second
    to build: only when asked for). ``section`` names the locale keys and the files."""
    st.caption(ctx.t(f"{section}.truncated", shown=format_number(len(table)),
                     total=format_number(total)) if total > len(table) else
               ctx.t(f"{section}.count", n=format_number(total)))
    if st.toggle(ctx.t("households.download"), key=f"{section}_download"):
        download_buttons(ctx, table, section, key=f"{section}_dl", personal=True)


def protected_rows(ctx: PageContext, rows: pd.DataFrame | None,
                   build: Callable[[pd.DataFrame], pd.DataFrame], empty_key: str, stem: str,
                   key: str, **row_list_options: Any) -> None:
    """Household- or official-level rows as the data layer protected them for the viewer:
    a notice when the role may not see rows (``None``), a success note when there are none,
    else the list (``build`` makes its table) with its downloads."""
    if rows is None:
        st.info(ctx.t("coverage.no_rows"), icon=":material/lock:")
    elif rows.empty:
        st.success(ctx.t(empty_key), icon=":material/check_circle:")
    else:
        row_list(ctx, build(rows), stem, key=key, **row_list_options)


def table_box(ctx: PageContext, key: str, build: Callable[[], pd.DataFrame],
              shown: Callable[[pd.DataFrame], pd.DataFrame], stem: str, download_key: str
              ) -> None:
    """The expander "the figures as a table, and downloads", filled only while open."""
    box = table_expander(ctx, key=key)
    if box.open:
        table = build()
        with box:
            st.dataframe(grid(shown(table)), hide_index=True, column_config=figure_columns(table))
            download_buttons(ctx, table, stem, key=download_key)
