"""Coverage and Agencies & buddies: caseload, recency, the league and overdue buddies on
hand-made programmes whose answers are worked out by hand (tests/coverage_factories.py and
tests/factories.py), the agreement with the Overview, and both pages through AppTest."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from ibis import _
from streamlit.testing.v1 import AppTest

from dashboard.queries import coverage
from dashboard.queries import overview as metrics
from dashboard.views import coverage as coverage_views
from domain.definitions import load_definitions
from domain.filters import Filters
from loaders.store import Store
from tests.conftest import DOWNLOADS, build_store
from tests.coverage_factories import (
    A_NAME,
    AS_OF,
    B_NAME,
    LAST_QUARTER,
    LEAGUE,
    TRANSFER_QUARTER,
    repairing_frames,
)
from tests.factories import write_csvs
from tests.pages.test_app import copy_of, metric_values, run_app

DEFS = load_definitions()


@pytest.fixture(scope="session")
def repairing_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("repairing_template")
    build_store(folder, write_csvs(repairing_frames(), folder / "files")).close()
    return folder


@pytest.fixture(scope="module")
def repairing(tmp_path_factory: pytest.TempPathFactory, repairing_template: Path
              ) -> Iterator[Store]:
    """One open copy for the read-only engine tests of this module."""
    folder = copy_of(repairing_template, tmp_path_factory.mktemp("repairing"))
    store = Store.open(f"duckdb://{folder / 'store.duckdb'}", store_dir=folder)
    yield store
    store.close()


# --- caseload ---------------------------------------------------------------------------------


def test_a_re_pairing_closes_the_old_row_and_moves_the_household(repairing: Store) -> None:
    pairing = repairing.table("pairing").execute()
    r1 = pairing[pairing["household_id"] == "R1"].sort_values("start_date")
    assert list(r1["official_id"]) == ["A", "C"]  # the old row is kept, with its end date
    assert str(r1["end_date"].iloc[0])[:10] == "2020-06-30" and pd.isna(r1["end_date"].iloc[1])
    now = coverage.caseload_check(repairing.con, Filters())
    assert now.as_of == AS_OF
    assert now.distribution == {0: 2, 1: 2, 3: 1}
    latest = coverage.caseload_check(repairing.con, Filters(quarter=LAST_QUARTER))
    assert latest.distribution == now.distribution and latest.officials.equals(now.officials)
    assert (now.officials_checked, now.officials_off) == (5, 5)
    rows = now.officials.set_index("official_id")
    assert rows["households"].to_dict() == {"B": 3, "C": 1, "D": 1, "A": 0, "E": 0}
    assert rows["reason"].to_dict() == {"B": "over", "C": "under", "D": "under",
                                        "A": "none_ended", "E": "none_never"}
    assert rows.loc["B", "household_ids"] == "R3; R4; R5"
    assert rows.loc["C", "household_ids"] == "R1"  # counted once, for the new buddy only
    # on screen the list sits in half of a 1,280 px page: who, how many and why come first
    shown = coverage_views.caseload_table(now.officials, {}, {}, "th")
    assert list(shown.columns[:3]) == ["ชื่อ-สกุล", "ครัวเรือนที่ดูแลอยู่", "สถานะ"], list(shown.columns)
    assert shown.iloc[:, 1].tolist() == now.officials["households"].tolist()


def test_caseload_on_the_old_buddys_last_day(repairing: Store) -> None:
    # 30 Jun 2020: A's pairings end that day, so they are still current; C starts on 1 Jul
    then = coverage.caseload_check(repairing.con, Filters(quarter=TRANSFER_QUARTER))
    assert then.distribution == {0: 2, 1: 1, 2: 1, 3: 1}
    rows = then.officials.set_index("official_id")
    assert "A" not in rows.index  # exactly two: not an exception
    assert rows.loc["C", "reason"] == "none_never"
    assert list(then.unpaired["household_id"]) == ["R7"]


def test_households_without_a_buddy(repairing: Store) -> None:
    unpaired = coverage.caseload_check(repairing.con, Filters()).unpaired.set_index("household_id")
    assert list(unpaired.index) == ["R7", "R2"]  # longest without first
    assert unpaired.loc["R2", "previous_official_id"] == "A"
    assert unpaired.loc["R2", "previous_agency_code"] == "CDD"
    assert unpaired.loc["R2", "days_without_buddy"] == 87
    assert pd.isna(unpaired.loc["R7", "previous_official_id"])
    assert unpaired.loc["R7", "days_without_buddy"] == 364  # since enrolment, 27 Sep 2019


def test_caseload_scope_follows_the_filters(repairing: Store) -> None:
    # 4005: B looks after R5 there (all 3 of B's households count), E belongs to 4005
    place = coverage.caseload_check(repairing.con, Filters(amphoe="4005"))
    assert place.distribution == {0: 1, 3: 1}
    assert set(place.officials["official_id"]) == {"B", "E"}
    # a tambon: only the officials looking after a household there now
    tambon = coverage.caseload_check(repairing.con, Filters(amphoe="4001", tambon="400101"))
    assert set(tambon.officials["official_id"]) == {"B", "C", "D"}
    # an agency: households without a buddy have no agency
    agency = coverage.caseload_check(repairing.con, Filters(agency="DOPA"))
    assert agency.distribution == {1: 2} and agency.unpaired.empty


def test_caseload_on_the_tiny_programme(tiny_store: Store) -> None:
    check = coverage.caseload_check(tiny_store.con, Filters())
    assert check.distribution == {1: 1, 2: 2}  # O3 has only H7; O2 lost H5 on 30 Jun
    assert list(check.officials["official_id"]) == ["O3"]
    unpaired = check.unpaired.set_index("household_id")
    assert set(unpaired.index) == {"H5", "H6", "H8"}
    assert unpaired.loc["H5", "previous_official_id"] == "O2"
    assert unpaired.loc["H5", "days_without_buddy"] == 92


def _numbers(check) -> tuple:
    return check.distribution, len(check.officials), len(check.unpaired), check.as_of


def test_caseload_counts_are_the_checks_numbers(repairing: Store, tiny_store: Store,
                                                demo_store_dir: Path) -> None:
    """What the Presenter and the briefing read (numbers only) is what the Coverage page
    counts from its rows, for every filter shape."""
    demo = Store.open(f"duckdb://{demo_store_dir / 'store.duckdb'}", store_dir=demo_store_dir)
    try:
        for store in (repairing, tiny_store, demo):
            quarters = sorted(int(q) for q in store.table("quarter_calendar").q_idx.execute())
            status = store.table("status_quarter")
            now = status.filter(status.q_idx == quarters[-1]).execute()
            # every amphoe and agency of the hand-made stores; two of each of the demo's
            amphoes = sorted(now["amphoe_code"].unique())[:2 if store is demo else None]
            agencies = sorted(now["agency_code"].dropna().unique())[:2 if store is demo else None]
            some = now.iloc[0]
            cases = [Filters(), Filters(quarter=quarters[0]), Filters(levels=(0, 1)),
                     Filters(amphoe=some.amphoe_code, tambon=some.tambon_code),
                     *(Filters(amphoe=a) for a in amphoes),
                     Filters(within_amphoe=tuple(amphoes)),  # a user's area
                     *(Filters(agency=a, quarter=quarters[-2] if len(quarters) > 1 else None)
                       for a in agencies)]
            for filters in cases:
                expected = _numbers(coverage.caseload_check(store.con, filters))
                counted = coverage.caseload_counts(store.con, filters)
                assert _numbers(counted) == expected, filters
                assert list(counted.officials.columns) == list(counted.unpaired.columns) == []
    finally:
        demo.close()


# --- recency ----------------------------------------------------------------------------------

BAND_COLUMNS = ["households", "b1", "b2", "b3", "b4", "never"]


def test_recency_bands_by_amphoe_and_agency(repairing: Store) -> None:
    by_amphoe = coverage.recency_bands(repairing.con, Filters(), DEFS).set_index("amphoe_code")
    assert by_amphoe.loc["4001", BAND_COLUMNS].tolist() == [5, 1, 1, 3, 0, 0]
    assert by_amphoe.loc["4005", BAND_COLUMNS].tolist() == [2, 0, 0, 0, 1, 1]
    assert list(by_amphoe.index) == ["4005", "4001"]  # least recently visited first
    by_agency = coverage.recency_bands(repairing.con, Filters(), DEFS, by="agency_code")
    by_agency = by_agency.set_index("agency_code")
    assert by_agency.loc["CDD", BAND_COLUMNS].tolist() == [3, 1, 1, 0, 0, 1]
    assert by_agency.loc["DOPA", BAND_COLUMNS].tolist() == [2, 0, 0, 2, 0, 0]
    assert by_agency.loc[coverage.NO_BUDDY, BAND_COLUMNS].tolist() == [2, 0, 0, 1, 1, 0]
    with pytest.raises(ValueError):
        coverage.recency_bands(repairing.con, Filters(), DEFS, by="tambon_code")


def test_recency_as_of_an_earlier_quarter(repairing: Store) -> None:
    # 30 Jun 2020: R1, R2 visited 60 days before, R6 29, R3 R4 R7 in Oct 2019, R5 never
    frame = coverage.recency_bands(repairing.con, Filters(quarter=TRANSFER_QUARTER), DEFS)
    frame = frame.set_index("amphoe_code")
    assert frame.loc["4001", BAND_COLUMNS].tolist() == [5, 1, 2, 0, 2, 0]
    assert frame.loc["4005", BAND_COLUMNS].tolist() == [2, 0, 0, 0, 1, 1]


def test_the_recency_chart_writes_each_bands_share_where_it_has_room() -> None:
    """On a projector the bars must be read without hovering: each band's share is written in
    its segment when it is at least a tenth of the bar; counts (a group under the minimum
    size) are not written as shares."""
    frame = pd.DataFrame({"amphoe_code": ["4005", "4001"], "households": [40, 50],
                          "b1": [16, 5], "b2": [22, 45], "b3": [2, 0], "b4": [0, 0],
                          "never": [0, 0]})
    fig = coverage_views.recency_chart(frame, "amphoe_code", {"4005": "ชุมแพ", "4001": "เมือง"},
                                 90, "th")
    written = {trace.name: list(trace.text) for trace in fig.data}
    labels = coverage_views.band_labels(90, "th")
    assert list(fig.data[0].y) == ["เมือง", "ชุมแพ"]  # the frame's last group at the bottom
    assert written[labels["b1"]] == ["10.0%", "40.0%"]
    assert written[labels["b2"]] == ["90.0%", "55.0%"]
    assert written[labels["b3"]] == ["", ""]  # 5% of ชุมแพ: too narrow to write in
    small = frame.assign(households=[4, 50], b2=[0, 45], b1=[2, 5], b3=[2, 0])
    fig = coverage_views.recency_chart(small, "amphoe_code", {}, 90, "th")
    assert all(trace.text is None for trace in fig.data)  # counts, not shares


def test_recency_edges_follow_the_definitions() -> None:
    assert coverage.recency_edges(90) == (30, 90, 180)
    assert coverage.recency_edges(60) == (20, 60, 120)
    assert coverage_views.band_labels(90, "en") == {
        "b1": "≤ 30 days", "b2": "31–90 days", "b3": "91–180 days", "b4": "> 180 days",
        "never": "never visited"}


# --- overdue and the league ---------------------------------------------------------------------


def test_overdue_officials_longest_first(repairing: Store) -> None:
    frame = coverage.overdue_officials(repairing.con, Filters(), DEFS)
    assert list(frame["official_id"]) == ["B", "D"]
    b, d = frame.iloc[0], frame.iloc[1]
    assert (b["days_overdue"], b["overdue_households"], b["overdue_household_ids"]) == (
        274, 1, "R5")
    assert pd.isna(b["oldest_visit"])  # R5 was never visited
    assert (d["days_overdue"], d["overdue_household_ids"]) == (26, "R6")
    # C took R1 over on 1 Jul: 86 days ago, so not overdue although R1's last visit is older
    assert "C" not in set(frame["official_id"])
    assert coverage.overdue_officials(repairing.con, Filters(agency="DOPA"), DEFS)[
        "official_id"].tolist() == ["D"]


def test_overdue_on_the_tiny_programme(tiny_store: Store) -> None:
    frame = coverage.overdue_officials(tiny_store.con, Filters(), DEFS)
    assert frame[["official_id", "days_overdue", "overdue_household_ids"]].values.tolist() == [
        ["O2", 53, "H4"]]  # H4 last visited 10 May 2020: 143 days, 53 beyond 90


def test_status_carries_the_pairing_start_and_the_visits_so_far(repairing: Store) -> None:
    """What the pages would otherwise join for, worked out by hand from the table above."""
    rows = repairing.table("status_quarter").filter(
        _.q_idx.isin([TRANSFER_QUARTER, LAST_QUARTER])).select(
        "household_id", "q_idx", "official_id", "pairing_start", "visits_to_date",
        "next_gaps").execute().set_index(["household_id", "q_idx"])
    # R1: A's from enrolment, then C's from 1 Jul 2020; visited twice, both before the transfer
    assert rows.loc[("R1", TRANSFER_QUARTER), "official_id"] == "A"
    assert rows.loc[("R1", LAST_QUARTER), "official_id"] == "C"
    assert pd.Timestamp(rows.loc[("R1", LAST_QUARTER), "pairing_start"]).date() == dt.date(
        2020, 7, 1)
    assert rows.loc[("R1", LAST_QUARTER), "visits_to_date"] == 2
    # R3: visited on 11 Oct 2019 and on 25 Sep 2020 (the last day): once, then twice
    assert rows.loc[("R3", TRANSFER_QUARTER), "visits_to_date"] == 1
    assert rows.loc[("R3", LAST_QUARTER), "visits_to_date"] == 2
    assert rows.loc[("R5", LAST_QUARTER), "visits_to_date"] == 0  # never visited
    assert pd.isna(rows.loc[("R2", LAST_QUARTER), "pairing_start"])  # no buddy now
    # the latest visit's gaps travel with the status: R3 reached level 2 on V15, so what keeps
    # it from level 3 is listed (not empty), and it is exactly V15's
    v15 = repairing.table("visit_status").filter(_.visit_id == "V15").next_gaps.execute()
    assert rows.loc[("R3", LAST_QUARTER), "next_gaps"] == v15.iloc[0] != ""


def test_agency_league(repairing: Store) -> None:
    league = coverage.agency_league(repairing.con, Filters(), DEFS, level=2)
    assert len(league) == 15  # every agency, also those without households
    rows = league.set_index("agency_code")
    for code, expected in LEAGUE.items():
        assert tuple(rows.loc[code, ["officials", "households", "visits", "assessed",
                                     "climbed", "at_level", "officials_overdue"]]) == expected
    assert rows.loc["CDD", "quarters"] == 4
    assert rows.loc["CDD", "visits_per_household_quarter"] == pytest.approx(4 / 12)
    assert rows.loc["DOPA", "visits_per_household_quarter"] == pytest.approx(4 / 8)
    assert rows.loc["DOPA", "climbed_share"] == pytest.approx(1.0)
    assert pd.isna(rows.loc["AGRI", "visits_per_household_quarter"])
    only = coverage.agency_league(repairing.con, Filters(agency="DOPA"), DEFS)
    assert only["agency_code"].tolist() == ["DOPA"]
    with pytest.raises(ValueError, match="ladder"):
        coverage.agency_league(repairing.con, Filters(), DEFS, level=4)


@pytest.mark.parametrize("filters", [Filters(), Filters(agency="DOPA"), Filters(amphoe="4001")])
def test_the_league_with_its_overdue_officials_is_both_read_alone(repairing: Store,
                                                                   filters: Filters) -> None:
    """The Agencies page reads both at once; the league counts its overdue officials from
    the list instead of the engine."""
    league, overdue = coverage.league_and_overdue(repairing.con, filters, DEFS, level=3)
    pd.testing.assert_frame_equal(league, coverage.agency_league(repairing.con, filters, DEFS, 3))
    pd.testing.assert_frame_equal(overdue, coverage.overdue_officials(repairing.con, filters, DEFS))


def test_league_table_suppresses_groups_under_five() -> None:
    league = pd.DataFrame({
        "agency_code": ["CDD", "DOPA"], "officials": [10, 2], "households": [20, 4],
        "assessed": [20, 4], "visits": [40, 8], "climbed": [5, 4], "at_level": [10, 4],
        "officials_overdue": [3, 0], "quarters": [2, 2], "visits_per_household_quarter": [1.0, 1.0],
        "climbed_share": [0.25, 1.0], "level_share": [0.5, 1.0], "as_of": [AS_OF, AS_OF],
        "visited_share": [0.9, 1.0], "overdue_per_100": [15.0, 0.0]})
    table = coverage_views.league_table(league, {"CDD": "C", "DOPA": "D"}, "L2", "en")
    # the need and its three parts right after the name: they fit below the chart at 1,280 px
    assert list(table.columns[:5]) == ["Buddy's agency", "Need for a push (0–1)",
                                       "Overdue per 100 households", "Visited within window (%)",
                                       "Climbed ≥ 1 level (%)"], list(table.columns)
    shown = table.set_index("Buddy's agency")
    # one group hidden: the other would give it away against the total, so it goes too
    assert pd.isna(shown.loc["C", "Climbed ≥ 1 level (%)"])
    assert shown.loc["C", "Note"] == "hidden too: with the total it would give a smaller group away"
    assert pd.isna(shown.loc["D", "Climbed ≥ 1 level (%)"])
    assert pd.isna(shown.loc["D", "Visited within window (%)"])
    assert pd.isna(shown.loc["D", "Overdue per 100 households"])
    assert shown.loc["D", "Households"] == 4  # the count stays
    assert shown.loc["D", "Note"] == "n < 5: not shown"
    summary = coverage_views.league_summary(league.iloc[[1]])
    assert summary.visits_per_household_quarter is None and summary.climbed_share is None
    assert coverage_views.league_summary(league).visits_per_household_quarter == pytest.approx(
        48 / 48)


# --- the matrix, and the agreement with the Overview --------------------------------------------


def test_matrix_cells_and_margins(repairing: Store) -> None:
    matrix = coverage.coverage_matrix(repairing.con, Filters(), DEFS)
    cells = {(a, g): (h, o) for a, g, h, o in matrix.cells.itertuples(index=False)}
    assert cells == {("4001", "CDD"): (2, 1), ("4001", "DOPA"): (2, 2),
                     ("4001", coverage.NO_BUDDY): (1, 0), ("4005", "CDD"): (1, 1),
                     ("4005", coverage.NO_BUDDY): (1, 0)}
    assert (matrix.households, matrix.paired, matrix.officials) == (7, 5, 3)
    names = {"4001": "Mueang", "4005": "Chum Phae"}
    table = coverage_views.matrix_table(matrix, "officials", names, ["CDD", "DOPA", "AGRI"], "en")
    assert list(table.columns) == ["Amphoe", "CDD", "DOPA", "AGRI", "Total"]
    totals = table.set_index("Amphoe")
    assert totals.loc["Total", "CDD"] == 1  # B looks after households in both amphoe: once
    assert totals.loc["Total", "Total"] == 3 and totals.loc["Mueang", "Total"] == 3
    households = coverage_views.matrix_table(matrix, "households", names, ["CDD", "DOPA"], "en")
    households = households.set_index("Amphoe")
    assert households["No buddy"].tolist() == [1, 1, 2]
    assert households.loc["Total"].tolist() == [3, 2, 2, 7]


FILTERS = [Filters(), Filters(agency="CDD", levels=(0,)), Filters(quarter=TRANSFER_QUARTER),
           Filters(amphoe="4001", tambon="400101"), Filters(amphoe="4001")]


@pytest.mark.parametrize("filters", FILTERS, ids=repr)
def test_figures_agree_with_the_overview(repairing: Store, tiny_store: Store,
                                         filters: Filters) -> None:
    for store in (repairing, tiny_store):
        kpis = metrics.overview_kpis(store.con, filters, DEFS)
        matrix = coverage.coverage_matrix(store.con, filters, DEFS)
        assert (matrix.households, matrix.paired, matrix.officials) == (
            kpis.households, kpis.paired, kpis.officials)
        assert matrix.cells["households"].sum() == kpis.households
        for by in (filters.place_column, "agency_code"):
            bands = coverage.recency_bands(store.con, filters, DEFS, by=by)
            assert bands["recent"].sum() == kpis.visited_recently
            assert bands[["b1", "b2", "b3", "b4", "never"]].to_numpy().sum() == kpis.households
        league = coverage.agency_league(store.con, filters, DEFS, level=2)
        summary = coverage_views.league_summary(league)
        assert (summary.officials, summary.households) == (kpis.officials, kpis.paired)
        assert league["at_level"].sum() <= kpis.at_least[2]
        overdue = coverage.overdue_officials(store.con, filters, DEFS)
        assert len(overdue) == summary.officials_overdue


def test_demo_figures_agree_with_the_overview_and_the_readme(demo_store_dir: Path) -> None:
    store = Store.open(f"duckdb://{demo_store_dir / 'store.duckdb'}", store_dir=demo_store_dir)
    try:
        kpis = metrics.overview_kpis(store.con, Filters(), DEFS)
        check = coverage.caseload_check(store.con, Filters())
        bands = coverage.recency_bands(store.con, Filters(), DEFS)
        league = coverage.agency_league(store.con, Filters(), DEFS)
        status = store.table("status_quarter").execute()
    finally:
        store.close()
    # data/demo/README.md: 576 officials with 2, OF-0593/OF-0594 with 1, four with 3, the
    # 12 transferred with none; 8 households waiting for a new buddy
    assert check.distribution == {0: 12, 1: 2, 2: 576, 3: 4}
    assert set(check.officials.query("households == 1")["official_id"]) == {"OF-0593",
                                                                            "OF-0594"}
    assert len(check.unpaired) == 8 == kpis.households - kpis.paired
    assert int(bands["recent"].sum()) == kpis.visited_recently
    assert coverage_views.league_summary(league).officials == kpis.officials
    # the sentence names the three amphoe with the highest share not visited in 90 days
    latest = status[status["q_idx"] == status["q_idx"].max()]
    late = (latest["days_since_visit"].isna() | (latest["days_since_visit"] > 90))
    share = late.groupby(latest["amphoe_code"]).mean().sort_values(ascending=False)
    names = {"4024": "a", "4029": "b", "4020": "c"}
    assert list(share.index[:3]) == list(names)
    sentence = coverage_views.coverage_sentence(bands, check, names, 90, "en")
    assert "a 20.8%" in sentence and "c 13.9%" in sentence, sentence
    assert "b 14.7% (5 of 34 households)" in sentence
    assert "Households without a buddy: 8." in sentence


def known_league() -> pd.DataFrame:
    """Five agencies whose answer is known: D is worst on every part, A best on every part,
    B is bad only on overdue officials, C only on climbing, E is too small to rank (and would
    be the worst of all)."""
    return pd.DataFrame({
        "agency_code": list("ABCDE"), "officials": [5] * 5,
        "households": [100, 100, 100, 100, 4], "assessed": [100, 100, 100, 100, 4],
        "officials_overdue": [0, 10, 1, 12, 4],
        "overdue_per_100": [0.0, 10.0, 1.0, 12.0, 100.0],
        "visited_share": [1.0, 0.95, 0.95, 0.80, 0.0],
        "climbed_share": [0.8, 0.7, 0.2, 0.1, 0.0],
        "visits_per_household_quarter": [0.94, 0.95, 0.93, 0.94, 0.1]})


def test_the_need_for_a_push_ranks_the_known_worst_first() -> None:
    league = coverage_views.with_need(known_league())
    need = dict(zip(league["agency_code"], league["need"], strict=True))
    assert need["D"] == pytest.approx(1.0) and need["A"] == pytest.approx(0.0)
    # B: overdue 10/12, visited (1-0.95)/0.2, climbed 0.1/0.7 -> mean
    assert need["B"] == pytest.approx((10 / 12 + 0.25 + 0.1 / 0.7) / 3)
    assert pd.isna(need["E"])  # too small to rank
    order = [league["agency_code"].iloc[i] for i in coverage_views.league_order(league, "need")]
    assert order == ["D", "B", "C", "A", "E"]
    by_climbed = [league["agency_code"].iloc[i]
                  for i in coverage_views.league_order(league, "climbed_share")]
    assert by_climbed[:2] == ["D", "C"]
    by_overdue = [league["agency_code"].iloc[i]
                  for i in coverage_views.league_order(league, "overdue_per_100")]
    assert by_overdue[:2] == ["D", "B"]


def test_sentences_name_the_agencies_to_push_by_the_stated_measure() -> None:
    league = known_league()
    text = coverage_views.agencies_sentence(league, {}, "en", count=2)
    assert text.startswith("The 2 agencies to push, by need for a push")
    assert "D (12 officials overdue = 12.0 per 100 households, 80.0% visited" in text
    assert "; B (10 officials overdue" in text and "E (" not in text
    text = coverage_views.agencies_sentence(league, {}, "en", "climbed_share", count=2)
    assert "by share of households that climbed" in text and ": D (" in text and "; C (" in text
    one = coverage_views.agencies_sentence(league.iloc[[0]], {}, "en")  # the shared agency filter
    assert one.startswith("A (0 officials overdue")


def test_the_league_chart_flags_the_three_worst_on_top() -> None:
    spec = coverage_views.league_chart(known_league(), {}, None, "en").to_plotly_json()
    dots = spec["data"][0]
    assert list(reversed(dots["y"])) == ["D", "B", "C", "A"]  # E too small: not drawn
    flagged = [y for y, c in zip(dots["y"], dots["marker"]["color"], strict=True)
               if c == "#D55E00"]
    assert sorted(flagged) == ["B", "C", "D"]


# --- the pages ----------------------------------------------------------------------------------


def open_page(page: str, query: dict[str, str] | None = None) -> AppTest:
    at = run_app(query)
    DOWNLOADS.clear()  # only this page's downloads
    at.switch_page(f"../pages/{page}").run()
    assert not at.exception, at.exception
    return at


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as text, so a table on screen and its CSV compare cell by cell: a number (or a
    number written as text) in its shortest form, a blank or "–" (suppressed) as ""."""

    def cell(value: object) -> str:
        if value is None or value is pd.NA or value in ("", "–") or (
                isinstance(value, float) and pd.isna(value)):
            return ""
        try:
            return f"{float(str(value).replace(',', '')):g}"
        except ValueError:
            return str(value)

    return frame.astype(object).map(cell)


def assert_downloads_are_what_is_shown(at: AppTest, downloads: dict[str, bytes]) -> None:
    shown = [as_text(d.value.reset_index(drop=True)) for d in at.dataframe]
    csvs = {name: data for name, data in downloads.items() if name.endswith(".csv")}
    assert csvs, "the page offers downloads"
    for name, data in csvs.items():
        frame = as_text(pd.read_csv(io.BytesIO(data), encoding="utf-8-sig"))
        assert any(frame.shape == s.shape and list(frame.columns) == list(s.columns)
                   and (frame.to_numpy() == s.to_numpy()).all() for s in shown), name


def test_coverage_page_on_the_re_pairing(tmp_path: Path, repairing_template: Path, use_store,
                                         downloads: dict[str, bytes]) -> None:
    use_store(copy_of(repairing_template, tmp_path))
    at = open_page("coverage.py")
    assert at.title[0].value == "ความครอบคลุม"
    values = metric_values(at)
    assert values["มีคู่เสี่ยวแล้ว"] == "71.4%"  # 5 of 7
    assert (values["เจ้าหน้าที่คู่เสี่ยว"], values["ไม่ได้ดูแล 2 ครัวเรือนพอดี"],
            values["ไม่มีคู่เสี่ยว"]) == ("3", "5", "2")
    assert "ชุมแพ 100% (2 จาก 2 ครัวเรือน)" not in at.info[0].value  # n < 5 is not ranked
    assert "เมืองขอนแก่น 60.0% (3 จาก 5 ครัวเรือน)" in at.info[0].value
    tables = [d.value for d in at.dataframe]
    matrix, officials, unpaired = tables[0], tables[1], tables[2]
    assert matrix.iloc[-1].tolist()[-1] == 7
    assert officials["รหัสเจ้าหน้าที่"].tolist() == ["B", "C", "D", "A", "E"]
    text = officials.to_csv()
    assert "สมชาย ท." in text and A_NAME not in text and B_NAME not in text  # analyst: masked
    assert unpaired["ครัวเรือน"].tolist() == ["R7", "R2"]
    assert_downloads_are_what_is_shown(at, downloads)
    at.segmented_control(key="coverage_measure").set_value("officials").run()
    assert not at.exception
    assert at.dataframe[0].value.iloc[-1].tolist()[-1] == 3


def test_agencies_page_narrows_to_the_chosen_agency(tmp_path: Path, repairing_template: Path,
                                                    use_store,
                                                    downloads: dict[str, bytes]) -> None:
    use_store(copy_of(repairing_template, tmp_path))
    at = open_page("agencies.py", {"lang": "en"})
    assert at.title[0].value == "Agencies & buddies"
    values = metric_values(at)
    assert (values["Buddy officials"], values["Households looked after"]) == ("3", "5")
    overdue = at.dataframe[1].value
    assert overdue["Official ID"].tolist() == ["B", "D"]
    assert overdue["Days overdue"].tolist() == [274, 26]
    assert_downloads_are_what_is_shown(at, downloads)
    at.selectbox(key="agencies_pick").set_value("DOPA").run()
    assert not at.exception
    assert at.dataframe[0].value.shape[0] == 15  # the league stays whole
    assert at.dataframe[1].value["Official ID"].tolist() == ["D"]
    assert metric_values(at)["Buddy officials"] == "2"
    assert at.selectbox(key="f_agency").value == ""  # this page only, so far
    at.button[0].click().run()  # apply to every page
    assert not at.exception
    assert at.selectbox(key="f_agency").value == "DOPA"
    assert at.query_params["agency"] == "DOPA"
    assert at.dataframe[0].value.shape[0] == 1


@pytest.mark.parametrize(("role", "sees"), [("officer", "full"), ("viewer", "none")])
def test_rows_follow_the_viewers_role(tmp_path: Path, repairing_template: Path, use_store,
                                      monkeypatch: pytest.MonkeyPatch, role: str,
                                      sees: str) -> None:
    monkeypatch.setenv("KUSIAO_ROLE", role)
    use_store(copy_of(repairing_template, tmp_path))
    for page in ("coverage.py", "agencies.py"):
        at = open_page(page)
        text = " ".join(d.value.to_csv() for d in at.dataframe)
        if sees == "full":
            assert A_NAME in text or B_NAME in text
        else:
            assert A_NAME not in text and B_NAME not in text and "สมชาย" not in text
            assert any("ไม่เห็นรายชื่อ" in i.value for i in at.info)


def test_pages_agree_with_the_overview_on_the_demo(demo_store_dir: Path, use_store) -> None:
    use_store(demo_store_dir)
    at = run_app()
    overview = metric_values(at)
    at.switch_page("../pages/coverage.py").run()
    assert not at.exception
    values = metric_values(at)
    assert values["เจ้าหน้าที่คู่เสี่ยว"] == overview["เจ้าหน้าที่คู่เสี่ยว"]
    assert values["มีคู่เสี่ยวแล้ว"] == overview["มีคู่เสี่ยวแล้ว"]
    at.switch_page("../pages/agencies.py").run()
    assert not at.exception
    assert metric_values(at)["เจ้าหน้าที่คู่เสี่ยว"] == overview["เจ้าหน้าที่คู่เสี่ยว"]
    assert metric_values(at)["ครัวเรือนที่ดูแล"] == "1,166"  # paired, as on the Overview
