"""Metrics on the tiny hand-made programme: every figure here is worked out by hand in
tests/factories.py (as of 30 Sep 2020, quarter 4/2563)."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.queries import outcomes
from dashboard.queries import overview as metrics
from dashboard.views.tables import comparison_table, for_display, transition_table
from domain.definitions import load_definitions
from domain.filters import Filters
from loaders.store import Store

DEFS = load_definitions()


def test_overview_kpis(tiny_store: Store) -> None:
    k = metrics.overview_kpis(tiny_store.con, Filters(), DEFS)
    assert (k.households, k.paired, k.officials, k.visited_recently, k.assessed) == (
        8, 5, 3, 5, 7)
    assert k.at_least == {1: 5, 2: 3, 3: 1}
    assert k.at_least_baseline == {1: 3, 2: 0, 3: 0}


def test_an_earlier_quarter_uses_the_status_then(tiny_store: Store) -> None:
    # As of 31 Mar 2020 (2/2563): H1 reached level 2 in Feb; H5 still paired (ends Jun).
    k = metrics.overview_kpis(tiny_store.con, Filters(quarter=25632), DEFS)
    assert (k.households, k.paired, k.assessed) == (8, 6, 7)
    assert k.at_least == {1: 3, 2: 1, 3: 0}


def test_transitions(tiny_store: Store) -> None:
    frame = outcomes.transitions(tiny_store.con, Filters())
    pairs = {(b, n): h for b, n, h in frame.itertuples(index=False)}
    assert pairs == {(0, 0): 1, (0, 1): 1, (0, 2): 2, (1, 0): 1, (1, 1): 1, (1, 3): 1}
    names = {0: "c", 1: "s", 2: "f", 3: "y"}
    table = transition_table(frame, names, "en").set_index("Baseline ↓ / latest →")
    assert table.loc["c", "f"] == 2
    assert table.loc["Total", "Total"] == 7


def test_group_comparison_and_small_groups(tiny_store: Store) -> None:
    frame = outcomes.group_comparison(tiny_store.con, Filters(), DEFS, by="amphoe_code")
    row = frame.set_index("amphoe_code").loc["4001"]
    assert (row["assessed"], row["now"], row["baseline"], row["fell_back"], row["climbed"]) == (
        6, 3, 0, 1, 3)
    assert row["share_now"] == pytest.approx(0.5)
    assert row["change_points"] == pytest.approx(50.0)
    table = comparison_table(frame, "amphoe_code", {"4001": "A", "4005": "B"}, "L2", "en")
    small = table.set_index("Amphoe").loc["B"]
    assert small["Surveyed (households)"] == 1
    assert pd.isna(small["L2+ now (%)"]) and pd.isna(small["Fell back"])
    assert small["Note"] == "n < 5: not shown"
    # A alone would give B away against the total: hidden too (secondary suppression)
    assert table.set_index("Amphoe").loc["A", "Note"] == (
        "hidden too: with the total it would give a smaller group away")
    # beside its chart at 1,280 px the share now and its change come right after the name,
    # every share with one decimal
    assert list(table.columns[:4]) == ["Amphoe", "L2+ now (%)", "Change (pts)",
                                       "L2+ at baseline (%)"], list(table.columns)
    large = comparison_table(frame.assign(assessed=50, share_now=0.05), "amphoe_code", {},
                             "L2", "en")  # 5% of groups large enough to show
    shown = for_display(large, large.attrs["decimals"])
    assert shown["L2+ now (%)"].tolist() == ["5.0", "5.0"]  # not "5"
    by_agency = outcomes.group_comparison(tiny_store.con, Filters(), DEFS, by="agency_code")
    assert by_agency.set_index("agency_code")["assessed"].to_dict() == {"CDD": 3, "DOPA": 2}


def test_gap_counts(tiny_store: Store) -> None:
    frame = outcomes.gap_counts(tiny_store.con, Filters())
    got = {(lv, gap): n for lv, gap, n in frame.itertuples(index=False)}
    assert got == {(0, "jpt_08"): 2, (1, "income"): 2, (1, "jpt_20"): 2, (2, "savings"): 2,
                   (2, "informal_debt"): 2, (2, "income_sources"): 2}


def test_dimension_deprivation(tiny_store: Store) -> None:
    frame = outcomes.dimension_deprivation(tiny_store.con, Filters(), DEFS).set_index("dimension")
    assert frame["baseline_households"].to_dict() == {
        "health": 0, "living": 4, "education": 0, "income": 3, "accessibility": 0}
    assert frame["latest_households"].to_dict() == {
        "health": 0, "living": 2, "education": 0, "income": 2, "accessibility": 0}
    assert frame.loc["living", "latest_share"] == pytest.approx(2 / 7)


def test_level_trend_by_round_and_month(tiny_store: Store) -> None:
    rounds = outcomes.level_trend(tiny_store.con, Filters(), DEFS, "round").set_index("period")
    assert rounds["assessed"].to_dict() == {0: 7, 1: 1, 2: 1, 3: 1, 4: 4}
    assert rounds.loc[0, "share_1"] == pytest.approx(3 / 7)
    assert rounds.loc[4, ["share_1", "share_2", "share_3"]].tolist() == [1.0, 0.75, 0.25]
    months = outcomes.level_trend(tiny_store.con, Filters(), DEFS, "month").set_index("period")
    assert months["assessed"].to_dict() == {201910: 7, 202002: 1, 202005: 1, 202008: 1,
                                            202009: 4}
    quarters = outcomes.level_trend(tiny_store.con, Filters(), DEFS, "quarter")
    assert quarters["period"].tolist() == [25631, 25632, 25633, 25634]
    with pytest.raises(ValueError):
        outcomes.level_trend(tiny_store.con, Filters(), DEFS, "decade")


def test_income_histogram_and_medians(tiny_store: Store) -> None:
    hist = outcomes.income_histogram(tiny_store.con, Filters(), bin_width=10_000, cap=50_000)
    assert hist.set_index("bin_start")["baseline"].to_dict() == {
        0: 0, 10_000: 0, 20_000: 7, 30_000: 0, 40_000: 0, 50_000: 0}
    assert hist.set_index("bin_start")["latest"].to_dict() == {
        0: 0, 10_000: 0, 20_000: 4, 30_000: 0, 40_000: 3, 50_000: 0}
    assert outcomes.income_medians(tiny_store.con, Filters()) == (20_000.0, 20_000.0)


def test_outcomes_of_a_place_without_households(tiny_store: Store) -> None:
    f = Filters(amphoe="4010")
    moves = outcomes.transitions(tiny_store.con, f)
    assert moves.empty and moves.dtypes.tolist() == ["int64"] * 3
    hist = outcomes.income_histogram(tiny_store.con, f)
    assert len(hist) == 25 and hist[["baseline", "latest"]].eq(0).all().all()
    assert outcomes.income_medians(tiny_store.con, f) == (None, None)
    dims = outcomes.dimension_deprivation(tiny_store.con, f, DEFS)
    assert dims["latest_households"].eq(0).all() and dims["latest_share"].isna().all()
    assert outcomes.gap_counts(tiny_store.con, f).empty
    assert outcomes.group_comparison(tiny_store.con, f, DEFS).empty


def test_filters_narrow_every_metric(tiny_store: Store) -> None:
    f = Filters(amphoe="4005")
    assert metrics.overview_kpis(tiny_store.con, f, DEFS).households == 2
    assert outcomes.transitions(tiny_store.con, f)["households"].sum() == 1
    assert outcomes.level_trend(tiny_store.con, f, DEFS, "round")["assessed"].sum() == 2
    levels = Filters(levels=(0,))
    assert metrics.overview_kpis(tiny_store.con, levels, DEFS).households == 2  # H4, H6
    assert set(outcomes.gap_counts(tiny_store.con, levels)["level"]) == {0}


def test_a_store_built_by_an_earlier_layout_is_rebuilt_when_opened(tiny_store: Store) -> None:
    """A store from before ``status_quarter`` carried ``visits_to_date``: the pages read that
    column, so the derived tables are rebuilt on first open, not left to fail."""
    import hashlib

    from loaders.bootstrap import ensure_definitions_current

    defs = load_definitions()
    # the fingerprint the earlier code wrote: the same definitions, no layout version
    earlier = hashlib.sha256(repr(defs).encode("utf-8")).hexdigest()[:12]
    with tiny_store.transaction():
        tiny_store.execute("ALTER TABLE status_quarter DROP COLUMN visits_to_date")
        tiny_store.set_meta("definitions", earlier)
    version = tiny_store.data_version()
    assert ensure_definitions_current(tiny_store, defs) is True
    assert "visits_to_date" in tiny_store.table("status_quarter").columns
    assert tiny_store.data_version() != version  # so no cached result outlives the rebuild
    assert ensure_definitions_current(tiny_store, defs) is False
