"""Follow-up: reasons computed in the engine, cases kept in the store, edits checked, on
record and refused when the case changed meanwhile. On the hand-made programme of
``tests/followup_factories.py``, where each reason is planted once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

from dashboard import store as door
from dashboard.queries import followup
from dashboard.store.privacy import NotAllowedError, Viewer
from domain.cases import CaseEdit, CaseError
from domain.definitions import DefinitionsError, load_definitions
from domain.filters import Area, Filters
from loaders import cases, users
from loaders.importer import import_file, undo_last_import
from loaders.store import Store
from tests.conftest import ROOT, build_store
from tests.factories import write_csvs
from tests.followup_factories import EXPECTED, PLANTED_CASES, TODAY, followup_frames

OFFICER = Viewer(role="officer", email="officer@khonkaen.go.th")
COORDINATOR_4001 = Viewer(role="officer", email="coord.4001@khonkaen.go.th",
                          area=Area(amphoe=("4001",)))
ANALYST = Viewer(role="analyst", email="analyst@khonkaen.go.th")


@pytest.fixture(scope="session")
def followup_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("followup_template")
    store = build_store(folder, write_csvs(followup_frames(), folder / "files"))
    for case in PLANTED_CASES:
        cases.save_case(store, case, 0, "test")
    store.close()
    return folder


@pytest.fixture
def followup_folder(tmp_path: Path, followup_template: Path, use_store) -> Path:
    """A copy of the planted programme, opened by the dashboard's store door."""
    shutil.copytree(followup_template, tmp_path, dirs_exist_ok=True)
    use_store(tmp_path)
    return tmp_path


def listed(viewer: Viewer = OFFICER) -> followup.FollowupList:
    return followup.followup_list(door.store().con, Filters(), load_definitions(), viewer,
                                  TODAY, door.cases_version())


def test_every_planted_reason_is_found_and_nothing_else(followup_folder: Path) -> None:
    rows = listed().rows
    assert dict(zip(rows["household_id"], rows["reasons"], strict=True)) == EXPECTED
    assert "F0" not in set(rows["household_id"])  # on time, rising, its need helped


def test_the_list_is_ranked_by_the_weights_of_the_definitions(followup_folder: Path) -> None:
    rows = listed().rows
    assert list(rows["household_id"]) == ["F6", "F2", "F5", "F1", "F3", "F4", "F7"]
    assert list(rows["urgency"]) == [5, 4, 3, 2, 2, 1, 0]  # F1 before F3: longer unvisited
    assert rows.set_index("household_id").loc["F3", "unhelped_needs"] == "land"
    assert rows.set_index("household_id").loc["F4", "rounds_missed"] == 3


def test_the_counts_are_aggregates_any_role_may_read(followup_folder: Path) -> None:
    counts = followup.reason_counts(door.store().con, Filters(), load_definitions(), TODAY)
    assert counts == {"households": 7, **{reason: 1 for reason in EXPECTED.values() if reason}}


def test_the_list_keeps_to_the_filters_and_the_area(followup_folder: Path) -> None:
    rows = door.snapshot(COORDINATOR_4001.area).read(
        followup.followup_list, Filters(), load_definitions(), COORDINATOR_4001, TODAY)
    assert set(rows.rows["household_id"]) == {"F1", "F2", "F3"}
    with pytest.raises(NotAllowedError):
        listed(Viewer(role="viewer"))


def test_an_analyst_sees_the_list_with_names_and_notes_masked(followup_folder: Path) -> None:
    rows = listed(ANALYST).rows.set_index("household_id")
    assert rows.loc["F6", "head_name"] == "ทดสอบ F."
    assert rows.loc["F6", "house_no"] == "•••"
    assert rows.loc["F6", "official_name"] == "สอง ร."
    record = door.read_case(ANALYST, "F6")
    assert record is not None and record.case is not None and not record.editable
    assert record.case.note == "•••" and set(record.history["note"]) == {"•••"}
    officer = door.read_case(OFFICER, "F6")
    assert officer is not None and officer.case.note == "เบอร์ติดต่อลูกสาว"


def edit_of(household_id: str, **changes: object) -> CaseEdit:
    base = CaseEdit(household_id=household_id, status="in_progress",
                    next_action="ประสานเกษตรอำเภอ", agency_code="AGRI",
                    due_date=TODAY + dt.timedelta(days=14), note="โทรก่อนเข้าไป")
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize(("changes", "key"), [
    ({"due_date": TODAY - dt.timedelta(days=1)}, "followup.due_in_past"),
    ({"agency_code": "NOPE"}, "followup.unknown_agency"),
    ({"status": "closed", "close_reason": "  "}, "followup.reason_needed"),
    ({"note": "ก" * 2_001}, "followup.note_too_long"),
], ids=["due date in the past", "unknown agency", "closed without a reason", "long note"])
def test_bad_input_is_refused_and_writes_nothing(followup_folder: Path,
                                                 changes: dict[str, object], key: str) -> None:
    with pytest.raises(CaseError) as refused:
        door.save_case(OFFICER, edit_of("F2", **changes), 0, TODAY)
    assert refused.value.key == key
    after = door.read_case(OFFICER, "F2")
    assert after is not None and after.case is None and after.history.empty


def test_a_save_is_written_at_once_on_record_and_survives_a_restart(
        followup_folder: Path) -> None:
    version = door.cases_version()
    saved = door.save_case(COORDINATOR_4001, edit_of("F2"), 0, TODAY)
    assert saved.version == 1 and door.cases_version() != version
    rows = listed().rows.set_index("household_id")
    assert rows.loc["F2", "case_status"] == "in_progress"
    door.close()  # a restart: the store opened again from its file
    again = door.read_case(OFFICER, "F2")
    assert again is not None and again.case == saved
    assert list(again.history["changed_by"]) == [COORDINATOR_4001.email]
    log = users.audit_log(door.store())
    mine = log[log["user_email"] == COORDINATOR_4001.email]
    assert list(zip(mine["action"], mine["object"], strict=True)) == [
        ("case_edit", "household F2 v1 in_progress")]


def test_a_case_changed_meanwhile_is_not_overwritten(followup_folder: Path) -> None:
    first = door.read_case(OFFICER, "F6")
    second = door.read_case(OFFICER, "F6")  # another session, the same case
    assert first.case.version == second.case.version == 1
    door.save_case(OFFICER, edit_of("F6", status="resolved"), first.case.version, TODAY)
    with pytest.raises(door.CaseConflict) as conflict:
        door.save_case(OFFICER, edit_of("F6", note="ของฉัน"), second.case.version, TODAY)
    assert conflict.value.current.status == "resolved" and conflict.value.current.version == 2
    assert door.read_case(OFFICER, "F6").case.note == "โทรก่อนเข้าไป"


def test_only_officers_of_the_household_s_area_may_edit(followup_folder: Path) -> None:
    with pytest.raises(NotAllowedError):
        door.save_case(ANALYST, edit_of("F2"), 0, TODAY)
    with pytest.raises(NotAllowedError):  # F4 is in amphoe 4005
        door.save_case(COORDINATOR_4001, edit_of("F4"), 0, TODAY)
    with pytest.raises(NotAllowedError):
        door.save_case(dataclasses.replace(OFFICER, presenter=True), edit_of("F2"), 0, TODAY)
    assert door.read_case(COORDINATOR_4001, "F4") is None  # outside the area: not found
    log = users.audit_log(door.store())
    assert list(log["action"]).count("refused") == 3


def test_imports_and_their_undo_leave_the_cases_alone(tmp_path: Path,
                                                      followup_template: Path) -> None:
    shutil.copytree(followup_template, tmp_path, dirs_exist_ok=True)
    store = Store.open(f"duckdb://{tmp_path / 'store.duckdb'}", store_dir=tmp_path)
    try:
        before = cases.read_case(store, "F6"), len(cases.case_history(store, "F6"))
        again = import_file(store, tmp_path / "files" / "visits.csv", "visits",
                            imported_by="test")
        assert again.committed
        assert undo_last_import(store, undone_by="test") is not None
        assert (cases.read_case(store, "F6"), len(cases.case_history(store, "F6"))) == before
    finally:
        store.close()


def test_the_followup_thresholds_are_checked(tmp_path: Path) -> None:
    text = Path("data/definitions.toml").read_text(encoding="utf-8")
    path = tmp_path / "definitions.toml"
    path.write_text(text.replace("fell_back = 4", "fell_bak = 4"), encoding="utf-8")
    with pytest.raises(DefinitionsError, match=r"followup\.weights\.fell_bak"):
        load_definitions(path)
    path.write_text(text.replace("no_visit_after_days = 90", "no_visit_after_days = 0"),
                    encoding="utf-8")
    with pytest.raises(DefinitionsError, match="no_visit_after_days"):
        load_definitions(path)


# --- the page ---------------------------------------------------------------------------------

APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture
def page(followup_folder: Path, monkeypatch: pytest.MonkeyPatch):
    """Open the Follow-up page as a role on this computer (no sign-in), today = TODAY."""
    from streamlit.testing.v1 import AppTest

    from dashboard import ui

    monkeypatch.setattr(ui, "today", lambda: TODAY)

    def open_as(role: str, household: str = "", lang: str = "") -> AppTest:
        monkeypatch.setenv("KUSIAO_ROLE", role)
        at = AppTest.from_file(APP, default_timeout=90)
        for key, value in (("followup_household", household), ("lang", lang)):
            if value:
                at.query_params[key] = value
        at.run().switch_page("../pages/followup.py").run()
        assert not at.exception, at.exception
        return at

    return open_as


def table_of(at) -> dict[str, str]:
    frame = at.dataframe[-1 if len(at.dataframe) == 1 else 0].value
    return dict(zip(frame.iloc[:, 0], frame["เหตุผล"], strict=True))


def test_the_page_lists_the_reasons_as_words(page) -> None:
    at = page("officer")
    frame = at.dataframe[0].value
    assert list(frame["รหัสครัวเรือน"]) == ["F6", "F2", "F5", "F1", "F3", "F4", "F7"]
    assert list(frame["เหตุผล"])[:2] == ["เลยกำหนดดำเนินการ", "ระดับลดลงจากครั้งก่อน"]
    assert frame.loc[0, "หัวหน้าครัวเรือน"] == "นาง ทดสอบ F6"
    at.segmented_control(key="followup_group").set_value("buddy").run()
    groups = at.dataframe[0].value
    assert dict(zip(groups["คู่เสี่ยว"], groups["ครัวเรือนที่ต้องติดตาม"], strict=True)) == {
        "นาย หนึ่ง ใจดี (O1)": 3, "นาง สอง รักษ์ดี (O2)": 3, "(ไม่มีคู่เสี่ยว)": 1}


def test_an_analyst_reads_masked_rows_and_no_form(page) -> None:
    at = page("analyst", household="F6", lang="en")
    frame = at.dataframe[0].value
    assert frame.loc[0, "Head of household"] == "ทดสอบ F."
    assert "Action overdue" in set(frame["Reasons"])
    assert not at.get("form") and not at.text_area
    shown = " ".join(m.value for m in at.markdown)
    assert "•••" in shown and "เบอร์ติดต่อลูกสาว" not in shown


def test_a_viewer_sees_the_counts_only(page) -> None:
    at = page("viewer")
    assert at.metric[0].value == "7" and not at.dataframe
    assert "นาง ทดสอบ" not in str([m.value for m in at.markdown])


def test_bad_input_on_the_form_gets_a_message_and_keeps_what_was_typed(page) -> None:
    at = page("officer", household="F2")
    at.text_area(key="followup_F2_note").input("ก" * 2_001)
    at.selectbox(key="followup_F2_status").set_value("closed")
    at.button(key="followup_F2_save").click().run()
    assert [e.value for e in at.error] == [
        "บันทึกยาว 2,001 ตัวอักษร เกินที่รับได้ (2,000 ตัวอักษร): ยังไม่ได้บันทึก"]
    assert at.text_area(key="followup_F2_note").value == "ก" * 2_001
    at.text_area(key="followup_F2_note").input("ก" * 2_000)
    at.button(key="followup_F2_save").click().run()
    assert [e.value for e in at.error] == ["การปิดแผนต้องระบุเหตุผลที่ปิด: ยังไม่ได้บันทึก"]
    assert door.read_case(OFFICER, "F2").case is None


def test_two_sessions_editing_one_case_the_second_is_told(page) -> None:
    first, second = page("officer", household="F6"), page("officer", household="F6")
    first.selectbox(key="followup_F6_status").set_value("resolved")
    first.button(key="followup_F6_save").click().run()
    assert not first.exception and "บันทึกแล้ว (ครั้งที่ 2)" in [s.value for s in first.success]
    second.text_area(key="followup_F6_note").input("นัดใหม่วันศุกร์")
    second.button(key="followup_F6_save").click().run()
    warning = [w.value for w in second.warning]
    assert len(warning) == 1 and warning[0].startswith("แผนของครัวเรือนนี้ถูกแก้ไขโดย (officer)")
    assert "**สถานะ:** แก้ไขแล้ว" in " ".join(m.value for m in second.markdown)
    assert door.read_case(OFFICER, "F6").case.note == "เบอร์ติดต่อลูกสาว"
    second.button(key="followup_F6_save").click().run()  # seen the new state: saved now
    assert door.read_case(OFFICER, "F6").case.note == "นัดใหม่วันศุกร์"


def test_the_household_profile_shows_the_case_and_its_history(page) -> None:
    at = page("officer")
    at.switch_page("../pages/households.py")
    at.query_params["household"] = "F6"
    at.run()
    assert not at.exception, at.exception
    shown = " ".join(m.value for m in at.markdown)
    assert "**การติดตามช่วยเหลือ**" in shown and "**สถานะ:** กำลังดำเนินการ" in shown
    history = next(d.value for d in at.dataframe if "โดย" in d.value.columns)
    assert list(history["โดย"]) == ["test"] and list(history["ครั้งที่"]) == [1]


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_a_buddy_s_visit_list_is_an_a4_pdf_in_thai(page, downloads: dict[str, bytes]) -> None:
    at = page("officer")
    at.selectbox(key="followup_buddy").set_value("O2").run()
    text = pdf_text(downloads["visit_list_O2.pdf"])
    assert text.startswith("รายการเยี่ยมครัวเรือน: นาง สอง รักษ์ดี (O2)")
    assert "1. F6  นาง ทดสอบ F6" in text and "ที่อยู่: 6/1 หมู่ 1 ต.ชุมแพ อ.ชุมแพ" in text
    assert "เหตุผล: เลยกำหนดดำเนินการ" in text and "สิ่งที่ต้องทำต่อ: ติดตามการซ่อมบ้าน" in text
    assert text.index("F6") < text.index("F4") < text.index("F7")  # the most urgent first
    assert "ผลการเยี่ยมและสิ่งที่ทำ (เขียน):" in text and "F1" not in text
    assert {"visit_list_O2.csv", "visit_list_O2.xlsx"} <= set(downloads)
    page_size = PdfReader(io.BytesIO(downloads["visit_list_O2.pdf"])).pages[0].mediabox
    assert (round(float(page_size.width)), round(float(page_size.height))) == (595, 842)


def test_an_analyst_s_visit_list_has_no_names_or_house_numbers(
        page, downloads: dict[str, bytes]) -> None:
    page("analyst").selectbox(key="followup_buddy").set_value("O2").run()
    text = pdf_text(downloads["visit_list_O2.pdf"])
    assert "ทดสอบ F." in text and "นาง ทดสอบ F6" not in text and "6/1" not in text
    assert "สอง ร. (O2)" in text and "รักษ์ดี" not in text


def test_the_deputy_governor_sees_cases_by_amphoe_as_aggregates(page) -> None:
    by_place = followup.cases_by_place(door.store().con, Filters(), TODAY)
    assert by_place.to_dict("records") == [
        {"amphoe_code": "4005", "open_cases": 2, "overdue": 1, "done": 0}]
    later = followup.cases_by_place(door.store().con, Filters(), dt.date(2026, 3, 2))
    assert later["overdue"].tolist() == [2]  # F7 due 1 Mar 2026
    at = page("viewer")
    at.switch_page("../pages/overview.py").run()
    assert not at.exception, at.exception
    cards = {m.label: m.value for m in at.metric}
    assert (cards["แผนช่วยเหลือที่ยังดำเนินการ"], cards["เลยกำหนด"], cards["แก้ไขแล้วหรือปิด"]) == (
        "2", "1", "0")
    table = next(d.value for d in at.dataframe if "เลยกำหนด" in d.value.columns)
    assert table.to_dict("records") == [
        {"อำเภอ": "ชุมแพ", "แผนช่วยเหลือที่ยังดำเนินการ": 2, "เลยกำหนด": 1, "แก้ไขแล้วหรือปิด": 0}]


def test_the_map_colours_amphoe_by_cases_overdue() -> None:
    from dashboard.views import geo

    values = pd.DataFrame({"amphoe_code": ["4001", "4005", "4011"],
                           "households": [40, 30, 3]})
    by_place = pd.DataFrame({"amphoe_code": ["4005", "4011"], "overdue": [7, 1]})
    shown = geo.with_cases_overdue(values, by_place, "amphoe_code")
    assert shown["cases_overdue"].tolist() == [0, 7, 1]
    colouring = geo.colour_places(shown, values[["amphoe_code"]], "cases_overdue", 38_000)
    assert colouring.scheme.kind == "count" and colouring.lagging == ()
    assert colouring.frame["klass"].tolist() == ["c0", "c3", "hidden"]  # 3 households: hidden


def test_the_map_offers_cases_overdue(page) -> None:
    at = page("viewer")
    at.switch_page("../pages/map.py").run()
    at.selectbox(key="map_indicator").set_value("cases_overdue").run()
    assert not at.exception, at.exception
    assert "แผนติดตามที่เลยกำหนด (ครัวเรือน)" in at.dataframe[0].value.columns


def test_cases_by_quarter_and_the_presenter_slide(followup_folder: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard.briefing import slides as briefing
    from dashboard.store import Direct

    store = door.store()
    saves = [("F2", 1, "in_progress", dt.date(2026, 2, 15), dt.datetime(2026, 1, 5, 3)),
             ("F3", 1, "open", dt.date(2026, 6, 30), dt.datetime(2026, 1, 10, 3)),
             ("F3", 2, "resolved", dt.date(2026, 6, 30), dt.datetime(2026, 4, 20, 3))]
    for household, version, status, due, at in saves:
        monkeypatch.setattr(cases, "_now", lambda at=at: at)
        cases.save_case(store, edit_of(household, status=status, due_date=due), version - 1,
                        "test")
    amphoe = Filters(amphoe="4001")  # the planted F6 and F7 are in 4005
    today = dt.date(2026, 5, 10)
    frame = followup.cases_by_quarter(store.con, amphoe, today)
    assert frame.to_dict("records") == [
        {"q_idx": 25692, "opened": 2, "resolved": 0, "overdue": 1},  # F2 due 15 Feb
        {"q_idx": 25693, "opened": 0, "resolved": 1, "overdue": 1}]  # F3 resolved 20 Apr
    data = briefing.collect(Direct(store.con), amphoe, load_definitions(), ["followup"],
                            today=today)
    meta = briefing.Meta("th", "", dt.date(2020, 9, 30), today)
    slide = briefing.build_slide("followup", data, load_definitions(), meta, ())
    assert [(k.label, k.value) for k in slide.kpis] == [
        ("เปิดแผนใหม่", "2"), ("แก้ไขแล้วหรือปิด", "1"), ("เลยกำหนดตอนนี้", "1")]
    assert [trace.name for trace in slide.figure.data] == [
        "เปิดแผนใหม่", "แก้ไขแล้วหรือปิด", "เลยกำหนด (สิ้นไตรมาส)"]
    assert list(slide.figure.data[0].x) == ["ไตรมาส 2/2569", "ไตรมาส 3/2569"]
    nothing = briefing.collect(Direct(store.con), Filters(amphoe="4011"), load_definitions(),
                               ["followup"], today=today)
    assert nothing.followup.empty
