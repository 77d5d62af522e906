"""Headers as offices write them, mappings an officer saves, and house codes as keys."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from loaders.__main__ import main
from loaders.contracts import HOUSEHOLDS, VISITS
from loaders.headers import IGNORE, SUGGEST, SURE, headers_signature, map_headers
from loaders.importer import import_file, import_files, validate_file
from loaders.mappings import (
    MappingError,
    SavedMapping,
    checked_mapping,
    find_mapping,
    list_mappings,
    read_mapping_file,
    remove_mapping,
    save_mapping,
)
from loaders.store import STORE_DIR_ENV, STORE_URL_ENV, Store
from loaders.users import audit_log
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "headers"
CODES = ("40050100101", "40050100102", "40050100103")


def errors(report: object) -> list[tuple[int | None, str | None, str]]:
    return [(i.row, i.column, i.reason_key) for i in report.errors]  # type: ignore[attr-defined]


# --- matching ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "column"), [
    ("ชื่อ-สกุล หัวหน้าครัวเรือน", "head_name"),
    ("ชื่อ - นามสกุล (หัวหน้าครัวเรือน)", "head_name"),
    ("เลขประจำตัวประชาชน 13 หลัก", "head_citizen_id"),
    ("เลขประจำตัวประชาชน ๑๓ หลัก", "head_citizen_id"),
    ("รหัสบ้าน (11 หลัก)", "house_code"),
    ("  จำนวนสมาชิกในครัวเรือน (คน) ", "members"),
    ("HOUSEHOLD  ID", "household_id"),
    ("Household_Size", "members"),
    ("อำเภอ", "amphoe_code"),
])
def test_a_header_as_offices_write_it_is_matched_surely(header: str, column: str) -> None:
    found = map_headers([header], HOUSEHOLDS)
    assert found.mapping == {header: column}
    assert not found.suggestions


def test_a_header_only_like_a_column_is_suggested_and_not_applied() -> None:
    found = map_headers(["วันที่เยี่ยมบ้าน", "รหัสการเยี่ยม"], VISITS)
    assert found.mapping == {"รหัสการเยี่ยม": "visit_id"}
    assert found.suggestions["วันที่เยี่ยมบ้าน"].column == "visit_date"
    assert SUGGEST <= found.suggestions["วันที่เยี่ยมบ้าน"].score < SURE
    assert "visit_date" in found.missing_required
    assert "วันที่เยี่ยมบ้าน" in found.unknown





def test_two_headers_sure_of_one_column_are_refused_and_a_weaker_one_gives_way() -> None:
    both = map_headers(["รหัสครัวเรือน", "household id"], HOUSEHOLDS)
    assert both.duplicated == ["household_id"]
    weaker = map_headers(["ชื่อ-สกุล", "ชื่อ-สกุล หัวหน้าครัวเรือน"], HOUSEHOLDS)
    assert weaker.mapping == {"ชื่อ-สกุล": "head_name"}
    assert weaker.suggestions["ชื่อ-สกุล หัวหน้าครัวเรือน"].column == "head_name"
    assert not weaker.duplicated


def test_a_chosen_mapping_decides_the_headers_it_names() -> None:
    chosen = {"ผู้แทนครัวเรือน": "head_name", "อำเภอ": IGNORE}
    found = map_headers(["ผู้แทนครัวเรือน", "อำเภอ", "สมาชิก"], HOUSEHOLDS, chosen, "mine")
    assert found.mapping == {"ผู้แทนครัวเรือน": "head_name", "สมาชิก": "members"}
    assert found.ignored == ["อำเภอ"]
    assert "amphoe_code" in found.missing_required
    assert found.saved_name == "mine"
    # next month's file spells the same headers a little differently
    again = map_headers(["ผู้แทน ครัวเรือน", " อำเภอ", "สมาชิก"], HOUSEHOLDS, chosen, "mine")
    assert again.mapping == {"ผู้แทน ครัวเรือน": "head_name", "สมาชิก": "members"}
    assert again.ignored == [" อำเภอ"]


def test_the_same_headers_in_any_order_and_spelling_have_one_signature() -> None:
    assert (headers_signature(["รหัสบ้าน", "ชื่อ - สกุล"])
            == headers_signature(["ชื่อ-สกุล", " รหัสบ้าน "]))
    assert headers_signature(["รหัสบ้าน"]) != headers_signature(["รหัสบ้าน", "ตำบล"])


# --- mappings saved in the store -------------------------------------------------------------


UNSURE = FIXTURES / "households_unsure_headers.csv"
BY_HAND = {"เลขที่บ้านตามทะเบียนราษฎร์": "house_code", "ผู้แทนครัวเรือน": "head_name",
           "เลขประจำตัวประชาชน": "head_citizen_id", "อำเภอ": "amphoe_code",
           "ตำบล": "tambon_code", "สมาชิก": "members"}


@pytest.mark.parametrize("problem", [
    ("", "households", BY_HAND, "mappings.no_name"),
    ("x" * 81, "households", BY_HAND, "mappings.name_too_long"),
    ("a", "farms", BY_HAND, "mappings.unknown_dataset"),
    ("a", "households", {"ผู้แทน": "head"}, "mappings.unknown_column"),
    ("a", "households", {"ก": "members", "ข": "members"}, "mappings.column_twice"),
    ("a", "households", {}, "mappings.empty"),
])
def test_a_mapping_that_cannot_be_used_is_refused_with_its_reason(
        problem: tuple[str, str, dict[str, str], str]) -> None:
    name, dataset, columns, key = problem
    with pytest.raises(MappingError) as caught:
        checked_mapping(name, dataset, columns)
    assert caught.value.key == key


def test_a_file_with_unsure_headers_is_refused_until_mapped_then_imports(
        tiny_store: Store) -> None:
    before = tiny_store.count("household")
    refused = import_file(tiny_store, UNSURE, "households")
    assert not refused.committed
    assert {(i.column, i.reason_key) for i in refused.errors} >= {
        ("head_name", "missing_column")}
    assert tiny_store.count("household") == before
    mapping = checked_mapping("อ.ชุมแพ ส่งออกจาก จปฐ.", "households", BY_HAND)
    saved = import_files(tiny_store, {"households": UNSURE}, mapping=mapping)[0]
    assert saved.committed, errors(saved)
    assert tiny_store.count("household") == before + 3


def test_a_saved_mapping_applies_to_the_next_file_with_the_same_headers(
        tiny_store: Store, tmp_path: Path) -> None:
    save_mapping(tiny_store, checked_mapping("อ.ชุมแพ ส่งออกจาก จปฐ.", "households", BY_HAND),
                 "officer@kk.go.th")
    again = tmp_path / "next_month.csv"
    shutil.copy(UNSURE, again)
    report = import_file(tiny_store, again, "households")
    assert report.committed, errors(report)
    assert report.headers is not None
    assert report.headers.saved_name == "อ.ชุมแพ ส่งออกจาก จปฐ."
    log = audit_log(tiny_store)
    assert (log.action == "mapping_save").sum() == 1
    assert "อ.ชุมแพ ส่งออกจาก จปฐ." in log.loc[log.action == "mapping_save", "object"].iloc[0]
    # another set of headers is matched as before
    other = validate_file(tiny_store, FIXTURES / "households_by_house_code.csv", "households")
    assert other.headers is not None and other.headers.saved_name is None


def test_mappings_are_saved_replaced_listed_and_removed_on_record(tiny_store: Store) -> None:
    first = checked_mapping("ชุมแพ", "households", BY_HAND)
    save_mapping(tiny_store, first, "a@kk.go.th")
    save_mapping(tiny_store, SavedMapping("ชุมแพ", "households", {**BY_HAND, "สมาชิก": IGNORE}),
                 "b@kk.go.th")
    kept = list_mappings(tiny_store)
    assert [m.name for m in kept] == ["ชุมแพ"]
    assert kept[0].columns["สมาชิก"] == IGNORE and kept[0].saved_by == "b@kk.go.th"
    remove_mapping(tiny_store, "ชุมแพ", "b@kk.go.th")
    assert find_mapping(tiny_store, "ชุมแพ") is None
    with pytest.raises(MappingError):
        remove_mapping(tiny_store, "ชุมแพ", "b@kk.go.th")
    actions = list(audit_log(tiny_store).action)
    assert actions.count("mapping_save") == 2 and actions.count("mapping_remove") == 1


def test_the_command_line_takes_a_mapping_file_and_keeps_mappings(
        tiny_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = f"duckdb://{tmp_path / 'store.duckdb'}"
    tiny_store.close()
    monkeypatch.setenv(STORE_URL_ENV, url)
    monkeypatch.setenv(STORE_DIR_ENV, str(tmp_path))
    toml = tmp_path / "chum_phae.toml"
    lines = [f'"{h}" = "{c}"' for h, c in BY_HAND.items()]
    toml.write_text('name = "อ.ชุมแพ ส่งออกจาก จปฐ."\ndataset = "households"\n\n[columns]\n'
                    + "\n".join(lines) + "\n", encoding="utf-8")
    assert read_mapping_file(toml).columns == BY_HAND
    assert main(["import", str(UNSURE), "--dataset", "households", "--dry-run"]) == 1
    assert "ผู้แทนครัวเรือน" in capsys.readouterr().err
    assert main(["import", str(UNSURE), "--dataset", "households",
                 "--mapping", str(toml), "--dry-run"]) == 0
    assert main(["mappings", "add", str(toml), "--by", "officer"]) == 0
    assert main(["mappings", "list"]) == 0
    assert "อ.ชุมแพ ส่งออกจาก จปฐ.\thouseholds\t6/6 headers" in capsys.readouterr().out
    assert main(["mappings", "show", "อ.ชุมแพ ส่งออกจาก จปฐ."]) == 0
    assert "ผู้แทนครัวเรือน -> head_name" in capsys.readouterr().out
    assert main(["import", str(UNSURE), "--dataset", "households",
                 "--mapping", "อ.ชุมแพ ส่งออกจาก จปฐ."]) == 0
    assert main(["mappings", "remove", "อ.ชุมแพ ส่งออกจาก จปฐ."]) == 0
    assert main(["--lang", "en", "mappings", "show", "อ.ชุมแพ ส่งออกจาก จปฐ."]) == 2
    assert "there is no saved mapping" in capsys.readouterr().err
    assert main(["import", str(UNSURE), "--dataset", "households", "--mapping", "gone"]) == 2
    store = Store.open(url, store_dir=tmp_path)
    try:
        assert store.count("household") == 11
    finally:
        store.close()


# --- house codes as keys ---------------------------------------------------------------------


def _household_ids(store: Store) -> dict[str, str]:
    return dict(store.execute(
        "SELECT house_code, household_id FROM household WHERE house_code IS NOT NULL"))


@pytest.mark.parametrize("name", ["households_by_house_code.csv",
                                  "households_by_house_code_tis620.csv"])
def test_households_known_only_by_house_code_get_stable_ids(tiny_store: Store,
                                                           name: str) -> None:
    report = import_file(tiny_store, FIXTURES / name, "households")
    assert report.committed, errors(report)
    ids = _household_ids(tiny_store)
    assert sorted(ids) == list(CODES)
    assert len(set(ids.values())) == 3
    for code, hid in ids.items():
        assert code not in hid and hid.startswith("HC")  # the code is not readable in the ID
    again = import_file(tiny_store, FIXTURES / "households_by_house_code.csv", "households")
    assert again.committed and (again.rows_inserted, again.rows_updated) == (0, 3)
    assert _household_ids(tiny_store) == ids


def test_the_derived_id_is_the_stores_own(tiny_store: Store, tmp_path: Path,
                                          tiny_template: Path) -> None:
    import_file(tiny_store, FIXTURES / "households_by_house_code.csv", "households")
    other_dir = tmp_path / "other"
    shutil.copytree(tiny_template, other_dir)
    (other_dir / "store.duckdb").unlink()
    other = Store.open(f"duckdb://{other_dir / 'store.duckdb'}", store_dir=other_dir)
    try:
        import_file(other, FIXTURES / "households_by_house_code.csv", "households")
        assert set(_household_ids(other).values()).isdisjoint(_household_ids(tiny_store).values())
    finally:
        other.close()


def test_visits_and_pairings_may_name_a_household_by_house_code(tiny_store: Store) -> None:
    reports = import_files(tiny_store, {
        "households": FIXTURES / "households_by_house_code.csv",
        "visits": FIXTURES / "visits_by_house_code.csv"})
    assert all(r.committed for r in reports), [errors(r) for r in reports]
    ids = _household_ids(tiny_store)
    visited = dict(tiny_store.execute(
        "SELECT visit_id, household_id FROM visit WHERE visit_id LIKE 'VC%'"))
    assert visited == {"VC1": ids[CODES[0]], "VC2": ids[CODES[1]], "VC3": ids[CODES[2]]}
    assert "house_code" not in {r[0] for r in tiny_store.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'visit'")}


def test_a_pairing_naming_an_unknown_house_code_is_refused_with_its_row(
        tiny_store: Store) -> None:
    import_file(tiny_store, FIXTURES / "households_by_house_code.csv", "households")
    before = tiny_store.count("pairing")
    report = import_file(tiny_store, FIXTURES / "pairings_unknown_house_code.csv", "pairings")
    assert errors(report) == [(3, "รหัสบ้าน", "house_code_unknown")]
    assert report.errors[0].value == "•••••••9999"  # personal data: the last four digits
    assert tiny_store.count("pairing") == before


def test_a_house_code_twice_in_a_file_is_refused_naming_both_rows(tiny_store: Store) -> None:
    before = tiny_store.count("household")
    report = import_file(tiny_store, FIXTURES / "households_house_code_twice.csv",
                         "households")
    assert errors(report) == [(5, "รหัสบ้าน (11 หลัก)", "duplicate_house_code")]
    assert report.errors[0].params == {"first_row": 3}
    assert tiny_store.count("household") == before


def test_one_house_code_for_two_households_is_refused(tiny_store: Store,
                                                     tmp_path: Path) -> None:
    import_file(tiny_store, FIXTURES / "households_by_house_code.csv", "households")
    # a file keyed by programme ID gives household H1 the code of another household
    lines = (FIXTURES / "households_by_house_code.csv").read_text(encoding="utf-8")
    header, first = lines.splitlines()[:2]
    path = tmp_path / "h1.csv"
    path.write_text(f"รหัสครัวเรือน,{header}\nH1,{first}\n", encoding="utf-8")
    report = import_file(tiny_store, path, "households")
    assert errors(report) == [(2, "รหัสบ้าน (11 หลัก)", "house_code_other_household")]
    assert report.errors[0].params["household"] == _household_ids(tiny_store)[CODES[0]]
