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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from loaders.limits import UPLOAD_LIMITS, Limits
from loaders.normalise import CellError, clean_text, is_blank, parse_date, parse_number

SUPPORTED_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".parquet")
FIRST_DATA_ROW = 2
"""The first data row of a file whose headers are on row 1 (a Parquet file's, and most
spreadsheets'). A spreadsheet or CSV export may carry title rows above its header and a header
over two rows: its first data row is :attr:`RawBatches.first_row`. Rows are numbered as Excel
numbers them (title and blank rows count, a cell holding a line break is still one row)."""
HEADER_SEARCH_ROWS = 15
"""Rows searched for the header: district exports put a few title rows above it."""
KnownHeaders = Callable[[list[str]], int]
"""How many of a row's cells name a column the caller knows (helps find the header row)."""


class FileReadError(ValueError):
    """The file as a whole cannot be read (wrong format, no header, not a table), or a row of
    it cannot (``row``: the file row, as the officer sees it)."""

    def __init__(self, reason_key: str, row: int | None = None, **params: object) -> None:
        super().__init__(reason_key)
        self.reason_key = reason_key
        self.row = row
        self.params = params


@dataclass(frozen=True)
class ReadNote:
    """Something the reader did to a file that the officer should know about (the sheet it
    chose, title rows it skipped, a total row it left out, a hidden column): the importer
    reports each as a warning. ``reason_key`` names its message in ``[reason]``."""

    reason_key: str
    row: int | None = None  # the file row it is about, as the officer sees it
    column: str | None = None  # the header as written, when it is about a column
    value: str = ""
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class SheetInfo:
    """One sheet of a workbook, for offering a choice (:func:`list_sheets`)."""

    name: str
    visible: bool
    rows: int
    """The last row the sheet declares (its used range); counted when it declares none."""
    preview: list[list[object]]
    """The first few non-blank rows, cells as Excel typed them."""


@dataclass
class RawTable:
    frame: pd.DataFrame
    """The rows as read; the index is each row's number in the file (title and header rows
    counted, as the officer sees it in Excel)."""
    file_format: str  # csv / xlsx / parquet
    encoding: str | None = None  # for CSV: utf-8, utf-8-sig or cp874
    sheet: str | None = None
    notes: list[ReadNote] = field(default_factory=list)
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


# --- the shape of a sheet: title rows, a header over two rows, total rows -------------------


def _is_text(value: object) -> bool:
    """A cell a header could be: text that is neither a number nor a date."""
    if not isinstance(value, str) or is_blank(value):
        return False
    for parse in (parse_number, parse_date):
        try:
            parse(value)
        except CellError:
            continue
        return False
    return True


def _header_text(value: object) -> str:
    return clean_text(value) or ""


def find_header_row(rows: Sequence[Sequence[object]],
                    known_headers: KnownHeaders | None = None) -> int:
    """The index in ``rows`` (the top of a sheet or a CSV file) of its header row.

    With ``known_headers``, the row naming the most known columns (at least two). Otherwise,
    and when no row names two, the first of the first :data:`HEADER_SEARCH_ROWS` rows whose
    cells are text (at least 80 % of them, at least two) and fill at least 60 % of the widest
    row's cells, with rows after it: title rows ("รายชื่อครัวเรือนยากจน อำเภอชุมแพ", a date, a
    blank row) fill one or two cells. 0 when no row looks like a header."""
    window = [[c for c in row if not is_blank(c)] for row in rows[:HEADER_SEARCH_ROWS]]
    if known_headers is not None:
        counts = [known_headers([_header_text(c) for c in cells]) if cells else 0
                  for cells in window]
        if counts and max(counts) >= 2:
            return counts.index(max(counts))
    widest = max((len(cells) for cells in window), default=0)
    later = [any(not is_blank(c) for row in rows[i + 1:] for c in row)
             for i in range(len(window))]
    for need_data in (True, False):
        for i, cells in enumerate(window):
            if (len(cells) >= 2 and len(cells) >= 0.6 * widest
                    and sum(map(_is_text, cells)) >= 0.8 * len(cells)
                    and (later[i] or not need_data)):
                return i
    return 0


Merge = tuple[int, int, int, int]
"""A merged range of cells: first row, first column, last row, last column (0-based, inclusive,
rows counted from the first row given)."""


@dataclass(frozen=True)
class HeaderShape:
    names: list[str]
    row: int  # index of the (first) header row in the rows given
    rows: int  # 1, or 2 for a header over two rows

    @property
    def data_row(self) -> int:
        """Index of the first row after the header."""
        return self.row + self.rows


def _gaps_under_a_label(top: list[object], below: list[object]) -> bool:
    """Whether a header row's blanks are explained by a label merged over them (without the
    merge: a CSV export, an unmerged sheet): the row below is text only and fills every blank
    of the header row, and each blank has a label to its left."""
    filled_top = [not is_blank(c) for c in top]
    filled_below = [not is_blank(c) for c in below]
    if not any(filled_below) or not all(_is_text(c) for c in below if not is_blank(c)):
        return False
    last = max(i for i in range(len(top)) if filled_top[i] or filled_below[i])
    blanks = [i for i in range(last + 1) if not filled_top[i]]
    return bool(blanks) and all(filled_below[i] and any(filled_top[:i]) for i in blanks)


def header_shape(rows: Sequence[Sequence[object]], known_headers: KnownHeaders | None = None,
                 merges: Sequence[Merge] = ()) -> HeaderShape:
    """Where the header is in ``rows`` (the top of a sheet or a CSV file) and the column names.

    A header over two rows is joined: a label merged across columns over sub-headers gives
    "label sub-header" to each ("รายได้" over "อาชีพหลัก" -> "รายได้ อาชีพหลัก"), and a header
    cell merged down over both rows stays as it is. ``merges`` are the sheet's merged ranges;
    without them (a CSV file) a second row is taken as part of the header when it is text only
    and fills the blanks a merge would explain."""
    if not rows:
        return HeaderShape([], 0, 1)
    row = find_header_row(rows, known_headers)
    if row and any(r1 == row - 1 and r2 >= row for r1, _, r2, _ in merges):
        row -= 1  # found the second row of a header merged over two
    width = max(len(rows[row]), len(rows[row + 1]) if row + 1 < len(rows) else 0, 1)
    top = [*rows[row], *[None] * width][:width]
    below = [*(rows[row + 1] if row + 1 < len(rows) else ()), *[None] * width][:width]
    label = [_header_text(c) for c in top]
    tall: set[int] = set()
    grouped = False
    for r1, c1, r2, c2 in merges:
        if r1 != row or c1 >= width:
            continue
        span = range(c1, min(c2, width - 1) + 1)
        for c in span:
            label[c] = label[c1]
        if r2 > row:
            tall.update(span)
        elif len(span) > 1 and any(not is_blank(below[c]) for c in span):
            grouped = True
    if not (tall or grouped):
        if not _gaps_under_a_label(top, below):
            return HeaderShape([_header_text(c) for c in rows[row]], row, 1)
        for c in range(1, width):
            if not label[c]:
                label[c] = label[c - 1]
    names = [" ".join(part for part in (label[c], "" if c in tall else _header_text(below[c]))
                      if part) for c in range(width)]
    return HeaderShape(names, row, 2)


def _shape_notes(shape: HeaderShape, rows: Sequence[Sequence[object]]) -> list[ReadNote]:
    """The notes of a header not on row 1 or over two rows (file rows are 1-based)."""
    notes = []
    if shape.row:
        title = next((_header_text(c) for r in rows[:shape.row] for c in r if not is_blank(c)),
                     "")
        notes.append(ReadNote("header_row_found", shape.row + 1, value=title[:80],
                              params={"skipped": shape.row}))
    if shape.rows == 2:
        first = _header_text(next((c for c in rows[shape.row] if not is_blank(c)), ""))
        joined = next((n for n in shape.names if n != first and " " in n), shape.names[0])
        notes.append(ReadNote("header_two_rows", shape.row + 1, value=joined[:80],
                              params={"first": shape.row + 1, "second": shape.row + 2}))
    return notes


TOTAL_WORDS = frozenset({"รวม", "รวมทั้งสิ้น", "รวมทั้งหมด", "ยอดรวม", "total", "grand total"})
"""What the leading cell of a total row says ("รวม:" and "Total" too)."""


def _is_total_row(cells: Sequence[object]) -> bool:
    filled = [c for c in cells if not is_blank(c)]
    if not filled or (_header_text(filled[0]).rstrip(":").strip().lower() not in TOTAL_WORDS):
        return False
    for cell in filled[1:]:
        try:
            parse_number(cell)
        except CellError:
            return False
    return True


def drop_total_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[ReadNote]]:
    """The frame without the total rows at its bottom ("รวม", "รวมทั้งสิ้น", "ยอดรวม", "Total"
    in the leading cell, numbers or nothing in the others), and a note naming each."""
    notes: list[ReadNote] = []
    while len(frame) and _is_total_row(cells := frame.iloc[-1].tolist()):
        label = _header_text(next(c for c in cells if not is_blank(c)))
        notes.insert(0, ReadNote("total_row_skipped", int(frame.index[-1]), value=label))
        frame = frame.iloc[:-1]
    return frame, notes


def _blank_lines(table: pa.Table) -> np.ndarray:
    """Rows of a CSV file with no cell filled (empty or spaces only), found in Arrow."""
    blank = pa.array(np.ones(table.num_rows, dtype=bool))
    for column in table.columns:
        empty = pc.equal(pc.utf8_trim_whitespace(column), "")
        blank = pc.and_(blank, pc.fill_null(empty, True))
    return blank.to_numpy(zero_copy_only=False)


ARROW_ENCODINGS = {"utf-8": "utf8", "utf-8-sig": "utf8", "cp874": "cp874"}


def _record_offset(body: bytes, n: int) -> int:
    """Where record ``n`` (0-based) of CSV bytes starts: a quoted line break continues its
    record."""
    offset = 0
    for row, line in _records(body):
        if row > n:
            return offset
        offset += len(line) + 1
    return len(body)


def _csv_top(text: str, delimiter: str) -> list[list[str]]:
    """The first records of a CSV text, where its header is looked for."""
    try:
        return list(islice(csv.reader(io.StringIO(text), delimiter=delimiter),
                           HEADER_SEARCH_ROWS + 5))
    except csv.Error as exc:
        raise FileReadError("csv_unreadable", detail=str(exc)[:200]) from exc


def _csv_shape(top: list[list[str]], known_headers: KnownHeaders | None) -> HeaderShape:
    shape = header_shape(top, known_headers)
    if not any(shape.names):
        raise FileReadError("no_header")
    return shape


def _read_csv_text(data: bytes, text: str, encoding: str, delimiter: str,
                   known_headers: KnownHeaders | None = None
                   ) -> tuple[pd.DataFrame, list[ReadNote]]:
    """Every cell as text (Arrow reads the bytes, ``text`` is the same decoded); the index is
    the file row. Title lines above the header are left out (and the header found, over one
    line or two: :func:`header_shape`), as are total rows at the bottom; a note says so. A line
    break inside a quoted cell stays in the cell (CR, LF or both), and blank lines keep their
    row numbers."""
    top = _csv_top(text, delimiter)
    shape = _csv_shape(top, known_headers)
    body = data[3:] if encoding == "utf-8-sig" else data
    start = _record_offset(body, shape.data_row)
    names = [f"c{k}" for k in range(len(shape.names))]
    first_row = shape.data_row + 1
    try:
        table = pacsv.read_csv(
            io.BytesIO(body[start:]),
            read_options=pacsv.ReadOptions(column_names=names,
                                           encoding=ARROW_ENCODINGS[encoding]),
            # a file without quotes has no line break in a cell: it parses in parallel
            parse_options=pacsv.ParseOptions(delimiter=delimiter,
                                             newlines_in_values='"' in text,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False))
        keep = ~_blank_lines(table)
        frame = table.filter(pa.array(keep)).to_pandas()
        rows = np.flatnonzero(keep) + first_row
    except pa.ArrowException:  # a ragged row, say, or no row: the C reader pads short rows
        try:                   # and names the line of a long one
            frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str,
                                keep_default_na=False, skip_blank_lines=False, header=None,
                                skiprows=shape.data_row, names=names)
        except pd.errors.EmptyDataError:
            frame = pd.DataFrame(columns=names)
        except (pd.errors.ParserError, ValueError, csv.Error) as exc:
            raise FileReadError("csv_unreadable", detail=str(exc).splitlines()[0][:200]
                                ) from exc
        keep = ~frame.apply(lambda c: c.fillna("").str.strip().eq("")).all(axis=1).to_numpy()
        frame = frame[keep]
        rows = np.flatnonzero(keep) + first_row
    frame.columns = shape.names
    frame.index = pd.Index(rows, dtype=np.int64)
    frame, totals = drop_total_rows(frame)
    return frame, [*_shape_notes(shape, top), *totals]


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


def _open_workbook(data: bytes, limits: Limits) -> tuple[object, dt.date | None]:
    """The workbook opened read-only (cells as Excel typed them, formulas as last computed),
    after :func:`check_xlsx`; and the date it says it was saved."""
    saved_on = check_xlsx(data, limits)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True,
                                      keep_links=False)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise FileReadError("xlsx_unreadable", detail=type(exc).__name__) from exc
    return book, saved_on


def _sheet_rows(sheet: object, limit: int | None = None) -> list[tuple[object, ...]]:
    """A sheet's rows from row 1 (a blank row is an empty tuple), or its first ``limit``."""
    try:
        sheet.reset_dimensions()  # a sheet's declared size can be wrong
        return list(islice(sheet.iter_rows(values_only=True), limit))
    except Exception as exc:  # openpyxl raises many types for a broken sheet
        raise FileReadError("xlsx_unreadable", detail=type(exc).__name__) from exc


def _filled(row: Sequence[object]) -> bool:
    return any(c is not None and not (isinstance(c, str) and not c.strip()) for c in row)


def _first_with_data(sheets: list[object], known_headers: KnownHeaders | None
                     ) -> tuple[object, list[tuple[object, ...]]]:
    """The first sheet (visible ones first) with a header naming two known columns, else the
    first with a row under its header, else the first sheet; with its rows. An instructions
    sheet before the data, or a hidden list for drop-downs, is passed over."""
    ordered = sorted(sheets, key=lambda ws: ws.sheet_state != "visible")
    if known_headers is not None:
        for ws in ordered:
            top = _sheet_rows(ws, HEADER_SEARCH_ROWS)
            if max((known_headers([_header_text(c) for c in row if not is_blank(c)])
                    for row in top), default=0) >= 2:
                return ws, _sheet_rows(ws)
    for ws in ordered:
        rows = _sheet_rows(ws)
        if sum(map(_filled, rows)) >= 2:
            return ws, rows
    return sheets[0], _sheet_rows(sheets[0])


def _choose_sheet(book: object, sheet: str | None, known_headers: KnownHeaders | None = None
                  ) -> tuple[object, list[tuple[object, ...]], list[ReadNote]]:
    """The sheet named ``sheet`` (an unknown name is refused, naming the sheets there are), or
    the one :func:`_first_with_data` finds; with its rows, and a note when there was a
    choice."""
    sheets = list(book.worksheets)
    names = [ws.title for ws in sheets]
    if sheet is not None:
        wanted = clean_text(sheet) or ""
        found = next((ws for ws in sheets if ws.title == sheet), None) or next(
            (ws for ws in sheets if clean_text(ws.title) == wanted), None)
        if found is None:
            raise FileReadError("unknown_sheet", sheet=wanted[:80], sheets=", ".join(names))
        return found, _sheet_rows(found), []
    if not sheets:
        raise FileReadError("no_header")
    ws, rows = _first_with_data(sheets, known_headers)
    notes = []
    if len(sheets) > 1:
        notes.append(ReadNote("sheet_chosen", value=ws.title, params={
            "sheet": ws.title, "n": len(sheets), "sheets": ", ".join(names)}))
    return ws, rows, notes


_MERGE_CELL = re.compile(
    rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3})(\d{1,7}):([A-Z]{1,3})(\d{1,7})"')
_COLUMN = re.compile(rb"<(?:\w+:)?col\b([^>]*)>")
_ATTRIBUTE = re.compile(rb'\b(min|max|hidden)="([^"]*)"')
EXCEL_COLUMNS = 16_384


def _column_index(letters: bytes) -> int:
    """0-based: A -> 0, AA -> 26."""
    index = 0
    for letter in letters:
        index = index * 26 + letter - 64
    return index - 1


def _sheet_layout(data: bytes, path: str | None, top_rows: int) -> tuple[list[Merge], set[int]]:
    """The merged ranges starting in a sheet's first ``top_rows`` rows, and its hidden columns
    (0-based), from the sheet's XML: a workbook read row by row (read-only, so memory does not
    grow with the sheet) does not give them. Nothing when the XML cannot be read."""
    merges: set[Merge] = set()
    hidden: set[int] = set()
    if not path:
        return [], hidden
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(path.lstrip("/")) as fh:
            tail = b""
            while block := fh.read(1 << 20):
                text = tail + block
                for m in _MERGE_CELL.finditer(text):
                    if int(m[2]) <= top_rows:
                        merges.add((int(m[2]) - 1, _column_index(m[1]), int(m[4]) - 1,
                                    _column_index(m[3])))
                for m in _COLUMN.finditer(text):
                    attrs = dict(_ATTRIBUTE.findall(m[1]))
                    bounds = attrs.get(b"min", b""), attrs.get(b"max", b"")
                    if attrs.get(b"hidden") in (b"1", b"true") and all(
                            b.isdigit() and len(b) < 6 for b in bounds):
                        hidden.update(range(int(bounds[0]) - 1,
                                            min(int(bounds[1]), EXCEL_COLUMNS)))
                tail = text[-1024:]
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError):
        return [], set()
    return sorted(merges), hidden


def _sheet_frame(rows: list[tuple[object, ...]], shape: HeaderShape) -> pd.DataFrame:
    """The rows under the header, blank rows left out, indexed by sheet row; a column with no
    header and no cell is left out."""
    first = shape.data_row
    kept = [(first + 1 + i, row) for i, row in enumerate(rows[first:]) if _filled(row)]
    width = max([len(shape.names), *(len(row) for _, row in kept)])
    names = [*shape.names, *[""] * (width - len(shape.names))]
    frame = pd.DataFrame([row + (None,) * (width - len(row)) for _, row in kept],
                         columns=range(width), dtype=object)
    frame.index = pd.Index([number for number, _ in kept], dtype=np.int64)
    used = [c for c in range(width) if names[c] or frame[c].notna().any()]
    frame = frame[used]
    frame.columns = [names[c] for c in used]
    return frame


def _read_xlsx(data: bytes, limits: Limits, sheet: str | None = None,
               known_headers: KnownHeaders | None = None) -> RawTable:
    """A sheet of a workbook (``sheet``, or see :func:`_choose_sheet`), its header found under
    any title rows and joined when over two rows, its total rows left out, with a note of each
    and of each hidden column (still read)."""
    book, saved_on = _open_workbook(data, limits)
    try:
        chosen, rows, notes = _choose_sheet(book, sheet, known_headers)
    finally:
        book.close()
    top = rows[:HEADER_SEARCH_ROWS + 5]
    merges, hidden = _sheet_layout(data, getattr(chosen, "_worksheet_path", None), len(top))
    shape = header_shape(top, known_headers, merges)
    frame, totals = drop_total_rows(_sheet_frame(rows, shape))
    notes += _shape_notes(shape, top)
    notes += [ReadNote("hidden_column", shape.row + 1, column=name)
              for c, name in enumerate(shape.names) if c in hidden and name]
    return RawTable(frame, "xlsx", sheet=chosen.title, notes=[*notes, *totals],
                    saved_on=saved_on)


def list_sheets(data: bytes, limits: Limits = UPLOAD_LIMITS,
                preview_rows: int = 5) -> list[SheetInfo]:
    """The sheets of an Excel file, in order, for offering a choice: name, whether it is
    visible, its rows, and its first ``preview_rows`` non-blank rows. Any failure to read is a
    :class:`FileReadError`."""
    book, _ = _open_workbook(data, limits)
    try:
        found = []
        for ws in book.worksheets:
            declared = ws.max_row if isinstance(ws.max_row, int) else None
            preview: list[list[object]] = []
            last = 0
            try:
                ws.reset_dimensions()
                for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
                    if _filled(row):
                        last = number
                        if len(preview) < preview_rows:
                            cells = list(row)
                            while cells and cells[-1] is None:
                                cells.pop()
                            preview.append(cells)
                        elif declared is not None:
                            break
            except Exception as exc:  # openpyxl raises many types for a broken sheet
                raise FileReadError("xlsx_unreadable", detail=type(exc).__name__) from exc
            rows = (declared if declared is not None and preview else last)
            found.append(SheetInfo(ws.title, ws.sheet_state == "visible", rows, preview))
        return found
    finally:
        book.close()


def clean_header(text: object, limits: Limits) -> str:
    """A header as the report names it: invisible characters dropped, NFC, stripped."""
    header = clean_text(text) or ""
    if len(header) > limits.header_chars:
        raise FileReadError("header_too_long", column=header[:40] + "…",
                            n=len(header), max=limits.header_chars)
    return header


def read_bytes(data: bytes, file_name: str, limits: Limits = UPLOAD_LIMITS, *,
               sheet: str | None = None,
               known_headers: KnownHeaders | None = None) -> RawTable:
    """Read an uploaded or on-disk file's bytes by its suffix. ``sheet``: the sheet of an Excel
    file to read (see :func:`_choose_sheet`; other formats have none). ``known_headers`` helps
    find the header row under title rows (:func:`find_header_row`)."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise FileReadError("unsupported_format", suffix=suffix or "?")
    if suffix in (".csv", ".txt"):
        text, encoding = decode_text(data)
        delimiter = _sniff_delimiter(text)
        if encoding == "cp874":
            _plausible_thai(data, delimiter)
        frame, notes = _read_csv_text(data, text, encoding, delimiter, known_headers)
        raw = RawTable(frame, "csv", encoding=encoding, notes=notes)
    elif suffix in (".xlsx", ".xlsm"):
        raw = _read_xlsx(data, limits, sheet, known_headers)
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
    if raw.file_format == "parquet":  # the other formats leave blank rows out as they read
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
    first_row: int = FIRST_DATA_ROW
    """The file row of the first data row (title and header rows above it): Arrow chunks are
    numbered on from it."""
    notes: list[ReadNote] = field(default_factory=list)  # see :class:`ReadNote`
    sheet: str | None = None  # the sheet read, for an Excel file


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


def _csv_stream(path: Path, chunk_rows: int, limits: Limits,
                known_headers: KnownHeaders | None = None) -> RawBatches:
    """A big CSV file a block at a time, every cell as text (as :func:`read_bytes` reads it,
    title lines and line breaks inside quoted cells included; total rows are not looked for)."""
    encoding, arrow_encoding, delimiter = _sniff_csv(path)
    bom = 3 if encoding == "utf-8-sig" else 0
    try:
        with path.open("rb") as fh:
            head = fh.read(1 << 20)[bom:]
    except OSError as exc:
        raise FileReadError("file_unreadable", detail=exc.strerror or type(exc).__name__
                            ) from exc
    top = _csv_top(head.decode("cp874" if encoding == "cp874" else "utf-8", "replace"),
                   delimiter)
    shape = _csv_shape(top, known_headers)
    start = bom + _record_offset(head, shape.data_row)
    names = [clean_header(c, limits) for c in shape.names]

    def chunks() -> Iterator[pa.Table]:
        try:
            with path.open("rb") as fh:
                fh.seek(start)
                reader = pacsv.open_csv(
                    fh,
                    read_options=pacsv.ReadOptions(encoding=arrow_encoding,
                                                   block_size=1 << 24, column_names=names),
                    parse_options=pacsv.ParseOptions(delimiter=delimiter,
                                                     newlines_in_values=True),
                    convert_options=pacsv.ConvertOptions(
                        column_types=dict.fromkeys(names, pa.string()),
                        strings_can_be_null=False, quoted_strings_can_be_null=False))
                for batch in reader:
                    for offset in range(0, batch.num_rows, chunk_rows):
                        yield pa.Table.from_batches([batch.slice(offset, chunk_rows)])
        except (OSError, pa.ArrowException, UnicodeDecodeError) as exc:
            raise FileReadError("csv_unreadable", detail=str(exc).splitlines()[0][:200]
                                ) from exc

    return RawBatches(names, "csv", encoding, None, chunks(), first_row=shape.data_row + 1,
                      notes=_shape_notes(shape, top))


def read_batches(source: bytes | Path, file_name: str, chunk_rows: int,
                 limits: Limits = UPLOAD_LIMITS, *, sheet: str | None = None,
                 known_headers: KnownHeaders | None = None) -> RawBatches:
    """Read a file for validation in chunks of ``chunk_rows`` rows. Parquet, and CSV files on
    disk bigger than :data:`STREAM_CSV_BYTES`, are streamed from the file (memory does not grow
    with its size); other CSV and Excel files are read whole by :func:`read_bytes` (``sheet``,
    ``known_headers``: see there) and then handed out in slices. Any failure to read is a
    :class:`FileReadError`."""
    suffix = Path(file_name).suffix.lower()
    if isinstance(source, Path):
        check_path(source)
    if suffix not in SUPPORTED_SUFFIXES:
        raise FileReadError("unsupported_format", suffix=suffix or "?")
    if (suffix in (".csv", ".txt") and isinstance(source, Path)
            and source.stat().st_size > STREAM_CSV_BYTES):
        return _csv_stream(source, chunk_rows, limits, known_headers)
    if suffix != ".parquet":
        data = source if isinstance(source, bytes) else read_source(source)
        raw = read_bytes(data, file_name, limits, sheet=sheet, known_headers=known_headers)
        frame = raw.frame
        slices = (frame.iloc[start:start + chunk_rows]
                  for start in range(0, len(frame), chunk_rows))
        first_row = int(frame.index[0]) if len(frame) else FIRST_DATA_ROW
        return RawBatches(list(frame.columns), raw.file_format, raw.encoding, len(frame),
                          slices, frame, raw.saved_on, first_row, raw.notes, raw.sheet)
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
