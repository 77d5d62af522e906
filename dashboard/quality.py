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
import pandas as pd
from ibis import _
from ibis.backends import BaseBackend

from dashboard.compiled import kept_expression
from dashboard.definitions import Definitions
from dashboard.filters import Filters, apply_place_agency
from dashboard.metrics import status
from dashboard.privacy import Viewer, protect
from loaders.derived_quality import rules_key

__all__ = ["CHECKS", "CHECK_COLUMNS", "SEVERITY", "QualityReport", "named_table",
           "quality_report", "shown_rows"]

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
    completeness_amphoe: pd.DataFrame
    completeness_agency: pd.DataFrame
    scores: pd.DataFrame  # per amphoe: households, completeness, affected, score
    last_round: int | None
    notes: dict[str, str] = field(default_factory=dict)
    households: dict[str, int] = field(default_factory=dict)  # check -> households it names
    affected: int = 0  # households with at least one finding

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


@kept_expression
def _quarter_row_expr(con: BaseBackend, filters: Filters) -> ibis.Table:
    cal = con.table("quarter_calendar").select("q_idx", "as_of").left_join(
        con.table("quality_round"), "q_idx").drop("q_idx_right")
    if filters.quarter is not None:
        cal = cal.filter(cal.q_idx == filters.quarter)
    return cal.order_by(ibis.desc("q_idx")).limit(1)


def _findings(con: BaseBackend, filters: Filters, q_idx: int | None,
              as_of: object) -> dict[str, pd.DataFrame]:
    """The findings about the households in the filter, as of the quarter, per check."""
    rows = _finding_rows(con, filters, q_idx, as_of).execute()
    by_check = dict(tuple(rows.groupby("check", sort=False)))  # one pass, not one per check
    checks = {}
    for check in CHECKS:
        frame = by_check.get(check, rows.iloc[:0])[list(CHECK_COLUMNS[check])]
        columns, ascending = zip(*ORDER[check], strict=True)
        checks[check] = frame.sort_values(list(columns), ascending=list(ascending),
                                          ignore_index=True)
    return checks


@kept_expression
def _finding_rows(con: BaseBackend, filters: Filters, q_idx: int | None,
                  as_of: object) -> ibis.Table:
    table = con.table("quality_finding")
    table = table.filter(
        table.q_idx.isnull() | (table.q_idx == q_idx),
        table.visit_date.isnull() | (table.visit_date <= pd.Timestamp(as_of).date()))
    if not filters.is_default:  # the default filters hold every household
        table = table.semi_join(status(con, filters).select("household_id"), "household_id")
    return table


@kept_expression
def _completeness_groups(con: BaseBackend, filters: Filters, q_idx: int | None) -> ibis.Table:
    table = con.table("quality_completeness")
    table = apply_place_agency(table.filter(table.q_idx == q_idx), filters)
    if filters.levels:
        table = table.filter(table.level.fill_null(-1).isin(list(filters.levels)))
    return table.group_by("amphoe_code", "agency_code").aggregate(
        households=_.households.sum(), recorded=_.recorded.sum())


def _completeness(con: BaseBackend, filters: Filters, q_idx: int | None,
                  last_round: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Visits expected (one per household per round, baseline included) against recorded, by
    amphoe and by agency (the buddy's as of the quarter)."""
    groups = _completeness_groups(con, filters, q_idx).execute()
    rounds = 0 if last_round is None else last_round + 1
    frames = []
    for by in ("amphoe_code", "agency_code"):
        frame = groups.groupby(by, dropna=False, as_index=False)[
            ["households", "recorded"]].sum()
        frame = frame.astype({"households": "int64", "recorded": "int64"})
        frame["expected"] = frame["households"] * rounds
        frame["completeness"] = (frame["recorded"] / frame["expected"]).where(
            frame["expected"] > 0)
        frames.append(frame.sort_values(["completeness", by], na_position="first",
                                        ignore_index=True))
    return frames[0], frames[1]


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
    checks = _findings(con, filters, q_idx, as_of)
    by_amphoe, by_agency = _completeness(con, filters, q_idx, last_round)
    affected = pd.concat([f[["household_id", "amphoe_code"]] for f in checks.values()])
    affected = affected.drop_duplicates()
    households = {check: int(frame["household_id"].nunique()) for check, frame in checks.items()}
    n_affected = int(affected["household_id"].nunique())
    affected = affected.groupby("amphoe_code").size().rename("affected")
    scores = by_amphoe.set_index("amphoe_code").join(affected).fillna({"affected": 0})
    scores["affected"] = scores["affected"].astype(int)
    scores["score"] = (100 * scores["completeness"].fillna(0)
                       * (1 - scores["affected"] / scores["households"])).round(1)
    scores = scores.reset_index().sort_values(["score", "amphoe_code"], ignore_index=True)
    median = stats["median_log"]
    typical = "" if pd.isna(median) else f"{10 ** median:,.0f}"
    return QualityReport(checks=checks, completeness_amphoe=by_amphoe,
                         completeness_agency=by_agency, scores=scores, last_round=last_round,
                         households=households, affected=n_affected,
                         notes={"typical_income": typical})


def named_table(frame: pd.DataFrame, column: str, names: Mapping[str, str],
                labels: Mapping[str, str], columns: tuple[str, ...] | None = None,
                missing: str | None = None) -> pd.DataFrame:
    """``frame`` for the screen: the codes in ``column`` as names (``missing`` where there is
    no code), only ``columns`` (all when None) and the columns under ``labels``."""
    out = frame if columns is None else frame[list(columns)]
    named = out[column].map(names)
    out = out.assign(**{column: named if missing is None else named.fillna(missing)})
    return out.rename(columns=labels)


def shown_rows(rows: pd.DataFrame, viewer: Viewer, amphoe: Mapping[str, str],
               labels: Mapping[str, str]) -> pd.DataFrame:
    """A check's rows as this viewer may see them (:func:`protect`), amphoe codes as names and
    columns under ``labels``. Raises :class:`NotAllowedError` for a viewer without rows."""
    return named_table(protect(rows, viewer), "amphoe_code", amphoe, labels)
