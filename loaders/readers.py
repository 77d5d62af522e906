"""Read the files field teams send into raw frames, and map their headers to the contract.

A raw frame keeps the cells as the file holds them (CSV cells as text; Excel cells as Excel typed
them: numbers, dates, text) so that the normalisers see the original and the report can quote
it. Nothing here decides whether a value is valid.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from loaders.limits import UPLOAD_LIMITS, Limits
from loaders.normalise import clean_text

SUPPORTED_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".parquet")
FIRST_DATA_ROW = 2
"""Row 1 holds the headers in every spreadsheet the teams send; rows are numbered as Excel
numbers them (blank rows count, a cell holding a line break is still one row)."""


class FileReadError(ValueError):
    """The file as a whole cannot be read (wrong format, no header, not a table), or a row of
    it cannot (``row``: the file row, as the officer sees it)."""

    def __init__(self, reason_key: str, row: int | None = None, **params: object) -> None:
        super().__init__(reason_key)
        self.reason_key = reason_key
        self.row = row
        self.params = params


@dataclass
class RawTable:
    frame: pd.DataFrame
    """The rows as read; the index is each row's number in the file (header = 1)."""
    file_format: str  # csv / xlsx / parquet
    encoding: str | None = None  # for CSV: utf-8, utf-8-sig or cp874
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)
    saved_on: dt.date | None = None
    """When the file says it was last saved (an Excel file's own properties), if it says."""


def check_path(path: Path) -> None:
    """Refuse what is not a readable regular file before anything opens it: a folder, a
    device or a named pipe (reading one would wait for ever), a link to nothing, a file this
    process may not read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise FileReadError("file_missing") from exc
    except OSError as exc:
        raise FileReadError("file_unreadable", detail=exc.strerror or type(exc).__name__) from exc
    if stat.S_ISDIR(mode):
        raise FileReadError("file_is_folder")
    if not stat.S_ISREG(mode):
        raise FileReadError("file_not_regular")
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise FileReadError("file_unreadable", detail=exc.strerror or type(exc).__name__) from exc


def read_source(path: Path) -> bytes:
    """A file's bytes, after :func:`check_path`; any failure is a :class:`FileReadError`."""
    check_path(path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FileReadError("file_unreadable", detail=exc.strerror or type(exc).__name__) from exc


# --- encodings ------------------------------------------------------------------------------


def _records(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(file row, bytes) of each line of a CSV file: a line that continues a quoted cell
    (a line break inside quotes) belongs to the row it continues."""
    row, quoted = 0, False
    for line in data.split(b"\n"):
        if not quoted:
            row += 1
        quoted ^= line.count(b'"') % 2 == 1
        yield row, line


def _utf8(line: bytes) -> bool | None:
    """True: valid UTF-8 with non-ASCII text; False: not UTF-8; None: plain ASCII."""
    if line.isascii():
        return None
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _one_encoding(data: bytes) -> None:
    """Refuse a file whose rows are in two encodings (some UTF-8, some not), naming the first
    row that differs from the first row with Thai (or any non-ASCII) text."""
    first: tuple[int, bool] | None = None
    for row, line in _records(data):
        kind = _utf8(line)
        if kind is None:
            continue
        if first is None:
            first = (row, kind)
        elif kind != first[1]:
            names = ("UTF-8", "TIS-620")
            raise FileReadError("mixed_encoding", row=row, first_row=first[0],
                                first=names[not first[1]], found=names[not kind])


_THAI_MARKS = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"
_NOT_THAI = re.compile(
    # a vowel sign or tone mark with no Thai letter before it, or a leading vowel with no
    # consonant after it: never in Thai text, always in Latin-1 text read as TIS-620
    # ("café" -> "caf้", "à " -> "เ ")
    rf"(?:^|[^\u0e01-\u0e4f])[{_THAI_MARKS}]+|[\u0e40-\u0e44](?![\u0e01-\u0e2e])")


def _plausible_thai(data: bytes, delimiter: str) -> None:
    """Refuse TIS-620 text that cannot be Thai (Latin-1 or Windows-1252 text in a Thai file),
    naming the row and the cell."""
    for row, line in _records(data):
        if line.isascii():
            continue
        text = line.decode("cp874", "replace")
        if _NOT_THAI.search(text):
            cells = next(csv.reader([text], delimiter=delimiter), [])
            cell = next((c for c in cells if _NOT_THAI.search(c)), text)
            raise FileReadError("not_thai_text", row=row, value=cell.strip()[:80])


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 with BOM, UTF-8, else TIS-620 (read as its superset cp874).
    One file has one encoding: rows in two are refused, naming the first row that differs;
    bytes that are neither are refused naming their row."""
    body, bom = (data[3:], True) if data.startswith(b"\xef\xbb\xbf") else (data, False)
    try:
        return body.decode("utf-8"), "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError:
        pass
    _one_encoding(body)
    if bom:  # a UTF-8 mark, and no row in UTF-8 beyond ASCII: the marked encoding is wrong
        row = next(r for r, line in _records(body) if _utf8(line) is False)
        raise FileReadError("mixed_encoding", row=row, first_row=1, first="UTF-8",
                            found="TIS-620")
    try:
        return body.decode("cp874"), "cp874"
    except UnicodeDecodeError as exc:
        row = next((r for r, line in _records(body) if _cp874_fails(line)), None)
        raise FileReadError("unknown_encoding", row=row) from exc


def _cp874_fails(line: bytes) -> bool:
    try:
        line.decode("cp874")
    except UnicodeDecodeError:
        return True
    return False


def _sniff_delimiter(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text[:20000], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _blank_lines(table: pa.Table) -> np.ndarray:
    """Rows of a CSV file with no cell filled (empty or spaces only), found in Arrow."""
    blank = pa.array(np.ones(table.num_rows, dtype=bool))
    for column in table.columns:
        empty = pc.equal(pc.utf8_trim_whitespace(column), "")
        blank = pc.and_(blank, pc.fill_null(empty, True))
    return blank.to_numpy(zero_copy_only=False)


ARROW_ENCODINGS = {"utf-8": "utf8", "utf-8-sig": "utf8", "cp874": "cp874"}


def _read_csv_text(data: bytes, text: str, encoding: str, delimiter: str) -> pd.DataFrame:
    """Every cell as text (Arrow reads the bytes, ``text`` is the same decoded); the index is
    the file row. A line break inside a quoted cell stays in the cell (CR, LF or both), and
    blank lines keep their row numbers."""
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=delimiter), None)
    except csv.Error as exc:
        raise FileReadError("csv_unreadable", detail=str(exc)[:200]) from exc
    if not header or not any(h.strip() for h in header):
        raise FileReadError("no_header")
    names = [f"c{k}" for k in range(len(header))]
    try:
        body = data[3:] if encoding == "utf-8-sig" else data
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(column_names=names,
                                           encoding=ARROW_ENCODINGS[encoding]),
            # a file without quotes has no line break in a cell: it parses in parallel
            parse_options=pacsv.ParseOptions(delimiter=delimiter,
                                             newlines_in_values='"' in text,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False))
        table = table.slice(1)
        keep = ~_blank_lines(table)
        frame = table.filter(pa.array(keep)).to_pandas()
        rows = np.flatnonzero(keep) + FIRST_DATA_ROW
    except pa.ArrowException:  # a ragged row, say: the C reader pads short rows and names
        try:                   # the line of a long one
            frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str,
                                keep_default_na=False, skip_blank_lines=False, header=None,
                                skiprows=1, names=names)
        except pd.errors.EmptyDataError:
            frame = pd.DataFrame(columns=names)
        except (pd.errors.ParserError, ValueError, csv.Error) as exc:
            raise FileReadError("csv_unreadable", detail=str(exc).splitlines()[0][:200]
                                ) from exc
        keep = ~frame.apply(lambda c: c.fillna("").str.strip().eq("")).all(axis=1).to_numpy()
        frame = frame[keep]
        rows = np.flatnonzero(keep) + FIRST_DATA_ROW
    frame.columns = header
    frame.index = pd.Index(rows, dtype=np.int64)
    return frame


# --- Excel ----------------------------------------------------------------------------------

_MODIFIED = re.compile(rb"<dcterms:modified[^>]*>\s*(\d{4})-(\d{2})-(\d{2})")


def check_xlsx(data: bytes, limits: Limits) -> dt.date | None:
    """Refuse an Excel file (a zip) that would expand past the limits, from the sizes its
    members declare (Python's zip reader never inflates a member past its declared size), before
    it is opened; return the date it says it was last saved, if it says."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise FileReadError("xlsx_unreadable", detail=type(exc).__name__) from exc
    mb = limits.xlsx_uncompressed_bytes // (1024 * 1024)
    if len(members) > limits.xlsx_members:
        raise FileReadError("xlsx_too_large", mb=mb)
    if sum(m.file_size for m in members) > limits.xlsx_uncompressed_bytes:
        raise FileReadError("xlsx_too_large", mb=mb)
    for member in members:
        if member.file_size > max(1 << 20, limits.xlsx_ratio * member.compress_size):
            raise FileReadError("xlsx_too_large", mb=mb)
    core = next((m for m in members if m.filename == "docProps/core.xml"), None)
    if core is None or core.file_size > 1 << 16:
        return None
    try:
        found = _MODIFIED.search(archive.read(core))
        return dt.date(*(int(g) for g in found.groups())) if found else None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None


def _read_xlsx(data: bytes, limits: Limits) -> RawTable:
    saved_on = check_xlsx(data, limits)
    try:
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=object,
                               engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise FileReadError("xlsx_unreadable", detail=type(exc).__name__) from exc
    sheet, frame = next(((n, f) for n, f in sheets.items() if not f.empty),
                        (next(iter(sheets), None), pd.DataFrame()))
    # pandas keeps blank rows within the sheet: the position is the sheet row
    frame.index = pd.RangeIndex(FIRST_DATA_ROW, FIRST_DATA_ROW + len(frame))
    raw = RawTable(frame, "xlsx", sheet=sheet, saved_on=saved_on)
    if len(sheets) > 1:
        raw.notes.append(f"sheet:{sheet}")
    return raw


def clean_header(text: object, limits: Limits) -> str:
    """A header as the report names it: invisible characters dropped, NFC, stripped."""
    header = clean_text(text) or ""
    if len(header) > limits.header_chars:
        raise FileReadError("header_too_long", column=header[:40] + "…",
                            n=len(header), max=limits.header_chars)
    return header


def read_bytes(data: bytes, file_name: str, limits: Limits = UPLOAD_LIMITS) -> RawTable:
    """Read an uploaded or on-disk file's bytes by its suffix."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise FileReadError("unsupported_format", suffix=suffix or "?")
    if suffix in (".csv", ".txt"):
        text, encoding = decode_text(data)
        delimiter = _sniff_delimiter(text)
        if encoding == "cp874":
            _plausible_thai(data, delimiter)
        raw = RawTable(_read_csv_text(data, text, encoding, delimiter), "csv",
                       encoding=encoding)
    elif suffix in (".xlsx", ".xlsm"):
        raw = _read_xlsx(data, limits)
    else:
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises ArrowInvalid and friends
            raise FileReadError("parquet_unreadable", detail=type(exc).__name__) from exc
        frame.index = pd.RangeIndex(FIRST_DATA_ROW, FIRST_DATA_ROW + len(frame))
        raw = RawTable(frame, "parquet")  # typed columns stay typed: checked in bulk
    if raw.frame.columns.empty:
        raise FileReadError("no_header")
    raw.frame.columns = [clean_header(c, limits) for c in raw.frame.columns]
    if raw.file_format != "csv":  # a CSV file's blank lines are left out as it is read
        raw.frame = raw.frame.dropna(how="all")
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
    """Arrow tables (rows numbered on from the last chunk's) or slices of :attr:`frame`
    (whose index is the file row)."""
    frame: pd.DataFrame | None = None  # the whole raw frame, when the format is read at once
    saved_on: dt.date | None = None  # see :attr:`RawTable.saved_on`


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
    """Encoding (as :func:`decode_text` decides it, from the file's first 4 MB, whose rows
    are held to one encoding and, in TIS-620, to plausible Thai), its name for Arrow, and the
    delimiter of a big CSV file. Beyond the first 4 MB a row in another encoding is refused
    by Arrow's decoder (UTF-8), or read as TIS-620."""
    with path.open("rb") as fh:
        head = fh.read(1 << 22)
        if fh.read(1):  # the last line may be cut short: leave it out of the checks
            head = head[:head.rfind(b"\n") + 1] or head
    if head.startswith(b"\xef\xbb\xbf"):
        encoding, arrow, text = "utf-8-sig", "utf8", head[3:].decode("utf-8", "ignore")
    else:
        try:
            text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
            encoding = arrow = "utf-8"
        except UnicodeDecodeError:
            _one_encoding(head)
            encoding, arrow, text = "cp874", "cp874", head.decode("cp874", "replace")
    delimiter = _sniff_delimiter(text)
    if encoding == "cp874":
        _plausible_thai(head, delimiter)
    return encoding, arrow, delimiter


def _csv_stream(path: Path, chunk_rows: int, limits: Limits) -> RawBatches:
    """A big CSV file a block at a time, every cell as text (as :func:`read_bytes` reads it,
    line breaks inside quoted cells included)."""
    encoding, arrow_encoding, delimiter = _sniff_csv(path)
    try:
        with path.open("r", encoding=encoding, newline="") as fh:
            header = next(csv.reader(fh, delimiter=delimiter), None)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise FileReadError("csv_unreadable", detail=str(exc)[:200]) from exc
    if not header:
        raise FileReadError("no_header")
    names = [clean_header(c, limits) for c in header]

    def chunks() -> Iterator[pa.Table]:
        try:
            reader = pacsv.open_csv(
                path,
                read_options=pacsv.ReadOptions(encoding=arrow_encoding, block_size=1 << 24,
                                               skip_rows=1, column_names=names),
                parse_options=pacsv.ParseOptions(delimiter=delimiter,
                                                 newlines_in_values=True),
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


def read_batches(source: bytes | Path, file_name: str, chunk_rows: int,
                 limits: Limits = UPLOAD_LIMITS) -> RawBatches:
    """Read a file for validation in chunks of ``chunk_rows`` rows. Parquet, and CSV files on
    disk bigger than :data:`STREAM_CSV_BYTES`, are streamed from the file (memory does not grow
    with its size); other CSV and Excel files are read whole by :func:`read_bytes` and then
    handed out in slices. Any failure to read is a :class:`FileReadError`."""
    suffix = Path(file_name).suffix.lower()
    if isinstance(source, Path):
        check_path(source)
    if suffix not in SUPPORTED_SUFFIXES:
        raise FileReadError("unsupported_format", suffix=suffix or "?")
    if (suffix in (".csv", ".txt") and isinstance(source, Path)
            and source.stat().st_size > STREAM_CSV_BYTES):
        return _csv_stream(source, chunk_rows, limits)
    if suffix != ".parquet":
        data = source if isinstance(source, bytes) else read_source(source)
        raw = read_bytes(data, file_name, limits)
        frame = raw.frame
        slices = (frame.iloc[start:start + chunk_rows]
                  for start in range(0, len(frame), chunk_rows))
        return RawBatches(list(frame.columns), raw.file_format, raw.encoding, len(frame),
                          slices, frame, raw.saved_on)
    try:
        parquet = pq.ParquetFile(pa.BufferReader(source) if isinstance(source, bytes)
                                 else source)
        names = [clean_header(c, limits) for c in parquet.schema_arrow.names]
    except (OSError, pa.ArrowException) as exc:  # pyarrow raises ArrowInvalid and friends
        raise FileReadError("parquet_unreadable", detail=type(exc).__name__) from exc
    if not names:
        raise FileReadError("no_header")
    return RawBatches(names, "parquet", None, parquet.metadata.num_rows,
                      _parquet_chunks(parquet, names, chunk_rows))
