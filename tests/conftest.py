"""Shared fixtures: hand-made stores, the demo store, and clean Streamlit caches."""

from __future__ import annotations

import functools
import gc
import os
import secrets
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

from loaders.contracts import IMPORT_ORDER
from loaders.importer import import_files
from loaders.store import STORE_DIR_ENV, STORE_URL_ENV, Store
from tests.factories import tiny_frames, write_csvs

ROOT = Path(__file__).resolve().parent.parent
PG_URL_ENV = "KUSIAO_TEST_PG_URL"
DEFAULT_PG_URL = "postgresql://kusiao:kusiao@127.0.0.1:5432/kusiao_test"


def build_store(folder: Path, files: dict[str, Path], url: str | None = None) -> Store:
    """The files imported into a store (``url``; by default a DuckDB file in ``folder``) as
    one import: each file its own import id and log row, the derived tables rebuilt once
    (file by file, they were rebuilt after each: three quarters of the time)."""
    store = Store.open(url or f"duckdb://{folder / 'store.duckdb'}", store_dir=folder)
    reports = import_files(store, {name: files[name] for name in IMPORT_ORDER if name in files},
                           imported_by="test")
    for report in reports:
        assert report.committed, [(i.row, i.column, i.reason_key) for i in report.errors]
    return store


GC_THRESHOLDS = (20_000, 20, 50)
"""The test processes' garbage collector runs less often than Python's default (700, 10, 10).
The tests build hundreds of thousands of Ibis nodes, frames and page elements that live
until a test ends, and the default's full collections walked every object the session had
kept each time: in one process, the query, golden-content and importer tests (391) spent 6.0 s
of 90 s collecting (4.7 s of it in full collections) and 1.4 s of 85 s with these. Only the
test processes: the dashboard's own processes keep Python's default."""


def pytest_configure(config: pytest.Config) -> None:
    gc.set_threshold(*GC_THRESHOLDS)


@pytest.fixture(scope="session", autouse=True)
def component_manifests_scanned_once() -> Iterator[None]:
    """Every new AppTest scans every installed package for Streamlit component manifests
    (a third of a second of CPU, more than many a page run): the packages do not change
    during a session, so the scan's answer is kept for it."""
    from streamlit.components.v2 import manifest_scanner

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(manifest_scanner, "scan_component_manifests",
                      functools.cache(manifest_scanner.scan_component_manifests))
        yield


@pytest.fixture
def empty_store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(f"duckdb://{tmp_path / 'store.duckdb'}", store_dir=tmp_path)
    yield store
    store.close()


@pytest.fixture
def tiny_files(tmp_path: Path) -> dict[str, Path]:
    return write_csvs(tiny_frames(), tmp_path / "files")


@pytest.fixture(scope="session")
def tiny_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny programme imported once; tests get their own copy of the store file."""
    folder = tmp_path_factory.mktemp("tiny_template")
    build_store(folder, write_csvs(tiny_frames(), folder / "files")).close()
    return folder


@pytest.fixture
def tiny_store(tmp_path: Path, tiny_template: Path) -> Iterator[Store]:
    shutil.copytree(tiny_template, tmp_path, dirs_exist_ok=True)
    store = Store.open(f"duckdb://{tmp_path / 'store.duckdb'}", store_dir=tmp_path)
    yield store
    store.close()


@pytest.fixture(scope="session")
def demo_store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store built once from data/demo/ through the importer, shared read-only."""
    folder = tmp_path_factory.mktemp("demo_store")
    from loaders.bootstrap import ensure_store

    store = Store.open(f"duckdb://{folder / 'store.duckdb'}", store_dir=folder)
    ensure_store(store)
    store.close()
    return folder


@pytest.fixture
def use_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Point the app at a given store folder and start from empty Streamlit caches."""
    import streamlit as st

    from dashboard import store

    def point(folder: Path) -> None:
        monkeypatch.setenv(STORE_URL_ENV, f"duckdb://{folder / 'store.duckdb'}")
        monkeypatch.setenv(STORE_DIR_ENV, str(folder))
        st.cache_data.clear()
        st.cache_resource.clear()
        store.close()

    yield point
    st.cache_data.clear()
    st.cache_resource.clear()  # closes nothing, but drops our handle to the store
    store.close()


DOWNLOADS: dict[str, bytes] = {}
"""Files the download buttons offered since the last :func:`downloads` fixture or clear."""


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Every file a download button offers, by file name: the bytes a user gets. Files
    written on click (a callable as ``data``) are written at once here."""
    DOWNLOADS.clear()
    add, add_deferred = MediaFileManager.add, MediaFileManager.add_deferred

    def record(file_name: str | None, data: object) -> None:
        if file_name and isinstance(data, bytes | str):
            DOWNLOADS[file_name] = data.encode("utf-8") if isinstance(data, str) else data

    def recording_add(self, path_or_data, mimetype, coordinates, file_name=None, **kwargs):
        record(file_name, path_or_data)
        return add(self, path_or_data, mimetype, coordinates, file_name, **kwargs)

    def recording_add_deferred(self, data_callable, mimetype, coordinates, file_name=None,
                               **kwargs):
        record(file_name, data_callable())
        return add_deferred(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", recording_add)
    monkeypatch.setattr(MediaFileManager, "add_deferred", recording_add_deferred)
    return DOWNLOADS


# --- PostgreSQL: a database per use on the test server ----------------------------------------


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432),
                                      timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def pg_database() -> Iterator[Callable[[str], str]]:
    """Makes a fresh database on the test server (``KUSIAO_TEST_PG_URL``; the role needs
    CREATEDB) and returns its URL; all are dropped when the session ends. Skips only when no
    server listens (and never under CI, which starts one: ``.ci/run``)."""
    url = os.environ.get(PG_URL_ENV, DEFAULT_PG_URL)
    if not _reachable(url):
        message = f"no PostgreSQL server reachable at {urlsplit(url).netloc.split('@')[-1]}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} ({PG_URL_ENV}); CI must start one (.ci/run)")
        pytest.skip(message)
    import psycopg
    from psycopg import sql

    admin = psycopg.connect(url, autocommit=True, connect_timeout=5)
    made: list[str] = []

    def make(label: str) -> str:
        name = f"kusiao_t{os.getpid()}_{label}_{secrets.token_hex(3)}"
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        made.append(name)
        return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))

    yield make
    for name in made:
        _drop_database(admin, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
    admin.close()


DROP_ATTEMPTS = 20
DROP_PAUSE_S = 0.5


def _drop_database(admin: Any, statement: Any) -> None:
    """Drop a test database. ``FORCE`` ends the tests' own connections to it, but not the
    server's autovacuum worker, which a role without ``pg_signal_backend`` may not end: while
    one is at work on the database the drop is refused, so it is tried again (a worker is done
    with a test database in well under a second)."""
    import psycopg

    for attempt in range(DROP_ATTEMPTS):
        try:
            admin.execute(statement)
            return
        except psycopg.errors.InsufficientPrivilege:
            if attempt == DROP_ATTEMPTS - 1:
                raise
            time.sleep(DROP_PAUSE_S)
