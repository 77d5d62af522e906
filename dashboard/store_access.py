"""The only place the app reaches the store: the connection and page query results.

The connection lives in ``st.cache_resource`` (built from the demo files on first start);
page query results are kept in the process (:func:`dashboard.memo.kept`) keyed by the
explicit inputs and the data version, which changes on every import and whenever the
definitions file changes, so no page shows stale figures. A lock serialises queries: one
DuckDB connection is shared by every session. A second connection, on a thread of its own,
reads ahead what a page will ask for after a filter change (:func:`start`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import datetime as dt
import functools
import inspect
import os
import re
import sys
import threading
import weakref
from collections.abc import Collection, Iterable, Iterator
from typing import Any

import ibis
import pandas as pd
import streamlit as st

from dashboard import compiled, memo, metrics, quality
from dashboard.definitions import Definitions, definitions_path, load_definitions
from dashboard.filters import Choices, Filters
from loaders import importer
from loaders.bootstrap import ensure_definitions_current, ensure_store
from loaders.importer import ImportReport, Progress, UndoResult, import_bytes, validate_bytes
from loaders.store import Store

_LOCK = threading.RLock()

SWITCH_INTERVAL_S = 0.0002
"""How long a thread running Python keeps Python's lock when another wants it (Python's
default is 5 ms). DuckDB's client takes the lock back between the tasks of a query (to
check for an interrupt), each time waiting out the interval while another thread runs
Python: a 4.8 ms read took 62 ms beside a busy Python thread at 5 ms, and 8 ms at 0.2 ms.
Every session's script, the server and the reads ahead run on threads of this process."""
sys.setswitchinterval(SWITCH_INTERVAL_S)


ENGINE_MEMORY_ENV = "KUSIAO_ENGINE_MEMORY"
ENGINE_MEMORY = "600MB"
"""The engine's memory in the dashboard process (DuckDB's ``memory_limit``: its cache of the
store's blocks and its working memory; a query that needs more spills to disk). Without a
limit DuckDB keeps up to 80% of the machine's memory, and at a million households the server
grew past 2 GB."""


@st.cache_resource(show_spinner=False)
def _open_store() -> Store:
    store = Store.open()
    with _LOCK:
        ensure_store(store)
        if store.con.name == "duckdb":
            limit = os.environ.get(ENGINE_MEMORY_ENV, ENGINE_MEMORY)
            store.set_memory_limit(_memory_setting(limit))
    return store


def _memory_setting(value: str) -> str:
    """``600MB``, ``1.5GB``: a size DuckDB reads, checked here (it is written into SQL)."""
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)", value.strip()):
        raise ValueError(f"{ENGINE_MEMORY_ENV}={value!r}: a size such as 600MB or 1.5GB")
    return value.strip()


@st.cache_resource(show_spinner=False)
def _definitions(path: str, mtime_ns: int) -> Definitions:
    return load_definitions()


def definitions() -> Definitions:
    """The definitions in force; re-read when the file changes."""
    path = definitions_path()
    return _definitions(str(path), path.stat().st_mtime_ns)


def store() -> Store:
    return _open_store()


_VERSIONS: weakref.WeakKeyDictionary[Store, tuple[Definitions, str]] = (
    weakref.WeakKeyDictionary())
"""The data version each open store was last read at, under the definitions it was read
with. With DuckDB this process is the store's only writer (DuckDB locks the file), and every
write here goes through :func:`import_upload` or :func:`undo_last_import`, which forget it;
a server database that other processes write to is asked on every rerun."""


def data_version() -> str:
    """Data version, after making sure the derived tables follow the definitions file (read
    from the store once per import or definitions change, not on every rerun)."""
    current, defs = store(), definitions()
    known = _VERSIONS.get(current) if current.con.name == "duckdb" else None  # one writer
    if known is not None and known[0] is defs:
        return known[1]
    with _LOCK:
        ensure_definitions_current(current, defs)
        version = current.data_version()
        _VERSIONS[current] = (defs, version)
    return version


@st.cache_data(show_spinner=False, max_entries=64)
def choices(version: str) -> Choices:
    with _LOCK:
        return metrics.choices(store().con)


@st.cache_data(show_spinner=False, max_entries=64)
def data_as_of(version: str) -> dt.date | None:
    with _LOCK:
        return metrics.data_as_of(store().con)


@st.cache_resource(show_spinner=False, max_entries=2)
def _page_backend(version: str) -> Any:
    """What page queries run on: with DuckDB, a :class:`compiled.PageBackend` on the store's
    connection, which keeps expressions, SQL, table lookups and small results for this data
    version; any other backend as it is."""
    current = store()
    if current.con.name != "duckdb":
        return current.con
    with _LOCK:  # making it sends settings on the shared connection, which may be busy
        return compiled.PageBackend.for_connection(current.raw)


QUERIES = frozenset({
    "overview_kpis", "target_trend", "place_summary", "level_trend", "transitions",
    "income_histogram", "income_medians", "dimension_deprivation", "group_comparison",
    "gap_counts", "quality_report",
    "map_place_values", "map_cells", "map_points",
    "household_table", "household_profile",
    "coverage_matrix", "caseload_check", "caseload_counts", "recency_bands", "agency_league",
    "overdue_officials", "league_and_overdue",
})
"""The query functions pages may call through :func:`query`."""


Params = tuple[tuple[str, Any], ...]
"""A query's parameters, sorted by name."""


QUERY_MODULES = (metrics, quality)
"""Where page queries live: each is ``fn(con, filters, [definitions], **params)``."""


def _call(name: str, params: dict[str, Any], version: str) -> tuple[Any, dict[str, Any]]:
    """The query function and its keyword arguments."""
    function = next(getattr(m, name) for m in QUERY_MODULES if hasattr(m, name))
    kwargs = dict(params)
    if "definitions" in inspect.signature(function).parameters:
        kwargs["definitions"] = _definitions_of(version)
    return function, kwargs


def _query(name: str, filters: Filters, params: dict[str, Any], version: str) -> Any:
    function, kwargs = _call(name, params, version)
    backend = _page_backend(version)
    with _LOCK, compiled.reading(backend, filters):
        return function(backend, filters, **kwargs)


# --- reading ahead on a second connection -----------------------------------------------------

_AHEAD = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="kusiao-ahead")
_AHEAD_LOCK = threading.Lock()  # the second connection: one read at a time
_STARTED: dict[tuple[Any, ...], concurrent.futures.Future[None]] = {}
_STARTED_LOCK = threading.Lock()
_READ_AHEAD = memo.Lru(256)
"""The reads ahead that ran a statement (rather than taking what another query read)."""
_READERS: weakref.WeakKeyDictionary[Store, tuple[Any, dict[str, Any]]] = (
    weakref.WeakKeyDictionary())
"""Each open store's second connection, and the page backends on it for the last two data
versions read."""


def _reader_backend(current: Store, version: str, first: compiled.PageBackend) -> Any:
    """A :class:`compiled.PageBackend` on the store's second connection for this data
    version (call under ``_AHEAD_LOCK``). It keeps its results with ``first``'s (the first
    connection's backend for the version), so that what one read is the other's too."""
    reader, backends = _READERS.get(current) or (None, {})
    if reader is None:
        reader = current.reader()
    if version not in backends:  # the last two versions, as for the first connection
        latest = list(backends.items())[-1:]
        backend = compiled.PageBackend.for_connection(reader)
        backend._results = first._results
        backends = dict([*latest, (version, backend)])
        _READERS[current] = (reader, backends)
    return backends[version]


def start_all(version: str, filters: Filters, reads: Iterable[tuple[str, Params]]) -> None:
    """:func:`start` each of ``reads`` (as :func:`noting` noted them), in order."""
    for name, params in reads:
        start(name, version, filters, **dict(params))


_NOTING: contextvars.ContextVar[tuple[Filters, list[tuple[str, Params]],
                                        Collection[tuple[str, Params]]] | None] = (
    contextvars.ContextVar("noting", default=None))


@contextlib.contextmanager
def noting(filters: Filters, asked: list[tuple[str, Params]],
           before: Collection[tuple[str, Params]] = ()) -> Iterator[None]:
    """Within this block, add to ``asked`` the page queries asked for with ``filters`` that
    read the store (each once, in the order first asked, with its parameters): what the page
    will read again when only the filters' values change, and :func:`start_all` can begin
    before it runs. A query that only takes what another one read (several of a page's
    queries share one read) is left to the page: making its frames on the reader's thread
    would only contend with the page's thread for Python's lock. A query kept from before
    (nothing read this time) is noted as it was last time (``before``)."""
    token = _NOTING.set((filters, asked, before))
    try:
        yield
    finally:
        _NOTING.reset(token)


def start(name: str, version: str, filters: Filters, **params: Any) -> None:
    """Begin the page query :func:`query` will be asked for, on the store's second
    connection and another thread, while the page goes on drawing (or reading something
    else): DuckDB works outside Python's lock, so the two reads take the time of the longer,
    not of both. :func:`query` then waits for it instead of reading it again. A read begun
    and never asked for is kept as any other; one that failed is read again by
    :func:`query`. Nothing is begun on a store other than DuckDB."""
    key = _key(name, version, filters, params)
    current = store()
    if current.con.name != "duckdb" or memo.is_kept(key):
        return
    function, kwargs = _call(name, params, version)
    first = _page_backend(version)
    with _STARTED_LOCK:
        if key not in _STARTED:
            _STARTED[key] = _AHEAD.submit(_read_ahead, key, (current, version, first),
                                          function, filters, kwargs)


def _read_ahead(key: tuple[Any, ...], where: tuple[Store, str, compiled.PageBackend],
                function: Any, filters: Filters, kwargs: dict[str, Any]) -> None:
    try:
        with _AHEAD_LOCK:
            backend = _reader_backend(*where)
            before = compiled.statements_run()
            with compiled.reading(backend, filters):
                memo.keep(key, function(backend, filters, **kwargs))
            if compiled.statements_run() > before:
                _READ_AHEAD.put(key, True)
    finally:
        with _STARTED_LOCK:
            _STARTED.pop(key, None)


def forget_kept() -> None:
    """Drop every kept query result, built figure, compiled query and prepared statement (a
    benchmark's first render starts from nothing, as after a server start)."""
    with _STARTED_LOCK:
        begun = list(_STARTED.values())
    concurrent.futures.wait(begun)
    memo.clear()
    _page_backend.clear()
    with _LOCK, _AHEAD_LOCK:
        for current, (reader, _backends) in list(_READERS.items()):
            _READERS[current] = (reader, {})
        compiled.forget_prepared()


def _definitions_of(version: str) -> Definitions:
    """The definitions the data version was read under (the derived tables were built with
    them), not a newer file saved since: the next rerun reads that one with its own version."""
    known = _VERSIONS.get(store())
    if known is not None and known[1] == version:
        return known[0]
    return definitions()


def _key(name: str, version: str, filters: Filters, params: dict[str, Any]
         ) -> tuple[Any, ...]:
    if name not in QUERIES:
        raise ValueError(f"{name!r} is not a page query")
    return ("query", version, name, repr(filters), tuple(sorted(params.items())))


def query(name: str, version: str, filters: Filters, **params: Any) -> Any:
    """Run ``dashboard.metrics.<name>(con, filters, [definitions], **params)``, kept by the
    data version, the filters (their repr: every field, by value) and the parameters (which
    must be hashable). Each call gets its own shallow copy of the result. A read begun ahead
    for it (:func:`start`) is waited for, or taken back if not begun yet; under
    :func:`noting`, a query that read the store is noted."""
    key = _key(name, version, filters, params)
    statements = compiled.statements_run()
    with _STARTED_LOCK:
        begun = _STARTED.get(key)
        if begun is not None and begun.cancel():  # not begun yet: read here, not after others
            del _STARTED[key]
            begun = None
    if begun is not None:
        concurrent.futures.wait([begun])  # kept when done; if it failed, read again here
    result = memo.kept(key, functools.partial(_query, name, filters, params, version))
    memo.known_as(result, key)  # the frames inside are named by the key
    note = _NOTING.get()
    if note is not None and note[0] == filters:
        _, asked, noted_before = note
        read = (compiled.statements_run() > statements or _READ_AHEAD.get(key)
                or (name, key[-1]) in noted_before)
        if read and (name, key[-1]) not in asked:
            asked.append((name, key[-1]))
    return result


def validate_upload(data: bytes, file_name: str, dataset: str) -> ImportReport:
    """Read and check an uploaded file against the store; writes nothing."""
    with _LOCK:
        return validate_bytes(store(), data, file_name, dataset)


def import_upload(data: bytes, file_name: str, dataset: str, imported_by: str,
                  progress: Progress) -> ImportReport:
    """Import an uploaded file (all or nothing); the data version changes if it is saved."""
    with _LOCK:
        try:
            return import_bytes(store(), data, file_name, dataset, imported_by,
                                definitions(), progress)
        finally:
            _VERSIONS.pop(store(), None)


def undo_last_import(undone_by: str) -> UndoResult | None:
    with _LOCK:
        try:
            return importer.undo_last_import(store(), undone_by, definitions())
        finally:
            _VERSIONS.pop(store(), None)


def import_history(version: str) -> pd.DataFrame:
    """The import log, newest first (a few hundred rows at most: one per file imported),
    read once per data version (every import and undo changes it)."""
    return memo.kept(("import_history", version), _read_import_log)


def _read_import_log() -> pd.DataFrame:
    with _LOCK:
        log = store().table("import_log")
        return log.order_by(ibis.desc("import_id")).execute()
