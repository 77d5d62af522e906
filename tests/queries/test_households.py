"""Households explorer and profile: search, the profile's story, and what each role may see.

The role tests assert on the values that reach the browser: the dataframe element's data and
the bytes handed to the download buttons (captured where Streamlit stores them), plus a scan
of every element on the page for raw personal data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.queries import households as hh
from dashboard.store.privacy import NotAllowedError, Viewer, mask_citizen_id, mask_name
from dashboard.ui import identity
from dashboard.views import exports, household_charts
from dashboard.views import households as households_views
from domain.definitions import load_definitions
from domain.filters import Filters
from loaders.store import Store
from tests.factories import synthetic_citizen_id
from tests.pages.test_app import copy_of, run_app

DEFS = load_definitions()
LEVELS = {0: "ต่ำกว่าอยู่รอด", 1: "อยู่รอด", 2: "พอเพียง", 3: "ยั่งยืน"}
RAW_NAMES = [f"นาง ทดสอบ H{i}" for i in range(1, 9)]
RAW_IDS = [synthetic_citizen_id(i) for i in range(1, 9)]
OFFICIAL_NAMES = ["นาย หนึ่ง", "นาย สอง", "นาง สาม"]


# --- masking on the tiny programme's Thai names and IDs -------------------------------------

@pytest.mark.parametrize(("raw", "masked"), [
    ("นาง ทดสอบ H2", "ทดสอบ H."),
    ("นาย หนึ่ง", "ห…"),  # a lone name keeps only its first letter
    ("นางสาว ใจดี แสงทอง", "ใจดี ส."),
    ("จ.ส.ต.อนุวัฒน์ นามวงศ์", "จ.ส.ต.อนุวัฒน์ น."),  # a rank stays; the surname goes
])
def test_mask_name_on_thai_names(raw: str, masked: str) -> None:
    assert mask_name(raw) == masked


def test_mask_citizen_id_keeps_only_the_first_and_check_digit() -> None:
    raw = synthetic_citizen_id(2)
    assert mask_citizen_id(raw) == f"0-xxxx-xxxxx-xx-{raw[-1]}"
    assert raw[1:-1] not in mask_citizen_id(raw)


def test_markdown_text_disarms_links_and_formatting() -> None:
    assert (households_views.markdown_text("[x](http://e.vil) *b*")
            == r"\[x\]\(http://e\.vil\) \*b\*")
    assert households_views.markdown_text("สมชาย ท.") == r"สมชาย ท\."


# --- search -------------------------------------------------------------------------------------

def test_parse_search_reads_ids_codes_villages_and_places() -> None:
    assert hh.parse_search(" KK-4001-0001 ") == hh.Search(text="KK-4001-0001",
                                                          name="kk-4001-0001")
    assert hh.parse_search("นาย สมชาย  ทองดี").name == "สมชายทองดี"  # no title, no spaces
    assert hh.parse_search("4001-xxxxxx-x").masked_house_code == "4001"
    assert hh.parse_search("๔๐๐๑๙๙๐๑๔๐๒").digits == "40019901402"  # Thai digits
    assert hh.parse_search("ม.5").moo == 5 and hh.parse_search("ม.5").text == ""
    sila = hh.parse_search("ต.ศิลา หมู่ที่ 12")
    assert sila.moo == 12 and "400114" in sila.tambon_codes
    assert hh.parse_search("Sila moo 3").tambon_codes == sila.tambon_codes
    assert hh.parse_search("เมืองขอนแก่น").amphoe_codes == ("4001",)


@pytest.mark.parametrize(("value", "expected"), [
    ("H2", "H2"), (" KK-4001-0001 ", "KK-4001-0001"), ("", None), (None, None),
    ("x" * 65, None), ("H2'; DROP TABLE household; --", None), ("<script>", None),
    (["H2"], None),
])
def test_valid_household_id(value: object, expected: str | None) -> None:
    assert hh.valid_household_id(value) == expected


def ids(table: hh.HouseholdTable) -> list[str]:
    return list(table.rows["household_id"])


def test_table_search_filters_and_sorts(tiny_store: Store) -> None:
    con, analyst = tiny_store.con, Viewer("analyst")
    assert ids(hh.household_table(con, Filters(), DEFS, analyst, search="h2")) == ["H2"]
    assert ids(hh.household_table(con, Filters(), DEFS, analyst, search="ม.1")) == [
        f"H{i}" for i in range(1, 9)]
    assert ids(hh.household_table(con, Filters(), DEFS, analyst, search="หมู่ 2")) == []
    in_4005 = hh.household_table(con, Filters(), DEFS, analyst, search="ต.ชุมแพ")  # tambon 400501
    assert ids(in_4005) == ["H7", "H8"]
    # incomes: 40,000 at level 2-3, 20,000 below; H8 was never visited
    assert ids(hh.household_table(con, Filters(), DEFS, analyst, income="at_or_above")) == [
        "H1", "H2", "H5"]
    overdue = hh.household_table(con, Filters(), DEFS, analyst, recency="overdue")
    assert ids(overdue) == ["H4", "H6", "H8"]  # last visits in May 2020, Oct 2019, never
    assert ids(hh.household_table(con, Filters(), DEFS, analyst, sort="level"))[:3] == [
        "H8", "H4", "H6"]
    limited = hh.household_table(con, Filters(amphoe="4001"), DEFS, analyst, limit=2)
    assert (len(limited.rows), limited.total, limited.truncated) == (2, 6, True)


def test_names_and_partial_house_codes_are_searchable_only_by_who_sees_them(
        tiny_store: Store) -> None:
    tiny_store.execute("UPDATE household SET house_code = '40010100002' WHERE household_id = 'H2'")
    con = tiny_store.con
    for search in ("ทดสอบ H2", "4001010"):
        assert ids(hh.household_table(con, Filters(), DEFS, Viewer("officer"),
                                      search=search)) == ["H2"]
        assert ids(hh.household_table(con, Filters(), DEFS, Viewer("analyst"),
                                      search=search)) == []
        assert ids(hh.household_table(con, Filters(), DEFS, Viewer("officer", presenter=True),
                                      search=search)) == []
    # the whole code finds the household for whoever sees codes, and nothing for an analyst,
    # who sees "4001-xxxxxx-x": typing a code must not confirm whose it is
    found = hh.household_table(con, Filters(), DEFS, Viewer("officer"), search="40010100002")
    assert ids(found) == ["H2"]
    for viewer in (Viewer("analyst"), Viewer("officer", presenter=True)):
        assert ids(hh.household_table(con, Filters(), DEFS, viewer,
                                      search="40010100002")) == []


def test_a_name_is_found_as_the_role_sees_it_ignoring_titles_and_spaces(
        tiny_store: Store) -> None:
    tiny_store.execute("UPDATE household SET head_name = 'นางสาว มาลี  เพ็ญศรี' "
                       "WHERE household_id = 'H3'")
    con = tiny_store.con
    officer, analyst = Viewer("officer"), Viewer("analyst")
    for search in ("มาลี", "มาลีเพ็ญ", "นางสาวมาลี เพ็ญศรี", " มาลี   เพ็ญศรี ", "ลี เพ็"):
        assert ids(hh.household_table(con, Filters(), DEFS, officer, search=search)) == ["H3"]
    # an analyst sees "มาลี พ." and finds it by what is shown, never by more of the surname
    for search in ("มาลี", "มาลี พ.", "มาลีพ", "นางสาว มาลี พ."):
        found = hh.household_table(con, Filters(), DEFS, analyst, search=search)
        assert ids(found) == ["H3"] and found.rows.loc[0, "head_name"] == "มาลี พ."
    for search in ("มาลี เพ็ญ", "เพ็ญศรี"):
        assert ids(hh.household_table(con, Filters(), DEFS, analyst, search=search)) == []


def test_a_house_code_is_found_in_its_masked_form(tiny_store: Store) -> None:
    tiny_store.execute("UPDATE household SET house_code = '40050100007' WHERE household_id = 'H7'")
    found = hh.household_table(tiny_store.con, Filters(), DEFS, Viewer("analyst"),
                               search="4005-xxxxxx-x")
    assert ids(found) == ["H7"]


def test_unmet_needs_in_the_table(tiny_store: Store) -> None:
    rows = hh.household_table(tiny_store.con, Filters(), DEFS, Viewer("analyst")).rows
    unmet = dict(zip(rows["household_id"], rows["unmet_needs"], strict=True))
    # every visited household asks for land; the only help (A1) is occupation help to H1
    assert unmet == {**{f"H{i}": "land" for i in range(1, 8)}, "H8": ""}


# --- the profile ----------------------------------------------------------------------------

def test_profile_of_a_household_that_climbed_two_steps_with_an_unmet_need(
        tiny_store: Store) -> None:
    profile = hh.household_profile(tiny_store.con, Filters(), DEFS, "H2", Viewer("analyst"))
    assert profile is not None
    assert list(profile.visits["visit_id"]) == ["V02", "V15"]
    assert list(profile.visits["level"]) == [0, 2]
    assert (profile.baseline["level"], profile.latest["level"]) == (0, 2)
    assert profile.gaps == ("savings", "informal_debt", "income_sources")
    assert profile.unmet == ("land",)
    land = profile.needs.set_index("need").loc["land"]
    assert (land["at_baseline"], land["needed_now"], land["delivered"]) == (True, True, 0)
    assert profile.assistance.empty
    # จปฐ. 8 failed at baseline and passes now: it leads the list (nothing fails now)
    first = profile.indicators.iloc[0]
    assert (first["indicator"], first["baseline"], first["latest"]) == (8, False, True)
    assert profile.indicators["latest"].isin([False]).sum() == 0
    assert profile.record["head_name"] == "ทดสอบ H."
    assert profile.current_buddy["official_name"] == "ห…"  # O1 "นาย หนึ่ง", masked
    display = households_views.needs_for_display(profile.needs, "th")
    assert display.iloc[0].tolist()[:2] == ["ที่ดินทำกิน", "⚠ ยังไม่ได้รับความช่วยเหลือ"]


def test_profile_help_received_counts_against_the_need(tiny_store: Store) -> None:
    profile = hh.household_profile(tiny_store.con, Filters(), DEFS, "H1", Viewer("officer"))
    needs = profile.needs.set_index("need")
    assert needs.loc["occupation", "delivered"] == 1
    assert needs.loc["occupation", "delivered_baht"] == 5000
    assert not needs.loc["occupation", "needed_now"]
    assert profile.unmet == ("land",)
    assert list(profile.visits["level"]) == [1, 2, 3] and profile.gaps == ()
    assert profile.record["head_name"] == "นาง ทดสอบ H1"  # an officer sees the record


def test_profile_pairing_history_and_no_such_household(tiny_store: Store) -> None:
    h5 = hh.household_profile(tiny_store.con, Filters(), DEFS, "H5", Viewer("analyst"))
    assert list(h5.pairings["official_id"]) == ["O2"]
    assert h5.pairings["end_date"].notna().all() and h5.current_buddy is None
    assert hh.household_profile(tiny_store.con, Filters(), DEFS, "H99", Viewer("analyst")) is None
    h8 = hh.household_profile(tiny_store.con, Filters(), DEFS, "H8", Viewer("analyst"))
    assert h8.latest is None and h8.gaps == () and h8.indicators["latest"].isna().all()


def test_profile_charts_stack_income_by_source_and_step_the_levels(tiny_store: Store) -> None:
    profile = hh.household_profile(tiny_store.con, Filters(), DEFS, "H1", Viewer("analyst"))
    income = household_charts.income_timeline_chart(profile.visits, DEFS.income_line, "th")
    assert [tr.name for tr in income.data] == ["อาชีพหลัก", "อาชีพเสริม", "เงินที่ลูกหลานส่งให้",
                                               "สวัสดิการ", "ผลผลิตที่บริโภคเอง",
                                               "เส้น จปฐ. 38,000 บาท"]
    bars = [tr for tr in income.data if tr.type == "bar"]
    totals = [sum(tr.y[i] for tr in bars) for i in range(3)]
    assert totals == [20_000, 40_000, 40_000]  # baht per person per year at V01, V11, V17
    assert income.layout.shapes[0].y0 == DEFS.income_line
    assert list(income.data[0].x) == household_charts.visit_labels(profile.visits, "th")
    assert income.data[0].x[0] == "ฐาน<br>ต.ค. 62"
    assert income.data[0].customdata[0] == "15 ต.ค. 2562"
    steps = household_charts.level_step_chart(profile.visits, LEVELS, "th")
    assert list(steps.data[0].y) == [1, 2, 3] and steps.data[0].line.shape == "hv"


# --- what reaches the browser, per role ---------------------------------------------------------

@dataclass(frozen=True)
class PresenterViewer(Viewer):
    """The entrypoint's Viewer in presenter mode (always masked, whatever the role)."""

    presenter: bool = True


def households_page(folder: Path, use_store, monkeypatch: pytest.MonkeyPatch, role: str,
                    household: str | None = None) -> AppTest:
    monkeypatch.setenv("KUSIAO_ROLE", role)
    use_store(folder)
    at = run_app()
    if household:
        at.query_params["household"] = household
    at.switch_page("../pages/households.py").run()
    assert not at.exception, at.exception
    if at.toggle:  # the downloads are built when asked for
        at.toggle(key="households_download").set_value(True).run()
        assert not at.exception, at.exception
    return at


def page_text(at: AppTest) -> str:
    """Everything the page sends: each element's serialised message (table data included)
    and each chart's spec with its Thai unescaped."""
    parts: list[str] = []

    def walk(node: object) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "SerializeToString"):
            parts.append(proto.SerializeToString().decode("utf-8", "replace"))
            if getattr(proto, "spec", ""):
                parts.append(json.dumps(json.loads(proto.spec), ensure_ascii=False))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


DISPLAY_COLUMNS = list(households_views.table_for_display(
    pd.DataFrame(columns=list(hh.TABLE_COLUMNS)), "th", LEVELS, DEFS.income_line).columns)


@pytest.mark.parametrize("role", ["analyst", "officer", "presenter"])
def test_table_and_downloads_carry_what_the_role_may_see(
        role: str, tmp_path: Path, tiny_template: Path, use_store,
        monkeypatch: pytest.MonkeyPatch, downloads: dict[str, bytes]) -> None:
    if role == "presenter":
        monkeypatch.setattr(identity, "Viewer", PresenterViewer)
    at = households_page(copy_of(tiny_template, tmp_path), use_store, monkeypatch,
                         "officer" if role == "presenter" else role)
    shown = at.dataframe[0].value
    assert list(shown.columns) == DISPLAY_COLUMNS
    assert list(shown["รหัสครัวเรือน"]) == [f"H{i}" for i in range(1, 9)]
    names = list(shown["หัวหน้าครัวเรือน"])
    csv = pd.read_csv(pd.io.common.BytesIO(downloads["households.csv"]), encoding="utf-8-sig",
                      dtype=str)
    xlsx = pd.read_excel(pd.io.common.BytesIO(downloads["households.xlsx"]), dtype=str)
    assert list(csv.columns) == list(xlsx.columns) == DISPLAY_COLUMNS
    assert list(csv["หัวหน้าครัวเรือน"]) == list(xlsx["หัวหน้าครัวเรือน"]) == names
    blob = page_text(at) + downloads["households.csv"].decode("utf-8-sig")
    if role == "officer":
        assert names == RAW_NAMES
    else:
        assert names == ["ทดสอบ H."] * 8
        assert not [raw for raw in RAW_NAMES + RAW_IDS if raw in blob]
    # the table never carries citizen IDs, phones or coordinates, for any role
    assert not [raw for raw in RAW_IDS if raw in blob]


def test_viewer_role_gets_no_rows_at_all(tmp_path: Path, tiny_template: Path, use_store,
                                         monkeypatch: pytest.MonkeyPatch,
                                         downloads: dict[str, bytes]) -> None:
    at = households_page(copy_of(tiny_template, tmp_path), use_store, monkeypatch, "viewer",
                         household="H2")
    assert not at.dataframe and not [name for name in downloads if name.startswith("households")]
    assert not at.text_input  # not even a search box
    assert "แสดงเฉพาะตัวเลขภาพรวม" in at.info[0].value
    blob = page_text(at)
    assert not [raw for raw in RAW_NAMES + RAW_IDS + ["H2", "ทดสอบ"] if raw in blob]
    for presenter in (False, True):  # the data layer refuses before reading a row
        with pytest.raises(NotAllowedError):
            hh.household_table(None, Filters(), DEFS, Viewer("viewer", presenter))  # type: ignore[arg-type]
        with pytest.raises(NotAllowedError):
            hh.household_profile(None, Filters(), DEFS, "H2", Viewer("viewer", presenter))  # type: ignore[arg-type]


def test_a_link_opens_a_masked_profile_for_an_analyst(tmp_path: Path, tiny_template: Path,
                                                     use_store, monkeypatch: pytest.MonkeyPatch,
                                                     downloads: dict[str, bytes]) -> None:
    at = households_page(copy_of(tiny_template, tmp_path), use_store, monkeypatch, "analyst",
                         household="H2")
    assert at.text_input(key="household").value == "H2"
    assert "(?household=H2)" in " ".join(c.value for c in at.caption)  # a link to share
    assert households_views.profile_query("KK-4001-0001", "en") == "household=KK-4001-0001&lang=en"
    text = " ".join(m.value for m in at.markdown)
    assert "H2 · ทดสอบ H\\." in text
    assert "ขาดก่อนถึงขั้น “ยั่งยืน”" in text and "ไม่มีการออม" in text
    assert "ที่ดินทำกิน" in at.warning[0].value
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["ระดับล่าสุด"] == "พอเพียง"
    assert metrics["คู่เสี่ยวปัจจุบัน"] == "ห…"
    identity = next(c.value for c in at.caption if "เลขประจำตัวประชาชน" in c.value)
    assert mask_citizen_id(RAW_IDS[1]).replace("-", "\\-") in identity
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert specs[0]["data"][0]["name"] == "อาชีพหลัก"
    blob = page_text(at) + "".join(b.decode("utf-8", "replace") for b in downloads.values())
    leaked = [raw for raw in RAW_NAMES + RAW_IDS + OFFICIAL_NAMES if raw in blob]
    assert not leaked


def test_a_malformed_or_unknown_link_is_ignored(tmp_path: Path, tiny_template: Path, use_store,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    folder = copy_of(tiny_template, tmp_path)
    at = households_page(folder, use_store, monkeypatch, "analyst",
                         household="H2'; DROP TABLE household; --")
    assert not at.metric and "เลือกแถวในตาราง" in at.info[0].value
    at.text_input(key="household").set_value("H99").run()
    assert not at.exception and not at.metric
    assert at.info[0].value == "ไม่พบครัวเรือนรหัสนี้"
    at.text_input(key="household").set_value("H8").run()  # enrolled, never visited
    assert not at.exception and not at.metric
    assert at.info[0].value == "ครัวเรือนนี้ยังไม่ได้รับการเยี่ยมหรือสัมภาษณ์"
    at.text_input(key="household").set_value("H1").run()
    assert {m.label: m.value for m in at.metric}["ระดับล่าสุด"] == "ยั่งยืน"
    assert at.success  # at the top step: nothing keeps it from the next one


def test_the_download_is_the_table_as_shown(tiny_store: Store) -> None:
    rows = hh.household_table(tiny_store.con, Filters(), DEFS, Viewer("analyst")).rows
    shown = households_views.table_for_display(rows, "en", LEVELS, DEFS.income_line)
    text = exports.to_csv_bytes(shown).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Household ID,Head of household,Amphoe,Tambon,Moo,Level")
    h2 = shown.set_index("Household ID").loc["H2"]
    assert h2["Level"] == "2 พอเพียง" and h2["Steps since baseline"] == 2
    assert h2["Income/member/year (baht)"] == 40_000 and h2["Against the จปฐ. line"] == 1.053
    assert h2["Last visit"] == "15 Sep 2020" and h2["Needs with no help yet"] == "land to farm"
