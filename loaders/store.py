"""The store: one DuckDB file (or another Ibis backend named by a URL).

Settings (environment variables, documented in the README):
- ``KUSIAO_STORE_URL``: Ibis connection URL, default ``duckdb:///<project>/data/store/kusiao.duckdb``.
- ``KUSIAO_STORE_DIR``: folder for the kept raw files and the journal of refused imports,
  default ``<project>/data/store``.

Writes go through :meth:`Store.transaction`: all or nothing. Reads for pages go through Ibis
(:attr:`Store.con`). The data version is the id of the last import, stored in the ``meta``
table, so caches keyed by it never serve figures from before an import.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
from ibis.backends import BaseBackend

from loaders.contracts import DATASETS, Dataset

ROOT = Path(__file__).resolve().parent.parent
STORE_URL_ENV = "KUSIAO_STORE_URL"
STORE_DIR_ENV = "KUSIAO_STORE_DIR"

IMPORT_LOG_COLUMNS = {
    "import_id": "INTEGER",
    "imported_at": "TIMESTAMP",
    "imported_by": "VARCHAR",
    "dataset": "VARCHAR",
    "file_name": "VARCHAR",
    "file_sha256": "VARCHAR",
    "file_format": "VARCHAR",
    "encoding": "VARCHAR",
    "rows_read": "INTEGER",
    "rows_accepted": "INTEGER",
    "rows_rejected": "INTEGER",
    "rows_inserted": "INTEGER",
    "rows_updated": "INTEGER",
    "warnings": "INTEGER",
    "raw_path": "VARCHAR",
}
IMPORT_WARNING_COLUMNS = {
    "import_id": "INTEGER",
    "dataset": "VARCHAR",
    "file_row": "INTEGER",
    "file_column": "VARCHAR",
    "value": "VARCHAR",
    "reason_key": "VARCHAR",
    "detail": "VARCHAR",
}

USER_COLUMNS = {
    "email": "VARCHAR",
    "name": "VARCHAR",
    "role": "VARCHAR",
    "amphoe": "VARCHAR",  # ";"-separated codes, empty = every amphoe
    "agency": "VARCHAR",  # ";"-separated codes, empty = every agency
    "changed_at": "TIMESTAMP",
    "changed_by": "VARCHAR",
}
AUDIT_COLUMNS = {
    "at": "TIMESTAMP",
    "user_email": "VARCHAR",
    "action": "VARCHAR",
    "object": "VARCHAR",
    "client": "VARCHAR",
}
"""Users and the audit log: kept by the store, never touched by an import or its undo."""


class StoreBusyError(RuntimeError):
    """Another process holds the store for writing (e.g. the dashboard is running)."""


def default_store_dir() -> Path:
    return Path(os.environ.get(STORE_DIR_ENV, ROOT / "data" / "store"))


def store_url() -> str:
    return os.environ.get(STORE_URL_ENV) or f"duckdb://{default_store_dir() / 'kusiao.duckdb'}"


def _ddl(table: str, columns: dict[str, str]) -> str:
    cols = ", ".join(f'"{name}" {sql_type}' for name, sql_type in columns.items())
    return f'CREATE TABLE IF NOT EXISTS "{table}" ({cols})'


def dataset_columns(dataset: Dataset) -> dict[str, str]:
    cols = {c.name: c.storage_type for c in dataset.columns}
    cols["_import_id"] = "INTEGER"
    return cols


def replaced_table(dataset: Dataset) -> str:
    """Where an import keeps the rows it replaced, so that it can be undone exactly."""
    return f"{dataset.table}__replaced"


class Store:
    """An open store. Create with :meth:`open`; close with :meth:`close`."""

    def __init__(self, con: BaseBackend, url: str, store_dir: Path) -> None:
        self.con = con
        self.url = url
        self.store_dir = store_dir
        self.memory_setting: str | None = None  # set_memory_limit's value, if it was called
        self._readers: list[Any] = []

    @classmethod
    def open(cls, url: str | None = None, store_dir: Path | None = None) -> Store:
        url = url or store_url()
        store_dir = store_dir or default_store_dir()
        if url.startswith("duckdb://"):
            path = url.removeprefix("duckdb://")
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            con = ibis.connect(url)
        except Exception as exc:
            if "lock" in str(exc).lower():
                raise StoreBusyError(str(exc)) from exc
            raise
        store = cls(con, url, store_dir)
        store.ensure_schema()
        return store

    def close(self) -> None:
        for reader in self._readers:
            reader.close()
        self._readers.clear()
        self.con.disconnect()

    def reader(self) -> Any:
        """A second DuckDB connection to this store, for checking an upload on another
        thread while the first connection serves pages (DuckDB runs them side by side);
        closed with the store. ``None`` for any other backend."""
        if self.con.name != "duckdb":
            return None
        reader = self.raw.cursor()
        self._readers.append(reader)
        return reader

    # --- raw SQL on the backend's own DB-API connection (writes and DDL only) ----------------

    @property
    def raw(self) -> Any:
        return self.con.con

    def execute(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement and fetch all its rows (DuckDB 2 refuses further work on a
        connection while a result is unread)."""
        cursor = self.raw.execute(sql, params or [])
        try:
            return cursor.fetchall()
        except Exception:  # statements without a result set
            return []

    def ensure_schema(self) -> None:
        existing = self.table_names()
        wanted = {d.table: dataset_columns(d) for d in DATASETS.values()}
        wanted |= {replaced_table(d): dataset_columns(d) | {"_replaced_by": "INTEGER"}
                   for d in DATASETS.values()}
        wanted["import_log"] = IMPORT_LOG_COLUMNS
        wanted["import_warning"] = IMPORT_WARNING_COLUMNS
        wanted["meta"] = {"key": "VARCHAR", "value": "VARCHAR"}
        wanted["app_user"] = USER_COLUMNS
        wanted["audit_log"] = AUDIT_COLUMNS
        missing = {name: cols for name, cols in wanted.items() if name not in existing}
        if not missing:
            return  # a read-only visit must not touch the file
        with self.transaction():
            for name, cols in missing.items():
                self.execute(_ddl(name, cols))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    @contextlib.contextmanager
    def memory_limit(self, limit: str | None) -> Iterator[None]:
        """Cap the engine's memory (e.g. ``"2500MB"``) for a heavy job, then restore the
        setting: the engine spills to disk instead of growing with the data."""
        if not limit:
            yield
            return
        # the value as it was set (reading it back rounds it down a little each time)
        previous = self.memory_setting or self.execute(
            "SELECT current_setting('memory_limit')")[0][0]
        self.execute(f"SET memory_limit = '{limit}'")
        try:
            yield
        finally:
            self.execute(f"SET memory_limit = '{previous}'")

    def set_memory_limit(self, limit: str) -> None:
        """The engine's memory from now on (a size such as ``600MB``, checked by the caller)."""
        self.execute(f"SET memory_limit = '{limit}'")
        self.memory_setting = limit

    # --- reads ----------------------------------------------------------------------------

    def table(self, name: str) -> ibis.Table:
        return self.con.table(name)

    def table_names(self) -> set[str]:
        # Ibis 12's list_tables() calls a DuckDB 1.x method that DuckDB 2.0 removed.
        rows = self.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {r[0] for r in rows}

    def has_table(self, name: str) -> bool:
        return name in self.table_names()

    def count(self, name: str) -> int:
        return int(self.table(name).count().execute())

    def meta(self, key: str) -> str | None:
        rows = self.execute("SELECT value FROM meta WHERE key = ?", [key])
        return rows[0][0] if rows else None

    def data_version(self) -> str:
        """Changes on every import and every rebuild for new definitions."""
        return f"{self.meta('data_version') or '0'}/{self.meta('definitions') or '-'}"

    def next_import_id(self) -> int:
        rows = self.execute("SELECT coalesce(max(import_id), 0) + 1 FROM import_log")
        return int(rows[0][0])

    def key_values(self, table: str, column: str, values: list[str]) -> set[str]:
        """Which of ``values`` exist in ``table.column`` (parameterised; no string building)."""
        if not values:
            return set()
        frame = pd.DataFrame({"v": pd.Series(values, dtype=object)})
        self.raw.register("_probe", frame)
        try:
            rows = self.execute(
                f'SELECT DISTINCT p.v FROM _probe p JOIN "{table}" t ON t."{column}" = p.v'
            )
        finally:
            self.raw.unregister("_probe")
        return {r[0] for r in rows}

    # --- writes (call inside :meth:`transaction`) -----------------------------------------

    def upsert(self, dataset: Dataset, frame: pd.DataFrame, import_id: int) -> tuple[int, int]:
        """Replace rows with the same key, insert the rest; return (inserted, updated)."""
        staged = frame[dataset.column_names]
        self.raw.register("_staged", staged)
        try:
            return self.upsert_from(dataset, "_staged", import_id)
        finally:
            self.raw.unregister("_staged")

    def upsert_from(self, dataset: Dataset, source: str, import_id: int) -> tuple[int, int]:
        """:meth:`upsert` from a SQL relation holding the dataset's columns (e.g. the staged
        rows of a big file: ``read_parquet('...')``), without passing through Python."""
        cols = dataset_columns(dataset)
        names = ", ".join(f'"{c}"' for c in cols)
        on = " AND ".join(f't."{k}" = s."{k}"' for k in dataset.key)
        total = self.execute(f"SELECT count(*) FROM {source}")[0][0]
        match = f"EXISTS (SELECT 1 FROM {source} s WHERE {on})"
        updated = 0
        if self.execute(f'SELECT count(*) FROM (SELECT 1 FROM "{dataset.table}" LIMIT 1)')[0][0]:
            updated = self.execute(
                f'SELECT count(*) FROM "{dataset.table}" t WHERE {match}')[0][0]
        if updated:
            self.execute(
                f'INSERT INTO "{replaced_table(dataset)}" ({names}, "_replaced_by") '
                f'SELECT {", ".join(f"t.{n}" for n in names.split(", "))}, ? '
                f'FROM "{dataset.table}" t WHERE {match}',
                [import_id],
            )
            self.execute(f'DELETE FROM "{dataset.table}" t WHERE {match}')
        select = ", ".join(f'CAST("{c}" AS {t})' for c, t in cols.items() if c != "_import_id")
        self.execute(f'INSERT INTO "{dataset.table}" ({names}) '
                     f"SELECT {select}, CAST(? AS INTEGER) FROM {source}", [import_id])
        return int(total) - int(updated), int(updated)

    def undo_rows(self, dataset: Dataset, import_id: int) -> tuple[int, int]:
        """Remove the rows ``import_id`` wrote and put back the rows it replaced; return
        (removed, restored). Call inside a transaction, for the last import only."""
        cols = ", ".join(f'"{c}"' for c in dataset_columns(dataset))
        removed = self.execute(
            f'SELECT count(*) FROM "{dataset.table}" WHERE "_import_id" = ?', [import_id])[0][0]
        self.execute(f'DELETE FROM "{dataset.table}" WHERE "_import_id" = ?', [import_id])
        shadow = replaced_table(dataset)
        restored = self.execute(
            f'SELECT count(*) FROM "{shadow}" WHERE "_replaced_by" = ?', [import_id])[0][0]
        self.execute(f'INSERT INTO "{dataset.table}" ({cols}) SELECT {cols} FROM "{shadow}" '
                     'WHERE "_replaced_by" = ?', [import_id])
        self.execute(f'DELETE FROM "{shadow}" WHERE "_replaced_by" = ?', [import_id])
        return int(removed), int(restored)

    def append_rows(self, table: str, columns: dict[str, str], rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        frame = pd.DataFrame(rows, columns=list(columns))
        self.raw.register("_rows", frame)
        try:
            select = ", ".join(f'CAST("{c}" AS {t})' for c, t in columns.items())
            names = ", ".join(f'"{c}"' for c in columns)
            self.execute(f'INSERT INTO "{table}" ({names}) SELECT {select} FROM _rows')
        finally:
            self.raw.unregister("_rows")

    def set_meta(self, key: str, value: str) -> None:
        self.execute("DELETE FROM meta WHERE key = ?", [key])
        self.execute("INSERT INTO meta VALUES (?, ?)", [key, value])

    def replace_table_from_expr(self, name: str, expr: ibis.Table) -> None:
        """(Re)build a derived table from an Ibis expression inside the open transaction."""
        sql = ibis.to_sql(expr, dialect=self.con.name)
        self.execute(f'CREATE OR REPLACE TABLE "{name}" AS {sql}')

    def replace_table_from_frame(self, name: str, frame: pd.DataFrame) -> None:
        self.raw.register("_frame", frame)
        try:
            self.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _frame')
        finally:
            self.raw.unregister("_frame")
