"""Excel and CSV files as district offices make them: title rows above the header, a header over
two rows, several sheets, a total row, a hidden column, numbers and dates typed as text.

The files are ``tests/fixtures/offices/`` (made by ``tests/fixtures/offices/make.py``). Each is
imported into a fresh store with the rows and notes expected, or refused naming the Excel row
(title rows counted), the column as written and the reason; the store is then unchanged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from loaders import readers
from loaders.__main__ import main
from loaders.importer import import_bytes, validate_file
from loaders.normalise import parse_date
from loaders.readers import (
    FileReadError,
    drop_total_rows,
    find_header_row,
    header_shape,
    list_sheets,
    read_bytes,
)
from loaders.report import format_report
from loaders.store import STORE_DIR_ENV, STORE_URL_ENV, Store
from tests.fixtures.offices import make
from tests.fixtures.offices.make import FOLDER, HH_HEADER

TODAY = dt.date(2025, 7, 1)
"""The day after the workbooks were saved: every date in them is in the past."""


def office_file(name: str) -> bytes:
    return (FOLDER / name).read_bytes()


@dataclass(frozen=True)
class Accepted:
    file: str
    dataset: str
    rows: list[int]
    """The file rows imported, as the officer sees them in Excel."""
    notes: set[tuple[int | None, str | None, str]]
    """(row, column, reason) of every warning."""


ACCEPTED = [
    Accepted("title_rows_chum_phae.xlsx", "households", [5, 6, 7, 8, 9],
             {(4, None, "header_row_found")}),
    Accepted("merged_header_visits.xlsx", "visits", [4, 5, 6],
             {(2, None, "header_row_found"), (2, None, "header_two_rows")}),
    Accepted("two_sheets_si_chomphu.xlsx", "households", [2, 3, 4, 5],
             {(None, None, "sheet_chosen")}),
    Accepted("total_row_nam_phong.xlsx", "households", [2, 3, 4, 5, 6],
             {(8, None, "total_row_skipped")}),
    Accepted("hidden_column_mueang.xlsx", "households", [2, 3, 4],
             {(1, "เบอร์โทร", "hidden_column")}),
    Accepted("text_numbers_and_dates_visits.xlsx", "visits", [2, 3, 4, 5, 6, 7], set()),
    Accepted("tis620_titles_nam_phong.csv", "households", [5, 6, 7, 8],
             {(4, None, "header_row_found"), (9, None, "total_row_skipped")}),
]


@pytest.fixture
def store_for(request: pytest.FixtureRequest):
    """A fresh store for a dataset: empty for households, the tiny programme's for visits
    (their households and officials)."""
    def open_for(dataset: str) -> Store:
        return request.getfixturevalue("tiny_store" if dataset == "visits" else "empty_store")

    return open_for


def test_the_committed_files_are_what_the_generator_makes(tmp_path: Path) -> None:
    make.write(tmp_path)
    for name in make.FILES:
        assert (tmp_path / name).read_bytes() == office_file(name), (
            f"{name} is stale: run `python -m tests.fixtures.offices.make`")


@pytest.mark.parametrize("case", ACCEPTED, ids=[c.file for c in ACCEPTED])
def test_an_office_file_imports_with_its_rows_and_notes(store_for, case: Accepted) -> None:
    store = store_for(case.dataset)
    report = import_bytes(store, office_file(case.file), case.file, case.dataset, today=TODAY)
    assert report.committed, format_report(report, "en")
    assert report.frame["_row"].tolist() == case.rows
    assert report.rows_read == report.rows_inserted == len(case.rows)
    assert {(w.row, w.column, w.reason_key) for w in report.warnings} == case.notes
    for lang in ("th", "en"):  # every note has its words in both languages
        assert "reason." not in format_report(report, lang)


def test_title_rows_do_not_shift_the_values(empty_store: Store) -> None:
    report = import_bytes(empty_store, office_file("title_rows_chum_phae.xlsx"), "cp.xlsx",
                          "households", today=TODAY)
    rows = empty_store.table("household").order_by("household_id").execute()
    assert rows["household_id"].tolist() == [f"CP-{k:04d}" for k in range(1, 6)]
    assert set(rows["amphoe_code"]) == {"4005"} and set(rows["tambon_code"]) == {"400502"}
    assert "แถว 4: หัวตารางอยู่แถวนี้: ข้าม 3 แถวด้านบน" in format_report(report, "th")


def test_a_header_merged_over_two_rows_reaches_the_columns_under_it(tiny_store: Store) -> None:
    report = import_bytes(tiny_store, office_file("merged_header_visits.xlsx"), "v.xlsx",
                          "visits", today=TODAY)
    assert report.headers.mapping["รายได้ อาชีพเสริม"] == "income_secondary"
    assert report.headers.mapping["หนี้ กองทุนหมู่บ้าน"] == "debt_fund"
    visit = tiny_store.table("visit").execute().set_index("visit_id").loc["V101"]
    assert (visit["income_main"], visit["income_secondary"]) == (60_101, 12_000)
    assert (visit["debt_formal"], visit["debt_fund"], visit["debt_informal"]) == (5_000, 2_000, 0)


def test_numbers_and_dates_typed_as_text_are_read_as_numbers_and_dates(
        tiny_store: Store) -> None:
    import_bytes(tiny_store, office_file("text_numbers_and_dates_visits.xlsx"), "v.xlsx",
                 "visits", today=TODAY)
    visits = tiny_store.table("visit").execute().set_index("visit_id").loc[
        [f"V{k}" for k in range(201, 207)]]
    assert [pd.Timestamp(d).date() for d in visits["visit_date"]] == [
        dt.date(2025, 1, day) for day in (10, 11, 15, 16, 17, 17)]
    assert visits["income_main"].tolist() == [38_000, 38_000, 40_000, 41_000, 42_500, 12_500.5]
    assert set(visits["members"]) == {4} and set(visits["round"]) == {5}


def test_a_tis620_export_with_title_lines_and_a_total_line(empty_store: Store) -> None:
    report = import_bytes(empty_store, office_file("tis620_titles_nam_phong.csv"), "np.csv",
                          "households", today=TODAY)
    assert report.encoding == "cp874"
    assert set(empty_store.table("household").execute()["tambon_code"]) == {"400704"}
    skipped = next(w for w in report.warnings if w.reason_key == "total_row_skipped")
    assert skipped.value == "รวมทั้งสิ้น"
    assert "row 9: total row “รวมทั้งสิ้น” skipped" in format_report(report, "en")


@dataclass(frozen=True)
class Refused:
    file: str
    dataset: str
    errors: list[tuple[int, str, str]]
    """(Excel row counting title rows, column as written, reason)."""
    thai: str


REFUSED = [
    Refused("bad_citizen_id_under_titles.xlsx", "households",
            [(7, "เลขประจำตัวประชาชน", "citizen_id_checksum")],
            "แถว 7 · เลขประจำตัวประชาชน: เลขประจำตัวประชาชนไม่ถูกต้อง (หลักตรวจสอบไม่ตรง)"),
    Refused("bad_date_two_row_header_visits.csv", "visits",
            [(6, "วันที่เยี่ยม", "not_a_date")],
            "แถว 6 · วันที่เยี่ยม: อ่านเป็นวันที่ไม่ได้: “31/02/2568”"),
]


@pytest.mark.parametrize("case", REFUSED, ids=[c.file for c in REFUSED])
def test_a_bad_office_file_is_refused_naming_the_excel_row_and_changes_nothing(
        store_for, case: Refused) -> None:
    store = store_for(case.dataset)
    before = {name: store.count(name) for name in ("household", "visit", "import_log")}
    report = import_bytes(store, office_file(case.file), case.file, case.dataset, today=TODAY)
    assert not report.committed
    assert [(i.row, i.column, i.reason_key) for i in report.errors] == case.errors
    assert case.thai in format_report(report, "th")
    assert {name: store.count(name) for name in before} == before


def test_a_streamed_csv_numbers_its_rows_counting_the_title_and_header_lines(
        tiny_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "visits.csv"
    path.write_bytes(office_file("bad_date_two_row_header_visits.csv"))
    monkeypatch.setattr(readers, "STREAM_CSV_BYTES", 0)
    report = validate_file(tiny_store, path, "visits", today=TODAY)
    assert [(i.row, i.column, i.reason_key) for i in report.errors] == [
        (6, "วันที่เยี่ยม", "not_a_date")]
    assert {w.reason_key for w in report.warnings} == {"header_row_found", "header_two_rows"}


# --- the shapes, one at a time ------------------------------------------------------------------

DATA_ROW = ["CP-0001", "นางสมศรี ใจดี", "0999900005017", "11/1", 2, "โนนหัน", "ชุมแพ", 4,
            dt.datetime(2025, 1, 2)]


def known(cells: list[str]) -> int:
    return sum(cell in HH_HEADER for cell in cells)


@pytest.mark.parametrize("helper", [None, known], ids=["by shape", "by known headers"])
def test_the_header_row_is_found_under_title_rows(helper) -> None:
    rows = [["รายชื่อครัวเรือนยากจน อำเภอชุมแพ"], ["ข้อมูล ณ วันที่ 15 ม.ค. 2569"], [],
            HH_HEADER, DATA_ROW, DATA_ROW]
    assert find_header_row(rows, helper) == 3
    assert find_header_row([HH_HEADER, DATA_ROW], helper) == 0


def test_a_title_as_wide_as_the_header_gives_way_to_known_headers() -> None:
    rows = [["อำเภอ", "ชุมแพ", "จังหวัด", "ขอนแก่น", "ปี", "พ.ศ. ๒๕๖๘"], HH_HEADER, DATA_ROW]
    assert find_header_row(rows, known) == 1


def test_a_header_with_no_data_under_it_or_no_header_at_all_is_row_one() -> None:
    assert find_header_row([["รายงาน"], HH_HEADER]) == 1
    assert find_header_row([[1, 2, 3], [4, 5, 6]]) == 0
    assert find_header_row([]) == 0


def test_a_label_merged_over_sub_headers_is_joined_and_a_tall_header_stays() -> None:
    rows = [["รหัสครัวเรือน", "รายได้ (บาท/ปี)", None, "หมายเหตุ"],
            [None, "อาชีพหลัก", "อาชีพเสริม", None], ["H1", 1, 2, ""]]
    merges = [(0, 0, 1, 0), (0, 1, 0, 2), (0, 3, 1, 3)]  # A1:A2, B1:C1, D1:D2
    shape = header_shape(rows, merges=merges)
    assert shape.names == ["รหัสครัวเรือน", "รายได้ (บาท/ปี) อาชีพหลัก",
                           "รายได้ (บาท/ปี) อาชีพเสริม", "หมายเหตุ"]
    assert (shape.row, shape.rows, shape.data_row) == (0, 2, 2)
    assert header_shape(rows).names == shape.names  # a CSV export: the blank explains it


def test_a_one_row_header_over_text_only_data_stays_one_row() -> None:
    officials = [["official_id", "name", "position", "agency_code", "amphoe_code"],
                 ["O1", "นาย หนึ่ง", "นักวิชาการ", "CDD", "เมืองขอนแก่น"]]
    assert header_shape(officials).rows == 1
    merged_title = [["แบบติดตาม", None, None], ["a", "b", "c"], ["x", 1, 2]]
    shape = header_shape(merged_title, merges=[(0, 0, 0, 2)])
    assert (shape.row, shape.names) == (1, ["a", "b", "c"])


def test_total_rows_at_the_bottom_are_left_out_and_named() -> None:
    frame = pd.DataFrame({"id": ["H1", "H2", "รวม", "Total:"], "n": [3, 4, 7, "7"],
                          "name": ["ก", "ข", None, ""]}, index=[5, 6, 8, 9])
    kept, notes = drop_total_rows(frame)
    assert kept.index.tolist() == [5, 6]
    assert [(n.row, n.value) for n in notes] == [(8, "รวม"), (9, "Total:")]
    a_name = pd.DataFrame({"id": ["H1", "รวม"], "name": ["ก", "นายรวม ใจดี"]}, index=[2, 3])
    assert drop_total_rows(a_name)[0].index.tolist() == [2, 3]  # text beside it: a data row


def test_a_hidden_column_is_read_and_named() -> None:
    raw = read_bytes(office_file("hidden_column_mueang.xlsx"), "mk.xlsx")
    assert raw.frame["เบอร์โทร"].tolist() == ["0811234567", "0821234567", "0831234567"]
    assert [(n.reason_key, n.column) for n in raw.notes] == [("hidden_column", "เบอร์โทร")]


def test_a_sheet_is_read_by_name_and_an_unknown_name_lists_the_sheets() -> None:
    data = office_file("two_sheets_si_chomphu.xlsx")
    raw = read_bytes(data, "sc.xlsx", sheet="ครัวเรือน")
    assert (raw.sheet, raw.frame.index.tolist(), raw.notes) == ("ครัวเรือน", [2, 3, 4, 5], [])
    codes = read_bytes(data, "sc.xlsx", sheet="รหัสอำเภอ")  # hidden, but asked for
    assert codes.frame["อำเภอ"].tolist() == ["เมืองขอนแก่น", "ชุมแพ", "สีชมพู"]
    with pytest.raises(FileReadError) as err:
        read_bytes(data, "sc.xlsx", sheet="ข้อมูล")
    assert err.value.reason_key == "unknown_sheet"
    assert err.value.params == {"sheet": "ข้อมูล", "sheets": "คำอธิบาย, ครัวเรือน, รหัสอำเภอ"}


def test_without_a_name_the_first_sheet_with_data_is_read_and_noted() -> None:
    data = office_file("two_sheets_si_chomphu.xlsx")
    plain = read_bytes(data, "sc.xlsx")  # no known headers: the first sheet with rows
    assert plain.sheet == "คำอธิบาย"
    found = read_bytes(data, "sc.xlsx", known_headers=known)
    assert found.sheet == "ครัวเรือน"
    assert [(n.reason_key, n.params["n"]) for n in found.notes] == [("sheet_chosen", 3)]


def test_the_sheets_are_listed_for_a_choice() -> None:
    sheets = list_sheets(office_file("two_sheets_si_chomphu.xlsx"), preview_rows=2)
    assert [(s.name, s.visible, s.rows) for s in sheets] == [
        ("คำอธิบาย", True, 3), ("ครัวเรือน", True, 5), ("รหัสอำเภอ", False, 4)]
    assert sheets[1].preview[0] == HH_HEADER
    assert sheets[1].preview[1][:2] == ["SC-0001", "นายสมชาย ศรีสุข"]
    with pytest.raises(FileReadError) as err:
        list_sheets(b"PK\x03\x04 not a workbook")
    assert err.value.reason_key == "xlsx_unreadable"


def test_thai_dates_as_excel_writes_them_in_a_thai_locale() -> None:
    assert parse_date("17-ม.ค.-68") == parse_date("17 ม.ค. 2568") == dt.date(2025, 1, 17)
    assert parse_date("45667") == parse_date("๑๐/๐๑/๒๕๖๘") == dt.date(2025, 1, 10)


# --- the command line --------------------------------------------------------------------------


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(args))
    return code, out.getvalue()


def test_the_command_line_reads_the_sheet_it_is_given(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STORE_URL_ENV, f"duckdb://{tmp_path / 'store.duckdb'}")
    monkeypatch.setenv(STORE_DIR_ENV, str(tmp_path))
    path = str(FOLDER / "two_sheets_si_chomphu.xlsx")
    code, printed = run_cli("--lang", "en", "import", path, "--dataset", "households",
                            "--sheet", "ไม่มีชีตนี้")
    assert code == 1
    assert ("whole file: there is no sheet “ไม่มีชีตนี้” in the file (its sheets: คำอธิบาย, "
            "ครัวเรือน, รหัสอำเภอ)") in printed
    code, printed = run_cli("--lang", "en", "import", path, "--dataset", "households",
                            "--sheet", "ครัวเรือน", "--dry-run")
    assert code == 0, printed
    assert "accepted 4" in printed and "sheet" not in printed.split("accepted 4")[1]
