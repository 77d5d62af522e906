"""The one door to the data: the store's connection, its data version, and page query
results kept by (query, data version, arguments).

Pages never touch the engine. They ask a :class:`Snapshot` (the store at one data version,
made once per rerun by the entrypoint) to :meth:`Snapshot.read` a typed query function of
``dashboard.queries``; the result is kept here, in one place, until the data version
changes (every import and undo, and every change of the definitions file, makes a new one).

The queries are Ibis expressions only, so the engine behind the door can be DuckDB (the
embedded default) or any other Ibis backend; what is particular to an engine stays in
``loaders.store``. One lock serialises the engine's work: one connection serves every
session of the process.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import ibis
import pandas as pd
from ibis.backends import BaseBackend

from dashboard.store.privacy import NotAllowedError, Viewer, hide_text, protect
from domain.access import User
from domain.cases import Case, CaseEdit, checked_edit
from domain.definitions import Definitions, definitions_path, load_definitions
from domain.filters import EVERYWHERE, Area, Filters
from loaders import cases, importer, mappings, users
from loaders.bootstrap import ensure_definitions_current, ensure_store
from loaders.cases import CaseConflict as CaseConflict  # for pages: a case changed meanwhile
from loaders.derived import definitions_fingerprint
from loaders.importer import (
    CheckedImport,
    ImportReport,
    Progress,
    UndoResult,
    check_bytes,
    write_checked,
)
from loaders.mappings import MappingError as MappingError  # for pages: a mapping refused
from loaders.mappings import SavedMapping
from loaders.store import Store
from loaders.store import StoreBusyError as StoreBusyError  # for pages: a busy shared store
from loaders.store import StoreUrlError as StoreUrlError  # for the entrypoint: a bad URL

P = ParamSpec("P")
T = TypeVar("T")

ENGINE_MEMORY_ENV = "KUSIAO_ENGINE_MEMORY"
ENGINE_MEMORY = "600MB"
"""The engine's memory in the dashboard process (DuckDB's ``memory_limit``: its cache of the
store's blocks and its working memory; a query that needs more spills to disk). Without a
limit DuckDB keeps up to 80% of the machine's memory."""

KEPT_RESULTS = 512
"""Page query results kept in the process, the least recently used dropped first."""

_LOCK = threading.RLock()
"""The engine's lock: one connection serves every session's thread."""


class _Opened:
    """The store this process opened, and the definitions last read (made on first use)."""

    def __init__(self) -> None:
        self.store: Store | None = None
        self.definitions: tuple[tuple[str, int], Definitions] | None = None
        self.version: tuple[Definitions, str] | None = None
        self.fingerprint: tuple[Definitions, str] | None = None


_OPENED = _Opened()


def store() -> Store:
    """The store, opened on first use (and built from the demo files if it has never held
    an import)."""
    with _LOCK:
        if _OPENED.store is None:
            opened = Store.open()
            ensure_store(opened)
            if opened.engine == "duckdb":
                opened.set_memory_limit(_memory_setting(
                    os.environ.get(ENGINE_MEMORY_ENV, ENGINE_MEMORY)))
            _OPENED.store = opened
        return _OPENED.store


def close() -> None:
    """Close the store and forget every kept result (tests; a benchmark's cold start)."""
    with _LOCK:
        if _OPENED.store is not None:
            _OPENED.store.close()
        _OPENED.store = _OPENED.definitions = _OPENED.version = None
        _RESULTS.clear()


def forget_results() -> None:
    """Forget every kept page query result (a benchmark's first render starts from nothing,
    as after a server start)."""
    _RESULTS.clear()


def _memory_setting(value: str) -> str:
    """``600MB``, ``1.5GB``: a size DuckDB reads, checked here (it is written into SQL)."""
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)", value.strip()):
        raise ValueError(f"{ENGINE_MEMORY_ENV}={value!r}: a size such as 600MB or 1.5GB")
    return value.strip()


def definitions() -> Definitions:
    """The definitions in force; read again when the file changes."""
    path = definitions_path()
    stamp = (str(path), path.stat().st_mtime_ns)
    with _LOCK:
        if _OPENED.definitions is None or _OPENED.definitions[0] != stamp:
            _OPENED.definitions = (stamp, load_definitions())
        return _OPENED.definitions[1]


def data_version() -> str:
    """The data version, after making sure the derived tables follow the definitions file.
    With DuckDB this process is the store's only writer (DuckDB locks the file) and every
    write goes through :func:`import_upload` or :func:`undo_last_import`, which forget it;
    another engine (PostgreSQL, shared by several servers) is asked on every call, in one
    small read of its ``meta`` table, so an import through any server shows on the next
    rerun of every other."""
    current, defs = store(), definitions()
    with _LOCK:
        known = _OPENED.version
        if current.engine == "duckdb" and known is not None and known[0] is defs:
            return known[1]
        try:
            version, built_under = current.version_state()
        except Exception:
            if not current.connection_lost():
                raise
            close()  # the server restarted or dropped us: open the store again, once
            current = store()
            version, built_under = current.version_state()
        if built_under not in (None, _fingerprint(defs)):
            ensure_definitions_current(current, defs)
            version = current.data_version()
        _OPENED.version = (defs, version)
        return version


def _fingerprint(defs: Definitions) -> str:
    """The definitions' fingerprint, worked out once per definitions read."""
    known = _OPENED.fingerprint
    if known is None or known[0] is not defs:
        known = _OPENED.fingerprint = (defs, definitions_fingerprint(defs))
    return known[1]


class _Results:
    """Kept page query results, least recently used first out; thread-safe."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bool, Any]:
        with self._lock:
            if key not in self._entries:
                return False, None
            self._entries.move_to_end(key)
            return True, self._entries[key]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_RESULTS = _Results(KEPT_RESULTS)


def _key_part(value: Any) -> Hashable:
    """An argument as part of a result's key. The definitions are named by the data version
    (a change of the file makes a new version), so they add nothing."""
    if isinstance(value, Definitions):
        return Definitions
    hash(value)  # an unhashable argument is a mistake of the caller: say so at once
    return value


def _own_copy(value: T) -> T:
    """A caller's own view of a kept result: frames are copied shallowly (copy on write
    keeps the kept one as it was), tuples and lists of them likewise; dataclasses are
    frozen and shared."""
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.copy(deep=False)  # type: ignore[return-value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_own_copy(v) for v in value)  # type: ignore[return-value]
    if isinstance(value, list):
        return [_own_copy(v) for v in value]  # type: ignore[return-value]
    return value


class Reader(Protocol):
    """What reads page queries: a :class:`Snapshot`, or a :class:`Direct` reader."""

    def read(self, query: Callable[Concatenate[BaseBackend, P], T],
             *args: P.args, **kwargs: P.kwargs) -> T: ...


@dataclass(frozen=True)
class Direct:
    """Page queries on a backend, read every time and kept nowhere (scripts and tests)."""

    con: BaseBackend

    def read(self, query: Callable[Concatenate[BaseBackend, P], T],
             *args: P.args, **kwargs: P.kwargs) -> T:
        return query(self.con, *args, **kwargs)


@dataclass(frozen=True)
class Snapshot:
    """The store at one data version, for a user of one area: what a page reads its figures
    from. Every filter a query is given is narrowed to the area before the query runs, so a
    page cannot ask for rows or figures outside it."""

    version: str
    area: Area = EVERYWHERE

    def read(self, query: Callable[Concatenate[BaseBackend, P], T],
             *args: P.args, **kwargs: P.kwargs) -> T:
        """``query(backend, *args, **kwargs)``, kept by the query, this data version and the
        arguments (which must be hashable: filters, codes, numbers, the definitions)."""
        args = tuple(self.area.limit(a) if isinstance(a, Filters) else a for a in args)
        kwargs = {k: self.area.limit(v) if isinstance(v, Filters) else v
                  for k, v in kwargs.items()}  # type: ignore[assignment]
        key = (query, self.version, tuple(map(_key_part, args)),
               tuple(sorted((name, _key_part(v)) for name, v in kwargs.items())))
        found, result = _RESULTS.get(key)
        if not found:
            with _LOCK:
                result = query(store().con, *args, **kwargs)
            _RESULTS.put(key, result)
        return _own_copy(result)


def snapshot(area: Area = EVERYWHERE) -> Snapshot:
    """The store at its current data version, for a user of ``area``."""
    return Snapshot(data_version(), area)


def check_upload(viewer: Viewer, data: bytes, file_name: str, dataset: str,
                 progress: Progress, mapping: SavedMapping | None = None,
                 sheet: str | None = None) -> CheckedImport:
    """Read, check and stage an uploaded file; writes nothing. On DuckDB the check reads the
    store on a connection of its own and holds no lock, so a large upload does not stall
    the other users' pages; only :func:`write_upload` takes the lock. Close what it returns
    if it is not written. ``mapping``: the headers as the officer mapped them; without it a
    saved mapping made for the file's headers applies. ``sheet``: the sheet of an Excel file
    to read (``None``: the first with the dataset's headers)."""
    if not viewer.imports:
        audit(viewer, "refused", f"check {dataset} {file_name}")
        raise NotAllowedError(viewer.role)
    with _LOCK:
        current, defs = store(), definitions()
        saved = tuple(mappings.list_mappings(current))
        reader = current.reader()
    if reader is None:  # another engine: one connection, so the check takes the lock
        with _LOCK:
            return check_bytes(current, data, file_name, dataset, reader=None,
                               progress=progress, definitions=defs, mapping=mapping,
                               saved=saved, sheet=sheet)
    try:
        return check_bytes(current, data, file_name, dataset, reader=reader,
                           progress=progress, definitions=defs, mapping=mapping, saved=saved,
                           sheet=sheet)
    finally:
        reader.close()


def save_mapping(viewer: Viewer, mapping: SavedMapping) -> None:
    """Save a header mapping under its name (officers only; on record). A mapping that cannot
    be kept raises :class:`MappingError`."""
    if not viewer.imports:
        audit(viewer, "refused", f"save mapping {mapping.name}")
        raise NotAllowedError(viewer.role)
    with _LOCK:
        mappings.save_mapping(store(), mapping, viewer.email or f"({viewer.role})",
                              viewer.client)


def write_upload(viewer: Viewer, checked: CheckedImport, imported_by: str,
                 progress: Progress) -> ImportReport:
    """Write a checked upload (all or nothing), under the lock; the data version changes if
    it is saved. The attempt goes on record."""
    report = checked.reports[0]
    if not viewer.imports:
        checked.close()
        audit(viewer, "refused", f"import {report.dataset} {report.file_name}")
        raise NotAllowedError(viewer.role)
    with _LOCK:
        try:
            report = write_checked(store(), checked, imported_by, progress)
        finally:
            _OPENED.version = None
    audit(viewer, "import", f"{report.dataset} {report.file_name} "
                            f"{'saved' if report.committed else 'refused'} {report.sha256}")
    return report


def undo_last_import(viewer: Viewer, undone_by: str) -> UndoResult | None:
    if not viewer.imports:
        audit(viewer, "refused", "undo")
        raise NotAllowedError(viewer.role)
    with _LOCK:
        try:
            result = importer.undo_last_import(store(), undone_by, definitions())
        finally:
            _OPENED.version = None
    if result is not None:
        audit(viewer, "undo", f"import {result.import_id} {result.dataset} {result.file_name}")
    return result


# --- users and the audit log ------------------------------------------------------------------


def audit(viewer: Viewer, action: str, obj: str = "") -> None:
    """Put one access on record: who (the signed-in user, or the role on this computer),
    what, and from where."""
    with _LOCK:
        users.audit(store(), viewer.email or f"({viewer.role})", action, obj, viewer.client)


def find_user(email: str | None) -> User | None:
    with _LOCK:
        return users.find_user(store(), email)


def list_users(viewer: Viewer) -> pd.DataFrame:
    _require_admin(viewer)
    with _LOCK:
        return users.list_users(store())


def save_user(viewer: Viewer, user: User) -> None:
    """Add the user, or change the one of that e-mail (admins only; on record)."""
    _require_admin(viewer)
    with _LOCK:
        if users.find_user(store(), user.email) is None:
            users.add_user(store(), user, viewer.email, viewer.client)
        else:
            users.set_user(store(), user.email, viewer.email, viewer.client, role=user.role,
                           name=user.name, amphoe=user.area.amphoe, agency=user.area.agency)


def remove_user(viewer: Viewer, email: str) -> None:
    _require_admin(viewer)
    with _LOCK:
        users.remove_user(store(), email, viewer.email, viewer.client)


def audit_log(viewer: Viewer) -> pd.DataFrame:
    _require_admin(viewer)
    with _LOCK:
        return users.audit_log(store())


def _require_admin(viewer: Viewer) -> None:
    if not viewer.administers:
        audit(viewer, "refused", "users and audit log")
        raise NotAllowedError(viewer.role)


# --- follow-up cases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRecord:
    """A household's case as the viewer may see it (the note masked unless the role sees
    personal data) and its history, the newest version first."""

    case: Case | None
    history: pd.DataFrame
    editable: bool  # the viewer may change it


def cases_version() -> str:
    """Changes on every save of a case: what a kept list of cases is keyed by. Read on every
    call (one small read), so a save through another server shows at the next rerun."""
    with _LOCK:
        return cases.cases_version(store())


def _in_area(viewer: Viewer, household_id: str) -> bool:
    place = cases.household_place(store(), household_id)
    if place is None:
        return False
    amphoe, agency = place
    area = viewer.area
    return (area.is_all or (bool(area.amphoe) and amphoe in area.amphoe)
            or (bool(area.agency) and agency in area.agency))


def read_case(viewer: Viewer, household_id: str) -> CaseRecord | None:
    """The household's case and history, read now (never kept: the version it carries is
    what a save is checked against); ``None`` for a household outside the viewer's area."""
    if not viewer.sees_rows:
        raise NotAllowedError(viewer.role)
    with _LOCK:
        if not _in_area(viewer, household_id):
            return None
        case = cases.read_case(store(), household_id)
        history = cases.case_history(store(), household_id)
    if case is not None and not viewer.sees_personal_data:
        case = replace(case, note=hide_text(case.note) or "")
    return CaseRecord(case=case, history=protect(history, viewer),
                      editable=viewer.edits_cases)


def save_case(viewer: Viewer, edit: CaseEdit, read_version: int, today: dt.date) -> Case:
    """Check and save a case edit made on the case read at ``read_version`` (0: none), on
    record. :class:`NotAllowedError` for a role or area that may not edit it,
    :class:`domain.cases.CaseError` for bad input, :class:`CaseConflict` when the case
    changed meanwhile; each writes nothing to the case."""
    if not viewer.edits_cases:
        audit(viewer, "refused", f"case {edit.household_id}")
        raise NotAllowedError(viewer.role)
    with _LOCK:
        if not _in_area(viewer, edit.household_id):
            users.audit(store(), viewer.email or f"({viewer.role})", "refused",
                        f"case {edit.household_id}", viewer.client)
            raise NotAllowedError(viewer.role)
        saved = cases.read_case(store(), edit.household_id)
        checked = checked_edit(edit, today, saved)
        return cases.save_case(store(), checked, read_version,
                               viewer.email or f"({viewer.role})", viewer.client)


def _import_log(con: BaseBackend) -> pd.DataFrame:
    return con.table("import_log").order_by(ibis.desc("import_id")).execute()


def import_history(snap: Snapshot) -> pd.DataFrame:
    """The import log, newest first (a few hundred rows at most: one per file imported)."""
    return snap.read(_import_log)
