"""The only place the app caches: the store connection and small query results.

The connection lives in ``st.cache_resource`` (built from the demo files on first start);
results live in ``st.cache_data`` keyed by the explicit inputs and the data version, which
changes on every import and whenever the definitions file changes, so no page shows stale
figures. A lock serialises queries: one DuckDB connection is shared by every session.
"""

from __future__ import annotations

import datetime as dt
import inspect
import threading
from typing import Any

import streamlit as st

from dashboard import metrics
from dashboard.definitions import Definitions, definitions_path, load_definitions
from dashboard.filters import Choices, Filters
from loaders.bootstrap import ensure_definitions_current, ensure_store
from loaders.store import Store

_LOCK = threading.RLock()


@st.cache_resource(show_spinner=False)
def _open_store() -> Store:
    store = Store.open()
    with _LOCK:
        ensure_store(store)
    return store


@st.cache_resource(show_spinner=False)
def _definitions(path: str, mtime_ns: int) -> Definitions:
    return load_definitions()


def definitions() -> Definitions:
    """The definitions in force; re-read when the file changes."""
    path = definitions_path()
    return _definitions(str(path), path.stat().st_mtime_ns)


def store() -> Store:
    return _open_store()


def data_version() -> str:
    """Data version, after making sure the derived tables follow the definitions file."""
    current = store()
    with _LOCK:
        ensure_definitions_current(current, definitions())
        return current.data_version()


@st.cache_data(show_spinner=False, max_entries=64)
def choices(version: str) -> Choices:
    with _LOCK:
        return metrics.choices(store().con)


@st.cache_data(show_spinner=False, max_entries=64)
def data_as_of(version: str) -> dt.date | None:
    with _LOCK:
        return metrics.data_as_of(store().con)


QUERIES = frozenset({
    "overview_kpis", "target_trend", "place_summary", "level_trend", "transitions",
    "income_histogram", "income_medians", "dimension_deprivation", "group_comparison",
    "gap_counts",
})
"""The :mod:`dashboard.metrics` functions pages may call through :func:`query`."""


@st.cache_data(show_spinner=False, max_entries=512)
def _query(version: str, name: str, filters: Filters, params: tuple[tuple[str, Any], ...]) -> Any:
    function = getattr(metrics, name)
    kwargs = dict(params)
    if "definitions" in inspect.signature(function).parameters:
        kwargs["definitions"] = definitions()
    with _LOCK:
        return function(store().con, filters, **kwargs)


def query(name: str, version: str, filters: Filters, **params: Any) -> Any:
    """Run ``dashboard.metrics.<name>(con, filters, [definitions], **params)``, cached by the
    data version, the filters and the parameters (which must be hashable)."""
    if name not in QUERIES:
        raise ValueError(f"{name!r} is not a page query")
    return _query(version, name, filters, tuple(sorted(params.items())))
