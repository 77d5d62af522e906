"""The data officer's workbench: quality checks on planted and clean data, and the Import page
through AppTest's file uploader."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.queries.quality import CHECKS, quality_report
from domain.definitions import load_definitions
from domain.filters import Filters
from loaders.importer import staging_root
from loaders.store import Store
from tests.conftest import ROOT, build_store
from tests.factories import household, synthetic_citizen_id, tiny_frames, visit, write_csvs
from tests.loaders.test_importer import THAI_HEADERS, thai_csv, thai_household_rows
from tests.pages.test_app import copy_of, run_app

DEFS = load_definitions()


def clean_frames() -> dict[str, pd.DataFrame]:
    """Four households visited every round by their own buddy, incomes moving gently."""
    frames = tiny_frames()
    households = [household(f"H{i}", "4001", "400101") for i in range(1, 5)]
    pairings = [{"official_id": "O1" if i <= 2 else "O2", "household_id": f"H{i}",
                 "start_date": "2019-09-27", "end_date": ""} for i in range(1, 5)]
    dates = ["2019-10-15", "2020-01-15", "2020-04-15", "2020-07-15"]
    visits = [visit(f"V{i}{r}", f"H{i}", "O1" if i <= 2 else "O2", dates[r],
                    level=1 + (r + i) % 2, round_=r)
              for i in range(1, 5) for r in range(4)]
    return {"households": pd.DataFrame(households), "officials": frames["officials"],
            "pairings": pd.DataFrame(pairings), "visits": pd.DataFrame(visits)}


def test_every_planted_anomaly_is_found(demo_store_dir: Path) -> None:
    from loaders.demo import generate, planted_anomalies

    planted = planted_anomalies(generate())
    store = Store.open(f"duckdb://{demo_store_dir / 'store.duckdb'}", store_dir=demo_store_dir)
    try:
        report = quality_report(store.con, Filters(), DEFS)
    finally:
        store.close()
    found = {check: set(frame["visit_id"] if "visit_id" in frame else frame["household_id"])
             for check, frame in report.checks.items()}
    assert found["duplicate_citizen_id"] == set(planted["duplicate_citizen_id"])
    assert found["tambon_not_in_amphoe"] == set(planted["tambon_not_in_amphoe"])
    assert found["income_outlier"] == set(planted["income_outlier"])
    assert found["visit_not_by_buddy"] == set(planted["visit_not_by_buddy"])
    assert found["missed_rounds"] == set(planted["missed_rounds"])
    assert set(planted["income_outlier"]) <= found["income_jump"]  # a slip is also a jump
    assert found["duplicate_household"] == set()
    assert report.last_round == 11
    assert len(report.scores) == 26 and report.scores["score"].between(0, 100).all()


def test_a_clean_dataset_has_no_findings(tmp_path: Path) -> None:
    store = build_store(tmp_path, write_csvs(clean_frames(), tmp_path / "files"))
    try:
        report = quality_report(store.con, Filters(), DEFS)
    finally:
        store.close()
    assert {check: len(report.checks[check]) for check in CHECKS} == dict.fromkeys(CHECKS, 0)
    assert report.completeness_place["completeness"].tolist() == [1.0]
    assert report.scores["score"].tolist() == [100.0]


def test_the_tiny_programme_findings_are_the_known_ones(tiny_store: Store) -> None:
    report = quality_report(tiny_store.con, Filters(), DEFS)
    # H6 has never had a buddy (V06 by O2); H5 was visited by O1 after its pairing closed
    assert report.checks["visit_not_by_buddy"]["visit_id"].tolist() == ["V06", "V16"]
    # follow-up rounds 1-4: H2, H5 and H7 were seen again only in round 4 (3 missed in a row),
    # H6 never after baseline, H8 never; H1 (rounds 1, 4), H3 (3) and H4 (2) missed 2 at most
    missed = report.checks["missed_rounds"].set_index("household_id")["longest_gap"].to_dict()
    assert missed == {"H2": 3, "H5": 3, "H6": 4, "H7": 3, "H8": 4}
    assert report.checks["income_outlier"].empty


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first dataframe on the page that has ``column`` (AppTest finds tables by position,
    not by key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def page_as(monkeypatch: pytest.MonkeyPatch, role: str, page: str) -> AppTest:
    """``pages/<page>`` opened through the entrypoint by a deployment for ``role``."""
    monkeypatch.setenv("KUSIAO_ROLE", role)
    at = run_app()
    at.switch_page(f"../pages/{page}").run()
    assert not at.exception
    return at


def upload_app(monkeypatch: pytest.MonkeyPatch, folder: Path, role: str = "officer") -> AppTest:
    return page_as(monkeypatch, role, "data_import.py")


def test_import_page_saves_a_good_cp874_file_with_buddhist_era_dates_and_undoes_it(
        tmp_path: Path, tiny_template, use_store, monkeypatch: pytest.MonkeyPatch) -> None:
    store_dir = copy_of(tiny_template, tmp_path)
    use_store(store_dir)
    at = upload_app(monkeypatch, store_dir)
    at.text_input(key="import_by").set_value("สมใจ").run()
    at.file_uploader[0].set_value(("อำเภอเมือง.csv", thai_csv(thai_household_rows(), "cp874"),
                                   "text/csv")).run()
    assert not at.exception
    assert "cp874" in " ".join(c.value for c in at.caption)
    assert "พ.ศ." in " ".join(c.value for c in at.caption)
    assert {m.label: m.value for m in at.metric}["ผ่าน (แถว)"] == "3"
    at.button(key="import_commit").click().run()
    assert not at.exception
    assert "บันทึกแล้ว" in at.success[0].value
    history = table_with(at, "ผู้นำเข้า")
    assert history.iloc[0]["ผู้นำเข้า"] == "สมใจ" and history.iloc[0]["รับ"] == 3
    store = Store.open(f"duckdb://{store_dir / 'store.duckdb'}", store_dir=store_dir)
    assert store.count("household") == 11
    store.close()
    at.checkbox(key="import_undo_sure").check().run()
    at.button(key="import_undo").click().run()
    assert not at.exception
    assert "ย้อนการนำเข้าครั้งที่ 6 แล้ว" in at.success[0].value
    assert len(table_with(at, "ผู้นำเข้า")) == 5


def test_a_cancelled_check_writes_nothing_until_asked_again(
        tmp_path: Path, tiny_template, use_store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The officer's Cancel (a click stops the running check at its next progress step; here
    it comes between two runs): nothing is staged or saved, and the file is checked again
    only when asked."""
    store_dir = copy_of(tiny_template, tmp_path)
    use_store(store_dir)
    at = upload_app(monkeypatch, store_dir)
    at.file_uploader[0].set_value(("อำเภอเมือง.csv", thai_csv(thai_household_rows(), "cp874"),
                                   "text/csv")).run()
    assert at.button(key="import_commit")  # checked: ready to save
    at.button(key="import_cancel").click().run()
    assert not at.exception
    assert "ยกเลิกการตรวจไฟล์นี้แล้ว" in at.info[0].value
    assert not [b for b in at.get("button") if getattr(b, "key", None) == "import_commit"]
    staged = staging_root(store_dir)
    assert not staged.exists() or list(staged.iterdir()) == []  # the staged rows removed
    at.button(key="import_check_again").click().run()
    assert not at.exception and at.button(key="import_commit")
    store = Store.open(f"duckdb://{store_dir / 'store.duckdb'}", store_dir=store_dir)
    assert store.count("household") == 8  # nothing saved by any of it
    store.close()


def test_the_import_page_shows_headers_and_file_names_as_text(
        tmp_path: Path, tiny_template, use_store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A header written as a Markdown image and a file name with Markdown in it reach the
    page as text: nothing a browser would fetch or render as markup."""
    use_store(copy_of(tiny_template, tmp_path))
    at = upload_app(monkeypatch, tmp_path)
    frame = pd.DataFrame(thai_household_rows(), columns=THAI_HEADERS)
    frame["![x](http://127.0.0.1:9/pixel.png)"] = ""  # a header no column has
    at.file_uploader[0].set_value(("**bold** [link](http://127.0.0.1:9).csv",
                                   frame.to_csv(index=False).encode("utf-8"),
                                   "text/csv")).run()
    assert not at.exception
    shown = ([c.value for c in at.caption] + [m.value for m in at.markdown]
             + [s.label for s in at.selectbox])  # each header's column choice, by its header
    unknown = next(text for text in shown if "pixel" in text)
    assert "![x](" not in unknown and r"\!\[x\]\(" in unknown
    assert not any("](http" in text for text in shown)


def test_import_page_refuses_a_bad_file_and_offers_the_rejected_rows(
        tmp_path: Path, tiny_template, use_store, monkeypatch: pytest.MonkeyPatch) -> None:
    use_store(copy_of(tiny_template, tmp_path))
    at = upload_app(monkeypatch, tmp_path)
    rows = thai_household_rows()
    rows[1][2] = "1101700230719"
    at.file_uploader[0].set_value(("bad.csv", thai_csv(rows, "utf-8"), "text/csv")).run()
    assert not at.exception
    issues = table_with(at, "เหตุผล")
    assert issues["แถว"].tolist() == [3]
    assert "หลักตรวจสอบไม่ตรง" in issues["เหตุผล"].iloc[0]
    assert at.error and "ไม่ได้บันทึกข้อมูลใดเลย" in at.error[0].value
    assert [b for b in at.get("button") if getattr(b, "key", None) == "import_commit"] == []
    assert len(at.get("download_button")) == 2  # rejected rows as CSV and Excel


def test_import_page_is_for_the_data_officer(tmp_path: Path, tiny_template, use_store,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    use_store(copy_of(tiny_template, tmp_path))
    at = upload_app(monkeypatch, tmp_path, role="analyst")
    assert not at.file_uploader
    assert "officer" in at.info[0].value


def quality_page(use_store, folder: Path, monkeypatch: pytest.MonkeyPatch, role: str) -> AppTest:
    """The Data quality page on the store in ``folder``, seen in ``role``."""
    use_store(folder)
    return page_as(monkeypatch, role, "data_quality.py")


def test_quality_page_masks_for_analysts_and_hides_rows_from_viewers(
        tmp_path: Path, tiny_template, use_store, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = copy_of(tiny_template, tmp_path)
    store = Store.open(f"duckdb://{folder / 'store.duckdb'}", store_dir=folder)
    from loaders.importer import import_bytes

    rows = thai_household_rows()
    rows[0][2] = synthetic_citizen_id(1)  # the same ID as H1: a duplicate to find
    assert import_bytes(store, thai_csv(rows, "utf-8"), "dup.csv", "households").committed
    store.close()
    at = quality_page(use_store, folder, monkeypatch, "analyst")
    rows_shown = table_with(at, "เลขประจำตัวประชาชน")
    assert rows_shown["เลขประจำตัวประชาชน"].tolist() == ["0-xxxx-xxxxx-xx-" +
                                                          synthetic_citizen_id(1)[-1]] * 2
    at = quality_page(use_store, folder, monkeypatch, "viewer")
    assert not any("รหัสครัวเรือน" in d.value.columns for d in at.dataframe)
    assert "ตัวเลขรวม" in at.info[0].value


def test_the_officer_chooses_the_sheet_of_a_workbook_and_sees_its_first_rows(
        tmp_path: Path, tiny_template, use_store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A workbook of three sheets (a cover note, the households, a hidden code list): read
    from the first with the dataset's headers, the report naming it, until the officer
    chooses another."""
    use_store(copy_of(tiny_template, tmp_path))
    at = upload_app(monkeypatch, tmp_path)
    workbook = (ROOT / "tests" / "fixtures" / "offices" / "two_sheets_si_chomphu.xlsx")
    at.file_uploader[0].set_value((workbook.name, workbook.read_bytes(),
                                   "application/vnd.ms-excel")).run()
    assert not at.exception
    sheet = next(box for box in at.selectbox if box.key.startswith("import_sheet_"))
    assert sheet.label == "ชีตที่จะอ่าน (ไฟล์นี้มี 3 ชีต)"
    assert sheet.options == ["ชีตแรกที่มีหัวตารางของชุดข้อมูลนี้", "คำอธิบาย · 3 แถว",
                             "ครัวเรือน · 5 แถว", "รหัสอำเภอ · 4 แถว · ซ่อนอยู่"]
    assert {m.label: m.value for m in at.metric}["ผ่าน (แถว)"] == "4"
    assert "ครัวเรือน" in table_with(at, "เหตุผล")["เหตุผล"].iloc[0]  # the sheet read
    sheet.set_value("คำอธิบาย").run()
    assert not at.exception
    assert at.error and "ไม่ได้บันทึกข้อมูลใดเลย" in at.error[0].value  # no headers there
    assert any("คำอธิบาย" in e.label for e in at.expander)  # its first rows, to see why
    at.selectbox(key=sheet.key).set_value("ครัวเรือน").run()
    assert {m.label: m.value for m in at.metric}["ผ่าน (แถว)"] == "4"
    assert not at.error
