"""Careless and hostile input: every bad file is refused with its row, column and reason in
Thai and English, never a traceback, and the store stays exactly as it was.

The corpus is ``tests/fixtures/bad/`` (made by ``tests/hostile_files.py``); each file goes
through the command line as an officer would run it (``main`` in this process, for speed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dashboard.views.exports import neutralise_cell, to_csv_bytes
from domain.definitions import DEFAULT_PATH, DefinitionsError, load_definitions
from domain.i18n import t
from loaders import importer, readers
from loaders.__main__ import main
from loaders.bootstrap import ensure_store, held_an_import
from loaders.importer import (
    check_bytes,
    clean_stale_staging,
    import_bytes,
    safe_file_name,
    staging_root,
    undo_last_import,
    validate_bytes,
    write_checked,
)
from loaders.limits import Limits
from loaders.normalise import CellError, clean_code, clean_text, parse_citizen_id, parse_date
from loaders.report import format_report, issues_frame, markdown_safe
from loaders.store import STORE_DIR_ENV, STORE_URL_ENV, Store
from tests import hostile_files
from tests.factories import synthetic_citizen_id, tiny_frames, write_csvs
from tests.hostile_files import FOLDER, HH_HEADER, VISIT_HEADER, household, utf8, visit

# --- the corpus through the command line ------------------------------------------------------


@dataclass(frozen=True)
class Case:
    file: str
    dataset: str
    errors: tuple[tuple[int | None, str | None, str], ...]
    """(file row, column as written, reason) of every error the report must show."""
    args: tuple[str, ...] = ()


def case(file: str, dataset: str, *errors: tuple[int | None, str | None, str],
         args: tuple[str, ...] = ()) -> Case:
    return Case(file, dataset, errors, args)


CORPUS = [
    case("visit_in_future.csv", "visits", (3, "visit_date", "date_in_future")),
    case("visit_before_programme.csv", "visits", (2, "visit_date", "date_before_programme")),
    case("visit_after_saved.xlsx", "visits", (3, "visit_date", "date_after_saved")),
    case("two_digit_years.csv", "visits", (4, "visit_date", "date_two_digit_year")),
    case("two_digit_year_thai.csv", "visits", (2, "visit_date", "date_two_digit_year")),
    case("impossible_date.csv", "visits", (2, "visit_date", "not_a_date")),
    case("pairing_ends_in_future.csv", "pairings", (2, "end_date", "date_in_future")),
    case("citizen_id_superscript_checksum.csv", "households",
         (2, "head_citizen_id", "citizen_id_checksum")),
    case("citizen_id_fullwidth_checksum.csv", "households",
         (2, "head_citizen_id", "citizen_id_checksum")),
    case("citizen_id_arabic_indic_short.csv", "households",
         (2, "head_citizen_id", "citizen_id_length")),
    case("id_zero_width_non_joiner.csv", "households",
         (2, "household_id", "invisible_character")),
    case("id_byte_order_mark.csv", "visits", (2, "official_id", "invisible_character")),
    case("house_code_right_to_left.csv", "households",
         (2, "house_code", "invisible_character")),
    case("amphoe_terminal_escape.csv", "households", (2, "amphoe_code", "invisible_character")),
    case("id_same_after_folding.csv", "households", (3, "household_id", "duplicate_key")),
    case("mixed_encoding.csv", "households", (4, None, "mixed_encoding")),
    case("bom_then_tis620.csv", "households", (2, None, "mixed_encoding")),
    case("latin1_in_thai.csv", "households", (4, None, "not_thai_text")),
    case("undecodable_byte.csv", "households", (3, None, "unknown_encoding")),
    case("binary_garbage.csv", "households", (2, None, "unknown_encoding")),
    case("name_too_long.csv", "households", (2, "head_name", "too_long")),
    case("note_too_long.csv", "visits", (2, "note", "too_long")),
    case("header_too_long.csv", "households", (None, None, "header_too_long")),
    case("six_rows.csv", "households", (None, None, "too_many_rows"),
         args=("--max-rows", "5")),
    case("zip_bomb.xlsx", "visits", (None, None, "xlsx_too_large")),
    case(hostile_files.LONG_THAI_NAME, "households", (2, "members", "out_of_range")),
    case("bare_cr_in_quoted_cell.csv", "households", (3, "members", "out_of_range")),
    case("ragged_row.csv", "households", (None, None, "csv_unreadable")),
    case("markdown_image_header.csv", "households", (None, "head_name", "missing_column")),
    case("html_header.csv", "households", (None, "head_name", "missing_column")),
    case("empty.csv", "households", (None, None, "no_header")),
    case("header_only.csv", "households", (None, None, "no_rows")),
    case("not_a_zip.xlsx", "households", (None, None, "xlsx_unreadable")),
    case("broken.parquet", "households", (None, None, "parquet_unreadable")),
    case("report.pdf", "households", (None, None, "unsupported_format")),
    case("unknown_household.csv", "visits", (2, "household_id", "unknown_reference")),
    case(hostile_files.FOLDER_GIVEN, "households", (None, None, "file_is_folder")),
    case(hostile_files.BROKEN_LINK, "households", (None, None, "file_missing")),
]


@pytest.fixture
def cli_store(tmp_path: Path, tiny_template: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The tiny programme's store, where ``python -m loaders`` finds it."""
    shutil.copytree(tiny_template, tmp_path, dirs_exist_ok=True)
    monkeypatch.setenv(STORE_URL_ENV, f"duckdb://{tmp_path / 'store.duckdb'}")
    monkeypatch.setenv(STORE_DIR_ENV, str(tmp_path))
    yield tmp_path


def store_state(folder: Path) -> dict[str, tuple[int, int]]:
    """Every table of the store: its row count and a checksum of its rows."""
    con = duckdb.connect(str(folder / "store.duckdb"), read_only=True)
    try:
        names = [row[0] for row in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema()").fetchall()]
        rows = con.execute(" UNION ALL ".join(
            f"SELECT '{name}', count(*), coalesce(sum(hash(t)), 0) FROM \"{name}\" t"
            for name in names)).fetchall()
        return {name: (int(n), int(checksum)) for name, n, checksum in rows}
    finally:
        con.close()


@pytest.fixture(scope="session")
def template_state(tiny_template: Path) -> dict[str, tuple[int, int]]:
    return store_state(tiny_template)


def run_cli(*args: str) -> tuple[int, str]:
    """Exit code and everything printed, as a user sees it."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(args))
    return code, out.getvalue()


def fragment(reason: str, lang: str) -> str:
    """The longest literal part of a reason's message (its parameters left out)."""
    return max(re.split(r"\{[^}]*\}", t(f"reason.{reason}", lang)), key=len)


def where(row: int | None, column: str | None, lang: str) -> str:
    text = f"{t('report.row', lang)} {row}" if row is not None else t("report.file_level", lang)
    return text + (f" · {column}" if column else "")


def test_the_corpus_has_thirty_bad_files_and_each_is_tested() -> None:
    committed = {p.name for p in FOLDER.iterdir()}
    tested = {c.file for c in CORPUS}
    assert len(tested) >= 30
    assert tested <= committed
    assert committed - tested == {"citizen_id_digit_scripts.csv"}  # accepted: tested below


def test_the_committed_files_are_what_the_generator_makes(tmp_path: Path) -> None:
    hostile_files.write(tmp_path)
    for name in hostile_files.FILES:
        assert (tmp_path / name).read_bytes() == (FOLDER / name).read_bytes(), (
            f"{name} is stale: run `python -m tests.hostile_files`")
    assert (FOLDER / hostile_files.BROKEN_LINK).is_symlink()
    assert (FOLDER / hostile_files.FOLDER_GIVEN).is_dir()


@pytest.mark.parametrize("bad", CORPUS, ids=[c.file[:40] for c in CORPUS])
def test_a_bad_file_is_refused_with_row_column_and_reason_and_the_store_is_unchanged(
        cli_store: Path, bad: Case, template_state: dict) -> None:
    path = str(FOLDER / bad.file)
    for lang in ("en", "th"):
        code, printed = run_cli("--lang", lang, "import", path, "--dataset", bad.dataset,
                                *bad.args)
        assert code == 1, printed
        assert "Traceback" not in printed
        assert t("report.refused", lang) in printed
        for row, column, reason in bad.errors:
            line = f"[{t('report.error', lang)}] {where(row, column, lang)}: "
            found = [text for text in printed.splitlines() if line in text]
            assert found and fragment(reason, lang) in found[0], (reason, printed)
        if lang == "en":
            assert f"errors: {len(bad.errors)} ·" in printed, printed
    assert store_state(cli_store) == template_state


def fifo(folder: Path) -> Path:
    path = folder / "pipe.csv"
    os.mkfifo(path)
    return path


# paths that are no readable file without permissions (the tests run as root, who may read
# any file): opening a pipe to read would wait for ever; a file taken as a folder, or a name
# longer than a file system takes, cannot be opened
UNREADABLE = {
    "pipe": ("file_not_regular", fifo),
    "file as folder": ("file_unreadable", lambda folder: FOLDER / "empty.csv" / "visits.csv"),
    "name of 274 bytes": ("file_unreadable", lambda folder: folder / ("ก" * 90 + ".csv")),
    "no such file": ("file_missing", lambda folder: folder / "nowhere.csv"),
}


@pytest.mark.parametrize("kind", list(UNREADABLE))
def test_a_path_that_is_no_readable_file_is_refused_and_named(cli_store: Path, tmp_path: Path,
                                                               kind: str) -> None:
    before = store_state(cli_store)
    reason, make = UNREADABLE[kind]
    path = make(tmp_path)
    code, printed = run_cli("--lang", "en", "import", str(path), "--dataset", "households")
    assert code == 1, printed
    assert f"[error] whole file: {fragment(reason, 'en')}" in printed
    assert printed.startswith(f"Import of {path.name} (households)")
    assert store_state(cli_store) == before


def test_wrong_usage_is_said_in_the_chosen_language_without_a_traceback(
        cli_store: Path) -> None:
    code, printed = run_cli("--lang", "th", "import", str(FOLDER / "empty.csv"),
                            str(FOLDER / "report.pdf"))
    assert code == 2
    assert "เป็นชุดข้อมูลใด" in printed
    code, printed = run_cli("--lang", "en", "import", str(FOLDER / "six_rows.csv"),
                            "--dataset", "households", "--max-rows", "0")
    assert (code, printed.strip()) == (2, t("cli.max_rows", "en"))


def test_an_unexpected_failure_is_one_line_and_writes_nothing(
        cli_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = store_state(cli_store)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full\nsecond line")

    monkeypatch.setattr(importer, "rebuild_derived", broken)
    households = tiny_frames()["households"].head(1).to_csv(index=False)
    good = cli_store / "households.csv"
    good.write_text(households, encoding="utf-8")
    code, printed = run_cli("--lang", "en", "import", str(good))
    assert code == 3
    assert printed.strip() == t("cli.internal_error", "en", kind="RuntimeError",
                                detail="disk full second line")
    assert store_state(cli_store) == before


def test_the_same_fault_reads_the_same_in_both_languages(cli_store: Path) -> None:
    path = str(FOLDER / "visit_in_future.csv")
    _, thai = run_cli("--lang", "th", "import", path, "--dataset", "visits")
    _, english = run_cli("--lang", "en", "import", path, "--dataset", "visits")
    assert "แถว 3 · visit_date: วันที่ 18/8/2606 (2063-08-18) เป็นวันในอนาคต" in thai
    assert "row 3 · visit_date: date 2063-08-18 (BE 18/8/2606) is in the future" in english


# --- dates -------------------------------------------------------------------------------------


def test_two_digit_years_follow_one_rule_in_thai_and_english() -> None:
    """Today '18 ส.ค. 63' became 2020 and '18 Aug 63' 2063."""
    aug_18_2020 = dt.date(2020, 8, 18)
    for written in ("18 ส.ค. 63", "18 Aug 63", "18 August 63", "18/08/63", "18-8-63",
                    "๑๘ ส.ค. ๖๓", "18 สิงหาคม 63"):
        assert parse_date(written) == aug_18_2020, written
    with pytest.raises(CellError) as err:
        parse_date("18 Aug 26")  # 2526 BE = 1983: refused, never moved to 2026
    assert err.value.reason_key == "date_two_digit_year"


def test_the_two_digit_fixture_keeps_its_first_two_rows(tiny_store: Store) -> None:
    report = validate_bytes(tiny_store, (FOLDER / "two_digit_years.csv").read_bytes(),
                            "two_digit_years.csv", "visits")
    assert [(i.row, i.reason_key) for i in report.errors] == [(4, "date_two_digit_year")]
    dates = report.frame.set_index("_row")["visit_date"]
    assert dates[2] == dates[3] == pd.Timestamp(2020, 8, 18)


def test_the_accepted_dates_end_today_plus_the_tolerance(tiny_store: Store) -> None:
    today = dt.date(2021, 3, 1)
    tolerance = load_definitions().dates.future_tolerance_days
    data = utf8(VISIT_HEADER, visit(1, visit_date=str(today + dt.timedelta(days=tolerance))),
                visit(2, visit_date=str(today + dt.timedelta(days=tolerance + 1))))
    report = validate_bytes(tiny_store, data, "v.csv", "visits", today=today)
    assert [(i.row, i.reason_key) for i in report.errors] == [(3, "date_in_future")]


def test_the_date_range_comes_from_the_definitions_file(tmp_path: Path,
                                                        tiny_store: Store) -> None:
    source = DEFAULT_PATH.read_text(encoding="utf-8")
    path = tmp_path / "definitions.toml"
    path.write_text(source.replace("programme_start = 2019-09-27",
                                   "programme_start = 2020-09-27"), encoding="utf-8")
    later = load_definitions(path)
    assert later.dates.programme_start == dt.date(2020, 9, 27)
    data = utf8(VISIT_HEADER, visit(1, visit_date="2020-08-18"))
    assert not validate_bytes(tiny_store, data, "v.csv", "visits").errors
    report = validate_bytes(tiny_store, data, "v.csv", "visits", definitions=later)
    assert [i.reason_key for i in report.errors] == ["date_before_programme"]
    path.write_text(source.replace("future_tolerance_days = 1", "future_tolerance_days = -1"),
                    encoding="utf-8")
    with pytest.raises(DefinitionsError, match=r"\[dates.future_tolerance_days\]"):
        load_definitions(path)


# --- text normalisation ------------------------------------------------------------------------


def test_digits_of_every_script_are_read_as_ascii(tiny_store: Store, cli_store: Path) -> None:
    data = (FOLDER / "citizen_id_digit_scripts.csv").read_bytes()
    report = validate_bytes(tiny_store, data, "ids.csv", "households")
    assert not report.errors
    assert report.frame["head_citizen_id"].tolist() == [
        synthetic_citizen_id(200 + k) for k in range(1, 5)]
    code, printed = run_cli("--lang", "en", "import", "--dry-run",
                            str(FOLDER / "citizen_id_digit_scripts.csv"), "--dataset",
                            "households")
    assert code == 0 and "accepted 4" in printed
    assert parse_citizen_id("¹¹⁰¹⁷⁰⁰²³⁰⁷¹⁶") == "1101700230716"  # crashed the check digit


def test_text_is_nfc_and_invisible_characters_are_named_in_ids() -> None:
    assert clean_text("e\u0301") == "é"
    # a tone mark typed before SARA U and after it: one spelling once normalised
    assert clean_text("ก\u0e48\u0e38") == clean_text("ก\u0e38\u0e48") == "ก\u0e38\u0e48"
    assert clean_text("นาง\u200bสมศรี") == "นางสมศรี"  # dropped from names
    with pytest.raises(CellError) as err:
        clean_code("H\u200d1")
    assert err.value.params["chars"] == "U+200D ZERO WIDTH JOINER"


@pytest.mark.parametrize("names", [1, 1200])
def test_a_name_in_two_unicode_forms_is_stored_once(tiny_store: Store, names: int) -> None:
    """One name typed in two forms is one name once normalised, whether the column is checked
    cell by cell or recognised as clean in bulk (a column of many distinct values)."""
    forms = ("กุ\u0e48ง", "ก\u0e48\u0e38ง")  # Thai: tone mark after or before SARA U
    rows = [household(k, head_name=f"{forms[k % 2]} {k % names}") for k in range(1, 1201)]
    report = validate_bytes(tiny_store, utf8(HH_HEADER, *rows), "hh.csv", "households")
    assert {name.split()[0] for name in report.frame["head_name"]} == {"กุ\u0e48ง"}


# --- files: encodings, limits, shapes ----------------------------------------------------------


def test_a_quoted_line_break_stays_in_its_cell_when_streamed_too(
        tiny_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "hh.csv"
    shutil.copyfile(FOLDER / "bare_cr_in_quoted_cell.csv", path)
    whole = validate_bytes(tiny_store, path.read_bytes(), "hh.csv", "households")
    monkeypatch.setattr(readers, "STREAM_CSV_BYTES", 0)
    streamed = importer.validate_file(tiny_store, path, "households")
    for report in (whole, streamed):
        assert report.rows_read == 2
        assert [(i.row, i.reason_key) for i in report.errors] == [(3, "out_of_range")]
    assert whole.frame["head_name"].tolist()[0] == "นาง ก ข"


def test_blank_rows_keep_the_row_numbers_the_officer_sees(tiny_store: Store) -> None:
    text = utf8(HH_HEADER, household(1)).decode() + "\n,,,,,,,,,,,,\n" + ",".join(
        household(2, members="99")) + "\n"
    report = validate_bytes(tiny_store, text.encode(), "hh.csv", "households")
    assert [(i.row, i.reason_key) for i in report.errors] == [(5, "out_of_range")]


def test_a_zip_bomb_is_refused_before_it_is_opened(tiny_store: Store,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the workbook was opened")

    monkeypatch.setattr(readers.openpyxl, "load_workbook", never)
    data = (FOLDER / "zip_bomb.xlsx").read_bytes()
    assert len(data) < 30_000
    report = validate_bytes(tiny_store, data, "bomb.xlsx", "visits")
    assert [i.reason_key for i in report.errors] == ["xlsx_too_large"]
    small = Limits(xlsx_uncompressed_bytes=10_000)
    fine = hostile_files.xlsx(VISIT_HEADER, visit(1))
    report = validate_bytes(tiny_store, fine, "v.xlsx", "visits", limits=small)
    assert [i.reason_key for i in report.errors] == ["xlsx_too_large"]


def test_a_long_thai_file_name_is_kept_under_a_safe_name_and_recorded(
        cli_store: Path) -> None:
    name = hostile_files.LONG_THAI_NAME
    code, printed = run_cli("--lang", "en", "import", str(FOLDER / name), "--dataset",
                            "households")
    assert code == 1 and name in printed
    journal = (cli_store / "import_attempts.jsonl").read_text(encoding="utf-8").splitlines()
    entry = json.loads(journal[-1])
    assert entry["file_name"] == name
    kept = Path(entry["raw_path"])
    assert kept.read_bytes() == (FOLDER / name).read_bytes()
    assert kept.name.isascii() and len(kept.name.encode()) <= 100
    assert safe_file_name("../../etc/passwd", "ab" * 32) == "abababababababab_passwd"


def test_an_accepted_upload_records_its_original_name(tiny_store: Store) -> None:
    name = "ครัวเรือน" * 20 + ".csv"
    report = import_bytes(tiny_store, utf8(HH_HEADER, household(1)), name, "households")
    assert report.committed, format_report(report, "en")
    log = tiny_store.table("import_log").execute()
    assert log["file_name"].iloc[-1] == name
    assert Path(log["raw_path"].iloc[-1]).name.isascii()


# --- the report --------------------------------------------------------------------------------


def test_the_report_shows_errors_first_with_the_total_of_each_kind(tiny_store: Store) -> None:
    """374 warnings and one error showed 50 warnings and no error line."""
    shared = synthetic_citizen_id(1)  # household H1's: a warning on every row
    rows = [household(k, head_citizen_id=shared) for k in range(1, 80)]
    rows.append(household(80, head_citizen_id=shared, members="99"))
    report = validate_bytes(tiny_store, utf8(HH_HEADER, *rows), "hh.csv", "households")
    assert (len(report.errors), len(report.warnings)) == (1, 160)
    text = format_report(report, "en", limit=50).splitlines()
    assert "errors: 1 · warnings: 160; by kind:" in text
    assert any(line.startswith("  1 × [error] value 99") for line in text)
    assert any(line.startswith("  80 × [warning] citizen ID also on row") for line in text)
    assert any(line.startswith("  80 × [warning] citizen ID already belongs") for line in text)
    first_issue = next(line for line in text if line.startswith("  ["))
    assert first_issue.startswith("  [error] row 81 · members:")
    assert text[-1].strip() == "… and 111 more"
    table = issues_frame(report, "en")
    assert table["severity"].iloc[0] == "error"


def test_file_content_is_shown_as_text_never_as_markup(tiny_store: Store) -> None:
    data = (FOLDER / "markdown_image_header.csv").read_bytes()
    report = validate_bytes(tiny_store, data, "![x](http://127.0.0.1:9/n.png).csv",
                            "households")
    header = "![x](http://127.0.0.1:9/leak.png)"
    assert header in report.headers.unknown
    safe = markdown_safe(header)
    assert safe == r"\!\[x\]\(http\://127\.0\.0\.1\:9/leak\.png\)"
    assert not re.search(r"(?<!\\)!\[", safe)
    assert markdown_safe('<img src="x" onerror="alert(1)">').startswith(r"\<img src\=\"x\"")
    assert markdown_safe(":red[alert] $x$") == r"\:red\[alert\] \$x\$"
    text = format_report(report, "en")
    assert text.splitlines()[0] == "Import of ![x](http://127.0.0.1:9/n.png).csv (households)"
    assert "\x1b" not in format_report(validate_bytes(
        tiny_store, b"", "\x1b[2Jclear.csv", "households"), "en")


# --- the store: no lock to check, cancel, the demo, leftovers ---------------------------------


def test_checking_an_upload_needs_only_a_second_connection(
        tiny_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation reads the store on a reader: the shared connection (the one the pages'
    queries hold a lock for) is not touched, not even to set the engine's memory."""
    reader = tiny_store.reader()
    monkeypatch.setattr(Store, "raw", property(lambda self: pytest.fail("shared connection")))
    data = utf8(VISIT_HEADER, visit(1), visit(2, household_id="H99"))
    report = validate_bytes(tiny_store, data, "v.csv", "visits", reader=reader)
    assert [(i.row, i.reason_key) for i in report.errors] == [(3, "unknown_reference")]


def test_an_upload_is_checked_without_the_lock_and_written_in_a_second_step(
        tiny_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = tiny_store.reader()
    with monkeypatch.context() as patched:  # the check never touches the shared connection
        patched.setattr(Store, "raw", property(lambda self: pytest.fail("shared connection")))
        checked = check_bytes(tiny_store, utf8(HH_HEADER, household(1)), "hh.csv",
                              "households", reader=reader)
    assert not checked.refused and checked.reports[0].frame is not None
    report = write_checked(tiny_store, checked, "officer")
    assert report.committed and tiny_store.count("household") == 9
    assert list(staging_root(tiny_store.store_dir).iterdir()) == []


def test_what_changed_between_the_check_and_the_write_is_checked_again(
        tiny_store: Store) -> None:
    """A visit to a household that an undo took away after the visit file was checked."""
    assert import_bytes(tiny_store, utf8(HH_HEADER, household(1)), "hh.csv",
                        "households").committed
    checked = check_bytes(tiny_store, utf8(VISIT_HEADER, visit(1, household_id="G1")),
                          "v.csv", "visits", reader=tiny_store.reader())
    assert not checked.refused
    assert undo_last_import(tiny_store) is not None
    before = tiny_store.data_version()
    report = write_checked(tiny_store, checked, "officer")
    assert not report.committed
    assert [(i.row, i.reason_key) for i in report.errors] == [(2, "unknown_reference")]
    assert tiny_store.data_version() == before


def test_an_import_can_be_cancelled_between_chunks(tiny_store: Store) -> None:
    before = tiny_store.data_version()
    asked: list[str] = []
    stages: list[str] = []

    def cancel() -> bool:
        asked.append("?")
        return len(asked) > 2  # after two chunks

    rows = [household(k) for k in range(1, 6)]
    report = import_bytes(tiny_store, utf8(HH_HEADER, *rows), "hh.csv", "households",
                          chunk_rows=1, cancel=cancel,
                          progress=lambda share, stage: stages.append(stage))
    assert not report.committed
    assert [i.reason_key for i in report.errors] == ["cancelled"]
    assert len(asked) == 3 and "write" not in stages
    assert tiny_store.data_version() == before
    assert tiny_store.count("household") == 8


def test_an_emptied_store_stays_empty_on_the_next_start(empty_store: Store,
                                                        tmp_path: Path) -> None:
    frames = tiny_frames()
    demo = write_csvs({"households": frames["households"]}, tmp_path / "demo")["households"]
    assert not held_an_import(empty_store)
    assert len(ensure_store(empty_store, demo.parent)) == 1  # a new store gets the demo
    assert undo_last_import(empty_store) is not None
    assert empty_store.count("household") == 0 and empty_store.count("import_log") == 0
    assert ensure_store(empty_store, demo.parent) == []
    assert empty_store.count("household") == 0


def test_a_store_from_before_the_mark_counts_its_journal(tmp_path: Path) -> None:
    store = Store.open(f"duckdb://{tmp_path / 'store.duckdb'}", store_dir=tmp_path)
    try:
        (tmp_path / "import_attempts.jsonl").write_text(
            '{"dataset": "households", "committed": true, "import_id": 1}\n', encoding="utf-8")
        assert held_an_import(store)
    finally:
        store.close()


def test_a_killed_imports_staging_folder_is_removed_at_the_next_start(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    root = staging_root(tmp_path)
    left = root / f"{dead}-0123456789ab"
    left.mkdir(parents=True)
    (left / "0_visits.parquet").write_bytes(b"PAR1")
    alive = root / f"{os.getppid()}-0123456789ab"  # another process's import, still running
    alive.mkdir()
    store = Store.open(f"duckdb://{tmp_path / 'store.duckdb'}", store_dir=tmp_path)
    try:
        store.set_meta(importer.HELD_IMPORT, "2020-01-01T00:00:00")  # no demo: just start
        ensure_store(store)
    finally:
        store.close()
    assert not left.exists() and alive.exists()
    assert clean_stale_staging(tmp_path) == []


def test_formulas_written_with_fullwidth_signs_are_neutralised_in_downloads() -> None:
    for cell in ("＝1+1", "＋1", "－1", "＠SUM(A1)", "=1", "﹦1"):
        assert neutralise_cell(cell) == "'" + cell
    assert neutralise_cell("１２") == "１２"
    csv = to_csv_bytes(pd.DataFrame({"note": ["＝HYPERLINK(\"http://x\")"]})).decode("utf-8-sig")
    assert csv.splitlines()[1].startswith("\"'＝HYPERLINK")
