"""Import one file into the store: read -> map headers -> normalise -> validate -> write.

All or nothing: any error in any row refuses the whole file and the store is not touched (not
a byte of its file). Every attempt, refused or not, keeps its raw file under
``<store dir>/raw/`` and a line in ``<store dir>/import_attempts.jsonl``, so nothing a field
team sent is ever lost; an accepted import is also recorded in the store's ``import_log``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dashboard.definitions import Definitions, load_definitions
from loaders.contracts import DATASETS, REFERENCES, Dataset
from loaders.derived import rebuild_derived
from loaders.readers import FileReadError, HeaderMapping, RawTable, map_headers, read_bytes
from loaders.store import IMPORT_LOG_COLUMNS, IMPORT_WARNING_COLUMNS, Store
from loaders.validate import FIRST_DATA_ROW, Issue, normalise_frame

Progress = Callable[[float, str], None]
"""Called with the share done (0-1) and a stage name: read, validate, write, done."""


def _no_progress(share: float, stage: str) -> None:
    return None

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


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
        return self.rows_read - self.rows_rejected


def _keep_raw(store: Store, data: bytes, file_name: str, sha256: str) -> Path:
    safe = re.sub(r"[^\w.\-]+", "_", Path(file_name).name, flags=re.UNICODE)[-120:]
    folder = store.store_dir / "raw" / dt.date.today().isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sha256[:16]}_{safe}"
    if not path.exists():
        path.write_bytes(data)
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


def _reference_issues(store: Store, dataset: Dataset, frame: pd.DataFrame,
                      header_of: dict[str, str]) -> list[Issue]:
    issues: list[Issue] = []
    for column, table, ref_column in REFERENCES.get(dataset.name, ()):
        if column not in header_of:
            continue
        values = frame[column].dropna().unique().tolist()
        known = store.key_values(table, ref_column, values)
        unknown = frame[column].notna() & ~frame[column].isin(known)
        for row, value in zip(frame.loc[unknown, "_row"], frame.loc[unknown, column], strict=True):
            issues.append(Issue(int(row), header_of[column], str(value), "unknown_reference",
                                params={"table": table}))
    if dataset.name == "households" and "head_citizen_id" in header_of:
        ids = frame["head_citizen_id"].dropna().unique().tolist()
        if ids and store.count("household"):
            hh = store.table("household")
            existing = hh.filter(hh.head_citizen_id.isin(ids)).select(
                "household_id", "head_citizen_id").execute()
            merged = frame[["_row", "household_id", "head_citizen_id"]].merge(
                existing, on="head_citizen_id", suffixes=("", "_other"))
            clash = merged[merged["household_id"] != merged["household_id_other"]]
            clash = clash[~clash["household_id_other"].isin(frame["household_id"])]
            for row, value, other in zip(clash["_row"], clash["head_citizen_id"],
                                         clash["household_id_other"], strict=True):
                issues.append(Issue(int(row), header_of["head_citizen_id"],
                                    "•" * 9 + str(value)[-4:], "citizen_id_in_store",
                                    severity="warning", params={"household": other}))
    return issues


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
    positions = [row - FIRST_DATA_ROW for row in report.rejected_rows]
    out = report.raw.iloc[positions].copy()
    out.insert(0, "_file_row", report.rejected_rows)
    out["_reason"] = [" | ".join(reasons[row]) for row in report.rejected_rows]
    return out.reset_index(drop=True)


def validate_bytes(store: Store, data: bytes, file_name: str, dataset_name: str,
                   progress: Progress = _no_progress, capped: bool = True) -> ImportReport:
    """Read and validate without writing anything (the Import page's preview). Uploads are
    capped at :data:`MAX_UPLOAD_BYTES`; files imported from disk (``capped=False``) are not."""
    if dataset_name not in DATASETS:
        raise ValueError(f"unknown dataset {dataset_name!r}; one of {', '.join(DATASETS)}")
    dataset = DATASETS[dataset_name]
    report = ImportReport(file_name=file_name, dataset=dataset_name,
                          sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
    if capped and len(data) > MAX_UPLOAD_BYTES:
        report.issues.append(Issue(None, None, "", "file_too_large",
                                   params={"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}))
        return report
    progress(0.05, "read")
    try:
        raw: RawTable = read_bytes(data, file_name)
    except FileReadError as err:
        report.issues.append(Issue(None, None, "", err.reason_key, params=err.params))
        return report
    report.file_format, report.encoding = raw.file_format, raw.encoding
    report.rows_read = len(raw.frame)
    headers = map_headers(list(raw.frame.columns), dataset)
    report.headers = headers
    for name in headers.missing_required:
        report.issues.append(Issue(None, name, "", "missing_column"))
    for name in headers.duplicated:
        report.issues.append(Issue(None, name, "", "duplicate_column"))
    if report.rows_read == 0:
        report.issues.append(Issue(None, None, "", "no_rows"))
    if report.errors:
        return report
    report.raw = raw.frame
    report.calendars = {
        header: calendar for header, canonical in headers.mapping.items()
        if dataset.column(canonical).kind == "date"
        and (calendar := detect_calendar(raw.frame[header])) is not None
    }
    progress(0.2, "validate")
    frame, issues = normalise_frame(raw.frame, headers, dataset)
    report.issues.extend(issues)
    header_of = {c: h for h, c in headers.mapping.items()}
    report.issues.extend(_reference_issues(store, dataset, frame, header_of))
    report.issues.sort(key=lambda i: (i.row or 0, i.severity != "error"))
    report.frame = frame
    progress(0.6, "validate")
    return report


def import_bytes(
    store: Store,
    data: bytes,
    file_name: str,
    dataset_name: str,
    imported_by: str = "cli",
    definitions: Definitions | None = None,
    progress: Progress = _no_progress,
    capped: bool = True,
) -> ImportReport:
    """Validate and, if there is no error, write the file's rows in one transaction."""
    report = validate_bytes(store, data, file_name, dataset_name, progress, capped)
    report.raw_path = _keep_raw(store, data, file_name, report.sha256)
    if not report.errors:
        progress(0.7, "write")
        _commit(store, report, imported_by, definitions or load_definitions())
    _journal(store, report, imported_by)
    progress(1.0, "done")
    return report


def import_file(store: Store, path: Path, dataset_name: str, imported_by: str = "cli",
                definitions: Definitions | None = None) -> ImportReport:
    return import_bytes(store, Path(path).read_bytes(), Path(path).name, dataset_name,
                        imported_by, definitions, capped=False)


def _commit(store: Store, report: ImportReport, imported_by: str,
            definitions: Definitions) -> None:
    dataset = DATASETS[report.dataset]
    assert report.frame is not None
    frame = _typed(report.frame, dataset)
    with store.transaction():
        import_id = store.next_import_id()
        inserted, updated = store.upsert(dataset, frame, import_id)
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
        rebuild_derived(store, definitions)
        store.set_meta("data_version", f"{import_id}:{report.sha256[:12]}")
    report.committed = True
    report.import_id = import_id
    report.rows_inserted, report.rows_updated = inserted, updated


def _typed(frame: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """Give each canonical column a concrete dtype so the engine casts without guessing."""
    out = pd.DataFrame(index=frame.index)
    for col in dataset.columns:
        series = frame[col.name]
        if col.kind == "date":
            out[col.name] = pd.to_datetime(series).astype("datetime64[s]")
        elif col.kind in ("bool", "jpt"):
            out[col.name] = series.astype("boolean")
        elif col.kind == "int":
            out[col.name] = pd.to_numeric(series).astype("Int64")
        elif col.kind in ("float", "money"):
            out[col.name] = pd.to_numeric(series).astype("Float64")
        else:
            out[col.name] = series.astype(object).where(series.notna(), None)
    return out


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
    The raw file stays kept and the journal records the undo."""
    rows = store.execute("SELECT import_id, dataset, file_name FROM import_log "
                         "ORDER BY import_id DESC LIMIT 1")
    if not rows:
        return None
    import_id, dataset_name, file_name = rows[0]
    with store.transaction():
        removed, restored = store.undo_rows(DATASETS[dataset_name], import_id)
        store.execute("DELETE FROM import_warning WHERE import_id = ?", [import_id])
        store.execute("DELETE FROM import_log WHERE import_id = ?", [import_id])
        rebuild_derived(store, definitions or load_definitions())
        store.set_meta("data_version", f"undo-{import_id}")
    result = UndoResult(int(import_id), dataset_name, file_name, removed, restored)
    store.store_dir.mkdir(parents=True, exist_ok=True)
    with (store.store_dir / "import_attempts.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"at": dt.datetime.now().isoformat(timespec="seconds"),
                             "by": undone_by, "undo_of": result.import_id,
                             "dataset": dataset_name, "file_name": file_name,
                             "rows_removed": removed, "rows_restored": restored},
                            ensure_ascii=False) + "\n")
    return result
