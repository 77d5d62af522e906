"""The definitions file: thresholds drive the figures, and a typo is named, not swallowed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import pandas as pd
import pytest

from domain.definitions import DEFAULT_PATH, DefinitionsError, load_definitions
from domain.targets import with_levels
from loaders.bootstrap import ensure_definitions_current
from loaders.store import Store
from tests.factories import visit


def levels_of(rows: list[dict], definitions=None) -> list[int]:
    frame = pd.DataFrame(rows)
    for col in frame.columns:
        if col.startswith("jpt_"):
            frame[col] = frame[col].map({"pass": True, "fail": False, "na": None}).astype(
                "boolean")
    frame["saves"] = frame["saves"].map({"true": True, "false": False}).astype("boolean")
    frame["visit_date"] = pd.to_datetime(frame["visit_date"])
    table = ibis.memtable(frame)
    result = with_levels(table, definitions or load_definitions()).execute()
    return result["level"].astype(int).tolist()


def test_hand_made_households_land_on_their_level() -> None:
    rows = [visit(f"V{level}", "H", "O", "2020-01-01", level) for level in (0, 1, 2, 3)]
    assert levels_of(rows) == [0, 1, 2, 3]


def test_income_line_boundary_exactly_on_and_one_baht_under() -> None:
    on_line = visit("V1", "H", "O", "2020-01-01", 2, members=4)
    on_line["income_main"] = 38_000 * 4
    under = visit("V2", "H", "O", "2020-01-01", 2, members=4)
    under["income_main"] = 38_000 * 4 - 1
    assert levels_of([on_line, under]) == [2, 1]


def test_sustainable_needs_savings_no_informal_debt_and_two_counted_sources() -> None:
    base = visit("V0", "H", "O", "2020-01-01", 3)
    no_savings = dict(base, visit_id="V1", saves="false")
    loan_shark = dict(base, visit_id="V2", debt_informal=1)
    one_source = dict(base, visit_id="V3", income_main=160_000, income_secondary=0,
                      income_welfare=12_000)  # welfare does not count as a source
    assert levels_of([base, no_savings, loan_shark, one_source]) == [3, 2, 2, 2]


def test_not_applicable_care_indicators_do_not_block_survival() -> None:
    cared = visit("V1", "H", "O", "2020-01-01", 1)
    not_cared = dict(cared, visit_id="V2", jpt_28="fail")
    assert levels_of([cared, not_cared]) == [1, 0]


def write_definitions(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "definitions.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_changing_the_income_line_changes_levels(tmp_path: Path) -> None:
    path = write_definitions(tmp_path, "baht_per_person_per_year = 38000",
                             "baht_per_person_per_year = 45000")
    rows = [visit("V1", "H", "O", "2020-01-01", 2)]  # 40,000 per member
    assert levels_of(rows) == [2]
    assert levels_of(rows, load_definitions(path)) == [1]


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("baht_per_person_per_year = 38000", 'baht_per_person_per_year = "38k"',
         "income_line.baht_per_person_per_year"),
        ("baht_per_person_per_year = 38000", "baht_per_person_per_year = -1",
         "income_line.baht_per_person_per_year"),
        ("jpt_must_pass = [8, 9]", "jpt_must_pass = [8, 99]", "targets.survive.jpt_must_pass"),
        ("visited_within_days = 90", "visited_within_days = true", "recency.visited_within_days"),
        ("2564 = 0.45", "2564 = 45", "plan.sufficient.2564"),
        ('income_sources_counted = ["main", "secondary", "remittance"]',
         'income_sources_counted = ["main", "lottery"]',
         "targets.sustainable.income_sources_counted"),
        ("[targets.sustainable]\nlevel = 3", "[targets.sustainable]\nlevel = 4", "targets"),
        ("[recency]", "[recency", "file"),
    ],
)
def test_malformed_file_names_the_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    with pytest.raises(DefinitionsError) as err:
        load_definitions(write_definitions(tmp_path, old, new))
    assert err.value.key == key
    assert key in str(err.value)


def test_missing_key_is_named(tmp_path: Path) -> None:
    path = write_definitions(tmp_path, 'name_en = "Sufficient"\n', "")
    with pytest.raises(DefinitionsError, match=r"\[targets.sufficient.name_en\] is missing"):
        load_definitions(path)


def test_store_rebuilds_levels_when_the_definitions_change(tiny_store: Store,
                                                           tmp_path: Path) -> None:
    from dashboard.queries import overview as metrics
    from domain.filters import Filters

    default = load_definitions()
    assert not ensure_definitions_current(tiny_store, default)
    version = tiny_store.data_version()
    before = metrics.overview_kpis(tiny_store.con, Filters(), default).at_least[2]
    strict = load_definitions(write_definitions(tmp_path, "baht_per_person_per_year = 38000",
                                                "baht_per_person_per_year = 45000"))
    assert ensure_definitions_current(tiny_store, strict)
    assert tiny_store.data_version() != version
    after = metrics.overview_kpis(tiny_store.con, Filters(), strict)
    assert (before, after.at_least[2]) == (3, 0)
    assert after.as_of == dt.date(2020, 9, 30)


def test_every_indicator_unit_has_words_in_both_languages() -> None:
    import re

    from domain.i18n import catalogue

    for indicator in load_definitions().indicators:
        key = "unit." + re.sub(r"\W+", "_", indicator.unit)
        assert key in catalogue("th") and key in catalogue("en"), indicator.unit
