"""Build the store from the demo files on first start."""

from __future__ import annotations

from pathlib import Path

from domain.definitions import Definitions
from loaders.contracts import IMPORT_ORDER
from loaders.derived import definitions_fingerprint, rebuild_derived
from loaders.importer import (
    ENGINE_MEMORY,
    HELD_IMPORT,
    ImportReport,
    clean_stale_staging,
    import_files,
)
from loaders.store import ROOT, Store

DEMO_DIR = ROOT / "data" / "demo"


class BootstrapError(RuntimeError):
    def __init__(self, report: ImportReport) -> None:
        super().__init__(f"demo import of {report.file_name} failed")
        self.report = report


def demo_files(folder: Path = DEMO_DIR) -> list[tuple[str, Path]]:
    """(dataset, file) pairs in import order, for every dataset with a file in ``folder``."""
    found = []
    for dataset in IMPORT_ORDER:
        for suffix in (".csv", ".xlsx", ".parquet"):
            path = folder / f"{dataset}{suffix}"
            if path.exists():
                found.append((dataset, path))
                break
    return found


def held_an_import(store: Store) -> bool:
    """Whether the store ever took an import (the demo's too), even if all were undone: the
    mark the first import leaves, the import log, any household, or (for a store from before
    the mark) an accepted import in the journal of attempts."""
    if store.meta(HELD_IMPORT) is not None or store.count("import_log") or store.count("household"):
        return True
    journal = store.store_dir / "import_attempts.jsonl"
    if not journal.is_file():
        return False
    with journal.open(encoding="utf-8", errors="replace") as fh:
        return any('"committed": true' in line for line in fh)


def ensure_store(store: Store, folder: Path = DEMO_DIR) -> list[ImportReport]:
    """On start: remove the staging folders of imports that were killed, and import the demo
    files into a store that never held an import; return the demo's reports. An emptied store
    (every import undone) stays empty."""
    clean_stale_staging(store.store_dir)
    if held_an_import(store):
        return []
    with store.write_lock():  # several servers may start at once on one empty database
        if held_an_import(store):
            return []
        reports = import_files(store, dict(demo_files(folder)), imported_by="demo")
    for report in reports:
        if not report.committed:
            raise BootstrapError(next((r for r in reports if r.errors), report))
    return reports


def ensure_definitions_current(store: Store, definitions: Definitions) -> bool:
    """Rebuild the derived tables if they were built under other definitions; True if rebuilt.
    A read-only check otherwise: the store file is not touched."""
    if store.meta("definitions") in (None, definitions_fingerprint(definitions)):
        return False
    with store.memory_limit(ENGINE_MEMORY), store.transaction():
        # another server may have rebuilt them while this one waited for the write lock
        if store.meta("definitions") == definitions_fingerprint(definitions):
            return False
        rebuild_derived(store, definitions)
    return True
