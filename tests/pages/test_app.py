"""The app through AppTest, from the entrypoint, on the demo store and on the tiny store."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.ui.registry import PAGES, PAGES_DIR
from tests.conftest import ROOT

APP = str(ROOT / "dashboard" / "app.py")
TIMEOUT = 90


def copy_of(template: Path, folder: Path) -> Path:
    shutil.copytree(template, folder, dirs_exist_ok=True)
    return folder


def run_app(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def plotly_array(value: object) -> list:
    """Plotly 6+ sends numeric arrays as typed base64 (``{"dtype", "bdata"}``)."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def metric_values(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_every_page_file_is_registered_and_every_registered_page_exists() -> None:
    on_disk = {p.name for p in PAGES_DIR.glob("*.py")}
    registered = {spec.file for spec in PAGES}
    assert on_disk == registered
    assert all(spec.path.exists() for spec in PAGES)
    assert sum(spec.default for spec in PAGES) == 1


@pytest.mark.parametrize("spec", PAGES, ids=lambda s: s.file)
def test_every_page_renders_from_the_entrypoint(spec, demo_store_dir: Path, use_store,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    use_store(demo_store_dir)
    if spec.admin:  # offered to administrators only
        monkeypatch.setenv("KUSIAO_ROLE", "admin")
    at = run_app()
    at.switch_page(f"../pages/{spec.file}").run()
    assert not at.exception, at.exception
    assert at.title, "each page shows its title"
    assert not at.error


def test_overview_kpis_on_the_tiny_programme(tmp_path: Path, tiny_template, use_store) -> None:
    use_store(copy_of(tiny_template, tmp_path))
    at = run_app()
    values = metric_values(at)
    assert values["ครัวเรือนเป้าหมาย"] == "8"
    assert values["มีคู่เสี่ยวแล้ว"] == "62.5%"  # 5 of 8
    assert values["เจ้าหน้าที่คู่เสี่ยว"] == "3"
    assert values["เยี่ยมใน 90 วันล่าสุด"] == "62.5%"  # 5 of 8
    assert values["ขั้น 1 อยู่รอด ขึ้นไป"] == "71.4%"  # 5 of 7 assessed
    assert values["ขั้น 2 พอเพียง ขึ้นไป"] == "42.9%"  # 3 of 7
    assert values["ขั้น 3 ยั่งยืน ขึ้นไป"] == "14.3%"  # 1 of 7
    assert "ข้อมูล ณ วันที่ 30 ก.ย. 2563" in [c.value for c in at.caption]


def test_filter_in_the_url_changes_the_figures(tmp_path: Path, tiny_template, use_store) -> None:
    use_store(copy_of(tiny_template, tmp_path))
    at = run_app({"amphoe": "4005"})
    assert at.selectbox(key="f_amphoe").value == "4005"
    assert metric_values(at)["ครัวเรือนเป้าหมาย"] == "2"
    at = run_app({"agency": "DOPA", "lang": "en"})
    values = metric_values(at)
    assert values["Target households"] == "2"  # H3, H4 paired with O2 (DOPA)
    assert values["Buddy officials"] == "1"


@pytest.mark.parametrize(
    "query",
    [{"amphoe": "9999"}, {"amphoe": ""}, {"q": "abc"}, {"level": "7,x"}, {"lang": "fr"},
     {"tambon": "400101"}, {"agency": "'; DROP TABLE household; --"}],
)
def test_malformed_url_values_fall_back_to_the_default(tmp_path: Path, tiny_template, use_store,
                                                       query: dict[str, str]) -> None:
    use_store(copy_of(tiny_template, tmp_path))
    at = run_app(query)
    assert metric_values(at)["ครัวเรือนเป้าหมาย"] == "8"


def test_changing_a_sidebar_filter_changes_the_figures_and_the_url(tmp_path: Path, tiny_template,
                                                                   use_store) -> None:
    use_store(copy_of(tiny_template, tmp_path))
    at = run_app()
    at.selectbox(key="f_amphoe").set_value("4001").run()
    assert not at.exception
    assert metric_values(at)["ครัวเรือนเป้าหมาย"] == "6"
    assert at.query_params["amphoe"] == "4001"
    at.multiselect(key="f_levels").set_value([2, 3]).run()
    assert metric_values(at)["ครัวเรือนเป้าหมาย"] == "3"  # H1, H2, H5
    assert at.query_params["level"] == "2,3"


def assert_defaults_are_the_values(at: AppTest) -> None:
    """What a browser shows in each shared filter before the value set through the session
    state reaches it, the widget's own default, is the value in force."""
    lang = at.radio(key="lang")
    assert lang.proto.default == lang.index, "lang"
    for key in ("f_amphoe", "f_tambon", "f_agency", "f_quarter"):
        box = at.selectbox(key=key)
        assert box.proto.default == box.index, key
    levels = at.multiselect(key="f_levels")
    assert list(levels.proto.default) == levels.indices, "f_levels"


def test_a_links_language_and_filters_are_the_widgets_defaults(
        tmp_path: Path, tiny_template, use_store) -> None:
    """A link's values go into the sidebar through the session state, which the browser
    applies once. A slow browser still loading a widget's code took the widget's default
    instead, and sent it back with the next click: the link's English and amphoe were lost
    (4 of 8 links in Chromium at a sixth of its speed). Every shared filter's default is
    therefore the value in force, on the first run and after a change."""
    use_store(copy_of(tiny_template, tmp_path))
    at = run_app({"lang": "en", "amphoe": "4005", "tambon": "400501", "agency": "CDD",
                  "level": "2,3"})
    assert [at.radio(key="lang").value, at.selectbox(key="f_amphoe").value,
            at.selectbox(key="f_tambon").value, at.selectbox(key="f_agency").value,
            at.multiselect(key="f_levels").value] == ["en", "4005", "400501", "CDD", [2, 3]]
    assert_defaults_are_the_values(at)
    at.selectbox(key="f_amphoe").set_value("4001").run()
    at.radio(key="lang").set_value("th").run()
    assert not at.exception
    assert at.selectbox(key="f_amphoe").value == "4001" and at.radio(key="lang").value == "th"
    assert_defaults_are_the_values(at)


def test_language_switch_shows_english(demo_store_dir: Path, use_store) -> None:
    use_store(demo_store_dir)
    at = run_app()
    assert at.title[0].value == "ภาพรวม"
    at.radio(key="lang").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert "Target households" in metric_values(at)
    assert at.query_params["lang"] == "en"


def test_overview_trend_chart_carries_three_targets_and_their_plan(demo_store_dir: Path,
                                                                    use_store) -> None:
    use_store(demo_store_dir)
    at = run_app()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = [trace["name"] for trace in spec["data"]]
    assert names == ["อยู่รอด", "แผน: อยู่รอด", "พอเพียง", "แผน: พอเพียง", "ยั่งยืน",
                     "แผน: ยั่งยืน"]
    actual = spec["data"][0]
    assert actual["x"][0] == "1/2563" and actual["x"][-1] == "4/2565"
    assert all(0 <= y <= 1 for y in plotly_array(actual["y"]))
    ranking = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert len(ranking["data"][0]["y"]) == 26


def chart_specs(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_outcomes_charts_carry_the_expected_series(tmp_path: Path, tiny_template,
                                                    use_store) -> None:
    use_store(copy_of(tiny_template, tmp_path))
    at = run_app()
    at.switch_page("../pages/outcomes.py").run()
    assert not at.exception
    # one section at a time (the transitions first); the forecast and the climbs are drawn
    # only when their sections are opened
    trend, sankey = chart_specs(at)
    specs = {}
    for section, expected in (("income", 2), ("gaps", 1), ("compare", 1)):
        at.segmented_control(key="outcomes_section").set_value(section).run()
        assert not at.exception
        drawn = chart_specs(at)
        assert len(drawn) == 1 + expected and drawn[0] == trend  # the trend stays on top
        specs[section] = drawn[1:]
    (income, dims), (gaps,), (compare,) = specs["income"], specs["gaps"], specs["compare"]
    assert [t["name"] for t in trend["data"]][::2] == ["อยู่รอด", "พอเพียง", "ยั่งยืน"]
    assert sankey["data"][0]["type"] == "sankey"
    assert sum(plotly_array(sankey["data"][0]["link"]["value"])) == 7
    assert [t["name"] for t in income["data"]] == ["ข้อมูลฐาน", "ล่าสุด"]
    assert sum(plotly_array(income["data"][0]["y"])) == 7
    assert any("38,000" in (s.get("text") or "") for s in income["layout"]["annotations"])
    assert len(plotly_array(dims["data"][0]["x"])) == 5
    assert sum(sum(plotly_array(t["x"])) for t in gaps["data"]) == 12
    # 4005 (n=1) is hidden, and 4001 with it: against the province's total, 4001's figure
    # would give 4005's away (secondary suppression), so no group is drawn
    assert not compare["data"][-1]["y"]
    at.segmented_control(key="outcomes_section").set_value("transitions").run()
    values = metric_values(at)
    assert (values["ขยับขึ้นอย่างน้อย 1 ขั้น"], values["อยู่ขั้นเดิม"], values["ถอยลง"]) == (
        "4", "2", "1")


def test_outcomes_period_switch_and_filter(tmp_path: Path, tiny_template, use_store) -> None:
    use_store(copy_of(tiny_template, tmp_path))
    at = run_app({"amphoe": "4001"})
    at.switch_page("../pages/outcomes.py").run()
    assert metric_values(at)["ขยับขึ้นอย่างน้อย 1 ขั้น"] == "3"  # H1, H2, H5 (H7 is in 4005)
    at.segmented_control(key="outcomes_period").set_value("round").run()
    assert not at.exception
    trend = chart_specs(at)[0]
    assert trend["data"][0]["x"] == ["ฐาน", "รอบ 1", "รอบ 2", "รอบ 3", "รอบ 4"]


def test_definitions_page_follows_the_file(tmp_path: Path, tiny_template, use_store,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from domain.definitions import DEFAULT_PATH

    store_dir = copy_of(tiny_template, tmp_path / "store")
    custom = tmp_path / "definitions.toml"
    custom.write_text(DEFAULT_PATH.read_text(encoding="utf-8").replace(
        "baht_per_person_per_year = 38000", "baht_per_person_per_year = 45000"),
        encoding="utf-8")
    monkeypatch.setenv("KUSIAO_DEFINITIONS", str(custom))
    use_store(store_dir)
    at = run_app()
    # at 45,000 baht no household of the tiny programme reaches target 2 any more
    assert metric_values(at)["ขั้น 2 พอเพียง ขึ้นไป"] == "0.0%"
    at.switch_page("../pages/definitions.py").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "รายได้ต่อคนต่อปีไม่ต่ำกว่า 45,000 บาท" in text
    assert "45,000" in [m.value for m in at.metric]


def test_a_malformed_definitions_file_shows_the_key(tmp_path: Path, tiny_template, use_store,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from domain.definitions import DEFAULT_PATH

    custom = tmp_path / "definitions.toml"
    custom.write_text(DEFAULT_PATH.read_text(encoding="utf-8").replace(
        "2564 = 0.45", "2564 = 45"), encoding="utf-8")
    monkeypatch.setenv("KUSIAO_DEFINITIONS", str(custom))
    use_store(copy_of(tiny_template, tmp_path / "store"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "[plan.sufficient.2564]" in at.error[0].value


def test_the_engine_memory_of_the_dashboard_is_bounded(
        tmp_path: Path, tiny_template: Path, use_store, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard import store as store_access

    use_store(copy_of(tiny_template, tmp_path))
    monkeypatch.setenv(store_access.ENGINE_MEMORY_ENV, "300MB")
    store = store_access.store()
    limit = store.execute("SELECT current_setting('memory_limit')")[0][0]
    assert limit.replace(" ", "") in ("286.1MiB", "300.0MB", "300MB")
    for _ in range(3):  # a heavy job lifts the cap, then puts back exactly the same
        with store.memory_limit("2500MB"):
            pass
    assert store.execute("SELECT current_setting('memory_limit')")[0][0] == limit
    with pytest.raises(ValueError, match="KUSIAO_ENGINE_MEMORY"):
        store_access._memory_setting("600'; DROP TABLE household; --")
