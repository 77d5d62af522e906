"""Benchmark data at any scale: the demo programme copied ``copies`` times with fresh IDs.

Each copy keeps the demo's distributions (amphoe, agencies, levels, COVID dip, anomalies) and
gets its own household, official, visit and assistance IDs and its own valid, synthetic
citizen IDs (``09999`` + a running number + the check digit). Files are written as Parquet in
the canonical columns (what a national system would export), a copy at a time, so memory stays
bounded while writing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loaders.contracts import DATASETS, IMPORT_ORDER
from loaders.demo import generate

ID_COLUMNS = {
    "households": ("household_id",),
    "officials": ("official_id",),
    "pairings": ("official_id", "household_id"),
    "visits": ("visit_id", "household_id", "official_id"),
    "assistance": ("assistance_id", "household_id"),
}


def citizen_ids(start: int, count: int) -> np.ndarray:
    """``count`` synthetic citizen IDs with valid check digits, numbered from ``start``."""
    numbers = np.arange(start, start + count, dtype=np.int64)
    digits = np.zeros((count, 12), dtype=np.int64)
    digits[:, 0], digits[:, 1:5] = 0, 9
    rest = numbers.copy()
    for position in range(11, 4, -1):
        digits[:, position] = rest % 10
        rest //= 10
    weights = np.arange(13, 1, -1)
    check = (11 - (digits * weights).sum(axis=1) % 11) % 10
    text = np.char.add(np.char.add("09999", np.char.zfill(numbers.astype(str), 7)),
                       check.astype(str))
    return text


def _copy(frame: pd.DataFrame, dataset: str, k: int, households: int) -> pd.DataFrame:
    out = frame.copy()
    suffix = f"-{k:04d}"
    for column in ID_COLUMNS[dataset]:
        out[column] = out[column] + suffix
    if dataset == "households":
        out["head_citizen_id"] = citizen_ids(k * households, len(out))
        # amphoe prefix (4 digits) + a running number: 11 digits, unique up to 10 million
        out["house_code"] = out["house_code"].str[:4] + np.char.zfill(
            (np.arange(len(out)) + k * households).astype(str), 7)
    return out


def write_scale(folder: Path, copies: int) -> dict[str, Path]:
    """Write ``copies`` copies of the demo programme as one Parquet file per dataset."""
    folder.mkdir(parents=True, exist_ok=True)
    base = generate()
    households = len(base["households"])
    paths: dict[str, Path] = {}
    for dataset in IMPORT_ORDER:
        path = folder / f"{dataset}.parquet"
        columns = DATASETS[dataset].column_names
        writer = None
        for k in range(copies):
            frame = _copy(base[dataset][columns], dataset, k, households)
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table.cast(writer.schema))
        assert writer is not None
        writer.close()
        paths[dataset] = path
    return paths


def copies_for(households: int) -> int:
    """How many demo copies give at least ``households`` households."""
    base = 1174
    return max(1, -(-households // base))
