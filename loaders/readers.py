"""Read the files field teams send into raw frames, and map their headers to the contract.

A raw frame keeps the cells as the file holds them (CSV cells as text; Excel cells as Excel typed
them: numbers, dates, text) so that the normalisers see the original and the report can quote
it. Nothing here decides whether a value is valid.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from loaders.contracts import Dataset

SUPPORTED_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".parquet")


class FileReadError(ValueError):
    """The file as a whole cannot be read (wrong format, no header, not a table)."""

    def __init__(self, reason_key: str, **params: object) -> None:
        super().__init__(reason_key)
        self.reason_key = reason_key
        self.params = params


@dataclass
class RawTable:
    frame: pd.DataFrame
    file_format: str  # csv / xlsx / parquet
    encoding: str | None = None  # for CSV: utf-8, utf-8-sig or cp874
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 with BOM, UTF-8, else TIS-620 (read as its superset cp874)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp874"), "cp874"
    except UnicodeDecodeError as exc:
        raise FileReadError("unknown_encoding") from exc


def _read_csv_text(text: str) -> pd.DataFrame:
    sample = text[:20000]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    try:
        # pyarrow's reader is several times faster on big files; the C reader takes the rest
        # (and gives the clearer message on a malformed file)
        return pd.read_csv(io.BytesIO(text.encode("utf-8")), sep=delimiter, dtype=str,
                           keep_default_na=False, engine="pyarrow")
    except Exception:  # any pyarrow failure: let the C reader decide
        pass
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError as exc:
        raise FileReadError("no_header") from exc
    except pd.errors.ParserError as exc:
        raise FileReadError("csv_unreadable", detail=str(exc).splitlines()[0]) from exc


def read_bytes(data: bytes, file_name: str) -> RawTable:
    """Read an uploaded or on-disk file's bytes by its suffix."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise FileReadError("unsupported_format", suffix=suffix or "?")
    if suffix in (".csv", ".txt"):
        text, encoding = decode_text(data)
        frame = _read_csv_text(text)
        raw = RawTable(frame, "csv", encoding=encoding)
    elif suffix in (".xlsx", ".xlsm"):
        try:
            sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=object,
                                   engine="openpyxl")
        except Exception as exc:  # openpyxl raises many types for a broken workbook
            raise FileReadError("xlsx_unreadable", detail=type(exc).__name__) from exc
        sheet, frame = next(((n, f) for n, f in sheets.items() if not f.empty),
                            (next(iter(sheets), None), pd.DataFrame()))
        raw = RawTable(frame, "xlsx", sheet=sheet)
        if len(sheets) > 1:
            raw.notes.append(f"sheet:{sheet}")
    else:
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises ArrowInvalid and friends
            raise FileReadError("parquet_unreadable", detail=type(exc).__name__) from exc
        raw = RawTable(frame, "parquet")  # typed columns stay typed: checked in bulk
    if raw.frame.columns.empty:
        raise FileReadError("no_header")
    raw.frame.columns = [str(c).strip() for c in raw.frame.columns]
    raw.frame = raw.frame.dropna(how="all").reset_index(drop=True)
    return raw


def header_key(text: str) -> str:
    """Fold a header for matching: case, spaces, dots, dashes, underscores, leading zeros."""
    key = re.sub(r"[\s._\-()/]", "", str(text).lower())
    return re.sub(r"(?<=\D)0+(?=\d)", "", key)


@dataclass
class HeaderMapping:
    mapping: dict[str, str]  # file header -> canonical column
    unknown: list[str]  # file headers not in the contract (kept in the raw file, not imported)
    missing_required: list[str]
    duplicated: list[str]  # canonical columns two file headers both map to


def map_headers(headers: list[str], dataset: Dataset) -> HeaderMapping:
    index: dict[str, str] = {}
    for col in dataset.columns:
        for alias in (col.name, *col.aliases):
            index.setdefault(header_key(alias), col.name)
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    duplicated: list[str] = []
    for header in headers:
        canonical = index.get(header_key(header))
        if canonical is None:
            unknown.append(header)
        elif canonical in mapping.values():
            duplicated.append(canonical)
        else:
            mapping[header] = canonical
    present = set(mapping.values())
    missing = [c.name for c in dataset.columns if c.required and c.name not in present]
    return HeaderMapping(mapping, unknown, missing, duplicated)
