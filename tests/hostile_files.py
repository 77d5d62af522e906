"""The bad files of ``tests/fixtures/bad/``, made by code: ``python -m tests.hostile_files``
writes them, and a test checks the committed files are what this makes.

Each is small and wrong in one way a careless or hostile sender could be. The households files
use the canonical English headers; the visits files refer to the tiny programme's household H1
and official O1 (``tests.factories``), so that only the planted fault is wrong.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl

from tests.factories import synthetic_citizen_id

FOLDER = Path(__file__).resolve().parent / "fixtures" / "bad"

HH_HEADER = ["household_id", "house_code", "head_name", "head_citizen_id", "phone", "house_no",
             "moo", "tambon_code", "amphoe_code", "lat", "lon", "members", "enrolled_on"]
VISIT_HEADER = ["visit_id", "household_id", "official_id", "visit_date", "round", "kind",
                "members", "note"]
LONG_THAI_NAME = ("ครัวเรือนยากจนอำเภอเมืองขอนแก่นที่ทีมอำเภอส่งมาเมื่อเดือนสิงหาคม" * 2)[:80] + ".csv"
"""80 Thai characters, 240 bytes: a file system takes it, but not with a prefix added."""


def household(k: int, **cells: str) -> list[str]:
    row = {"household_id": f"G{k}", "house_code": "", "head_name": f"นาง ทดสอบ G{k}",
           "head_citizen_id": synthetic_citizen_id(200 + k), "phone": "", "house_no": str(k),
           "moo": "3", "tambon_code": "400101", "amphoe_code": "4001", "lat": "16.4",
           "lon": "102.8", "members": "4", "enrolled_on": "2019-10-01"}
    row.update(cells)
    return [row[h] for h in HH_HEADER]


def visit(k: int, **cells: str) -> list[str]:
    row = {"visit_id": f"X{k}", "household_id": "H1", "official_id": "O1",
           "visit_date": "2020-08-18", "round": "1", "kind": "follow_up", "members": "4",
           "note": ""}
    row.update(cells)
    return [row[h] for h in VISIT_HEADER]


def _cell(value: str) -> str:
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_text(header: list[str], *rows: list[str]) -> str:
    return "".join(",".join(_cell(c) for c in line) + "\n" for line in (header, *rows))


def utf8(header: list[str], *rows: list[str]) -> bytes:
    return csv_text(header, *rows).encode("utf-8")


def fixed_zip(data: bytes, replace: dict[str, bytes]) -> bytes:
    """The workbook with members replaced and every time stamp fixed (the same bytes on
    every run)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = replace.get(info.filename, source.read(info.filename))
            target.writestr(zipfile.ZipInfo(info.filename, (2021, 1, 5, 0, 0, 0)), body,
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def core_xml(saved: str) -> bytes:
    return ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{saved}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{saved}</dcterms:modified>'
            '</cp:coreProperties>').encode()


def xlsx(header: list[str], *rows: list[str], saved: str = "2021-01-05T03:00:00Z") -> bytes:
    """A workbook whose own properties say it was saved at ``saved``."""
    book = openpyxl.Workbook()
    sheet = book.active
    for line in (header, *rows):
        sheet.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    return fixed_zip(buffer.getvalue(), {"docProps/core.xml": core_xml(saved)})


def xlsx_bomb() -> bytes:
    """A valid small workbook whose sheet declares 20 MB that deflate to about 20 KB."""
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
             b'openxmlformats.org/spreadsheetml/2006/main"><sheetData/>'
             + b" " * (20 << 20) + b"</worksheet>")
    return fixed_zip(xlsx(VISIT_HEADER, visit(1)), {"xl/worksheets/sheet1.xml": sheet})


def mixed_encoding() -> bytes:
    """Rows 2-3 in UTF-8, row 4 in TIS-620: part of the file was pasted from another."""
    head = csv_text(HH_HEADER, household(1), household(2)).encode("utf-8")
    return head + csv_text([], household(3))[1:].encode("cp874")


def tis620(header: list[str], *rows: list[str]) -> bytes:
    return csv_text(header, *rows).encode("cp874")


def latin1_in_thai() -> bytes:
    """A TIS-620 file with one row typed in Latin-1 ("José Renée"): read as Thai, é is a
    tone mark after a Latin letter."""
    return (tis620(HH_HEADER, household(1), household(2))
            + csv_text([], household(3, head_name="José Renée"))[1:].encode("latin-1"))


def undecodable() -> bytes:
    """A TIS-620 file with a byte TIS-620 does not have (Latin-1 ü) on row 3."""
    return (tis620(HH_HEADER, household(1))
            + csv_text([], household(2, head_name="Müller"))[1:].encode("latin-1"))


SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


def digit_scripts() -> bytes:
    """Valid citizen IDs written in four scripts' digits: each is read as its ASCII ID."""
    return utf8(HH_HEADER, *(
        household(k, head_citizen_id=synthetic_citizen_id(200 + k).translate(table))
        for k, table in enumerate((SUPERSCRIPT, FULLWIDTH, ARABIC_INDIC, THAI), start=1)))


def bad_checksum(table: dict[int, str]) -> str:
    good = synthetic_citizen_id(201)
    return (good[:12] + str((int(good[12]) + 1) % 10)).translate(table)


FILES: dict[str, Callable[[], bytes]] = {
    # impossible dates
    "visit_in_future.csv": lambda: utf8(VISIT_HEADER, visit(1), visit(2, visit_date="2063-08-18")),
    "visit_before_programme.csv": lambda: utf8(VISIT_HEADER, visit(1, visit_date="2019-01-15")),
    "visit_after_saved.xlsx": lambda: xlsx(VISIT_HEADER, visit(1, visit_date="2020-12-30"),
                                           visit(2, visit_date="2021-06-01")),
    "two_digit_years.csv": lambda: utf8(VISIT_HEADER, visit(1, visit_date="18 ส.ค. 63"),
                                        visit(2, visit_date="18 Aug 63"),
                                        visit(3, visit_date="18 Aug 26")),
    "two_digit_year_thai.csv": lambda: utf8(VISIT_HEADER, visit(1, visit_date="1 ต.ค. 26")),
    "impossible_date.csv": lambda: utf8(VISIT_HEADER, visit(1, visit_date="31/02/2563")),
    "pairing_ends_in_future.csv": lambda: utf8(
        ["official_id", "household_id", "start_date", "end_date"],
        ["O1", "H6", "2020-01-01", "2090-01-01"]),
    # digits of other scripts, invisible characters
    "citizen_id_digit_scripts.csv": digit_scripts,
    "citizen_id_superscript_checksum.csv": lambda: utf8(
        HH_HEADER, household(1, head_citizen_id=bad_checksum(SUPERSCRIPT))),
    "citizen_id_fullwidth_checksum.csv": lambda: utf8(
        HH_HEADER, household(1, head_citizen_id=bad_checksum(FULLWIDTH))),
    "citizen_id_arabic_indic_short.csv": lambda: utf8(
        HH_HEADER, household(1, head_citizen_id=synthetic_citizen_id(201)[:12].translate(
            ARABIC_INDIC))),
    "id_zero_width_non_joiner.csv": lambda: utf8(HH_HEADER, household(1, household_id="H\u200c1")),
    "id_byte_order_mark.csv": lambda: utf8(VISIT_HEADER, visit(1, official_id="O\ufeff1")),
    "house_code_right_to_left.csv": lambda: utf8(
        HH_HEADER, household(1, house_code="\u202e40010123456")),
    "amphoe_terminal_escape.csv": lambda: utf8(HH_HEADER,
                                               household(1, amphoe_code="\x1b[31m4001")),
    "id_same_after_folding.csv": lambda: utf8(HH_HEADER, household(1, household_id="K๙"),
                                              household(2, household_id="K9")),
    # encodings
    "mixed_encoding.csv": mixed_encoding,
    "bom_then_tis620.csv": lambda: b"\xef\xbb\xbf" + tis620(HH_HEADER, household(1)),
    "latin1_in_thai.csv": latin1_in_thai,
    "undecodable_byte.csv": undecodable,
    "binary_garbage.csv": lambda: bytes(range(256)) * 4,
    # limits
    "name_too_long.csv": lambda: utf8(HH_HEADER, household(1, head_name="ก" * 301)),
    "note_too_long.csv": lambda: utf8(VISIT_HEADER, visit(1, note="บันทึก " * 600)),
    "header_too_long.csv": lambda: utf8([*HH_HEADER, "x" * 201], [*household(1), ""]),
    "six_rows.csv": lambda: utf8(HH_HEADER, *(household(k) for k in range(1, 7))),
    "zip_bomb.xlsx": xlsx_bomb,
    LONG_THAI_NAME: lambda: utf8(HH_HEADER, household(1, members="99")),
    # shapes a reader chokes on
    "bare_cr_in_quoted_cell.csv": lambda: utf8(HH_HEADER, household(1, head_name="นาง ก\rข"),
                                               household(2, members="99")),
    "ragged_row.csv": lambda: utf8(HH_HEADER, household(1), [*household(2), "extra", "more"]),
    "markdown_image_header.csv": lambda: utf8(
        [h if h != "head_name" else "![x](http://127.0.0.1:9/leak.png)" for h in HH_HEADER],
        household(1)),
    "html_header.csv": lambda: utf8(
        [h if h != "head_name" else '<img src="x" onerror="alert(1)">' for h in HH_HEADER],
        household(1)),
    "empty.csv": lambda: b"",
    "header_only.csv": lambda: utf8(HH_HEADER),
    "not_a_zip.xlsx": lambda: b"PK\x03\x04 this is not a workbook",
    "broken.parquet": lambda: b"PAR1 not really",
    "report.pdf": lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
    "unknown_household.csv": lambda: utf8(VISIT_HEADER, visit(1, household_id="H99")),
}
FOLDER_GIVEN = "a_folder.csv"
BROKEN_LINK = "broken_link.csv"


def write(folder: Path = FOLDER) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in FILES.items():
        path = folder / name
        path.write_bytes(make())
        written.append(path)
    (folder / FOLDER_GIVEN).mkdir(exist_ok=True)
    (folder / FOLDER_GIVEN / "README.md").write_text(
        "A folder named like a CSV file: the importer is given it as the file.\n",
        encoding="utf-8")
    link = folder / BROKEN_LINK
    if not link.is_symlink():
        os.symlink("no_such_file.csv", link)
    return written


if __name__ == "__main__":
    for path in write():
        print(f"{path.name}: {path.stat().st_size} bytes")
