"""The Data quality page's precomputed tables (loaders/derived_quality.py): the same answers as
the checks' definitions, worked out here directly from the visits, for every quarter; built by
each import, rebuilt for new thresholds; and the page capping what it shows."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from dashboard.queries.quality import CHECK_COLUMNS, CHECKS, StaleQualityTables, quality_report
from domain.definitions import load_definitions
from domain.filters import Filters
from loaders.bootstrap import ensure_definitions_current
from loaders.store import Store
from tests.conftest import build_store
from tests.factories import household, tiny_frames, visit, write_csvs
from tests.pages.test_app import copy_of
from tests.pages.test_quality_import import quality_page

DEFS = load_definitions()
ROUNDS = 7  # baseline and six follow-ups, one a quarter from Oct 2019


def round_date(round_: int, late_by: int = 0) -> str:
    """The 15th of the first month of the round's quarter, ``late_by`` quarters later."""
    month = 10 + 3 * (round_ + late_by)
    return dt.date(2019 + (month - 1) // 12, (month - 1) % 12 + 1, 15).isoformat()


def ragged_frames(seed: int) -> dict[str, pd.DataFrame]:
    """Sixteen households visited irregularly: rounds skipped, done a quarter or two late (so
    a round can count only from a later quarter than the programme reached it), done twice."""
    rng = random.Random(seed)
    frames = tiny_frames()
    households = [household(f"H{i}", "4001" if i <= 10 else "4005",
                            "400101" if i <= 10 else "400501") for i in range(1, 17)]
    pairings = [{"official_id": "O1" if i <= 10 else "O3", "household_id": f"H{i}",
                 "start_date": "2019-09-27", "end_date": ""} for i in range(1, 17)]
    visits = []
    for i in range(1, 17):
        oid = "O1" if i <= 10 else "O3"
        for r in range(ROUNDS):
            if r > 0 and rng.random() < 0.3:
                continue
            late = 0 if r == 0 else rng.choice([0, 0, 0, 1, 2])
            if r + late >= ROUNDS:
                late = 0
            visits.append(visit(f"V{i:02d}{r}", f"H{i}", oid, round_date(r, late),
                                level=rng.randrange(4), round_=r))
            if rng.random() < 0.1 and r + late + 1 < ROUNDS:  # the same round again
                visits.append(visit(f"W{i:02d}{r}", f"H{i}", oid, round_date(r, late + 1),
                                    level=rng.randrange(4), round_=r))
    return {"households": pd.DataFrame(households), "officials": frames["officials"],
            "pairings": pd.DataFrame(pairings), "visits": pd.DataFrame(visits)}


def by_definition(visits: pd.DataFrame, households: list[str], as_of: dt.date,
                  in_a_row: int) -> tuple[dict[str, tuple[int, int]], dict[str, int], int | None]:
    """Missed rounds (household -> (rounds missed, longest gap)), rounds recorded per household
    and the latest round, as of ``as_of``, straight from the checks' definitions."""
    seen = visits[visits["visit_date"] <= as_of]
    last = int(seen["round"].max()) if len(seen) else None
    last = last if last is not None and last >= 1 else None
    missed, recorded = {}, {}
    for hid in households:
        rounds = set(seen.loc[seen["household_id"] == hid, "round"])
        recorded[hid] = len({r for r in rounds if r <= (last or 0)})
        if last is None:
            continue
        done = sorted(r for r in rounds if 1 <= r <= last)
        gaps = [b - a - 1 for a, b in zip([0, *done], done, strict=False)]
        longest = max([*gaps, last - (done[-1] if done else 0)])
        if longest >= in_a_row:
            missed[hid] = (last - len(done), longest)
    return missed, recorded, last


@pytest.mark.parametrize("seed", [1, 2])
def test_missed_rounds_and_completeness_follow_the_definitions_in_every_quarter(
        tmp_path: Path, seed: int) -> None:
    frames = ragged_frames(seed)
    store = build_store(tmp_path, write_csvs(frames, tmp_path / "files"))
    try:
        quarters = store.table("quarter_calendar").execute()
        visits = frames["visits"].assign(visit_date=lambda f: pd.to_datetime(
            f["visit_date"]).dt.date)
        households = frames["households"]
        in_a_row = DEFS.quality.missed_rounds_in_a_row
        late_rounds = 0
        for q_idx, as_of in zip(quarters["q_idx"], quarters["as_of"], strict=True):
            report = quality_report(store.con, Filters(quarter=int(q_idx)), DEFS)
            missed, recorded, last = by_definition(visits, list(households["household_id"]),
                                                   as_of.date(), in_a_row)
            found = report.checks["missed_rounds"].set_index("household_id")
            assert {h: (int(r.rounds_missed), int(r.longest_gap))
                    for h, r in found.iterrows()} == missed, as_of
            assert report.last_round == last
            rounds = 0 if last is None else last + 1
            expect = households.assign(recorded=households["household_id"].map(recorded))
            expect = expect.groupby("amphoe_code")["recorded"].agg(["size", "sum"])
            got = report.completeness_place.set_index("amphoe_code")
            assert got["households"].to_dict() == expect["size"].to_dict()
            assert got["recorded"].to_dict() == expect["sum"].to_dict()
            assert (got["expected"] == got["households"] * rounds).all()
            late_rounds += sum(1 for v in visits.itertuples()
                               if v.visit_date <= as_of.date() and v.round > 0
                               and v.visit_date > dt.date.fromisoformat(round_date(v.round)))
        assert late_rounds > 0  # the data did exercise rounds done late
    finally:
        store.close()


def test_every_import_builds_the_tables_and_new_thresholds_rebuild_them(
        tiny_store: Store) -> None:
    tables = tiny_store.table_names()
    assert {"quality_finding", "quality_completeness", "quality_round",
            "quality_stats"} <= tables
    assert not any(name.startswith("_q_") for name in tables)  # intermediates dropped
    report = quality_report(tiny_store.con, Filters(), DEFS)
    assert set(report.checks["missed_rounds"]["household_id"]) == {"H2", "H5", "H6", "H7", "H8"}
    # two rounds in a row is enough now: H1 (rounds 2-3), H3 (1-2, 4) and H4 (3-4) join
    two = replace(DEFS, quality=replace(DEFS.quality, missed_rounds_in_a_row=2))
    with pytest.raises(StaleQualityTables):  # the page never reads tables of other rules
        quality_report(tiny_store.con, Filters(), two)
    assert ensure_definitions_current(tiny_store, two) is True  # what a definitions change does
    report = quality_report(tiny_store.con, Filters(), two)
    assert set(report.checks["missed_rounds"]["household_id"]) == {
        "H1", "H2", "H3", "H4", "H5", "H6", "H7", "H8"}


def test_a_store_built_before_the_tables_gets_them_when_opened(tiny_store: Store) -> None:
    with tiny_store.transaction():
        for name in ("quality_finding", "quality_completeness", "quality_round",
                     "quality_stats"):
            tiny_store.execute(f'DROP TABLE "{name}"')
        tiny_store.set_meta("definitions", "built-by-earlier-code")
    assert ensure_definitions_current(tiny_store, DEFS) is True
    report = quality_report(tiny_store.con, Filters(), DEFS)
    assert report.checks["visit_not_by_buddy"]["visit_id"].tolist() == ["V06", "V16"]
    assert {c: list(report.checks[c].columns) for c in CHECKS} == {
        c: list(CHECK_COLUMNS[c]) for c in CHECKS}


def test_the_page_shows_the_first_rows_and_offers_them_all(
        tmp_path: Path, tiny_template: Path, use_store, monkeypatch: pytest.MonkeyPatch) -> None:
    """520 households never visited: each has missed every follow-up round (4 of 4)."""
    folder = copy_of(tiny_template, tmp_path)
    frames = {"households": pd.DataFrame(
        [household(f"H{i}", "4001", "400101") for i in range(100, 620)])}
    store = Store.open(f"duckdb://{folder / 'store.duckdb'}", store_dir=folder)
    from loaders.importer import import_file

    files = write_csvs(frames, tmp_path / "more")
    assert import_file(store, files["households"], "households", imported_by="test").committed
    store.close()
    at = quality_page(use_store, folder, monkeypatch, "officer")
    assert at.selectbox(key="quality_check").value == "missed_rounds"  # the first with rows
    rows = next(d.value for d in at.dataframe if "รอบที่ขาด" in d.value.columns)
    assert len(rows) == 500
    assert "แสดง 500 แถวแรกจาก 525 แถว" in " ".join(c.value for c in at.caption)
    summary = next(d.value for d in at.table if "การตรวจ" in d.value.columns)  # static table
    assert summary.set_index("การตรวจ").loc["ขาดการเยี่ยมหลายรอบติดกัน", "จำนวนที่พบ"] == "525"
    assert len(at.get("download_button")) == 4  # summary and the check's rows, CSV and Excel
    at.selectbox(key="quality_check").set_value("visit_not_by_buddy").run()
    assert not at.exception
    assert len(next(d.value for d in at.dataframe if "ผู้เยี่ยม" in d.value.columns)) == 2


def test_an_outlier_is_judged_against_the_whole_programme_whatever_the_filter(
        demo_store_dir: Path) -> None:
    """The demo's planted income slips: choosing their amphoe shows the same visits with the
    same robust z (the median and MAD are the whole programme's, not the amphoe's)."""
    store = Store.open(f"duckdb://{demo_store_dir / 'store.duckdb'}", store_dir=demo_store_dir)
    try:
        everyone = quality_report(store.con, Filters(), DEFS)
        outliers = everyone.checks["income_outlier"]
        assert len(outliers) == 3
        for amphoe, rows in outliers.groupby("amphoe_code"):
            one = quality_report(store.con, Filters(amphoe=str(amphoe)), DEFS)
            pd.testing.assert_frame_equal(one.checks["income_outlier"],
                                          rows.reset_index(drop=True))
            assert one.notes == everyone.notes  # the typical income shown is the programme's
    finally:
        store.close()
