"""Read the files field teams send into raw frames, and map their headers to the contract.

A raw frame keeps the cells as the file holds them (CSV cells as text; Excel cells as Excel typed
them: numbers, dates, text) so that the normalisers see the original and the report can quote
it. Nothing here decides whether a value is valid.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

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


@dataclass
class RawBatches:
    """A file read a chunk of rows at a time: the headers, then the chunks (Arrow tables for
    Parquet, slices of the raw frame for CSV and Excel), with wholly empty rows left out as
    :func:`read_bytes` leaves them out. Iterate :attr:`chunks` once."""

    headers: list[str]
    file_format: str
    encoding: str | None
    rows_hint: int | None  # rows in the file (before empty rows are left out); None: unknown
    chunks: Iterator[pa.Table | pd.DataFrame]
    frame: pd.DataFrame | None = None  # the whole raw frame, when the format is read at once


def _parquet_chunks(parquet: pq.ParquetFile, names: list[str],
                    chunk_rows: int) -> Iterator[pa.Table]:
    try:
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            table = pa.Table.from_batches([batch]).rename_columns(names)
            # a column with no null (and no NaN) anywhere means no row is wholly empty
            full = any(c.null_count == 0 and not pa.types.is_floating(c.type)
                       for c in table.columns)
            if table.num_columns and not full:
                filled = [pc.invert(pc.is_null(c, nan_is_null=True)) for c in table.columns]
                keep = filled[0]
                for more in filled[1:]:
                    keep = pc.or_(keep, more)
                if not pc.all(keep).as_py():
                    table = table.filter(keep)
            yield table
    except (OSError, pa.ArrowException) as exc:
        raise FileReadError("parquet_unreadable", detail=type(exc).__name__) from exc


STREAM_CSV_BYTES = 200 * 1024 * 1024
"""CSV files on disk bigger than this are streamed rather than read whole."""


def _sniff_csv(path: Path) -> tuple[str, str, str]:
    """Encoding (as :func:`decode_text` decides it, from the file's first 4 MB), its name for
    Arrow, and the delimiter of a big CSV file."""
    with path.open("rb") as fh:
        head = fh.read(1 << 22)
    if head.startswith(b"\xef\xbb\xbf"):
        encoding, arrow, text = "utf-8-sig", "utf8", head[3:].decode("utf-8", "ignore")
    else:
        try:
            text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
            encoding = arrow = "utf-8"
        except UnicodeDecodeError:
            encoding, arrow, text = "cp874", "cp874", head.decode("cp874", "replace")
    try:
        delimiter = csv.Sniffer().sniff(text[:20000], delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    return encoding, arrow, delimiter


def _csv_stream(path: Path, chunk_rows: int) -> RawBatches:
    """A big CSV file a block at a time, every cell as text (as :func:`read_bytes` reads it)."""
    encoding, arrow_encoding, delimiter = _sniff_csv(path)
    with path.open("r", encoding=encoding, newline="") as fh:
        header = next(csv.reader(fh, delimiter=delimiter), None)
    if not header:
        raise FileReadError("no_header")
    names = [str(c).strip() for c in header]

    def chunks() -> Iterator[pa.Table]:
        try:
            reader = pacsv.open_csv(
                path,
                read_options=pacsv.ReadOptions(encoding=arrow_encoding, block_size=1 << 24,
                                               skip_rows=1, column_names=names),
                parse_options=pacsv.ParseOptions(delimiter=delimiter),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=False, quoted_strings_can_be_null=False))
            for batch in reader:
                for start in range(0, batch.num_rows, chunk_rows):
                    yield pa.Table.from_batches([batch.slice(start, chunk_rows)])
        except (OSError, pa.ArrowException, UnicodeDecodeError) as exc:
            raise FileReadError("csv_unreadable", detail=str(exc).splitlines()[0][:200]
                                ) from exc

    return RawBatches(names, "csv", encoding, None, chunks())


def read_batches(source: bytes | Path, file_name: str, chunk_rows: int) -> RawBatches:
    """Read a file for validation in chunks of ``chunk_rows`` rows. Parquet, and CSV files on
    disk bigger than :data:`STREAM_CSV_BYTES`, are streamed from the file (memory does not grow
    with its size); other CSV and Excel files are read whole by :func:`read_bytes` and then
    handed out in slices."""
    suffix = Path(file_name).suffix.lower()
    if (suffix in (".csv", ".txt") and isinstance(source, Path)
            and source.stat().st_size > STREAM_CSV_BYTES):
        return _csv_stream(source, chunk_rows)
    if suffix != ".parquet":
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        raw = read_bytes(data, file_name)
        frame = raw.frame
        slices = (frame.iloc[start:start + chunk_rows]
                  for start in range(0, len(frame), chunk_rows))
        return RawBatches(list(frame.columns), raw.file_format, raw.encoding, len(frame),
                          slices, frame)
    try:
        parquet = pq.ParquetFile(pa.BufferReader(source) if isinstance(source, bytes)
                                 else source)
        names = [str(c).strip() for c in parquet.schema_arrow.names]
    except (OSError, pa.ArrowException) as exc:  # pyarrow raises ArrowInvalid and friends
        raise FileReadError("parquet_unreadable", detail=type(exc).__name__) from exc
    if not names:
        raise FileReadError("no_header")
    return RawBatches(names, "parquet", None, parquet.metadata.num_rows,
                      _parquet_chunks(parquet, names, chunk_rows))


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
