"""Follow-up: reasons computed in the engine, cases kept in the store, edits checked, on
record and refused when the case changed meanwhile. On the hand-made programme of
``tests/followup_factories.py``, where each reason is planted once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import pytest

from dashboard import store as door
from dashboard.queries import followup
from dashboard.store.privacy import NotAllowedError, Viewer
from domain.cases import CaseEdit, CaseError
from domain.definitions import DefinitionsError, load_definitions
from domain.filters import Area, Filters
from loaders import cases, users
from loaders.importer import import_file, undo_last_import
from loaders.store import Store
from tests.conftest import build_store
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
