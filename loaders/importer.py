"""Import files into the store: read -> map headers -> normalise -> validate -> write.

All or nothing: any error in any row refuses the whole file and the store is not touched (not
a byte of its file). Every attempt, refused or not, keeps its raw file under
``<store dir>/raw/`` and a line in ``<store dir>/import_attempts.jsonl``, so nothing a field
team sent is ever lost; an accepted import is also recorded in the store's ``import_log``.

Scale: a file is read and validated a chunk of rows at a time (:data:`CHUNK_ROWS`); the typed
rows are staged in a temporary Parquet file (outside the store), the whole-file checks run in
SQL over it, and only then, if nothing is wrong, one transaction copies the staged rows into the
store and rebuilds the derived tables. Memory follows the chunk, not the file, and a refusal
never opens a write. Several files import as one with :func:`import_files` (one transaction,
one rebuild). Small uploads (the Import page) take the same path and also keep their rows in
the report for previews.

Checking needs no lock on the store's connection: :func:`validate_bytes` with ``reader`` (a
second connection, :meth:`Store.reader`) reads the store only there, and ``cancel`` is asked
between chunks. Limits are :mod:`loaders.limits`; the dates accepted come from the definitions
file. The staging folder lives in ``<store dir>/staging/``, named by the process that made it,
so a killed import's folder is removed on the next start (:func:`clean_stale_staging`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from domain.definitions import Definitions, load_definitions
from loaders.contracts import DATASETS, IMPORT_ORDER, Dataset
from loaders.derived import rebuild_derived
from loaders.headers import HeaderMapping, known_count, map_headers
from loaders.limits import FILE_LIMITS, UPLOAD_LIMITS, Limits
from loaders.mappings import SavedMapping, for_headers, read_mappings
from loaders.readers import (
    FileReadError,
    ReadNote,
    check_path,
    read_batches,
)
from loaders.store import IMPORT_LOG_COLUMNS, IMPORT_WARNING_COLUMNS, Store
from loaders.validate import CheckRules, ChunkValidator, HouseCodes, Issue, file_issues

Progress = Callable[[float, str], None]
"""Called with the share done (0-1) and a stage name: read, validate, write, done."""
Cancel = Callable[[], bool]
"""Asked between chunks (and before writing): True stops the import, nothing written."""
HELD_IMPORT = "first_import"
"""The ``meta`` key set by the first import a store ever takes (the demo's too): a store that
has it is never filled with the demo again, even once every import is undone."""


class ImportCancelled(Exception):
    """The user cancelled: the import stops between two chunks, nothing written."""


def _never() -> bool:
    return False


def _new_version(label: str) -> str:
    """A data version never given before: import ids come back after an undo, and the same
    file imported again over other data must not find the caches of the first time."""
    return f"{label}:{uuid.uuid4().hex[:12]}"


def _no_progress(share: float, stage: str) -> None:
    return None

MAX_UPLOAD_BYTES = UPLOAD_LIMITS.upload_bytes or 0
"""The Import page's upload cap (:data:`loaders.limits.UPLOAD_LIMITS`)."""
CHUNK_ROWS = 200_000
"""Rows validated at a time: memory follows this, not the size of the file."""
ENGINE_MEMORY = "2500MB"
"""The engine's memory cap while importing (it spills to disk beyond it); with the chunks being
validated, the import process stays under about 4 GB even for a national file."""


@dataclass
class ImportReport:
    file_name: str
    dataset: str
    sha256: str
    size_bytes: int
    raw_path: Path | None = None
    file_format: str | None = None
    encoding: str | None = None
    headers: HeaderMapping | None = None
    rows_read: int = 0
    issues: list[Issue] = field(default_factory=list)
    committed: bool = False
    import_id: int | None = None
    rows_inserted: int = 0
    rows_updated: int = 0
    frame: pd.DataFrame | None = None  # the normalised rows (for previews), not persisted here
    raw: pd.DataFrame | None = None  # the rows as read, original headers (for rejected rows)
    calendars: dict[str, str] = field(default_factory=dict)  # date header -> BE / CE / mixed

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({i.row for i in self.errors if i.row is not None})

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected_rows)

    @property
    def rows_accepted(self) -> int:
        if any(i.row is None for i in self.errors):
            return 0  # a whole-file problem: no row can be taken
        return max(0, self.rows_read - self.rows_rejected)


def safe_file_name(file_name: str, sha256: str) -> str:
    """The name the raw copy is kept under: the file's hash, an ASCII trace of its name and
    its suffix, at most 100 bytes whatever the original (a Thai name is 3 bytes a character,
    and a file system takes 255). The original name is recorded in the journal and the log."""
    path = Path(file_name.replace("\\", "/")).name
    suffix = re.sub(r"[^A-Za-z0-9.]", "", Path(path).suffix)[:10]
    stem = re.sub(r"[^A-Za-z0-9\-]+", "_", Path(path).stem).strip("_")[:60]
    return f"{sha256[:16]}_{stem}{suffix}" if stem else f"{sha256[:16]}{suffix}"


def _keep_raw(store: Store, data: bytes | Path, file_name: str, sha256: str) -> Path:
    folder = store.store_dir / "raw" / dt.date.today().isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe_file_name(file_name, sha256)
    if not path.exists():
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            shutil.copyfile(data, path)
    return path


def _journal(store: Store, report: ImportReport, imported_by: str) -> None:
    store.store_dir.mkdir(parents=True, exist_ok=True)
    entry = {
        "at": dt.datetime.now().isoformat(timespec="seconds"),
        "by": imported_by,
        "dataset": report.dataset,
        "file_name": report.file_name,
        "sha256": report.sha256,
        "raw_path": str(report.raw_path) if report.raw_path else None,
        "rows_read": report.rows_read,
        "rows_accepted": report.rows_accepted,
        "rows_rejected": report.rows_rejected,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "committed": report.committed,
        "import_id": report.import_id,
    }
    with (store.store_dir / "import_attempts.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")


def detect_calendar(values: pd.Series) -> str | None:
    """BE, CE or mixed, from the 4-digit years (and Thai month names) of the distinct cells.
    Typed date cells (Excel, Parquet) count by their year too."""
    distinct = pd.Series(pd.unique(values.dropna()), dtype=object)
    if distinct.empty:
        return None
    typed = distinct[distinct.map(lambda v: isinstance(v, dt.date))]
    text = distinct[distinct.map(lambda v: isinstance(v, str))].astype(str)
    years = text.str.extract(r"(?<!\d)(\d{4})(?!\d)")[0].dropna().astype(int)
    years = pd.concat([years, typed.map(lambda d: d.year).astype(int)])
    be = int(((years >= 2400) & (years <= 2700)).sum())
    ce = int(((years >= 1900) & (years <= 2200)).sum())
    be += int(text.str.contains(r"\d{1,2}\s*[ก-๙]+\.?\s*\d{2}$", regex=True).sum())
    if be and ce:
        return "mixed"
    return "BE" if be else "CE" if ce else None


def rejected_rows(report: ImportReport, reason_of: Callable[[Issue], str]) -> pd.DataFrame:
    """The rows refused, as read (original headers), with the file row and every reason:
    a file the officer can fix and import again (the two extra columns are ignored then)."""
    if report.raw is None or not report.rejected_rows:
        return pd.DataFrame()
    reasons: dict[int, list[str]] = {}
    for issue in report.errors:
        if issue.row is not None:
            where = f"{issue.column}: " if issue.column else ""
            reasons.setdefault(issue.row, []).append(where + reason_of(issue))
    rows = [row for row in report.rejected_rows if row in report.raw.index]
    out = report.raw.loc[rows].copy()
    out.insert(0, "_file_row", rows)
    out["_reason"] = [" | ".join(reasons[row]) for row in rows]
    return out.reset_index(drop=True)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class _Source:
    """One file of an import: its bytes (an upload) or its path (a file on disk)."""

    dataset: str
    file_name: str
    data: bytes | None = None
    path: Path | None = None
    sheet: str | None = None  # the sheet of an Excel file to read (None: the first with data)

    def report(self) -> ImportReport:
        """A report for the file; a path that is not a readable file gets its reason here
        (and no hash: nothing can be kept of it)."""
        if self.data is not None:
            return ImportReport(self.file_name, self.dataset,
                                hashlib.sha256(self.data).hexdigest(), len(self.data))
        assert self.path is not None
        try:
            check_path(self.path)
            return ImportReport(self.file_name, self.dataset, _sha256_of(self.path),
                                self.path.stat().st_size)
        except FileReadError as err:
            report = ImportReport(self.file_name, self.dataset, "", 0)
            report.issues.append(Issue(None, None, "", err.reason_key, params=err.params))
        except OSError as err:  # gone or locked between the check and the read
            report = ImportReport(self.file_name, self.dataset, "", 0)
            report.issues.append(Issue(None, None, "", "file_unreadable",
                                       params={"detail": err.strerror or type(err).__name__}))
        return report

    def keep(self, store: Store, sha256: str) -> Path:
        if self.data is not None:
            return _keep_raw(store, self.data, self.file_name, sha256)
        assert self.path is not None
        return _keep_raw(store, self.path, self.file_name, sha256)


@dataclass(frozen=True)
class _Options:
    """How one run checks its files: the limits, the dates accepted, whether rows are kept
    for previews (uploads), where the store is read, and the cancel question."""

    limits: Limits
    definitions: Definitions
    today: dt.date
    keep_rows: bool
    chunk_rows: int
    cancel: Cancel = _never
    reader: Any = None
    mapping: SavedMapping | None = None
    """The header mapping chosen for the files of its dataset (the officer's, or one named
    on the command line), applied whatever their headers."""
    saved: tuple[SavedMapping, ...] | None = None
    """The saved mappings, one of which applies to a file with its set of headers; ``None``:
    read from the store."""

    def mapping_for(self, dataset: str, headers: list[str]) -> SavedMapping | None:
        if self.mapping is not None and self.mapping.dataset == dataset:
            return self.mapping
        return for_headers(list(self.saved or ()), dataset, headers)

    def rules(self, saved_on: dt.date | None) -> CheckRules:
        dates = self.definitions.dates
        last = dates.last_accepted(self.today)
        if saved_on is not None and not dates.programme_start <= saved_on <= last:
            saved_on = None  # a save date the file cannot have: its clock was wrong
        return CheckRules(dates.programme_start, last,
                          dt.timedelta(days=dates.future_tolerance_days), saved_on,
                          self.limits)


class _StagingWriter:
    """Writes the typed chunks to the staging Parquet file in a second thread, so that writing
    one chunk overlaps validating the next (at most two chunks wait, to bound memory)."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self._writer = pq.ParquetWriter(path, schema)
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending: list[Future[None]] = []

    def write(self, table: pa.Table) -> None:
        while len(self._pending) >= 2:
            self._pending.pop(0).result()
        self._pending.append(self._pool.submit(self._writer.write_table, table))

    def __enter__(self) -> _StagingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            for future in self._pending:
                future.result()
        finally:
            self._pool.shutdown(wait=True)
            self._writer.close()


def _file_issue(err: FileReadError) -> Issue:
    return Issue(err.row, None, "", err.reason_key, params=err.params)


def _note_issue(note: ReadNote) -> Issue:
    """What the reader did to the file (the sheet it chose, the title rows it skipped, a total
    row it left out, a hidden column), as a warning of the report."""
    return Issue(note.row, note.column, note.value, note.reason_key, "warning", note.params)


@dataclass
class _Staged:
    """A file's typed rows staged in Parquet, and what its whole-file checks need to run
    again (the store may change between a check and the write)."""

    report: ImportReport
    path: Path
    relation: str
    """SQL for the staged rows (:meth:`Store.stage`)."""
    dataset: Dataset
    header_of: dict[str, str]
    known: dict[str, list[str]]
    row_issues: list[Issue]

    def check_whole_file(self, con: Any) -> None:
        """The row-level issues and those of the whole-file checks (keys repeated,
        references, shared citizen IDs) against the store on ``con``, by row."""
        self.report.issues = [*self.row_issues, *file_issues(
            con, self.relation, self.dataset, self.header_of, self.known)]
        self.report.issues.sort(key=lambda i: (i.row or 0, i.severity != "error"))


def _validate(con: Any, source: _Source, report: ImportReport, staged: Path,
              known: dict[str, list[str]], progress: Progress,
              options: _Options, stage: Callable[[Path], str]) -> _Staged | None:
    """Read and validate ``source`` a chunk of rows at a time into ``report``; the typed rows
    go to the Parquet file ``staged``; the whole-file checks read the store on ``con``. The
    staged file when the rows were staged (the file could be read and its headers are
    usable), whatever the row-level issues; ``None`` otherwise."""
    if source.dataset not in DATASETS:
        raise ValueError(f"unknown dataset {source.dataset!r}; one of {', '.join(DATASETS)}")
    dataset = DATASETS[source.dataset]
    limits = options.limits
    if report.errors:  # the path is not a readable file
        return None
    if len(report.file_name) > limits.file_name_chars:
        report.issues.append(Issue(None, None, "", "file_name_too_long", params={
            "n": len(report.file_name), "max": limits.file_name_chars}))
        return None
    if limits.upload_bytes is not None and report.size_bytes > limits.upload_bytes:
        report.issues.append(Issue(None, None, "", "file_too_large",
                                   params={"mb": limits.upload_bytes // (1024 * 1024)}))
        return None
    progress(0.05, "read")
    try:
        raw = read_batches(source.data if source.data is not None else source.path,
                           source.file_name, options.chunk_rows, limits, sheet=source.sheet,
                           known_headers=partial(known_count, dataset=dataset))
    except FileReadError as err:
        report.issues.append(_file_issue(err))
        return None
    report.file_format, report.encoding = raw.file_format, raw.encoding
    report.issues.extend(_note_issue(note) for note in raw.notes)
    report.rows_read = raw.rows_hint or 0
    chosen = options.mapping_for(dataset.name, raw.headers)
    headers = map_headers(raw.headers, dataset, chosen.columns if chosen else None,
                          chosen.name if chosen else None)
    report.headers = headers
    stand_ins = {c.stands_for: c.name for c in dataset.columns if c.stands_for}
    for name in headers.missing_required:
        report.issues.append(Issue(None, name, "", "missing_key" if name in stand_ins
                                   else "missing_column", params={"other": stand_ins.get(name)}))
    for name in headers.duplicated:
        report.issues.append(Issue(None, name, "", "duplicate_column"))
    if raw.rows_hint == 0:
        report.issues.append(Issue(None, None, "", "no_rows"))
    if limits.rows is not None and (raw.rows_hint or 0) > limits.rows:
        report.issues.append(Issue(None, None, "", "too_many_rows",
                                   params={"n": raw.rows_hint, "max": limits.rows}))
    if report.errors:
        return None
    progress(0.2, "validate")
    house_codes = None
    if any(c.stands_for == "household_id" for c in dataset.columns):
        derive = dataset.table == "household"
        house_codes = HouseCodes(con, ['"household"'] if derive else
                                 known.get("household", ['"household"']), derive)
    validator = ChunkValidator(headers, dataset, options.rules(raw.saved_on), house_codes)
    date_headers = [h for h, c in headers.mapping.items() if dataset.column(c).kind == "date"]
    distinct_dates: dict[str, set[object]] = {h: set() for h in date_headers}
    kept: list[pd.DataFrame] = []
    rows = 0
    with _StagingWriter(staged, validator.schema) as writer:
        try:
            for chunk in raw.chunks:
                if options.cancel():
                    raise ImportCancelled
                first_row = raw.first_row + rows
                table, issues = validator.normalise(chunk, first_row)
                rows += table.num_rows
                if limits.rows is not None and rows > limits.rows:
                    report.issues.append(Issue(None, None, "", "too_many_rows",
                                               params={"n": f"> {limits.rows}",
                                                       "max": limits.rows}))
                    return None
                writer.write(table)
                report.issues.extend(issues)
                for header in date_headers:
                    _distinct_into(distinct_dates[header], chunk, header)
                if options.keep_rows:
                    kept.append(chunk if isinstance(chunk, pd.DataFrame) else
                                chunk.to_pandas().set_axis(
                                    pd.RangeIndex(first_row, first_row + chunk.num_rows)))
                progress(0.2 + 0.35 * min(1.0, rows / max(raw.rows_hint or rows, 1)), "validate")
        except FileReadError as err:
            report.issues.append(_file_issue(err))
            return None
    report.rows_read = rows
    if rows == 0:
        report.issues.append(Issue(None, None, "", "no_rows"))
        return None
    if options.cancel():
        raise ImportCancelled
    if options.keep_rows:
        report.raw = raw.frame if raw.frame is not None else pd.concat(kept)
    report.calendars = {
        header: calendar for header in date_headers
        if (calendar := detect_calendar(pd.Series(list(distinct_dates[header]), dtype=object)))
        is not None
    }
    result = _Staged(report, staged, stage(staged), dataset,
                     {c: h for h, c in headers.mapping.items()},
                     {table: list(relations) for table, relations in known.items()},
                     list(report.issues))
    result.check_whole_file(con)
    if options.keep_rows:
        report.frame = pq.read_table(staged).to_pandas(types_mapper=_PANDAS_TYPES.get,
                                                       date_as_object=False)
    progress(0.6, "validate")
    return result


DISTINCT_DATES_LIMIT = 100_000
_PANDAS_TYPES = {pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype(),
                 pa.bool_(): pd.BooleanDtype()}


def _distinct_into(seen: set[object], chunk: pa.Table | pd.DataFrame, header: str) -> None:
    """Collect a date column's distinct raw values (for :func:`detect_calendar`)."""
    if len(seen) >= DISTINCT_DATES_LIMIT:
        return
    if isinstance(chunk, pa.Table):
        seen.update(pc.unique(chunk.column(header)).drop_null().to_pylist())
    else:
        seen.update(pd.unique(chunk[header].dropna()))


STAGING_DIR = "staging"


def staging_root(store_dir: Path) -> Path:
    """Where imports stage their typed rows: beside the store, not inside it."""
    return store_dir / STAGING_DIR


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, owned by someone else
        return True
    return True


def _left_behind(folder: Path) -> bool:
    """Whether a staging folder's import has ended without removing it (its process is gone,
    or it is this process's and not in use: an earlier process had the same pid)."""
    pid = folder.name.split("-", 1)[0]
    if not pid.isdigit():
        return True
    if int(pid) == os.getpid():
        return folder.name not in _MINE
    return not _pid_alive(int(pid))


def clean_stale_staging(store_dir: Path) -> list[Path]:
    """Remove the staging folders of imports whose process is gone (killed mid-import);
    return them. A running import's folder is left alone."""
    root = staging_root(store_dir)
    if not root.is_dir():
        return []
    removed = [folder for folder in root.iterdir() if folder.is_dir() and _left_behind(folder)]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


_MINE: set[str] = set()
"""This process's staging folders now in use (a folder of this pid not here is a leftover of an
earlier process that had the same pid)."""


def _staging_folder(store_dir: Path) -> Path:
    folder = staging_root(store_dir) / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    _MINE.add(folder.name)
    return folder


def _run(store: Store, sources: list[_Source], imported_by: str, progress: Progress,
         options: _Options, write: bool) -> list[ImportReport]:
    """Check the sources and, if ``write``, write them, with the engine's memory capped (see
    :data:`ENGINE_MEMORY`) when it reads on the store's own connection (a reader leaves the
    shared setting alone)."""
    limit = None if options.reader is not None and not write else ENGINE_MEMORY
    with store.memory_limit(limit):
        checked = _check(store, sources, progress, options)
        try:
            if write:
                _write(store, checked, imported_by, progress)
            return checked.reports
        finally:
            checked.close()


def _cancelled(report: ImportReport) -> None:
    report.issues.append(Issue(None, None, "", "cancelled"))


@dataclass
class CheckedImport:
    """Files read, checked and staged, nothing written yet: made by :func:`check_bytes`
    (which needs no lock on the store's connection), written by :func:`write_checked` (the
    only step that does). :meth:`close` removes the staged rows; :func:`write_checked` closes
    it."""

    reports: list[ImportReport]
    data_version: str
    """The store's data version the files were checked against."""
    _sources: list[_Source]
    _staged: list[_Staged]
    _folder: Path
    _options: _Options
    _unstage: Callable[[str], None] = lambda relation: None

    @property
    def refused(self) -> bool:
        return any(report.errors for report in self.reports)

    def close(self) -> None:
        for staged in self._staged:
            self._unstage(staged.relation)
        self._staged = []
        shutil.rmtree(self._folder, ignore_errors=True)
        _MINE.discard(self._folder.name)


def _data_version(con: Any) -> str:
    rows = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchall()
    return rows[0][0] if rows else ""


def _check(store: Store, sources: list[_Source], progress: Progress,
           options: _Options) -> CheckedImport:
    """Validate every source (in the order that satisfies references: a file may refer to
    rows of a file before it in the same import), reading the store on the reader if there
    is one."""
    order = {name: index for index, name in enumerate(IMPORT_ORDER)}
    sources = sorted(sources, key=lambda s: order.get(s.dataset, len(order)))
    con = options.reader if options.reader is not None else store.raw
    if options.saved is None:
        options = replace(options, saved=tuple(read_mappings(con)))
    folder = _staging_folder(store.store_dir)
    checked = CheckedImport([], _data_version(con), sources, [], folder, options,
                            store.unstage)
    try:
        known: dict[str, list[str]] = {}
        cancelled = False
        for index, source in enumerate(sources):
            report = source.report()
            path = folder / f"{index}_{source.dataset}.parquet"

            def step(done: float, stage: str, _index: int = index) -> None:
                # one file reports as before (0.6 when validated); several share 0-0.65
                progress(done if len(sources) == 1
                         else (_index + done / 0.6) / len(sources) * 0.65, stage)

            try:
                staged = None if cancelled else _validate(con, source, report, path, known,
                                                          step, options, store.stage)
            except ImportCancelled:
                staged, cancelled = None, True
            if cancelled:
                _cancelled(report)
            if staged is not None:
                checked._staged.append(staged)
                table = DATASETS[source.dataset].table
                known.setdefault(table, [f'"{table}"']).append(staged.relation)
            checked.reports.append(report)
    except BaseException:
        checked.close()
        raise
    return checked


def _write(store: Store, checked: CheckedImport, imported_by: str,
           progress: Progress) -> None:
    """Keep the raw files, write the checked files if none has an error (in one transaction
    with one rebuild of the derived tables), and journal every attempt. If the store changed
    since the check, the whole-file checks run again first."""
    with store.write_lock():  # a shared store: another import waits here, or is refused
        _write_locked(store, checked, imported_by, progress)


def _write_locked(store: Store, checked: CheckedImport, imported_by: str,
                  progress: Progress) -> None:
    options = checked._options
    if _data_version(store.raw) != checked.data_version:  # an import or undo came between
        for staged in checked._staged:
            staged.check_whole_file(store.raw)
    for source, report in zip(checked._sources, checked.reports, strict=True):
        if report.sha256:
            report.raw_path = source.keep(store, report.sha256)
    if not checked.refused:
        if options.cancel():
            for report in checked.reports:
                _cancelled(report)
        else:
            progress(0.7, "write")
            _commit(store, [(s.report, s.relation) for s in checked._staged], imported_by,
                    options.definitions)
    for report in checked.reports:
        _journal(store, report, imported_by)
    progress(1.0, "done")


def check_bytes(store: Store, data: bytes, file_name: str, dataset_name: str, *,
                reader: Any, progress: Progress = _no_progress, cancel: Cancel = _never,
                limits: Limits | None = None, definitions: Definitions | None = None,
                chunk_rows: int = CHUNK_ROWS, today: dt.date | None = None,
                mapping: SavedMapping | None = None,
                saved: tuple[SavedMapping, ...] | None = None,
                sheet: str | None = None) -> CheckedImport:
    """Read, check and stage an upload for :func:`write_checked`, reading the store only on
    ``reader`` (:meth:`Store.reader`): the caller holds no lock on the store's connection
    while this runs, however big the file. The reports are those of :func:`validate_bytes`
    (rows kept for previews). Close what it returns if it is not written.

    ``mapping``: the headers as the officer mapped them; ``saved``: the saved mappings (one
    of which applies to a file with its set of headers), read beforehand (``None``: read
    from the store, which needs its lock). ``sheet``: the sheet of an Excel file to read."""
    options = _options(limits, True, definitions, chunk_rows, cancel, reader, today, mapping,
                       saved)
    return _check(store, [_Source(dataset_name, file_name, data=data, sheet=sheet)], progress,
                  options)


def write_checked(store: Store, checked: CheckedImport, imported_by: str,
                  progress: Progress = _no_progress) -> ImportReport:
    """Write what :func:`check_bytes` checked (on the store's own connection: the only step
    that needs its lock), all or nothing: the whole-file checks run again if the store
    changed since, the raw file is kept and the attempt journalled as by
    :func:`import_bytes`. Closes ``checked``."""
    try:
        with store.memory_limit(ENGINE_MEMORY):
            _write(store, checked, imported_by, progress)
        return checked.reports[0]
    finally:
        checked.close()


def _options(limits: Limits | None, keep_rows: bool, definitions: Definitions | None,
             chunk_rows: int, cancel: Cancel = _never, reader: Any = None,
             today: dt.date | None = None, mapping: SavedMapping | None = None,
             saved: tuple[SavedMapping, ...] | None = None) -> _Options:
    if limits is None:  # read at call time: a test may set the module's limits
        limits = UPLOAD_LIMITS if keep_rows else FILE_LIMITS
    return _Options(limits, definitions or load_definitions(), today or dt.date.today(),
                    keep_rows, chunk_rows, cancel, reader, mapping, saved)


def validate_bytes(store: Store, data: bytes, file_name: str, dataset_name: str,
                   progress: Progress = _no_progress, capped: bool = True,
                   chunk_rows: int = CHUNK_ROWS, *, reader: Any = None,
                   cancel: Cancel = _never, limits: Limits | None = None,
                   definitions: Definitions | None = None,
                   today: dt.date | None = None, sheet: str | None = None,
                   mapping: SavedMapping | None = None) -> ImportReport:
    """Read and validate without writing anything (the Import page's preview). Uploads are
    held to :data:`loaders.limits.UPLOAD_LIMITS`; files imported from disk (``capped=False``)
    to :data:`loaders.limits.FILE_LIMITS`. A capped report keeps the rows as read and as
    normalised (:attr:`ImportReport.raw`, :attr:`ImportReport.frame`) for previews and the
    rejected-rows file.

    ``reader``: a second DB-API connection to the store (:meth:`Store.reader`) for the checks
    against the store: then nothing here uses the store's own connection, and the caller needs
    no lock on it. ``cancel`` is asked between chunks: True ends the check with the reason
    ``cancelled``. ``sheet``: the sheet of an Excel file to read (by default the first with
    data, which the report notes when there are several); ``mapping``: the headers as the
    officer mapped them."""
    options = _options(limits, capped, definitions, chunk_rows, cancel, reader, today, mapping)
    return _run(store, [_Source(dataset_name, file_name, data=data, sheet=sheet)], "",
                progress, options, write=False)[0]


def validate_file(store: Store, path: Path, dataset_name: str,
                  chunk_rows: int = CHUNK_ROWS, *, limits: Limits | None = None,
                  today: dt.date | None = None, sheet: str | None = None) -> ImportReport:
    """Validate a file from disk without writing anything (a dry run), streamed like
    :func:`import_file`."""
    options = _options(limits, False, None, chunk_rows, today=today)
    return _run(store, [_Source(dataset_name, Path(path).name, path=Path(path), sheet=sheet)],
                "", _no_progress, options, write=False)[0]


def validate_files(store: Store, files: Mapping[str, Path], chunk_rows: int = CHUNK_ROWS,
                   *, limits: Limits | None = None, today: dt.date | None = None,
                   sheet: str | None = None,
                   mapping: SavedMapping | None = None) -> list[ImportReport]:
    """A dry run of :func:`import_files`: the same files checked as one import (a file may
    refer to rows of another), nothing written."""
    sources = _sources(files, sheet)
    return _run(store, sources, "", _no_progress,
                _options(limits, False, None, chunk_rows, today=today, mapping=mapping),
                write=False)


def import_bytes(
    store: Store,
    data: bytes,
    file_name: str,
    dataset_name: str,
    imported_by: str = "cli",
    definitions: Definitions | None = None,
    progress: Progress = _no_progress,
    capped: bool = True,
    chunk_rows: int = CHUNK_ROWS,
    *,
    cancel: Cancel = _never,
    limits: Limits | None = None,
    today: dt.date | None = None,
    sheet: str | None = None,
    mapping: SavedMapping | None = None,
) -> ImportReport:
    """Validate and, if there is no error, write the file's rows in one transaction.
    ``sheet``: the sheet of an Excel file to read (see :func:`validate_bytes`)."""
    options = _options(limits, capped, definitions, chunk_rows, cancel, today=today,
                       mapping=mapping)
    return _run(store, [_Source(dataset_name, file_name, data=data, sheet=sheet)],
                imported_by, progress, options, write=True)[0]


def import_file(store: Store, path: Path, dataset_name: str, imported_by: str = "cli",
                definitions: Definitions | None = None,
                chunk_rows: int = CHUNK_ROWS, *, sheet: str | None = None) -> ImportReport:
    """Import a file from disk: streamed (Parquet) and staged on disk, so a national file
    fits in bounded memory. The report keeps no rows (no ``raw`` / ``frame``)."""
    return import_files(store, {dataset_name: path}, imported_by, definitions,
                        chunk_rows=chunk_rows, sheet=sheet)[0]


def import_files(store: Store, files: Mapping[str, Path], imported_by: str = "cli",
                 definitions: Definitions | None = None, progress: Progress = _no_progress,
                 chunk_rows: int = CHUNK_ROWS, *, cancel: Cancel = _never,
                 limits: Limits | None = None, today: dt.date | None = None,
                 sheet: str | None = None,
                 mapping: SavedMapping | None = None) -> list[ImportReport]:
    """Import several datasets' files (dataset -> path) as one: all are written, in one
    transaction with one rebuild of the derived tables, or none is (any error in any file
    refuses them all). A file may refer to rows of another file of the same import (visits
    to the households imported with them). Each file gets its own import id, log row and
    journal line, so undo still takes back one file at a time. Reports in import order.
    ``sheet``: the sheet to read of each Excel file (CSV and Parquet files have none)."""
    sources = _sources(files, sheet)
    options = _options(limits, False, definitions, chunk_rows, cancel, today=today,
                       mapping=mapping)
    return _run(store, sources, imported_by, progress, options, write=True)


def _sources(files: Mapping[str, Path], sheet: str | None) -> list[_Source]:
    """The files of an import from disk (dataset -> path); ``sheet`` for the Excel ones."""
    return [_Source(name, Path(path).name, path=Path(path),
                    sheet=sheet if Path(path).suffix.lower() in (".xlsx", ".xlsm") else None)
            for name, path in files.items()]


def _commit(store: Store, staged: list[tuple[ImportReport, str]], imported_by: str,
            definitions: Definitions) -> None:
    done: list[tuple[ImportReport, int, int, int]] = []
    with store.transaction():
        for report, relation in staged:
            import_id = store.next_import_id()
            inserted, updated = store.upsert_from(DATASETS[report.dataset], relation,
                                                  import_id)
            _log(store, report, import_id, imported_by, inserted, updated)
            done.append((report, import_id, inserted, updated))
        rebuild_derived(store, definitions)
        if store.meta(HELD_IMPORT) is None:
            store.set_meta(HELD_IMPORT, dt.datetime.now().isoformat(timespec="seconds"))
        last = done[-1]
        store.set_meta("data_version", _new_version(f"{last[1]}:{last[0].sha256[:12]}"))
    for report, import_id, inserted, updated in done:
        report.committed = True
        report.import_id = import_id
        report.rows_inserted, report.rows_updated = inserted, updated


def _log(store: Store, report: ImportReport, import_id: int, imported_by: str,
         inserted: int, updated: int) -> None:
    log = {
        "import_id": import_id,
        "imported_at": dt.datetime.now().replace(microsecond=0),
        "imported_by": imported_by,
        "dataset": report.dataset,
        "file_name": report.file_name,
        "file_sha256": report.sha256,
        "file_format": report.file_format,
        "encoding": report.encoding,
        "rows_read": report.rows_read,
        "rows_accepted": report.rows_accepted,
        "rows_rejected": report.rows_rejected,
        "rows_inserted": inserted,
        "rows_updated": updated,
        "warnings": len(report.warnings),
        "raw_path": str(report.raw_path) if report.raw_path else None,
    }
    store.append_rows("import_log", IMPORT_LOG_COLUMNS, [log])
    store.append_rows("import_warning", IMPORT_WARNING_COLUMNS, [
        {"import_id": import_id, "dataset": report.dataset, "file_row": w.row,
         "file_column": w.column, "value": w.value, "reason_key": w.reason_key,
         "detail": json.dumps(w.params, ensure_ascii=False, default=str)}
        for w in report.warnings
    ])


@dataclass(frozen=True)
class UndoResult:
    import_id: int
    dataset: str
    file_name: str
    rows_removed: int
    rows_restored: int


def undo_last_import(store: Store, undone_by: str = "cli",
                     definitions: Definitions | None = None) -> UndoResult | None:
    """Take back the most recent import exactly: its rows go, the rows it replaced come back,
    its log lines go; the derived tables are rebuilt. ``None`` when there is nothing to undo.
    The raw file stays kept and the journal records the undo. On a shared store it waits
    for an import being written (or is refused, see :meth:`Store.write_lock`)."""
    with store.write_lock():
        return _undo_last(store, undone_by, definitions)


def _undo_last(store: Store, undone_by: str,
               definitions: Definitions | None) -> UndoResult | None:
    rows = store.execute("SELECT import_id, dataset, file_name FROM import_log "
                         "ORDER BY import_id DESC LIMIT 1")
    if not rows:
        return None
    import_id, dataset_name, file_name = rows[0]
    with store.memory_limit(ENGINE_MEMORY), store.transaction():
        removed, restored = store.undo_rows(DATASETS[dataset_name], import_id)
        store.execute("DELETE FROM import_warning WHERE import_id = ?", [import_id])
        store.execute("DELETE FROM import_log WHERE import_id = ?", [import_id])
        rebuild_derived(store, definitions or load_definitions())
        store.set_meta("data_version", _new_version(f"undo-{import_id}"))
    result = UndoResult(int(import_id), dataset_name, file_name, removed, restored)
    store.store_dir.mkdir(parents=True, exist_ok=True)
    with (store.store_dir / "import_attempts.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"at": dt.datetime.now().isoformat(timespec="seconds"),
                             "by": undone_by, "undo_of": result.import_id,
                             "dataset": dataset_name, "file_name": file_name,
                             "rows_removed": removed, "rows_restored": restored},
                            ensure_ascii=False) + "\n")
    return result
