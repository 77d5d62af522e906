"""What the deputy governor reads first: the gap to plan on the Overview, the places to
push, the data's age, and definitions that show values, through AppTest on the demo store."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from dashboard.ui.registry import PAGES
from dashboard.views import charts, plan, tables
from domain.definitions import load_definitions
from domain.thai_text import sort_key
from tests.pages.test_app import run_app

# "[recency]", "{days}", "[income_line]": a key or a template field left in the text
UNFILLED = re.compile(r"\[[a-z_]+\]|\{[a-z_]+\}")


def page_text(at) -> str:
    parts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info",
                                  "warning", "error", "success") for e in getattr(at, kind)]
    parts += [m.label + " " + str(m.value) + " " + str(m.proto.delta) for m in at.metric]
    parts += [df.value.to_csv() for df in at.dataframe]
    parts += [tb.proto.SerializeToString().decode("utf-8", "ignore") for tb in at.table]
    return "\n".join(str(p) for p in parts)


def test_the_target_cards_lead_with_the_gap_to_this_years_plan(demo_store_dir: Path,
                                                               use_store) -> None:
    use_store(demo_store_dir)
    at = run_app()
    cards = {m.label: m for m in at.metric}
    survive, sufficient, sustainable = (cards[f"ขั้น {n} {name} ขึ้นไป"] for n, name in
                                        ((1, "อยู่รอด"), (2, "พอเพียง"), (3, "ยั่งยืน")))
    # the demo ends in FY 2565, whose plan is 95%, 60% and 25%
    assert survive.value == "91.0%" and survive.proto.delta == "-4.0 จุด จากแผน 95.0%"
    assert sufficient.proto.delta == "-10.3 จุด จากแผน 60.0%"
    assert sustainable.proto.delta == "-4.8 จุด จากแผน 25.0%"
    # the plan year and the change since baseline stay, as the card's second line
    assert "แผนปีงบ 2565 · +36.5 จุด เทียบกับข้อมูลฐาน" in [c.value for c in at.caption]
    push = at.get("flexible_container")  # the box: three amphoe, most behind first
    text = "\n".join(m.value for m in at.markdown)
    assert "อำเภอที่ต้องเร่ง" in text and re.search(r"1\. \*\*\S+\*\* \d+\.\d% \(-\d+\.\d จุด\)", text)
    assert push is not None


def test_places_to_push_rank_by_gap_and_keep_small_places_apart() -> None:
    summary = pd.DataFrame({"amphoe_code": ["A", "B", "C", "D", "E"],
                            "assessed": [10, 10, 3, 10, 2],
                            "level_share": [0.5, 0.3, 0.0, 0.9, 1.0]})
    names = {"A": "ก", "B": "ข", "C": "ค", "D": "ง", "E": "จ"}
    top, held = plan.places_to_push(summary, 0.6, "amphoe_code", names, count=2)
    assert top["name"].tolist() == ["ข", "ก"] and top["gap"].tolist() == [-30.0, -10.0]
    assert held == ["ค", "จ"]  # by name, whatever their hidden share


def test_suppressed_places_sit_in_their_own_block_by_name_in_the_ranking_chart() -> None:
    # ข and ง are under 5 surveyed: their shares (0.55, 0.05) must not place them
    summary = pd.DataFrame({"amphoe_code": ["A", "B", "C", "D"], "assessed": [10, 3, 10, 4],
                            "level_share": [0.6, 0.55, 0.5, 0.05]})
    names = {"A": "ก", "B": "ข", "C": "ค", "D": "ง"}
    spec = charts.place_ranking_chart(summary, names, "x", "th").to_plotly_json()
    top_down = list(reversed(spec["data"][0]["y"]))
    assert list(top_down) == ["ก", "ค", "ข", "ง"]


def test_hidden_places_follow_thai_dictionary_order_not_code_points() -> None:
    """A leading vowel is read after its consonant: "เมือง" (ม) before "แวง" (ว) and after
    "ชุมแพ" (ช); by code point every เ/แ/ไ name would come after "หนองเรือ"."""
    thai = ["หนองเรือ", "แวงน้อย", "ชุมแพ", "ไม้", "เมืองขอนแก่น", "กระนวน"]
    assert sorted(thai, key=sort_key) == ["กระนวน", "ชุมแพ", "เมืองขอนแก่น", "ไม้", "แวงน้อย",
                                          "หนองเรือ"]
    assert sorted(thai) != sorted(thai, key=sort_key)
    assert sorted(["ไผ่", "ไผ"], key=sort_key) == ["ไผ", "ไผ่"]  # a tone mark breaks a tie
    summary = pd.DataFrame({"amphoe_code": list("ABCD"), "assessed": [10, 3, 2, 4],
                            "level_share": [0.6, 0.1, 0.9, 0.5]})
    names = {"A": "พล", "B": "แวงใหญ่", "C": "เมืองขอนแก่น", "D": "หนองเรือ"}
    _top, held = plan.places_to_push(summary, 0.6, "amphoe_code", names)
    assert held == ["เมืองขอนแก่น", "แวงใหญ่", "หนองเรือ"]
    spec = charts.place_ranking_chart(summary, names, "x", "th").to_plotly_json()
    assert list(reversed(spec["data"][0]["y"])) == ["พล", "เมืองขอนแก่น", "แวงใหญ่",
                                                    "หนองเรือ"]


def test_the_transition_flows_nodes_stack_without_overlapping() -> None:
    """Evenly spread centres let a 570-household node run over its 449-household neighbour
    (found at 1,280 px): each node now sits below the one before, its height in proportion."""
    frame = pd.DataFrame({"baseline_level": [0, 0, 1, 1, 2, 3], "level": [0, 1, 1, 2, 2, 3],
                          "households": [300, 149, 500, 70, 132, 23]})
    names = {0: "ต่ำกว่าอยู่รอด", 1: "อยู่รอด", 2: "พอเพียง", 3: "ยั่งยืน"}
    node = charts.transition_sankey(frame, names, "th").to_plotly_json()["data"][0]["node"]
    gap = charts.SANKEY_PAD_PX / charts.SANKEY_PLOT_PX
    for column, totals in ((node["y"][:4], [449, 570, 132, 23]),
                           (node["y"][4:], [300, 649, 202, 23])):
        heights = [(1 - 3 * gap) * n / sum(totals) for n in totals]
        for i in range(3):  # the next node starts below this one's bottom and the gap
            assert column[i + 1] - heights[i + 1] / 2 >= column[i] + heights[i] / 2 + gap - 1e-9
        assert column[-1] + heights[-1] / 2 <= 1 + 1e-9


def test_the_import_historys_counts_come_before_who_and_the_file() -> None:
    """At 1,280 px the updated and warning counts were off to the right, behind the importer's
    name, the file name and its hash."""
    history = pd.DataFrame([{
        "import_id": 4, "imported_at": pd.Timestamp("2022-09-29 10:00"), "imported_by": "demo",
        "dataset": "visits", "file_name": "visits.csv", "file_sha256": "9aafae97d2" * 6,
        "rows_read": 13277, "rows_accepted": 13277, "rows_rejected": 0,
        "rows_inserted": 13277, "rows_updated": 0, "warnings": 4}])
    shown = tables.history_table(history, "th")
    assert list(shown.columns) == [
        "import_id", "imported_at", "dataset", "rows_read", "rows_accepted", "rows_rejected",
        "rows_inserted", "rows_updated", "warnings", "imported_by", "file_name", "file_sha256"]
    assert shown.loc[0, "imported_at"].endswith("2565 10:00")  # พ.ศ.
    assert shown.loc[0, "file_sha256"] == "9aafae97d29a…"


def test_the_plan_in_force_and_the_datas_age_come_from_the_definitions_file() -> None:
    defs = load_definitions()
    assert defs.plan_in_force("sufficient", dt.date(2022, 9, 25)) == (2565, 0.6)
    assert defs.plan_in_force("sufficient", dt.date(2022, 10, 1)) == (2566, 0.62)
    assert defs.plan_in_force("sufficient", dt.date(2027, 10, 1)) == (2567, 0.68)  # past it
    assert defs.plan_in_force("sufficient", dt.date(2019, 1, 1)) is None
    limit = defs.stale_after_days
    assert defs.days_stale(dt.date(2022, 9, 25), dt.date(2022, 9, 25) + dt.timedelta(limit)) is None
    assert defs.days_stale(dt.date(2022, 9, 25),
                           dt.date(2022, 9, 25) + dt.timedelta(limit + 1)) == limit + 1


def test_the_overview_warns_when_the_data_are_old_and_not_when_fresh(
        demo_store_dir: Path, use_store, monkeypatch: pytest.MonkeyPatch) -> None:
    import dashboard.ui as ui

    use_store(demo_store_dir)
    monkeypatch.setattr(ui, "today", lambda: dt.date(2026, 12, 6))
    at = run_app()
    assert any("เก่ากว่าเกณฑ์" in w.value and "25 ก.ย. 2565" in w.value for w in at.warning)
    monkeypatch.setattr(ui, "today", lambda: dt.date(2022, 10, 1))
    assert not [w for w in run_app().warning if "เก่ากว่าเกณฑ์" in w.value]


@pytest.mark.parametrize("lang", ["th", "en"])
def test_no_page_shows_an_unfilled_placeholder(lang: str, demo_store_dir: Path,
                                               use_store) -> None:
    use_store(demo_store_dir)
    at = run_app({"lang": lang} if lang == "en" else None)
    found = {}
    for spec in PAGES:
        if spec.file in ("data_import.py", "admin.py"):
            continue  # for the officer and the admin only; their text has its own tests
        at.switch_page(f"../pages/{spec.file}").run()
        assert not at.exception, (spec.file, at.exception)
        hits = UNFILLED.findall(page_text(at))
        if hits:
            found[spec.file] = sorted(set(hits))
    assert not found


def test_the_english_definitions_page_has_values_and_an_english_source(
        demo_store_dir: Path, use_store) -> None:
    use_store(demo_store_dir)
    at = run_app({"lang": "en"})
    at.switch_page("../pages/definitions.py").run()
    text = page_text(at)
    assert "at most 90 days" in text and "38,000 baht per person per year" in text
    assert "Community Development Department" in text
    assert not any("กรมการพัฒนาชุมชน" in c.value for c in at.caption)


CHUM_PHAE = "4005"


def chum_phae_tambon(lang: str = "th") -> set[str]:
    from domain.reference import tambon_names, tambon_table

    table = tambon_table()
    names = tambon_names(lang)
    return {names[c] for c in table.loc[table["amphoe_code"] == CHUM_PHAE, "tambon_code"]}


def test_choosing_an_amphoe_narrows_coverage_to_its_tambon(demo_store_dir: Path,
                                                           use_store) -> None:
    use_store(demo_store_dir)
    at = run_app({"amphoe": CHUM_PHAE})
    at.switch_page("../pages/coverage.py").run()
    assert not at.exception
    tambon = chum_phae_tambon()
    matrix = at.dataframe[0].value
    assert matrix.columns[0] == "ตำบล"
    assert set(matrix.iloc[:-1, 0]) <= tambon and len(matrix) > 3
    # agency columns are names, not codes
    assert not {"CDD", "DOPA", "AGRI"} & set(matrix.columns)
    assert "พัฒนาชุมชน" in matrix.columns
    sentence = at.info[0].value
    assert "ตำบลที่ควรเร่งเยี่ยม" in sentence
    recency = [df.value for df in at.dataframe if df.value.columns[0] == "ตำบล"]
    assert len(recency) >= 1


def test_choosing_an_amphoe_narrows_agencies_and_data_quality_to_its_tambon(
        demo_store_dir: Path, use_store) -> None:
    use_store(demo_store_dir)
    at = run_app()
    at.session_state["agencies_recency_box"] = True  # read and drawn only while open
    at.switch_page("../pages/agencies.py").run()
    assert "**การเยี่ยมล่าสุดรายอำเภอ**" in [m.value for m in at.markdown]
    at.selectbox(key="f_amphoe").set_value(CHUM_PHAE).run()  # the section stays open
    assert not at.exception
    assert "**การเยี่ยมล่าสุดรายตำบล**" in [m.value for m in at.markdown]
    tambon = chum_phae_tambon()
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    bars = specs[-1]["data"][0]  # the recency chart, by place
    assert set(bars["y"]) <= tambon and len(bars["y"]) > 3
    at.switch_page("../pages/data_quality.py").run()
    assert not at.exception
    assert "คะแนนคุณภาพรายตำบล" in [s.value for s in at.subheader]
    scores = [df.value for df in at.dataframe if df.value.columns[0] == "ตำบล"]
    assert scores and set(scores[0].iloc[:, 0]) <= tambon and len(scores[0]) > 3


def test_the_map_opens_on_progress_with_the_three_lowest_outlined(demo_store_dir: Path,
                                                                  use_store) -> None:
    use_store(demo_store_dir)
    at = run_app()
    at.switch_page("../pages/map.py").run()
    assert not at.exception
    assert at.selectbox(key="map_indicator").value == "share_2"
    tile_map = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = [trace.get("name", "") for trace in tile_map["data"]]
    assert "ต่ำสุด 3 อำเภอ" in names
    table = at.dataframe[0].value
    assert list(table.columns).count("n") <= 1


def test_the_cover_slide_warns_when_the_data_are_old(demo_store_dir: Path, use_store,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import dashboard.ui as ui

    use_store(demo_store_dir)
    monkeypatch.setattr(ui, "today", lambda: dt.date(2026, 12, 6))
    at = run_app()
    at.switch_page("../pages/presenter.py").run()
    assert not at.exception
    cover = "\n".join(m.value for m in at.markdown)
    assert "ข้อมูลล่าสุดเมื่อ 25 ก.ย. 2565 เก่ากว่าเกณฑ์ 120 วัน" in cover


def test_the_overview_shows_the_four_processes_with_their_losses(demo_store_dir: Path,
                                                                 use_store) -> None:
    use_store(demo_store_dir)
    at = run_app()
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    funnel = next(s["data"][0] for s in specs if s["data"][0]["type"] == "funnel")
    from tests.pages.test_app import plotly_array

    counts = plotly_array(funnel["x"])
    assert counts == sorted(counts, reverse=True) and counts[0] == 1174
    assert funnel["text"][1].startswith(f"{counts[1]:,} (หายไป {counts[0] - counts[1]:,})")
    table = next(df.value for df in at.dataframe if "หายไประหว่างทาง" in df.value.columns)
    assert table.iloc[-1, 0] == "รวม" and len(table) == 27  # 26 amphoe and the total


def test_the_funnel_nests_each_step_in_the_one_before(tiny_store) -> None:
    from dashboard.queries.overview import FUNNEL_STEPS, process_funnel
    from domain.filters import Filters

    frame = process_funnel(tiny_store.con, Filters(), load_definitions())
    for before, after in itertools.pairwise(FUNNEL_STEPS):
        assert (frame[before] >= frame[after]).all()
    assert int(frame["screened"].sum()) == 8  # the tiny programme's households
    assert int(frame["paired"].sum()) == 5  # H5's pairing ended; H6 and H8 never had one


def test_the_presenter_has_a_funnel_slide(demo_store_dir: Path, use_store) -> None:
    from dashboard.briefing import slides as briefing
    from dashboard.store import Direct
    from domain.filters import Filters
    from loaders.store import Store

    store = Store.open(f"duckdb://{demo_store_dir / 'store.duckdb'}", store_dir=demo_store_dir)
    try:
        defs = load_definitions()
        data = briefing.collect(Direct(store.con), Filters(), defs)
        assert "funnel" in briefing.slide_keys(data)
        meta = briefing.Meta("en", "all", dt.date(2022, 9, 25), dt.date(2022, 9, 30))
        slide = briefing.build_slide("funnel", data, defs, meta, ())
        assert slide.kpis[0].value == "1,174" and "lost" in slide.figure.data[0].text[1]
    finally:
        store.close()


def test_an_empty_search_says_so_with_what_to_try(demo_store_dir: Path, use_store) -> None:
    use_store(demo_store_dir)
    at = run_app({"lang": "en"})
    at.switch_page("../pages/households.py").run()
    at.text_input(key="households_search").set_value("zzqq").run()
    assert not at.exception
    assert any("No household matches “zzqq”" in i.value and "without its title" in i.value
               for i in at.info)


def test_thai_labels_break_between_words_never_inside_one() -> None:
    from dashboard.views.maps import _tile_name
    from domain.thai_text import wrap_words

    assert wrap_words("สำรวจแล้ว 1,174 ครัวเรือน", 12) == ["สำรวจแล้ว", "1,174", "ครัวเรือน"]
    assert wrap_words("ครัวเรือนที่ขาดแคลนรายได้", 10) == ["ครัวเรือน", "ที่ขาดแคลน", "รายได้"]
    assert _tile_name("เมืองขอนแก่น") == "เมือง<br>ขอนแก่น"
    assert _tile_name("Mueang Khon Kaen") == "Mueang<br>Khon Kaen"


def test_the_coverage_page_names_agencies_not_codes(demo_store_dir: Path, use_store) -> None:
    use_store(demo_store_dir)
    at = run_app()
    at.switch_page("../pages/coverage.py").run()
    codes = {"CDD", "DOPA", "AGRI", "HEALTH", "LABOUR", "POLICE"}
    for frame in at.dataframe:
        assert not codes & set(frame.value.columns)
        for column in frame.value.columns:
            if frame.value[column].dtype == object:
                assert not codes & set(frame.value[column].dropna().astype(str)), column


def test_the_household_table_opens_on_its_key_columns(demo_store_dir: Path,
                                                      use_store) -> None:
    use_store(demo_store_dir)
    at = run_app({"lang": "en"})
    at.switch_page("../pages/households.py").run()
    assert not at.exception
    table = at.dataframe[0]
    shown = list(table.proto.column_order)
    assert shown == ["Household ID", "Head of household", "Tambon", "Level",
                     "Against the จปฐ. line", "Days since last visit", "Buddy's agency",
                     "Needs with no help yet"] or (
        "Days since last visit" in shown and "Needs with no help yet" in shown
        and len(shown) <= 8), shown
    assert len(table.value.columns) > len(shown)  # the rest a click away, all downloaded
