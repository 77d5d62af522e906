"""The importer end to end on real files: formats, encodings, calendars, refusals, atomicity."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from loaders import importer
from loaders.contracts import HOUSEHOLDS
from loaders.importer import import_bytes, import_file
from loaders.limits import Limits
from loaders.report import format_report, issues_frame
from loaders.store import Store
from tests import hostile_files
from tests.conftest import ROOT
from tests.factories import synthetic_citizen_id, tiny_frames

OFFICES = ROOT / "tests" / "fixtures" / "offices"
THAI_HEADERS = ["รหัสครัวเรือน", "ชื่อหัวหน้าครัวเรือน", "เลขประจำตัวประชาชน", "บ้านเลขที่", "หมู่",
                "ตำบล", "อำเภอ", "จำนวนสมาชิก", "วันที่เข้าร่วม"]


def thai_household_rows() -> list[list[object]]:
    return [
        ["K1", "นางสมศรี ใจดี", synthetic_citizen_id(101), "12", "๓", "ต.ในเมือง", "อ.เมืองขอนแก่น",
         "4", "27/09/2562"],
        ["K2", "นายสมชาย ดีใจ", synthetic_citizen_id(102), "45/2", "5", "สำราญ", "เมืองขอนแก่น",
         "๓", "27 ก.ย. 62"],
        ["K3", "นางสาวมาลี มีสุข", synthetic_citizen_id(103), "7", "2", "ในเมือง", "4026", "2",
         "2562-09-27"],
    ]


def thai_csv(rows: list[list[object]], encoding: str) -> bytes:
    frame = pd.DataFrame(rows, columns=THAI_HEADERS)
    return frame.to_csv(index=False).encode(encoding)


def store_files(store: Store) -> dict[str, str]:
    """SHA-256 of every file the store keeps in its folder (database and WAL)."""
    folder = Path(store.url.removeprefix("duckdb://")).parent
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.glob("store.duckdb*"))}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp874"])
def test_thai_csv_in_each_encoding_with_buddhist_era_dates(empty_store: Store,
                                                             encoding: str) -> None:
    report = import_bytes(empty_store, thai_csv(thai_household_rows(), encoding),
                          "อำเภอเมือง.csv", "households")
    assert report.committed, format_report(report, "en")
    assert report.encoding == encoding
    rows = empty_store.table("household").order_by("household_id").execute()
    assert rows["amphoe_code"].tolist() == ["4001", "4001", "4029"]
    assert rows["tambon_code"].tolist() == ["400101", "400102", "402901"]
    assert rows["moo"].tolist() == [3, 5, 2]
    assert rows["members"].tolist() == [4, 3, 2]
    assert {pd.Timestamp(d).date() for d in rows["enrolled_on"]} == {dt.date(2019, 9, 27)}
    assert rows["head_name"].iloc[0] == "นางสมศรี ใจดี"


def test_xlsx_with_typed_dates_serials_and_text(empty_store: Store) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(THAI_HEADERS)
    rows = thai_household_rows()
    rows[0][8] = dt.datetime(2019, 9, 27)  # a date cell
    rows[1][8] = 43735  # an Excel serial typed as a number (= 2019-09-27)
    rows[1][4] = 5  # a number cell
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    report = import_bytes(empty_store, buffer.getvalue(), "district.xlsx", "households")
    assert report.committed, format_report(report, "en")
    assert report.file_format == "xlsx"
    dates = empty_store.table("household").enrolled_on.execute()
    assert {pd.Timestamp(d).date() for d in dates} == {dt.date(2019, 9, 27)}


def test_parquet_with_english_headers(empty_store: Store) -> None:
    frame = tiny_frames()["households"]
    buffer = io.BytesIO()
    frame.astype(str).to_parquet(buffer)
    report = import_bytes(empty_store, buffer.getvalue(), "hh.parquet", "households")
    assert report.committed, format_report(report, "en")
    assert empty_store.count("household") == len(frame)


def test_one_bad_row_refuses_the_whole_file_and_names_row_column_reason(
        tiny_store: Store) -> None:
    rows = thai_household_rows()
    rows[1][2] = "1101700230719"  # bad checksum, file row 3
    rows[2][8] = "31/02/2562"  # impossible date, file row 4
    before_count = tiny_store.count("household")
    before_files = store_files(tiny_store)
    report = import_bytes(tiny_store, thai_csv(rows, "utf-8"), "bad.csv", "households")
    assert not report.committed
    assert report.rows_read == 3
    assert report.rows_rejected == 2
    assert report.rows_accepted == 1
    found = {(i.row, i.column, i.reason_key) for i in report.errors}
    assert found == {(3, "เลขประจำตัวประชาชน", "citizen_id_checksum"),
                     (4, "วันที่เข้าร่วม", "not_a_date")}
    assert tiny_store.count("household") == before_count
    assert store_files(tiny_store) == before_files
    table = issues_frame(report, "th")
    assert table["แถว"].tolist() == [3, 4]
    assert "หลักตรวจสอบไม่ตรง" in table["เหตุผล"].iloc[0]


def test_refused_file_is_kept_and_journalled(tiny_store: Store) -> None:
    data = b"household_id,head_name\nX1,nobody\n"
    report = import_bytes(tiny_store, data, "partial.csv", "households")
    assert {i.reason_key for i in report.errors} == {"missing_column"}
    assert report.raw_path is not None and report.raw_path.read_bytes() == data
    journal = (tiny_store.store_dir / "import_attempts.jsonl").read_text(encoding="utf-8")
    last = json.loads(journal.splitlines()[-1])
    assert last["file_name"] == "partial.csv"
    assert last["committed"] is False
    assert last["sha256"] == hashlib.sha256(data).hexdigest()


def test_store_file_is_byte_for_byte_unchanged_after_a_refusal(tmp_path: Path,
                                                                 tiny_files: dict) -> None:
    from tests.conftest import build_store

    store = build_store(tmp_path, tiny_files)
    store.close()
    database = tmp_path / "store.duckdb"
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    store = Store.open(f"duckdb://{database}", store_dir=tmp_path)
    visits = tiny_frames()["visits"].head(2).copy()
    visits.loc[0, "household_id"] = "NOPE"  # unknown household
    report = import_bytes(store, visits.to_csv(index=False).encode(), "v.csv", "visits")
    store.close()
    assert [(i.row, i.reason_key) for i in report.errors] == [(2, "unknown_reference")]
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
    assert not (tmp_path / "store.duckdb.wal").exists()


def test_failure_during_the_write_rolls_everything_back(tiny_store: Store,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    version = tiny_store.data_version()
    count = tiny_store.count("household")
    logs = tiny_store.count("import_log")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "rebuild_derived", broken)
    rows = thai_household_rows()
    with pytest.raises(RuntimeError, match="disk full"):
        import_bytes(tiny_store, thai_csv(rows, "utf-8"), "ok.csv", "households")
    assert tiny_store.count("household") == count
    assert tiny_store.count("import_log") == logs
    assert tiny_store.data_version() == version


def test_import_log_records_every_accepted_import(tiny_store: Store, tiny_files: dict) -> None:
    log = tiny_store.table("import_log").order_by("import_id").execute()
    assert log["dataset"].tolist() == ["households", "officials", "pairings", "visits",
                                       "assistance"]
    first = log.iloc[0]
    data = tiny_files["households"].read_bytes()
    assert first["file_sha256"] == hashlib.sha256(data).hexdigest()
    assert (first["rows_read"], first["rows_accepted"], first["rows_rejected"]) == (8, 8, 0)
    assert Path(first["raw_path"]).read_bytes() == data


def test_reimport_updates_rows_instead_of_duplicating(tiny_store: Store,
                                                       tiny_files: dict) -> None:
    version = tiny_store.data_version()
    report = import_file(tiny_store, tiny_files["households"], "households")
    assert (report.rows_inserted, report.rows_updated) == (0, 8)
    assert tiny_store.count("household") == 8
    assert tiny_store.data_version() != version


def test_a_data_version_is_never_given_twice(tiny_store: Store, tiny_files: dict) -> None:
    """Import ids come back after an undo; the same file imported again over other data must
    not find the result caches of the first time."""
    from loaders.importer import undo_last_import

    import_file(tiny_store, tiny_files["households"], "households")
    first = tiny_store.data_version()
    assert undo_last_import(tiny_store) is not None
    undone = tiny_store.data_version()
    import_file(tiny_store, tiny_files["households"], "households")
    assert len({first, undone, tiny_store.data_version()}) == 3


def test_duplicate_keys_and_references_are_refused(tiny_store: Store) -> None:
    pairings = pd.DataFrame([
        {"official_id": "O1", "household_id": "H6", "start_date": "2020-01-01"},
        {"official_id": "O1", "household_id": "H6", "start_date": "1 ม.ค. 2563"},
        {"official_id": "O9", "household_id": "H6", "start_date": "2020-01-01",
         "end_date": "2019-01-01"},
    ])
    report = import_bytes(tiny_store, pairings.to_csv(index=False).encode(), "p.csv",
                          "pairings")
    found = {(i.row, i.reason_key) for i in report.errors}
    assert found == {(3, "duplicate_key"), (4, "end_before_start"), (4, "unknown_reference")}


def test_duplicate_citizen_id_is_a_warning_not_a_refusal(tiny_store: Store) -> None:
    rows = thai_household_rows()
    rows[0][2] = synthetic_citizen_id(1)  # same as tiny household H1
    report = import_bytes(tiny_store, thai_csv(rows, "utf-8"), "dup.csv", "households")
    assert report.committed
    assert [(w.row, w.reason_key) for w in report.warnings] == [(2, "citizen_id_in_store")]
    stored = tiny_store.table("import_warning").execute()
    assert stored["reason_key"].tolist() == ["citizen_id_in_store"]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("x.pdf", b"%PDF-1.4", "unsupported_format"),
        ("x.xlsx", b"not a zip", "xlsx_unreadable"),
        ("x.csv", b"\xff\xfe\x00", "unknown_encoding"),
        ("x.csv", ",".join(HOUSEHOLDS.column_names).encode() + b"\n", "no_rows"),
    ],
)
def test_whole_file_problems(empty_store: Store, name: str, data: bytes, reason: str) -> None:
    report = import_bytes(empty_store, data, name, "households")
    assert reason in {i.reason_key for i in report.errors}
    assert report.rows_accepted == 0
    assert empty_store.count("household") == 0


def test_command_line_exit_codes_and_report(tmp_path: Path) -> None:
    env_store = {"KUSIAO_STORE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    good = tmp_path / "good.csv"
    good.write_bytes(thai_csv(thai_household_rows(), "cp874"))
    bad_rows = thai_household_rows()
    bad_rows[0][6] = "อ.ไม่มีจริง"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(thai_csv(bad_rows, "utf-8"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "loaders", "--lang", "en", *args],
                              cwd=ROOT, env=env_store, capture_output=True, text=True,
                              check=False)

    ok = run("import", str(good), "--dataset", "households")
    assert ok.returncode == 0, ok.stderr
    assert "accepted 3" in ok.stdout
    refused = run("import", str(bad), "--dataset", "households")
    assert refused.returncode == 1
    assert "row 2 · อำเภอ: no amphoe “อ.ไม่มีจริง” in Khon Kaen" in refused.stderr
    assert "nothing was saved" in refused.stderr


HH_HEADER = ",".join(HOUSEHOLDS.column_names)
GOOD_ROW = f"G1,,นาย ก ข,{synthetic_citizen_id(201)},,1,3,400101,4001,16.4,102.8,4,2019-09-27"
SECOND_ROW = f"G2,,นาง ค ง,{synthetic_citizen_id(202)},,1,3,400101,4001,16.4,102.8,4,2019-09-27"


def office(file: str, dataset: str = "households") -> tuple[str, bytes, str]:
    """A reason case from an office's file (``tests/fixtures/offices/``)."""
    return file, (OFFICES / file).read_bytes(), dataset


def household_file(*rows: str, header: str = HH_HEADER) -> bytes:
    return "\n".join([header, *rows]).encode("utf-8")


def with_cell(column: str, value: str) -> str:
    cells = GOOD_ROW.split(",")
    cells[HOUSEHOLDS.column_names.index(column)] = value
    return ",".join(cells)


# One file per reason the importer can give; test_every_reason_is_exercised keeps it complete.
REASON_CASES: dict[str, tuple[str, bytes, str]] = {
    "not_a_number": ("x.csv", household_file(with_cell("lat", "สิบหก")), "households"),
    "not_a_whole_number": ("x.csv", household_file(with_cell("members", "3.5")), "households"),
    "not_a_date": ("x.csv", household_file(with_cell("enrolled_on", "30/02/2562")),
                   "households"),
    "date_out_of_range": ("x.csv", household_file(with_cell("enrolled_on", "1/1/2400")),
                          "households"),
    "not_yes_no": ("v.csv", b"", "visits"),
    "not_pass_fail": ("v.csv", b"", "visits"),
    "not_a_choice": ("v.csv", b"", "visits"),
    "citizen_id_not_digits": ("x.csv", household_file(with_cell("head_citizen_id", "ABC")),
                              "households"),
    "citizen_id_length": ("x.csv", household_file(with_cell("head_citizen_id", "123")),
                          "households"),
    "citizen_id_checksum": ("x.csv",
                            household_file(with_cell("head_citizen_id", "1101700230719")),
                            "households"),
    "house_code_format": ("x.csv", household_file(with_cell("house_code", "12")), "households"),
    "phone_format": ("x.csv", household_file(with_cell("phone", "12")), "households"),
    "unknown_amphoe": ("x.csv", household_file(with_cell("amphoe_code", "9999")), "households"),
    "unknown_tambon": ("x.csv", household_file(with_cell("tambon_code", "409999")),
                       "households"),
    "unknown_tambon_in_amphoe": ("x.csv", household_file(with_cell("tambon_code", "ไม่มี")),
                                 "households"),
    "tambon_not_in_amphoe": ("x.csv", household_file(with_cell("tambon_code", "400501")),
                             "households"),
    "unknown_agency": ("o.csv", b"official_id,name,agency_code,amphoe_code\nO9,x,NASA,4001",
                       "officials"),
    "out_of_range": ("x.csv", household_file(with_cell("members", "99")), "households"),
    "required": ("x.csv", household_file(with_cell("head_name", "")), "households"),
    "duplicate_key": ("x.csv", household_file(GOOD_ROW, GOOD_ROW.replace(
        synthetic_citizen_id(201), synthetic_citizen_id(202))), "households"),
    "end_before_start": ("p.csv", b"official_id,household_id,start_date,end_date\n"
                         b"O1,H1,2020-01-01,2019-01-01", "pairings"),
    "duplicate_citizen_id": ("x.csv", household_file(GOOD_ROW, SECOND_ROW.replace(
        synthetic_citizen_id(202), synthetic_citizen_id(201))), "households"),
    "citizen_id_in_store": ("x.csv", household_file(with_cell(
        "head_citizen_id", synthetic_citizen_id(1))), "households"),
    "unknown_reference": ("p.csv", b"official_id,household_id,start_date\nO1,NOPE,2020-01-01",
                          "pairings"),
    "file_too_large": ("x.csv", b"", "households"),
    "unknown_encoding": ("x.csv", b"\xff\xfe\x00\x81", "households"),
    "csv_unreadable": ("x.csv", b'household_id,head_name\n"G1,unterminated\n', "households"),
    "unsupported_format": ("x.docx", b"PK", "households"),
    "xlsx_unreadable": ("x.xlsx", b"not a zip", "households"),
    "parquet_unreadable": ("x.parquet", b"PAR1 broken", "households"),
    "no_header": ("x.csv", b"", "households"),
    "missing_column": ("x.csv", b"household_id\nG1", "households"),
    "duplicate_column": ("x.csv", household_file(GOOD_ROW + ",4001", header=HH_HEADER
                                                 + ",อำเภอ"), "households"),
    "no_rows": ("x.csv", household_file(), "households"),
    # careless and hostile input (tests/loaders/test_hostile_input.py has a file of each kind)
    "invisible_character": ("x.csv", household_file(with_cell("household_id", "G\u200c1")),
                            "households"),
    "too_long": ("x.csv", household_file(with_cell("head_name", "ก" * 301)), "households"),
    "date_before_programme": ("x.csv", household_file(with_cell("enrolled_on", "2019-01-01")),
                              "households"),
    "date_in_future": ("x.csv", household_file(with_cell("enrolled_on", "2063-08-18")),
                       "households"),
    "date_two_digit_year": ("x.csv", household_file(with_cell("enrolled_on", "18 Aug 26")),
                            "households"),
    "date_after_saved": ("x.xlsx", hostile_files.xlsx(
        hostile_files.HH_HEADER, hostile_files.household(1, enrolled_on="2021-02-01")),
        "households"),
    "mixed_encoding": ("x.csv", hostile_files.mixed_encoding(), "households"),
    "not_thai_text": ("x.csv", hostile_files.latin1_in_thai(), "households"),
    "file_name_too_long": ("ก" * 201 + ".csv", household_file(GOOD_ROW), "households"),
    "too_many_rows": ("x.csv", household_file(GOOD_ROW, SECOND_ROW), "households"),
    "xlsx_too_large": ("x.xlsx", hostile_files.xlsx_bomb(), "households"),
    "header_too_long": ("x.csv", household_file(GOOD_ROW + ",", header=HH_HEADER + ","
                                                + "h" * 201), "households"),
    "cancelled": ("x.csv", household_file(GOOD_ROW), "households"),
    # house codes as keys (tests/loaders/test_header_mapping.py has the offices' files)
    "missing_key": ("p.csv", b"official_id,start_date\nO1,2020-01-01", "pairings"),
    "house_code_unknown": ("p.csv", b"official_id,house_code,start_date\n"
                           b"O1,40059999999,2020-01-01", "pairings"),
    "duplicate_house_code": ("x.csv", household_file(
        GOOD_ROW.replace("G1,,", "G1,40050100101,"),
        SECOND_ROW.replace("G2,,", "G2,40050100101,")), "households"),
    "house_code_other_household": ("x.csv", household_file(
        GOOD_ROW.replace("G1,,", "G1,40050100101,")), "households"),
    # what the reader did to an office's file (tests/loaders/test_office_files.py has each shape)
    "sheet_chosen": office("two_sheets_si_chomphu.xlsx"),
    "unknown_sheet": office("two_sheets_si_chomphu.xlsx"),
    "header_row_found": office("title_rows_chum_phae.xlsx"),
    "header_two_rows": office("merged_header_visits.xlsx", "visits"),
    "total_row_skipped": office("total_row_nam_phong.xlsx"),
    "hidden_column": office("hidden_column_mueang.xlsx"),
}
REASON_BEFORE = {
    # the store holds the code for household H1 first
    "house_code_other_household": ("h1.csv", household_file(
        GOOD_ROW.replace("G1,,", "H1,40050100101,")), "households"),
}
PATH_REASONS = {"file_missing", "file_is_folder", "file_not_regular", "file_unreadable"}
"""Reasons only a path can have: tests/loaders/test_hostile_input.py gives the command line one of
each."""


def visit_file(column: str, value: str) -> bytes:
    row = tiny_frames()["visits"].head(1).copy()
    row[column] = value
    return row.to_csv(index=False).encode("utf-8")


def test_the_rows_the_reason_cases_start_from_are_clean(tiny_store: Store) -> None:
    report = import_bytes(tiny_store, household_file(GOOD_ROW, SECOND_ROW), "ok.csv",
                          "households")
    assert report.committed and not report.issues


def test_every_reason_is_exercised() -> None:
    from domain.i18n import catalogue

    reasons = {k.removeprefix("reason.") for k in catalogue("en") if k.startswith("reason.")}
    assert reasons == set(REASON_CASES) | PATH_REASONS


@pytest.mark.parametrize("reason", sorted(REASON_CASES))
def test_each_reason_is_reported(tiny_store: Store, reason: str,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    name, data, dataset = REASON_CASES[reason]
    if dataset == "visits" and name.endswith(".csv"):
        column, value = {"not_yes_no": ("saves", "บางที"), "not_pass_fail": ("jpt_08", "ดี"),
                         "not_a_choice": ("kind", "งานเลี้ยง")}[reason]
        data = visit_file(column, value)
    if reason == "file_too_large":
        monkeypatch.setattr(importer, "UPLOAD_LIMITS", Limits(upload_bytes=10))
        data = household_file(GOOD_ROW)
    if reason == "too_many_rows":
        monkeypatch.setattr(importer, "UPLOAD_LIMITS", Limits(rows=1))
    if reason in REASON_BEFORE:
        first_name, first_data, first_dataset = REASON_BEFORE[reason]
        assert import_bytes(tiny_store, first_data, first_name, first_dataset).committed
    report = import_bytes(tiny_store, data, name, dataset,
                          cancel=lambda: reason == "cancelled",
                          sheet="ข้อมูล" if reason == "unknown_sheet" else None)
    found = {i.reason_key for i in report.issues}
    assert reason in found, [(i.row, i.column, i.reason_key) for i in report.issues]
    issue = next(i for i in report.issues if i.reason_key == reason)
    message = format_report(report, "en")
    assert t_reason(issue) in message
    if issue.severity == "error":
        assert not report.committed


def t_reason(issue) -> str:
    from loaders.report import issue_message

    return issue_message(issue, "en")


def table_snapshot(store: Store) -> dict[str, list]:
    from loaders.contracts import DATASETS as ALL

    out = {}
    for name in [d.table for d in ALL.values()] + ["import_log", "import_warning",
                                                    "status_quarter"]:
        frame = store.table(name).execute()
        out[name] = sorted(map(repr, frame.astype(str).itertuples(index=False)))
    return out


def test_undo_restores_the_previous_state_exactly(tiny_store: Store) -> None:
    from loaders.importer import undo_last_import

    before = table_snapshot(tiny_store)
    frame = tiny_frames()["households"].head(2).copy()
    frame["members"] = 9  # H1 and H2 updated ...
    extra = frame.copy()
    extra["household_id"] = ["N1", "N2"]  # ... and two households added
    extra["head_citizen_id"] = [synthetic_citizen_id(301), synthetic_citizen_id(302)]
    data = pd.concat([frame, extra]).to_csv(index=False).encode()
    report = import_bytes(tiny_store, data, "update.csv", "households")
    assert (report.rows_inserted, report.rows_updated) == (2, 2)
    assert table_snapshot(tiny_store) != before
    result = undo_last_import(tiny_store, undone_by="test")
    assert result is not None
    assert (result.dataset, result.rows_removed, result.rows_restored) == ("households", 4, 2)
    assert table_snapshot(tiny_store) == before
    journal = (tiny_store.store_dir / "import_attempts.jsonl").read_text(encoding="utf-8")
    assert '"undo_of": ' + str(report.import_id) in journal


def test_undo_goes_back_one_import_at_a_time(empty_store: Store, tiny_files: dict) -> None:
    from loaders.importer import undo_last_import

    import_file(empty_store, tiny_files["households"], "households")
    import_file(empty_store, tiny_files["officials"], "officials")
    assert undo_last_import(empty_store).dataset == "officials"
    assert empty_store.count("official") == 0 and empty_store.count("household") == 8
    assert undo_last_import(empty_store).dataset == "households"
    assert empty_store.count("household") == 0
    assert undo_last_import(empty_store) is None


def test_rejected_rows_file_can_be_fixed_and_imported_again(tiny_store: Store) -> None:
    from loaders.importer import rejected_rows
    from loaders.report import issue_message

    rows = thai_household_rows()
    rows[1][2] = "1101700230719"  # bad checksum on file row 3
    report = import_bytes(tiny_store, thai_csv(rows, "cp874"), "bad.csv", "households")
    assert report.calendars == {"วันที่เข้าร่วม": "BE"}
    fix = rejected_rows(report, lambda i: issue_message(i, "th"))
    assert fix["_file_row"].tolist() == [3]
    assert fix.loc[0, "รหัสครัวเรือน"] == "K2"
    assert "หลักตรวจสอบไม่ตรง" in fix.loc[0, "_reason"]
    fix.loc[0, "เลขประจำตัวประชาชน"] = synthetic_citizen_id(102)
    again = import_bytes(tiny_store, fix.to_csv(index=False).encode("utf-8-sig"), "fixed.csv",
                         "households")
    assert again.committed, format_report(again, "en")
    assert set(again.headers.unknown) == {"_file_row", "_reason"}
    assert tiny_store.count("household") == 9


def test_a_derived_step_is_compiled_once_for_every_store(tmp_path: Path,
                                                         tiny_template: Path) -> None:
    """A derived table's SQL depends on the expression, not on the store it was built on:
    built on the store's unbound sources, a second store of the same layout gets the SQL
    compiled for the first, the same text Ibis writes for the store's own tables."""
    import ibis

    from domain.definitions import load_definitions
    from domain.targets import with_levels
    from loaders.store import compiled_sql

    sqls = []
    for name in ("a", "b"):
        folder = tmp_path / name
        shutil.copytree(tiny_template, folder)
        store = Store.open(f"duckdb://{folder / 'store.duckdb'}", store_dir=folder)
        try:
            expr = with_levels(store.source("visit"), load_definitions())
            sqls.append(compiled_sql(expr, "duckdb"))
            bound = with_levels(store.table("visit"), load_definitions())
            assert sqls[-1] == ibis.to_sql(bound, dialect="duckdb")
        finally:
            store.close()
    assert sqls[1] is sqls[0]  # kept, not compiled again
