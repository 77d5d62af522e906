"""Data-quality checks: what in the data could mislead, before it does.

The checks run once per import (and when the ``[quality]`` thresholds change) into derived
tables (:mod:`loaders.derived_quality`); :func:`quality_report` only filters and counts them,
so the page stays quick at a million households. Thresholds come from ``[quality]`` in the
definitions file.

Checks: duplicate citizen IDs, possible duplicate households (same house code), tambon codes
outside their amphoe, income outliers (modified z-score of log income, median/MAD), implausible
jumps between consecutive visits, missed follow-up rounds in a row, and visits by someone other
than the buddy paired with the household on the visit date.

What the filters mean: they choose the households (place, agency and level as of the selected
quarter, as on every page), and the selected quarter's as-of date limits the visits looked at.
A finding itself does not change with the filters: a duplicate is shared with any household in
the programme, and an income outlier is judged against the whole programme's distribution of
income per member (every visit in the data), not the filtered subset's, so choosing an amphoe
never turns a visit into an outlier or back. Income jumps and visits by someone other than the
buddy are about single visits and hold as of their visit date; missed rounds and completeness
count up to the latest round recorded anywhere in the programme by the as-of date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd
from ibis import _
from ibis.backends import BaseBackend

from dashboard.queries.status import status
from domain.definitions import Definitions
from domain.filters import Filters, apply_place_agency, at_levels
from loaders.derived_quality import rules_key

CHECKS = ("duplicate_citizen_id", "duplicate_household", "tambon_not_in_amphoe",
          "income_outlier", "income_jump", "missed_rounds", "visit_not_by_buddy")
SEVERITY = {
    "duplicate_citizen_id": "high",
    "duplicate_household": "high",
    "tambon_not_in_amphoe": "high",
    "income_outlier": "medium",
    "income_jump": "medium",
    "missed_rounds": "medium",
    "visit_not_by_buddy": "low",
}
# the columns each check shows, and the order of its rows (every order ends in a unique key)
CHECK_COLUMNS: dict[str, tuple[str, ...]] = {
    "duplicate_citizen_id": ("household_id", "amphoe_code", "head_citizen_id", "head_name"),
    "duplicate_household": ("household_id", "amphoe_code", "house_code", "head_name"),
    "tambon_not_in_amphoe": ("household_id", "amphoe_code", "tambon_code"),
    "income_outlier": ("household_id", "amphoe_code", "visit_id", "visit_date",
                       "income_per_member", "robust_z"),
    "income_jump": ("household_id", "amphoe_code", "previous_visit", "visit_id", "visit_date",
                    "previous", "income_per_member"),
    "missed_rounds": ("household_id", "amphoe_code", "rounds_missed", "longest_gap"),
    "visit_not_by_buddy": ("household_id", "amphoe_code", "visit_id", "visit_date",
                           "official_id"),
}
ORDER: dict[str, tuple[tuple[str, bool], ...]] = {  # (column, ascending)
    "duplicate_citizen_id": (("head_citizen_id", True), ("household_id", True)),
    "duplicate_household": (("house_code", True), ("household_id", True)),
    "tambon_not_in_amphoe": (("household_id", True),),
    "income_outlier": (("robust_z", False), ("visit_id", True)),
    "income_jump": (("household_id", True), ("visit_date", True), ("visit_id", True)),
    "missed_rounds": (("longest_gap", False), ("household_id", True)),
    "visit_not_by_buddy": (("visit_date", True), ("visit_id", True)),
}


@dataclass(frozen=True)
class QualityReport:
    checks: dict[str, pd.DataFrame]  # check -> rows behind it (household_id, amphoe_code, ...)
    completeness_place: pd.DataFrame  # per place (see ``place``)
    completeness_agency: pd.DataFrame
    scores: pd.DataFrame  # per place: households, completeness, affected, score
    last_round: int | None
    notes: dict[str, str] = field(default_factory=dict)
    households: dict[str, int] = field(default_factory=dict)  # check -> households it names
    affected: int = 0  # households with at least one finding
    place: str = "amphoe_code"  # the places compared: amphoe, or the chosen amphoe's tambon

    def affected_households(self) -> set[str]:
        return {h for frame in self.checks.values() for h in frame["household_id"]}


def _quarter_row(con: BaseBackend, filters: Filters) -> tuple[int | None, object, int | None]:
    """The selected quarter (latest when none), its as-of date and its latest round."""
    row = _quarter_row_expr(con, filters).execute()
    if row.empty:
        return None, None, None
    last = row["last_round"].iloc[0]
    last = None if pd.isna(last) or int(last) < 1 else int(last)
    return int(row["q_idx"].iloc[0]), row["as_of"].iloc[0], last


def _quarter_row_expr(con: BaseBackend, filters: Filters) -> ibis.Table:
    cal = con.table("quarter_calendar").select("q_idx", "as_of").left_join(
        con.table("quality_round"), "q_idx").drop("q_idx_right")
    if filters.quarter is not None:
        cal = cal.filter(cal.q_idx == filters.quarter)
    return cal.order_by(ibis.desc("q_idx")).limit(1)


_RANK = "check_rank"
_DETAILS = tuple(dict.fromkeys(c for columns in CHECK_COLUMNS.values() for c in columns))
"""The finding columns some check shows (household and amphoe first)."""


def _finding_rows(con: BaseBackend, filters: Filters, q_idx: int | None,
                  as_of: object) -> ibis.Table:
    """The findings about the households in the filter, as of the quarter, in the order the
    report shows them: by check (``check_rank``, its place in :data:`CHECKS`; a check not
    listed last), then in the check's :data:`ORDER`. The report cuts each check's rows out
    by position; grouping and sorting seven small frames in pandas cost several times what
    the engine needs for the whole answer.

    Every check comes in one read, as it always has: a column converts as the whole read of
    it does (an integer column null for other checks comes as floats)."""
    table = con.table("quality_finding")
    table = table.filter(
        table.q_idx.isnull() | (table.q_idx == q_idx),
        table.visit_date.isnull() | (table.visit_date <= pd.Timestamp(as_of).date()))
    if not filters.is_default:  # the default filters hold every household
        table = table.semi_join(status(con, filters).select("household_id"), "household_id")
    rank = table.check.cases(*((check, i) for i, check in enumerate(CHECKS)),
                             else_=len(CHECKS)).cast("int8")
    table = table.select(rank.name(_RANK), *_DETAILS)
    return table.order_by([table[_RANK], *_order_keys(table)])


def _order_keys(table: ibis.Table) -> list[ibis.Value]:
    """Sort keys that put each check's rows in its :data:`ORDER` once they are grouped by
    check. A key holds the column of every check that sorts on a column of that type, in that
    direction, at that place of its order, and null for the others' rows: seven keys where
    one per check and column took fourteen, and the engine's sort costs by the key."""
    slots: dict[tuple[int, object, bool], list[tuple[ibis.Value, ibis.Value]]] = {}
    for i, check in enumerate(CHECKS):
        for place, (column, ascending) in enumerate(ORDER[check]):
            slot = slots.setdefault((place, table[column].type(), ascending), [])
            slot.append((table[_RANK] == i, table[column]))
    keys = []
    for (_place, _type, ascending), branches in sorted(slots.items(), key=lambda s: s[0][0]):
        key = ibis.cases(*branches)  # null (last, as pandas sorts) in other checks' rows
        keys.append(key.asc() if ascending else key.desc())
    return keys


def _checks(rows: pd.DataFrame, bounds: np.ndarray) -> dict[str, pd.DataFrame]:
    """Each check's rows (in its order already), its columns only: frames made from slices
    of the findings' column arrays (cutting them out of the frame with ``iloc`` and
    re-indexing costs twice as much; grouping and sorting, several times). The slices are
    copied: the findings are a kept result, shared by every session, which pandas could not
    keep a caller from changing through a view."""
    arrays = {name: rows[name].array for name in _DETAILS}
    return {check: pd.DataFrame({name: arrays[name][start:stop]
                                 for name in CHECK_COLUMNS[check]})
            for check, start, stop in zip(CHECKS, bounds[:-1], bounds[1:], strict=True)}


def _affected(rows: pd.DataFrame, bounds: np.ndarray,
              place_of: Mapping[str, str] | None = None) -> tuple[dict[str, int], int,
                                                                   dict[str, int]]:
    """Households named by each check, households with at least one finding, and those per
    amphoe (each household counted in every amphoe it is found in), or per tambon by
    ``place_of`` (household -> tambon): distinct codes counted in numpy, as quick at a
    hundred thousand findings as at a hundred."""
    end = bounds[-1]  # the rows of listed checks come first
    ids, named = pd.factorize(rows["household_id"].array[:end])  # no household: -1
    where = (rows["amphoe_code"].array[:end] if place_of is None
             else pd.array([place_of.get(h) for h in rows["household_id"].array[:end]],
                           dtype=object))
    places, codes = pd.factorize(where)
    width = len(named) + 1
    check = np.repeat(np.arange(len(CHECKS)), np.diff(bounds))
    by_check = np.unique(check * width + ids + 1)
    by_check = by_check[by_check % width > 0] // width  # a row without a household names none
    per_check = np.bincount(by_check, minlength=len(CHECKS)).tolist()
    pairs = np.unique((ids + 1) * (len(codes) + 1) + places + 1)
    place = pairs % (len(codes) + 1) - 1
    per_place = np.bincount(place[place >= 0], minlength=len(codes)).tolist()
    return (dict(zip(CHECKS, per_check, strict=True)), len(named),
            dict(zip(codes, per_place, strict=True)))


def _completeness_groups(con: BaseBackend, filters: Filters, q_idx: int | None) -> ibis.Table:
    """Households and visits recorded in the filter as of the quarter, by place (amphoe, or
    the chosen amphoe's tambon) and agency."""
    table = con.table("quality_completeness")
    table = apply_place_agency(table, filters, table.q_idx == q_idx, *at_levels(table, filters))
    return table.group_by(filters.place_column, "agency_code").aggregate(
        households=_.households.sum(), recorded=_.recorded.sum())


def _completeness(groups: pd.DataFrame, last_round: int | None,
                  place: str = "amphoe_code") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Visits expected (one per household per round, baseline included) against recorded, by
    amphoe and by agency (the buddy's as of the quarter; no agency is a group of its own):
    least complete first (no figure, before the first round, before any), then by code (no
    code first).

    Both are summed in numpy from the one read by amphoe and agency: two group-bys and sorts
    in pandas cost several times as much, and a read of each costs the engine more."""
    rounds = 0 if last_round is None else last_round + 1
    counts = {name: groups[name].to_numpy(dtype="int64", na_value=0)  # null: 0, as pandas sums
              for name in ("households", "recorded")}
    frames = []
    for by in (place, "agency_code"):
        group, codes = pd.factorize(groups[by].array)  # no code: -1
        size = len(codes) + int((group < 0).any())
        group = np.where(group < 0, len(codes), group)  # no code: the group after the codes
        sums = {}
        for name, values in counts.items():
            sums[name] = np.zeros(size, dtype="int64")
            np.add.at(sums[name], group, values)
        expected = sums["households"] * rounds
        with np.errstate(divide="ignore", invalid="ignore"):
            completeness = np.where(expected > 0, sums["recorded"] / expected, np.nan)
        place = np.full(size, -1)  # no code: first
        place[codes.argsort()] = np.arange(len(codes))
        order = np.lexsort((place, np.where(np.isnan(completeness), -np.inf, completeness)))
        frames.append(pd.DataFrame({
            by: codes.take(np.where(order < len(codes), order, -1), allow_fill=True),
            "households": sums["households"][order], "recorded": sums["recorded"][order],
            "expected": expected[order], "completeness": completeness[order]}))
    return frames[0], frames[1]


def _scores(by_amphoe: pd.DataFrame, affected: Mapping[str, int],
            place: str = "amphoe_code") -> pd.DataFrame:
    """Per place: completeness, households with a finding and the score (completeness times
    the share of households without one), lowest first, then by code."""
    names = by_amphoe[place].array
    hit = np.array([affected.get(name, 0) for name in names], dtype="int64")
    households = by_amphoe["households"].to_numpy()
    completeness = by_amphoe["completeness"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        score = (100 * np.where(np.isnan(completeness), 0.0, completeness)
                 * (1 - hit / households)).round(1)
    place = np.empty(len(names), dtype="int64")  # one row an amphoe; no amphoe last
    place[names.argsort()] = np.arange(len(names))
    order = np.lexsort((place, score))
    columns = {name: by_amphoe[name].array.take(order) for name in by_amphoe.columns}
    return pd.DataFrame({**columns, "affected": hit[order], "score": score[order]})


class StaleQualityTables(RuntimeError):
    """The data-quality tables were not built with the definitions in force."""


def _stats(con: BaseBackend, definitions: Definitions) -> pd.Series:
    """The programme's income statistics, with the rules the quality tables were built
    with. Every import and every definitions change rebuilds the tables (and a store built by
    earlier code is rebuilt when opened), so a mismatch means they were skipped."""
    row = con.table("quality_stats").execute()
    if not len(row) or row["rules"].iloc[0] != rules_key(definitions):
        raise StaleQualityTables(
            "the data-quality tables were built with other rules: rebuild the derived tables "
            "(an import or a change of the definitions file does)")
    return row.iloc[0]


def quality_report(con: BaseBackend, filters: Filters,
                   definitions: Definitions) -> QualityReport:
    """The findings and completeness for the households in the filter, as of the selected
    quarter, read from the tables :mod:`loaders.derived_quality` built with ``definitions``."""
    stats = _stats(con, definitions)
    q_idx, as_of, last_round = _quarter_row(con, filters)
    rows = _finding_rows(con, filters, q_idx, as_of).execute()
    bounds = np.searchsorted(rows[_RANK].to_numpy(), np.arange(len(CHECKS) + 1))
    checks = _checks(rows, bounds)
    place = filters.place_column
    place_of = None if place == "amphoe_code" else dict(
        status(con, filters).select("household_id", "tambon_code").execute()
        .itertuples(index=False, name=None))
    households, n_affected, affected = _affected(rows, bounds, place_of)
    by_place, by_agency = _completeness(
        _completeness_groups(con, filters, q_idx).execute(), last_round, place)
    scores = _scores(by_place, affected, place)
    median = stats["median_log"]
    typical = "" if pd.isna(median) else f"{10 ** median:,.0f}"
    return QualityReport(checks=checks, completeness_place=by_place, place=place,
                         completeness_agency=by_agency, scores=scores, last_round=last_round,
                         households=households, affected=n_affected,
                         notes={"typical_income": typical})


