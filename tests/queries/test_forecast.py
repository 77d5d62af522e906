"""Looking ahead and learning: the projection, the baseline, the interval, the on-track rule
and what is followed by a climb, on hand-made data whose answers are worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.queries import climb, forecast
from domain import forecast as model
from domain.definitions import DefinitionsError, load_definitions
from domain.filters import Filters
from loaders.store import Store
from tests.conftest import ROOT, build_store
from tests.factories import household, visit, write_csvs

# a fixed quarterly transition matrix: half of each level below the top moves up one
RATES = np.array([[0.5, 0.5, 0, 0], [0, 0.5, 0.5, 0], [0, 0, 0.5, 0.5], [0, 0, 0, 1.0]])


def test_a_fixed_transition_matrix_projects_to_the_distribution_worked_by_hand() -> None:
    # move counts that give exactly RATES (1,000 household-quarters from each level), no
    # shrinking; 100 households all at level 0 now
    moves = (RATES * 1000)[None]
    start = np.array([[100.0, 0, 0, 0]])
    shares = model.transition_paths(moves, start, shrink=0, steps=2)
    # by hand: after 1 quarter [.5, .5, 0, 0]; after 2 [.25, .5, .25, 0]
    assert shares[1, 0] == pytest.approx([0.5, 0, 0])
    assert shares[2, 0] == pytest.approx([0.75, 0.25, 0])
    assert shares[2, 1] == pytest.approx(shares[2, 0])  # one group: the whole is it


def test_a_small_amphoe_is_pulled_toward_the_whole_by_the_stated_weight() -> None:
    big = np.diag([1000.0, 1000, 1000, 1000])  # everyone stays
    small = np.zeros((4, 4))
    small[0, 1] = 10  # 10 household-quarters at level 0, all climbed
    rates = model.rate_matrices(np.stack([big, small]), shrink=40)
    # own weight 10 / (10 + 40) = 0.2: 0.2 * 1 + 0.8 * (10 / 1010) to climb
    whole = 10 / 1010
    assert rates[1, 0, 1] == pytest.approx(0.2 + 0.8 * whole)
    assert rates[1, 0].sum() == pytest.approx(1)
    assert rates[0, 0, 0] == pytest.approx((1000 + 40 * (1 - whole)) / 1040)


def climbing_patterns(households: int = 400, width: int = 5) -> model.Patterns:
    """Each quarter 10 more of 400 households reach level 2 (the rest are at 1): the share
    at target 2 climbs 2.5 points a quarter, 40 / 400 at the window's first quarter."""
    levels = np.array([[2 if i < 40 + 10 * t else 1 for t in range(width)]
                       for i in range(households)])
    unique, counts = np.unique(levels, axis=0, return_counts=True)
    return model.Patterns(levels=unique, group=np.zeros(len(unique), dtype=int),
                          households=counts.astype(float), groups=("4001",))


def steady_patterns(households: int = 10_000, width: int = 5) -> model.Patterns:
    """Each quarter a tenth of the households still at level 1 climb to 2 (a constant
    transition rate): at quarter t, 1 - 0.9^t of them are at 2."""
    at_two = [round(households * (1 - 0.9 ** t)) for t in range(width)]
    levels = np.array([[2 if i < at_two[t] else 1 for t in range(width)]
                       for i in range(households)])
    unique, counts = np.unique(levels, axis=0, return_counts=True)
    return model.Patterns(levels=unique, group=np.zeros(len(unique), dtype=int),
                          households=counts.astype(float), groups=("4001",))


@pytest.mark.parametrize(("method", "programme", "truth"), [
    # the share at 2 climbs 2.5 points a quarter: 4 quarters past the window's last
    (model.LINEAR, climbing_patterns, (40 + 10 * (4 + 4)) / 400),
    # a tenth of those below climb each quarter
    (model.TRANSITIONS, steady_patterns, 1 - 0.9 ** 8)])
def test_a_programme_climbing_at_a_constant_rate_is_forecast_within_one_point(
        method: str, programme, truth: float) -> None:
    patterns = programme()
    projection = model.project(patterns, method, shrink=40, steps=4, interval=0.8,
                               resamples=50, seed=1)
    assert abs(projection.point[4, 0, 1] - truth) * 100 < 1
    assert projection.low[4, 0, 1] <= projection.point[4, 0, 1] <= projection.high[4, 0, 1]
    assert projection.point[4, 0, 0] == pytest.approx(1)  # everyone is at least at 1


def test_the_interval_comes_from_resampling_whole_households_and_is_seeded() -> None:
    patterns = climbing_patterns()
    weights = model.resample(patterns, 30, seed=7)
    assert (weights.sum(axis=1) == 400).all()  # each resample draws 400 households
    first = model.project(patterns, model.LINEAR, 40, 4, 0.8, 30, seed=7)
    again = model.project(patterns, model.LINEAR, 40, 4, 0.8, 30, seed=7)
    assert np.array_equal(first.low, again.low)
    assert (first.high - first.low)[4, 0, 1] > 0


@pytest.mark.parametrize(("low", "high", "status"), [
    (0.61, 0.70, "on_track"), (0.55, 0.65, "at_risk"), (0.50, 0.59, "off_track")])
def test_the_on_track_rule_reads_the_interval_against_the_plan(
        low: float, high: float, status: str) -> None:
    assert model.track_status(low, high, planned=0.60, margin_pp=0) == status
    assert model.worst(["on_track", status]) == status


def test_the_backtest_of_a_constant_climb_finds_the_linear_trend_exact() -> None:
    # 9 quarters of the constant climb, as counts per quarter and moves into each quarter
    levels = climbing_patterns(width=9)
    moves_each = model.transition_counts(levels.levels)
    history = np.zeros((9, 1, 4))
    moves = np.zeros((9, 1, 4, 4))
    for row, n in zip(levels.levels, levels.households, strict=True):
        for t, level in enumerate(row):
            history[t, 0, level] += n
            if t:
                moves[t, 0, row[t - 1], level] += n
    assert moves.sum() == (moves_each * levels.households[:, None]).sum()
    errors = model.backtest_errors(moves, history, window=4, shrink=40, horizons=(2,))
    assert np.nanmax(errors[(model.LINEAR, 2)]) < 1e-9
    assert errors[(model.LINEAR, 2)].shape == (3, 2, 3)  # origins 4, 5, 6


def test_the_forecast_settings_are_checked(tmp_path: Path) -> None:
    text = (ROOT / "data" / "definitions.toml").read_text("utf-8")
    bad = tmp_path / "definitions.toml"
    bad.write_text(text.replace('method = "linear"', 'method = "guess"'), "utf-8")
    with pytest.raises(DefinitionsError, match=r"forecast.method"):
        load_definitions(bad)
    bad.write_text(text.replace("interval = 0.80", "interval = 1.5"), "utf-8")
    with pytest.raises(DefinitionsError, match=r"forecast.interval"):
        load_definitions(bad)


# --- on a store: ten households in one amphoe, five helped, visited every quarter ----------

VISIT_DAYS = ("2019-11-01", "2020-02-01", "2020-05-01", "2020-08-01", "2020-11-01")


def helped_frames() -> dict[str, pd.DataFrame]:
    """H1-H5 receive occupation help from CDD in Jan-Mar 2020 and are at level 1 from the
    next quarter on; H6-H10 receive nothing and stay at 0. Same amphoe, level and income band
    (20,000 baht per member) before the help."""
    homes = [household(f"H{i}", "4001", "400101") for i in range(1, 11)]
    officials = [{"official_id": "O1", "name": "นาย หนึ่ง", "position": "นักวิชาการ",
                  "agency_code": "CDD", "amphoe_code": "4001", "phone": ""}]
    pairings = [{"official_id": "O1", "household_id": f"H{i}", "start_date": "2019-09-27",
                 "end_date": ""} for i in range(1, 11)]
    visits = []
    for i in range(1, 11):
        for r, day in enumerate(VISIT_DAYS):
            level = 1 if i <= 5 and r >= 2 else 0
            visits.append(visit(f"V{i:02d}{r}", f"H{i}", "O1", day, level, r))
    help_rows = [{"assistance_id": f"A{i}", "household_id": f"H{i}", "date": "2020-02-15",
                  "type": "occupation", "agency_code": "CDD", "partner": "",
                  "provider_kind": "state", "value_baht": 6000, "status": "delivered"}
                 for i in range(1, 6)]
    return {"households": pd.DataFrame(homes), "officials": pd.DataFrame(officials),
            "pairings": pd.DataFrame(pairings), "visits": pd.DataFrame(visits),
            "assistance": pd.DataFrame(help_rows)}


@pytest.fixture(scope="module")
def helped_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    folder = tmp_path_factory.mktemp("helped")
    store = build_store(folder, write_csvs(helped_frames(), folder / "files"))
    yield store
    store.close()


def test_help_given_only_to_households_that_then_climb_shows_the_difference(
        helped_store: Store) -> None:
    found = climb.climb_after_help(helped_store.con, Filters(), load_definitions())
    by_type = found[(found["kind"] == "type") & (found["group"] == "occupation")].iloc[0]
    assert (by_type["households"], by_type["climbed"]) == (5, 5)
    assert by_type["share"] == 1 and by_type["comparable_share"] == 0
    assert by_type["difference_pp"] == pytest.approx(100)
    assert by_type["comparable_households"] == 5
    assert by_type["baht_per_climber"] == pytest.approx(6000)
    provider = found[(found["kind"] == "provider") & (found["group"] == "CDD")].iloc[0]
    assert provider["difference_pp"] == pytest.approx(100)


def test_the_ladder_forecast_reads_the_store_and_judges_each_amphoe(
        helped_store: Store) -> None:
    seen = forecast.ladder_forecast(helped_store.con, Filters(), load_definitions())
    assert seen.as_of == 25641
    whole = seen.table[seen.table["amphoe_code"] == forecast.WHOLE]
    # plan years after Q1 2564: 2564 .. 2567, each target
    assert sorted(whole["fiscal_year"].unique()) == [2564, 2565, 2566, 2567]
    # four quarters of history: too few to back-test the method, so no verdict is given
    assert seen.error_pp(2) is None and set(whole["status"]) == {""}
    assert (whole["low"] <= whole["point"]).all() and (whole["point"] <= whole["high"]).all()
    assert list(seen.status_by_amphoe()["amphoe_code"]) == ["4001"]
    # the history: 5 of 10 at level 1 from Apr-Jun 2020
    assert seen.history.set_index("q_idx").loc[25633, "share_1"] == pytest.approx(0.5)


def test_the_back_test_of_a_first_quarter_with_no_moves_yet_is_empty_not_an_error(
        helped_store: Store) -> None:
    counts = forecast.level_counts(helped_store.con, Filters())
    first = counts[counts["q_idx"] == counts["q_idx"].min()]
    moves = forecast.level_moves(helped_store.con, Filters()).iloc[0:0]
    errors = forecast.backtest(first, moves, load_definitions())
    assert errors["error_pp"].isna().all()


def test_a_verdict_allows_for_the_methods_back_test_error() -> None:
    errors = pd.DataFrame({"method": ["linear"] * 4, "horizon": [2, 4, 2, 4],
                           "scope": ["whole", "whole", "amphoe", "amphoe"],
                           "error_pp": [4.0, 8.0, 6.0, 10.0], "forecasts": [9] * 4})
    assert forecast.method_error(errors, "linear", 1, "whole") == pytest.approx(0.04)
    assert forecast.method_error(errors, "linear", 3, "whole") == pytest.approx(0.08)
    assert forecast.method_error(errors, "linear", 8, "amphoe") == pytest.approx(0.20)
    assert forecast.method_error(errors, "transitions", 2, "whole") is None
    # 81 % (78-85) against a plan of 75 %: on track by the resampling interval alone, at risk
    # once the method's 8 points are allowed for
    slack = forecast.method_error(errors, "linear", 4, "whole")
    assert model.track_status(0.78, 0.85, 0.75, 0) == "on_track"
    assert model.track_status(0.78 - slack, 0.85 + slack, 0.75, 0) == "at_risk"


# --- on screen ------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["th", "en"])
def test_outcomes_and_overview_show_the_forecast_and_the_climbs(
        lang: str, demo_store_dir: Path, use_store) -> None:
    import json

    from domain.i18n import t
    from tests.pages.test_app import run_app

    use_store(demo_store_dir)
    at = run_app({"lang": lang})
    assert t("forecast.title", lang) in [e.label for e in at.expander]
    assert not any("2566" in m.label for m in at.metric)  # computed only when opened
    at.session_state["overview_forecast"] = True  # the section opened
    at.run()
    labels = [m.label for m in at.metric]
    assert any(label.startswith(t("forecast.card", lang, target="", year="")[:4])
               or "2566" in label for label in labels)
    assert t("forecast.overview_title", lang, year=2566) in [s.value for s in at.subheader]
    at.switch_page("../pages/outcomes.py").run()
    assert not at.exception, at.exception
    boxes = [e.label for e in at.expander]
    assert t("forecast.title", lang) in boxes and t("climb.title", lang) in boxes
    at.session_state["outcomes_forecast_box"] = at.session_state["outcomes_climb_box"] = True
    at.run()
    assert not at.exception, at.exception
    chart = json.loads(at.get("plotly_chart")[1].proto.spec)
    names = {trace.get("name") for trace in chart["data"]}
    assert t("forecast.forecast_of", lang, target=t("level.crisis", lang)) not in names
    assert any(t("climb.caution", lang) in w.value for w in at.warning)
    captions = " ".join(c.value for c in at.caption)
    assert t("forecast.method_linear", lang) in captions  # the method and its error, shown
    assert "±" in captions


@pytest.mark.parametrize("filters", [
    Filters(amphoe="4001"), Filters(amphoe="4001", tambon="400101"), Filters(quarter=25644),
    Filters(within_amphoe=("4001", "4005"), quarter=25652)])
def test_a_place_filter_on_every_quarters_rows_chooses_the_selected_quarters_households(
        filters: Filters, demo_store_dir: Path) -> None:
    """The forecast and the climbs filter every quarter's rows by place instead of joining
    the selected quarter's households: the same rows, because a household's place never
    changes and it has a row at every quarter."""
    from dashboard.queries.status import by_place_only, population

    assert by_place_only(filters)
    store = Store.open(f"duckdb://{demo_store_dir / 'store.duckdb'}", store_dir=demo_store_dir)
    try:
        rows = store.table("status_quarter")
        assert store.count("status_quarter") == (store.count("household")
                                                 * store.count("quarter_calendar"))
        joined = rows.filter(rows.level.notnull()).semi_join(population(store.con, filters),
                                                             "household_id")
        order = ["household_id", "q_idx"]
        expected = joined.select(*order).order_by(order).execute()
        found = forecast.population_levels(store.con, filters).select(*order).order_by(
            order).execute()
    finally:
        store.close()
    assert len(found) > 0
    pd.testing.assert_frame_equal(found, expected)


def test_level_before_is_the_level_at_the_quarter_before(demo_store_dir: Path) -> None:
    store = Store.open(f"duckdb://{demo_store_dir / 'store.duckdb'}", store_dir=demo_store_dir)
    try:
        rows = store.table("status_quarter").select(
            "household_id", "q_idx", "level", "level_before").execute()
    finally:
        store.close()
    rows = rows.sort_values(["household_id", "q_idx"])
    before = rows.groupby("household_id")["level"].shift()
    assert rows["level_before"].notna().sum() > 0
    pd.testing.assert_series_equal(rows["level_before"], before, check_names=False)
