"""The store: one DuckDB file (the embedded default) or a PostgreSQL database.

Settings (environment variables, documented in the README and docs/deployment.md):
- ``KUSIAO_STORE_URL``: ``duckdb:///<path>`` (default
  ``duckdb:///<project>/data/store/kusiao.duckdb``) or ``postgresql://user:pass@host:port/db``.
- ``KUSIAO_STORE_DIR``: folder for the kept raw files and the journal of refused imports,
  default ``<project>/data/store``.
- ``KUSIAO_STORE_LOCK_WAIT``: seconds a write on PostgreSQL waits for another import or
  undo to finish before it is refused (default 60).

Writes go through :meth:`Store.transaction`: all or nothing. Reads for pages go through Ibis
(:attr:`Store.con`). The data version is the id of the last import, stored in the ``meta``
table, so caches keyed by it never serve figures from before an import.

Everything particular to an engine is here: :class:`DuckDBStore` and :class:`PostgresStore`
implement the same interface (statements, staging a file's rows, bulk loads, tables built from
queries, the write lock) and give the few SQL spellings that differ (:meth:`Store.median` and
friends), so the importer, the derived tables and the checks are written once.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from ibis.backends import BaseBackend

from loaders.contracts import DATASETS, Dataset

ROOT = Path(__file__).resolve().parent.parent
STORE_URL_ENV = "KUSIAO_STORE_URL"
STORE_DIR_ENV = "KUSIAO_STORE_DIR"
LOCK_WAIT_ENV = "KUSIAO_STORE_LOCK_WAIT"
LOCK_WAIT_SECONDS = 60.0
WRITE_LOCK_KEY = 0x6B75_7369_616F  # "kusiao": the advisory lock every write takes

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

MAPPING_COLUMNS = {
    "name": "VARCHAR",  # the officer's name for it: "อ.ชุมแพ export from จปฐ."
    "dataset": "VARCHAR",
    "signature": "VARCHAR",  # the file's set of headers (loaders.headers.headers_signature)
    "columns": "VARCHAR",  # JSON: file header -> column ("" = left out)
    "saved_at": "TIMESTAMP",
    "saved_by": "VARCHAR",
}
"""Header mappings saved under a name (:mod:`loaders.mappings`): kept like the users."""
HOUSE_CODE_KEY = "house_code_key"
"""The store's secret (``meta``) from which a household named only by its house code gets
its programme ID (:class:`loaders.validate.HouseCodes`): stable for the store, and the code
cannot be read back from the ID. Made with the store's tables."""

CASE_COLUMNS = {
    "household_id": "VARCHAR",
    "status": "VARCHAR",  # open, in_progress, resolved, closed
    "next_action": "VARCHAR",
    "agency_code": "VARCHAR",  # the agency responsible for the next action
    "due_date": "DATE",
    "note": "VARCHAR",  # personal data: masked by role
    "close_reason": "VARCHAR",
    "version": "INTEGER",  # 1 for a new case, one more on every change
    "opened_at": "TIMESTAMP",
    "changed_at": "TIMESTAMP",
    "changed_by": "VARCHAR",
}
"""Follow-up cases: one row per household, its current state (``followup_case``), and every
version of it (``followup_case_history``). Kept by the store like the users: an import never
overwrites them and its undo leaves them alone."""


class StoreBusyError(RuntimeError):
    """Another process holds the store for writing (e.g. the dashboard is running, or another
    import is being written to a shared store)."""


class StoreUrlError(ValueError):
    """``KUSIAO_STORE_URL`` names no engine this project runs on, or the server refused."""


COMPILED_KEPT = 256
"""Derived-table statements kept compiled in the process (each engine's SQL of each step)."""


def compiled_sql(expr: ibis.Table, dialect: str) -> str:
    """The SQL of an expression in an engine's dialect, compiled once per process. The
    derived tables' expressions depend on the definitions, the tables' columns and a few
    values of the data (its quarters), not on the rows: built on :meth:`Store.source`'s
    unbound tables, every import, on any store of the same layout, asks for the same ones,
    and Ibis takes longer to compile them (~0.9 s for the 21 steps) than a small store takes
    to run them. (An expression on a connection's tables is compiled as well, but kept for
    that connection only.)"""
    return _compiled(expr.op(), dialect)


@functools.lru_cache(maxsize=COMPILED_KEPT)
def _compiled(node: Any, dialect: str) -> str:
    return ibis.to_sql(node.to_expr(), dialect=dialect)


def default_store_dir() -> Path:
    return Path(os.environ.get(STORE_DIR_ENV, ROOT / "data" / "store"))


def store_url() -> str:
    return os.environ.get(STORE_URL_ENV) or f"duckdb://{default_store_dir() / 'kusiao.duckdb'}"


def _ddl(table: str, columns: dict[str, str]) -> str:
    cols = ", ".join(f'"{name}" {sql_type}' for name, sql_type in columns.items())
    return f'CREATE TABLE IF NOT EXISTS "{table}" ({cols})'


def dataset_columns(dataset: Dataset) -> dict[str, str]:
    cols = {c.name: c.storage_type for c in dataset.stored_columns}
    cols["_import_id"] = "INTEGER"
    return cols


def replaced_table(dataset: Dataset) -> str:
    """Where an import keeps the rows it replaced, so that it can be undone exactly."""
    return f"{dataset.table}__replaced"


def engine_of(url: str) -> str:
    """``duckdb`` or ``postgres``, from a store URL; a clear error for anything else."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "duckdb":
        return "duckdb"
    if scheme in ("postgresql", "postgres"):
        return "postgres"
    raise StoreUrlError(
        f"{STORE_URL_ENV}: {_redacted(url)!r} is not a store URL; use duckdb:///path/to/file "
        "or postgresql://user:password@host:port/database")


def _redacted(url: str) -> str:
    """A URL without its password (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


class Store:
    """An open store. Create with :meth:`open` (which picks the engine from the URL); close
    with :meth:`close`. This class holds what both engines share; :class:`DuckDBStore` and
    :class:`PostgresStore` hold what differs."""

    engine = ""

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
        kind: type[Store] = PostgresStore if engine_of(url) == "postgres" else DuckDBStore
        store = kind(kind.connect(url), url, store_dir)
        store.ensure_schema()
        return store

    @classmethod
    def connect(cls, url: str) -> BaseBackend:
        raise NotImplementedError

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

    def connection_lost(self) -> bool:
        """True when the connection to a server has broken (a restart, a network cut)."""
        return False

    # --- raw SQL on the backend's own DB-API connection (writes and DDL only) ----------------

    @property
    def raw(self) -> Any:
        return self.con.con

    def execute(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement (``?`` marks a parameter) and fetch all its rows."""
        raise NotImplementedError

    def sql_type(self, sql_type: str) -> str:
        """A type as this engine spells it in a cast (the contracts use DuckDB's names)."""
        return sql_type

    def column_type(self, sql_type: str) -> str:
        """A type as this engine spells it for a stored column."""
        return self.sql_type(sql_type)

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
        wanted["followup_case"] = CASE_COLUMNS
        wanted["followup_case_history"] = CASE_COLUMNS
        wanted["header_mapping"] = MAPPING_COLUMNS
        missing = {name: cols for name, cols in wanted.items() if name not in existing}
        if not missing:
            return  # a read-only visit must not touch the file
        with self.transaction():
            existing = self.table_names()  # another server may have made them meanwhile
            for name, cols in missing.items():
                if name not in existing:
                    self.execute(_ddl(name, {c: self.column_type(t) for c, t in cols.items()}))
            if self.meta(HOUSE_CODE_KEY) is None:
                self.set_meta(HOUSE_CODE_KEY, secrets.token_hex(32))
            self.after_schema(set(missing))

    def after_schema(self, created: set[str]) -> None:
        """What an engine adds to tables it has just created (indexes)."""

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        raise NotImplementedError
        yield

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """Held from an import's checks to its commit (and around an undo): a second writer
        waits for it, or is refused with :class:`StoreBusyError`. DuckDB needs nothing: one
        process holds its file."""
        yield

    @contextlib.contextmanager
    def building_aside(self) -> Iterator[None]:
        """Around a rebuild of the derived tables, inside the write transaction: on
        PostgreSQL they are built aside and put in place at the end, so that readers wait
        for the swap, not the whole build. DuckDB needs nothing: one process holds its
        file."""
        yield

    @contextlib.contextmanager
    def memory_limit(self, limit: str | None) -> Iterator[None]:
        """Cap the engine's memory for a heavy job, then restore the setting (DuckDB)."""
        yield

    def set_memory_limit(self, limit: str) -> None:
        """The engine's memory from now on (DuckDB; a size such as ``600MB``)."""
        self.memory_setting = limit

    # --- SQL spellings that differ between the engines --------------------------------------

    def median(self, expr: str) -> str:
        return f"median({expr})"

    def year(self, expr: str) -> str:
        return f"year({expr})"

    def month(self, expr: str) -> str:
        return f"month({expr})"

    def int_div(self, left: str, right: str) -> str:
        return f"{left} // {right}"

    def integers(self, start: int, stop: int) -> str:
        """A relation ``r(r)`` of the integers ``start`` to ``stop - 1``."""
        return f"range({start}, {stop}) AS r(r)"

    def bit_count(self, expr: str) -> str:
        """Set bits of a BIGINT."""
        return f"bit_count({expr})"

    semi_join = "SEMI JOIN"
    """Joins a relation whose join key is unique (so a plain join where there is none)."""

    def pairs_agg(self, first: str, second: str, where: str, name: str) -> str:
        """Aggregate: the (first, second) pairs of a group's rows where ``where`` holds, as
        column(s) read back by :meth:`pairs_rows` (null when there is none)."""
        return (f"list(struct_pack(r := {first}, q := {second})) FILTER (WHERE {where}) "
                f"AS {name}")

    def pairs_rows(self, table: str, name: str, columns: str) -> str:
        """``columns`` of ``table`` with one row per pair of :meth:`pairs_agg`'s ``name``,
        as columns ``r`` and ``q``."""
        return (f"SELECT {columns}, {name}.r AS r, {name}.q AS q FROM "
                f"(SELECT {columns}, unnest({name}) AS {name} FROM {table} "
                f"WHERE {name} IS NOT NULL)")

    # --- tables from queries and frames ------------------------------------------------------

    def create_table_as(self, name: str, select: str, params: list[Any] | None = None) -> None:
        """(Re)make table ``name`` from a query, inside the open transaction."""
        raise NotImplementedError

    def create_table(self, name: str, columns: str) -> None:
        """(Re)make an empty table from a column list (``"a VARCHAR, b DOUBLE"``)."""
        raise NotImplementedError

    def replace_table_from_expr(self, name: str, expr: ibis.Table) -> None:
        """(Re)build a derived table from an Ibis expression inside the open transaction."""
        raise NotImplementedError

    def replace_table_from_parts(self, name: str, parts: list[ibis.Table]) -> None:
        """:meth:`replace_table_from_expr` for the union of ``parts`` (one schema), written
        one part after the other: a table whose one query would need more memory than the
        engine is allowed."""
        raise NotImplementedError

    def index_for_reads(self, name: str, columns: tuple[str, ...]) -> None:
        """Say that pages choose rows of table ``name`` by ``columns``, in whose order it was
        written. DuckDB needs nothing: it skips every row group whose minimum and maximum
        rule it out."""

    def replace_table_from_frame(self, name: str, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    # --- a file's staged rows ------------------------------------------------------------

    def stage(self, path: Path) -> str:
        """A SQL relation over the rows of a staged Parquet file (the importer's checks and
        its write read it); valid until :meth:`unstage`."""
        raise NotImplementedError

    def unstage(self, relation: str) -> None:
        """Forget a relation made by :meth:`stage`."""

    # --- reads ----------------------------------------------------------------------------

    def table(self, name: str) -> ibis.Table:
        return self.con.table(name)

    def source(self, name: str) -> ibis.Table:
        """``name`` as an unbound table (its columns and where it is, no connection): what
        the derived tables' expressions are built on, so that their SQL is the same for
        every store of one layout and compiled once per process (:func:`compiled_sql`).
        Unbinding a whole expression instead cost more than compiling it again."""
        return self.table(name).unbind()

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

    def version_state(self) -> tuple[str, str | None]:
        """(data version, fingerprint of the definitions the derived tables were built
        under), in one small read."""
        rows = dict(self.execute(
            "SELECT key, value FROM meta WHERE key IN ('data_version', 'definitions')"))
        return f"{rows.get('data_version') or '0'}/{rows.get('definitions') or '-'}", rows.get(
            "definitions")

    def data_version(self) -> str:
        """Changes on every import and every rebuild for new definitions."""
        return self.version_state()[0]

    def next_import_id(self) -> int:
        rows = self.execute("SELECT coalesce(max(import_id), 0) + 1 FROM import_log")
        return int(rows[0][0])

    def key_values(self, table: str, column: str, values: list[str]) -> set[str]:
        """Which of ``values`` exist in ``table.column`` (parameterised; no string building)."""
        raise NotImplementedError

    # --- writes (call inside :meth:`transaction`) -----------------------------------------

    def upsert(self, dataset: Dataset, frame: pd.DataFrame, import_id: int) -> tuple[int, int]:
        """Replace rows with the same key, insert the rest; return (inserted, updated)."""
        raise NotImplementedError

    def upsert_from(self, dataset: Dataset, source: str, import_id: int) -> tuple[int, int]:
        """:meth:`upsert` from a SQL relation holding the dataset's columns (e.g. the staged
        rows of a big file, :meth:`stage`), without passing through Python."""
        cols = dataset_columns(dataset)
        names = ", ".join(f'"{c}"' for c in cols)
        on = " AND ".join(f't."{k}" = s."{k}"' for k in dataset.key)
        total = self.execute(f"SELECT count(*) FROM {source} AS s")[0][0]
        match = f"EXISTS (SELECT 1 FROM {source} s WHERE {on})"
        updated = 0
        if not self.is_empty(dataset.table):
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
        select = ", ".join(f'CAST("{c}" AS {self.sql_type(t)})' for c, t in cols.items()
                           if c != "_import_id")
        self.execute(f'INSERT INTO "{dataset.table}" ({names}) '
                     f"SELECT {select}, CAST(? AS INTEGER) FROM {source} AS s", [import_id])
        return int(total) - int(updated), int(updated)

    def is_empty(self, table: str) -> bool:
        """Whether ``table`` has no row (one row looked at, not counted)."""
        return not self.execute(f'SELECT count(*) FROM (SELECT 1 FROM "{table}" LIMIT 1) AS t'
                                )[0][0]

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
        raise NotImplementedError

    def set_meta(self, key: str, value: str) -> None:
        self.execute("DELETE FROM meta WHERE key = ?", [key])
        self.execute("INSERT INTO meta VALUES (?, ?)", [key, value])


class DuckDBStore(Store):
    """One DuckDB file, opened by one process (DuckDB locks the file)."""

    engine = "duckdb"

    @classmethod
    def connect(cls, url: str) -> BaseBackend:
        path = url.removeprefix("duckdb://")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            return ibis.connect(url)
        except Exception as exc:
            if "lock" in str(exc).lower():
                raise StoreBusyError(str(exc)) from exc
            raise

    def execute(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement and fetch all its rows (DuckDB 2 refuses further work on a
        connection while a result is unread)."""
        cursor = self.raw.execute(sql, params or [])
        try:
            return cursor.fetchall()
        except Exception:  # statements without a result set
            return []

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

    def key_values(self, table: str, column: str, values: list[str]) -> set[str]:
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

    def upsert(self, dataset: Dataset, frame: pd.DataFrame, import_id: int) -> tuple[int, int]:
        staged = frame[dataset.column_names]
        self.raw.register("_staged", staged)
        try:
            return self.upsert_from(dataset, "_staged", import_id)
        finally:
            self.raw.unregister("_staged")

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

    def stage(self, path: Path) -> str:
        return "read_parquet('" + path.as_posix().replace("'", "''") + "')"

    def create_table_as(self, name: str, select: str, params: list[Any] | None = None) -> None:
        self.execute(f'CREATE OR REPLACE TABLE "{name}" AS {select}', params)

    def create_table(self, name: str, columns: str) -> None:
        self.execute(f'CREATE OR REPLACE TABLE "{name}" ({columns})')

    def replace_table_from_expr(self, name: str, expr: ibis.Table) -> None:
        sql = compiled_sql(expr, self.con.name)
        self.execute(f'CREATE OR REPLACE TABLE "{name}" AS {sql}')

    def replace_table_from_parts(self, name: str, parts: list[ibis.Table]) -> None:
        first, *rest = parts
        self.replace_table_from_expr(name, first)
        for part in rest:
            self.execute(f'INSERT INTO "{name}" {compiled_sql(part, self.con.name)}')

    def replace_table_from_frame(self, name: str, frame: pd.DataFrame) -> None:
        self.raw.register("_frame", frame)
        try:
            self.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _frame')
        finally:
            self.raw.unregister("_frame")


_COPY_BLOCK_ROWS = 100_000
_INDEX_BUILD_MEMORY = "256MB"  # PostgreSQL's for making an index at once (default 64 MB)
_BUILD_SCHEMA = "kusiao_build"  # where a rebuild makes the derived tables (PostgreSQL)
"""Rows written to PostgreSQL's COPY at a time (as CSV text)."""


class PostgresStore(Store):
    """A PostgreSQL 15+ database shared by several dashboard servers.

    One psycopg 3 connection (Ibis' own), in autocommit mode: :meth:`transaction` opens a
    real transaction, and Ibis' reads inside it become savepoints of it. Every write
    transaction first takes a transaction-level advisory lock, and an import holds the
    session-level one from its checks to its commit (:meth:`write_lock`), so two writers
    never interleave: the second waits up to ``KUSIAO_STORE_LOCK_WAIT`` seconds, then is
    refused with :class:`StoreBusyError`. Bulk rows go in with ``COPY``."""

    engine = "postgres"

    @classmethod
    def connect(cls, url: str) -> BaseBackend:
        import psycopg

        parts = urlsplit(url)
        try:
            return ibis.postgres.connect(
                host=parts.hostname or None, port=parts.port or 5432,
                user=parts.username or None, password=parts.password or None,
                database=parts.path.lstrip("/") or None,
                application_name="kusiao")
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreUrlError(
                f"cannot open the store at {_redacted(url)}: {first}") from exc

    def __init__(self, con: BaseBackend, url: str, store_dir: Path) -> None:
        super().__init__(con, url, store_dir)
        self._staged: set[str] = set()
        self._stage_no = 0
        self._lock_depth = 0
        self._home: str | None = None  # while building aside: the schema of the tables in use

    def close(self) -> None:
        if not self.connection_lost():
            for name in list(self._staged):
                self.unstage(name)
        self._staged.clear()
        with contextlib.suppress(Exception):  # a broken connection closes all the same
            super().close()

    def connection_lost(self) -> bool:
        return bool(self.raw.closed or self.raw.broken)

    def execute(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        if params:
            sql = sql.replace("%", "%%").replace("?", "%s")
        cursor = self.raw.execute(sql, params or None)
        return cursor.fetchall() if cursor.description is not None else []

    def sql_type(self, sql_type: str) -> str:
        return re.sub(r"\bDOUBLE\b(?! PRECISION)", "DOUBLE PRECISION", sql_type)

    def column_type(self, sql_type: str) -> str:
        # text compares and sorts by code point, as in DuckDB, whatever the database's
        # locale: Thai names and IDs come out in the same order on both engines
        return re.sub(r"\bVARCHAR\b", 'VARCHAR COLLATE "C"', self.sql_type(sql_type))

    def after_schema(self, created: set[str]) -> None:
        # an upsert looks rows up by the dataset's key, an undo by the import that wrote or
        # replaced them; DuckDB scans its columns quickly, PostgreSQL wants an index
        for dataset in DATASETS.values():
            if dataset.table in created:
                for _name, ddl in self._dataset_indexes(dataset):
                    self.execute(ddl)
            shadow = replaced_table(dataset)
            if shadow in created:
                self.execute(f'CREATE INDEX "{shadow}__by" ON "{shadow}" ("_replaced_by")')

    @staticmethod
    def _dataset_indexes(dataset: Dataset) -> list[tuple[str, str]]:
        """A dataset table's indexes: (name, the statement that makes it)."""
        table, keys = dataset.table, ", ".join(f'"{k}"' for k in dataset.key)
        return [(f"{table}__key", f'CREATE INDEX "{table}__key" ON "{table}" ({keys})'),
                (f"{table}__import",
                 f'CREATE INDEX "{table}__import" ON "{table}" ("_import_id")')]

    def upsert_from(self, dataset: Dataset, source: str, import_id: int) -> tuple[int, int]:
        """As on every engine; into an empty table (a first import), the indexes are dropped
        and made again after the rows are in: at a million households the visits went in
        in 36.9 s with both indexes made after, against 96.2 s kept up row by row."""
        if not self.is_empty(dataset.table):
            return super().upsert_from(dataset, source, import_id)
        indexes = self._dataset_indexes(dataset)
        for name, _ddl in indexes:
            self.execute(f'DROP INDEX IF EXISTS "{name}"')
        counts = super().upsert_from(dataset, source, import_id)
        self.execute(f"SET LOCAL maintenance_work_mem = '{_INDEX_BUILD_MEMORY}'")
        for _name, ddl in indexes:
            self.execute(ddl)
        return counts

    def _lock_wait(self) -> float:
        try:
            return max(0.0, float(os.environ.get(LOCK_WAIT_ENV, LOCK_WAIT_SECONDS)))
        except ValueError:
            return LOCK_WAIT_SECONDS

    def _busy(self) -> StoreBusyError:
        return StoreBusyError(
            f"another import or undo is being written to the store; waited "
            f"{self._lock_wait():g} s. Try again when it has finished.")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        import psycopg

        with self.raw.transaction():
            if self._lock_depth == 0:
                self.execute(f"SET LOCAL lock_timeout = '{int(self._lock_wait() * 1000)}ms'")
                try:
                    self.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
                except psycopg.errors.LockNotAvailable as exc:
                    raise self._busy() from exc
            yield

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        import psycopg

        if self._lock_depth == 0:
            self.execute(f"SET lock_timeout = '{int(self._lock_wait() * 1000)}ms'")
            try:
                self.execute(f"SELECT pg_advisory_lock({WRITE_LOCK_KEY})")
            except psycopg.errors.LockNotAvailable as exc:
                raise self._busy() from exc
            finally:
                self.execute("RESET lock_timeout")
        self._lock_depth += 1
        try:
            yield
        finally:
            self._lock_depth -= 1
            if self._lock_depth == 0:
                self.execute(f"SELECT pg_advisory_unlock({WRITE_LOCK_KEY})")

    @contextlib.contextmanager
    def building_aside(self) -> Iterator[None]:
        """Build the derived tables in a schema of their own, then move them into place.

        Dropping and refilling a table takes a lock that every reader waits for until the
        transaction ends: at a million households the rebuild takes a quarter of an hour,
        and every dashboard server's pages would hang for as long. Here the tables are
        created in ``kusiao_build`` (first on the search path, so the build's own SQL finds
        the tables it made before the ones in use); only at the end are the old ones dropped
        and the new ones moved in, so readers wait for that swap and then see the new
        tables, or, if the import fails, never notice it."""
        home = self.execute("SELECT current_schema()")[0][0]
        path = self.execute("SHOW search_path")[0][0]
        self.execute(f'CREATE SCHEMA "{_BUILD_SCHEMA}"')
        self.execute(f'SET LOCAL search_path = "{_BUILD_SCHEMA}", "{home}"')
        self._home = home
        try:
            yield
            built = self.execute("SELECT tablename FROM pg_tables WHERE schemaname = ? "
                                 "ORDER BY tablename", [_BUILD_SCHEMA])
            for (name,) in built:
                self.execute(f'DROP TABLE IF EXISTS "{home}"."{name}"')
                self.execute(f'ALTER TABLE "{_BUILD_SCHEMA}"."{name}" SET SCHEMA "{home}"')
            self.execute(f'DROP SCHEMA "{_BUILD_SCHEMA}"')
            self.execute(f"SET LOCAL search_path = {path}")
        finally:  # on failure the transaction is rolled back: schema and setting go with it
            self._home = None

    def table(self, name: str) -> ibis.Table:
        if self._home is None:
            return super().table(name)
        found = self.execute("SELECT 1 FROM pg_tables WHERE schemaname = ? AND tablename = ?",
                             [_BUILD_SCHEMA, name])
        return self.con.table(name, database=_BUILD_SCHEMA if found else self._home)

    # SQL spellings
    def median(self, expr: str) -> str:
        return f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {expr})"

    def year(self, expr: str) -> str:
        return f"CAST(extract(year FROM {expr}) AS INTEGER)"

    def month(self, expr: str) -> str:
        return f"CAST(extract(month FROM {expr}) AS INTEGER)"

    def int_div(self, left: str, right: str) -> str:
        return f"div({left}, {right})"

    def integers(self, start: int, stop: int) -> str:
        return f"generate_series({start}, {stop - 1}) AS r(r)"

    def bit_count(self, expr: str) -> str:
        return f"bit_count(CAST({expr} AS bit(64)))"

    semi_join = "JOIN"

    def pairs_agg(self, first: str, second: str, where: str, name: str) -> str:
        return (f"array_agg({first}) FILTER (WHERE {where}) AS {name}_r, "
                f"array_agg({second}) FILTER (WHERE {where}) AS {name}_q")

    def pairs_rows(self, table: str, name: str, columns: str) -> str:
        return (f"SELECT {columns}, p.r, p.q FROM {table}, unnest({name}_r, {name}_q) AS p(r, q) "
                f"WHERE {name}_r IS NOT NULL")

    # tables
    def _drop(self, name: str) -> None:
        # while building aside, only ever the build's own table: the one in use stays
        where = f'"{_BUILD_SCHEMA}".' if self._home else ""
        self.execute(f'DROP TABLE IF EXISTS {where}"{name}"')

    def create_table_as(self, name: str, select: str, params: list[Any] | None = None) -> None:
        self._drop(name)
        self.execute(f'CREATE TABLE "{name}" AS {select}', params)
        self._analyze(name)

    def _analyze(self, name: str) -> None:
        """Statistics for a table just filled: without them the planner takes a new table
        for empty and picks nested loops (the missed-rounds step took 2.9 s instead of
        0.1 s at 1,174 households)."""
        self.execute(f'ANALYZE "{name}"')

    def create_table(self, name: str, columns: str) -> None:
        self._drop(name)
        self.execute(f'CREATE TABLE "{name}" ({self.column_type(columns)})')

    def index_for_reads(self, name: str, columns: tuple[str, ...]) -> None:
        """A BRIN index: the minimum and maximum of ``columns`` per range of 128 pages, what
        DuckDB keeps by itself. At a million households a page reading one quarter of
        ``status_quarter`` (12 million rows) then reads a twelfth of it, not all; the index
        takes 4 s to make and a few hundred kB."""
        cols = ", ".join(f'"{c}"' for c in columns)
        self.execute(f'CREATE INDEX "{name}__reads" ON "{name}" USING brin ({cols})')

    def _create_typed(self, name: str, schema: ibis.Schema, temporary: bool = False) -> None:
        from ibis.backends.sql.datatypes import PostgresType

        cols = ", ".join(f'"{c}" {self.column_type(PostgresType.to_string(t))}'
                         for c, t in schema.items())
        self.execute(f'CREATE {"TEMPORARY " if temporary else ""}TABLE "{name}" ({cols})')

    def replace_table_from_expr(self, name: str, expr: ibis.Table) -> None:
        # the table's columns get the types Ibis gives the expression, so that a page query
        # reads the same types as on DuckDB (PostgreSQL would make a sum of integers NUMERIC)
        sql = compiled_sql(expr, "postgres")
        self._drop(name)
        self._create_typed(name, expr.schema())
        self.execute(f'INSERT INTO "{name}" {sql}')
        self._analyze(name)

    def replace_table_from_parts(self, name: str, parts: list[ibis.Table]) -> None:
        self._drop(name)
        self._create_typed(name, parts[0].schema())
        for part in parts:
            self.execute(f'INSERT INTO "{name}" {compiled_sql(part, "postgres")}')
        self._analyze(name)

    def replace_table_from_frame(self, name: str, frame: pd.DataFrame) -> None:
        from ibis.formats.pyarrow import PyArrowSchema

        rows = pa.Table.from_pandas(frame, preserve_index=False)
        self._drop(name)
        self._create_typed(name, PyArrowSchema.to_ibis(rows.schema))  # seconds stay seconds
        self._copy(name, [rows])
        self._analyze(name)

    def _copy(self, name: str, batches: Iterator[pa.RecordBatch] | list[pa.Table]) -> None:
        """COPY Arrow batches into table ``name`` as CSV (a null is an empty field, an empty
        text a quoted one)."""
        options = pacsv.WriteOptions(include_header=False)
        columns = ", ".join(f'"{c}"' for c in self._columns_of(name))
        with self.raw.cursor() as cursor, cursor.copy(
                f'COPY "{name}" ({columns}) FROM STDIN (FORMAT csv)') as copy:
            for batch in batches:
                if batch.num_rows:
                    buffer = io.BytesIO()
                    pacsv.write_csv(batch, buffer, write_options=options)
                    copy.write(buffer.getvalue())

    def _columns_of(self, name: str) -> list[str]:
        rows = self.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = CAST(? AS regclass) "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum", [f'"{name}"'])
        return [r[0] for r in rows]

    def append_rows(self, table: str, columns: dict[str, str], rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        names = ", ".join(f'"{c}"' for c in columns)
        with self.raw.cursor() as cursor, cursor.copy(
                f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([row.get(c) for c in columns])

    def stage(self, path: Path) -> str:
        """A temporary table holding the staged file, loaded with COPY (it lives as long as
        this connection, outside any transaction, so a refused file writes nothing)."""
        from ibis.formats.pyarrow import PyArrowSchema

        self._stage_no += 1
        name = f"_staged_{os.getpid()}_{self._stage_no}"
        parquet = pq.ParquetFile(path)
        self._create_typed(name, PyArrowSchema.to_ibis(parquet.schema_arrow), temporary=True)
        self._staged.add(name)
        self._copy(name, parquet.iter_batches(batch_size=_COPY_BLOCK_ROWS))
        self._analyze(name)
        return f'"{name}"'

    def unstage(self, relation: str) -> None:
        name = relation.strip('"')
        if name in self._staged:
            self._staged.discard(name)
            self._drop(name)

    def key_values(self, table: str, column: str, values: list[str]) -> set[str]:
        if not values:
            return set()
        rows = self.execute(
            f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" = ANY(?)', [values])
        return {r[0] for r in rows}

    def upsert(self, dataset: Dataset, frame: pd.DataFrame, import_id: int) -> tuple[int, int]:
        staged = pa.Table.from_pandas(frame[dataset.column_names], preserve_index=False)
        self._stage_no += 1
        name = f"_upsert_{os.getpid()}_{self._stage_no}"
        from ibis.formats.pyarrow import PyArrowSchema

        self._create_typed(name, PyArrowSchema.to_ibis(staged.schema), temporary=True)
        self._staged.add(name)
        try:
            self._copy(name, staged.to_batches(_COPY_BLOCK_ROWS))
            return self.upsert_from(dataset, f'"{name}"', import_id)
        finally:
            self.unstage(name)
