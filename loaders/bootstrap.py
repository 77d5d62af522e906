"""Build the store from the demo files on first start."""

from __future__ import annotations

from pathlib import Path

from domain.definitions import Definitions
from loaders.contracts import IMPORT_ORDER
from loaders.derived import definitions_fingerprint, rebuild_derived
from loaders.importer import ENGINE_MEMORY, ImportReport, import_files
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


def ensure_store(store: Store, folder: Path = DEMO_DIR) -> list[ImportReport]:
    """Import the demo files if the store holds no household yet; return the reports."""
    if store.count("household") > 0:
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
        rebuild_derived(store, definitions)
    return True
