"""The data-quality report against its definitions worked out in pandas: each check's rows in
its order, completeness by amphoe and by agency, the scores and the counts (the report cuts,
sums and sorts them in the engine and numpy)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dashboard.queries.quality import CHECK_COLUMNS, CHECKS, ORDER, quality_report
from domain.definitions import load_definitions
from domain.filters import Filters
from loaders.store import Store

DEFS = load_definitions()


@pytest.fixture(scope="module")
def demo(demo_store_dir: Path):
    store = Store.open(f"duckdb://{demo_store_dir / 'store.duckdb'}", store_dir=demo_store_dir)
    yield store
    store.close()


def _completeness(store: Store, filters: Filters, q_idx: int, by: str,
                  rounds: int) -> pd.DataFrame:
    table = store.table("quality_completeness").execute()
    table = table[table["q_idx"] == q_idx]
    if filters.amphoe:
        table = table[table["amphoe_code"] == filters.amphoe]
    if filters.agency:
        table = table[table["agency_code"] == filters.agency]
    if filters.levels:
        table = table[table["level"].fillna(-1).isin(filters.levels)]
    frame = table.groupby(by, dropna=False, as_index=False)[["households", "recorded"]].sum()
    frame = frame.astype({"households": "int64", "recorded": "int64"})
    frame["expected"] = frame["households"] * rounds
    frame["completeness"] = (frame["recorded"] / frame["expected"]).where(frame["expected"] > 0)
    return frame.sort_values(["completeness", by], na_position="first", ignore_index=True)


@pytest.mark.parametrize("filters", [
    Filters(), Filters(amphoe="4010"), Filters(agency="CDD", levels=(1, 2)),
    Filters(amphoe="4001", quarter=25643), Filters(quarter=25632)])
def test_the_report_is_its_definition(demo: Store, filters: Filters) -> None:
    report = quality_report(demo.con, filters, DEFS)
    for check in CHECKS:
        rows = report.checks[check]
        assert tuple(rows.columns) == CHECK_COLUMNS[check]
        columns, ascending = zip(*ORDER[check], strict=True)
        pd.testing.assert_frame_equal(rows, rows.sort_values(
            list(columns), ascending=list(ascending), ignore_index=True))
        assert report.households[check] == rows["household_id"].nunique()

    calendar = demo.table("quarter_calendar").execute()
    q_idx = filters.quarter or int(calendar["q_idx"].max())
    rounds = 0 if report.last_round is None else report.last_round + 1
    place = report.place  # an amphoe's tambon once one is chosen, as on every page
    assert place == filters.place_column
    for by, frame in ((place, report.completeness_place),
                      ("agency_code", report.completeness_agency)):
        pd.testing.assert_frame_equal(frame, _completeness(demo, filters, q_idx, by, rounds))

    pairs = pd.concat([f[["household_id", "amphoe_code"]] for f in report.checks.values()])
    pairs = pairs.drop_duplicates()
    assert report.affected == pairs["household_id"].nunique() == len(
        report.affected_households())
    if place == "tambon_code":
        tambon = demo.table("household").select("household_id", "tambon_code").execute()
        pairs = pairs.merge(tambon, on="household_id").drop_duplicates(
            ["household_id", "tambon_code"])
    affected = pairs.groupby(place).size().rename("affected")
    scores = report.completeness_place.set_index(place).join(affected)
    scores = scores.fillna({"affected": 0}).astype({"affected": "int64"})
    scores["score"] = (100 * scores["completeness"].fillna(0)
                       * (1 - scores["affected"] / scores["households"])).round(1)
    scores = scores.reset_index().sort_values(["score", place], ignore_index=True)
    pd.testing.assert_frame_equal(report.scores, scores)
