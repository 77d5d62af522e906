"""Data-quality checks, run in the engine over the households in the filter.

Each check returns the rows behind it (small frames); :func:`quality_report` bundles them with
completeness and a score per amphoe. Thresholds come from ``[quality]`` in the definitions file.

Checks: duplicate citizen IDs, possible duplicate households (same house code), tambon codes
outside their amphoe, income outliers (modified z-score of log income, median/MAD), implausible
jumps between consecutive visits, missed follow-up rounds in a row, and visits by someone other
than the buddy paired with the household on the visit date.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import pandas as pd
from ibis import _
from ibis.backends import BaseBackend

from dashboard.definitions import Definitions
from dashboard.filters import Filters
from dashboard.metrics import status
from loaders.reference import tambon_table

__all__ = ["CHECKS", "SEVERITY", "QualityReport", "quality_report"]

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
MAD_SCALE = 0.6745  # makes the MAD of a normal sample comparable to its standard deviation


@dataclass(frozen=True)
class QualityReport:
    checks: dict[str, pd.DataFrame]  # check -> rows behind it (household_id, amphoe_code, ...)
    completeness_amphoe: pd.DataFrame
    completeness_agency: pd.DataFrame
    scores: pd.DataFrame  # per amphoe: households, completeness, affected, score
    last_round: int | None
    notes: dict[str, str] = field(default_factory=dict)

    def affected_households(self) -> set[str]:
        return {h for frame in self.checks.values() for h in frame["household_id"]}


def _visits(con: BaseBackend, filters: Filters) -> tuple[ibis.Table, ibis.Table]:
    """The population (status rows) and its visits up to the as-of date."""
    pop = status(con, filters)
    as_of = pop.as_of.max()
    visits = con.table("visit_status").semi_join(pop.select("household_id"), "household_id")
    visits = visits.filter(visits.visit_date <= as_of)
    visits = visits.join(pop.select("household_id", "amphoe_code"), "household_id")
    return pop, visits


def shared_values(con: BaseBackend, pop: ibis.Table, column: str) -> pd.DataFrame:
    """Households (in the filter) whose ``column`` value another household also has: the
    same head's citizen ID, or the same house registration code."""
    hh = con.table("household")
    shared = (hh.filter(hh[column].notnull()).group_by(column)
              .aggregate(n=_.household_id.nunique()).filter(_.n > 1))
    rows = hh.semi_join(shared, column).semi_join(pop, "household_id")
    return rows.select("household_id", "amphoe_code", column, "head_name").order_by(
        [column, "household_id"]).execute()


def tambon_outside_amphoe(con: BaseBackend, pop: ibis.Table) -> pd.DataFrame:
    reference = ibis.memtable(tambon_table()[["tambon_code", "amphoe_code"]])
    hh = con.table("household").filter(_.tambon_code.notnull()).semi_join(pop, "household_id")
    bad = hh.anti_join(reference, [hh.tambon_code == reference.tambon_code,
                                   hh.amphoe_code == reference.amphoe_code])
    return bad.select("household_id", "amphoe_code", "tambon_code").order_by(
        "household_id").execute()


def income_outliers(visits: ibis.Table, z: float) -> tuple[pd.DataFrame, str]:
    positive = visits.filter(visits.income_per_member > 0).mutate(
        log_income=_.income_per_member.log10())
    median = positive.log_income.median().execute()
    if median is None or pd.isna(median):
        return _empty("visit_id", "income_per_member", "robust_z"), ""
    mad = (positive.log_income - median).abs().median().execute()
    if not mad:
        return _empty("visit_id", "income_per_member", "robust_z"), ""
    scored = positive.mutate(robust_z=MAD_SCALE * (_.log_income - median) / mad)
    rows = scored.filter(scored.robust_z > z).select(
        "household_id", "amphoe_code", "visit_id", "visit_date", "income_per_member",
        "robust_z").order_by(ibis.desc("robust_z")).execute()
    return rows, f"{10 ** median:,.0f}"


def income_jumps(visits: ibis.Table, factor: float, min_baht: float) -> pd.DataFrame:
    window = ibis.window(group_by="household_id", order_by=["visit_date", "visit_id"])
    ordered = visits.mutate(previous=_.income_per_member.lag().over(window),
                            previous_visit=_.visit_id.lag().over(window))
    jumps = ordered.filter(
        (_.previous > 0) & (_.income_per_member > 0)
        & (((_.income_per_member / _.previous) > factor)
           | ((_.previous / _.income_per_member) > factor))
        & ((_.income_per_member - _.previous).abs() >= min_baht))
    return jumps.select("household_id", "amphoe_code", "previous_visit", "visit_id",
                        "visit_date", "previous", "income_per_member").order_by(
        ["household_id", "visit_date"]).execute()


def missed_rounds(con: BaseBackend, pop: ibis.Table, visits: ibis.Table,
                  in_a_row: int) -> tuple[pd.DataFrame, int | None]:
    """Households with ``in_a_row`` or more follow-up rounds in a row without a visit, counting
    up to the last round recorded anywhere in the programme by the as-of date."""
    everyone = con.table("visit").filter(_.visit_date <= pop.as_of.max())
    last = everyone["round"].max().execute()
    if last is None or pd.isna(last) or int(last) < 1:
        return _empty("rounds_missed", "longest_gap"), None
    last = int(last)
    done = visits.filter((_["round"] >= 1) & (_["round"] <= last)).select(
        "household_id", "round").distinct()
    window = ibis.window(group_by="household_id", order_by="round")
    gaps = done.mutate(gap=_["round"] - _["round"].lag().over(window).fill_null(0) - 1)
    per = gaps.group_by("household_id").aggregate(
        inner_gap=_.gap.max(), last_round=_["round"].max(), rounds=_.count())
    joined = pop.select("household_id", "amphoe_code").left_join(per, "household_id")
    result = joined.mutate(
        longest_gap=ibis.greatest(_.inner_gap.fill_null(0),
                                  last - _.last_round.fill_null(0)),
        rounds_missed=last - _.rounds.fill_null(0),
    ).filter(_.longest_gap >= in_a_row)
    rows = result.select("household_id", "amphoe_code", "rounds_missed", "longest_gap").order_by(
        [ibis.desc("longest_gap"), "household_id"]).execute()
    return rows, last


def visits_not_by_buddy(con: BaseBackend, visits: ibis.Table) -> pd.DataFrame:
    pairing = con.table("pairing")
    odd = visits.anti_join(pairing, [
        visits.household_id == pairing.household_id,
        visits.official_id == pairing.official_id,
        pairing.start_date <= visits.visit_date,
        pairing.end_date.isnull() | (pairing.end_date >= visits.visit_date),
    ])
    return odd.select("household_id", "amphoe_code", "visit_id", "visit_date",
                      "official_id").order_by(["visit_date", "visit_id"]).execute()


def completeness(pop: ibis.Table, visits: ibis.Table, last_round: int | None,
                 by: str) -> pd.DataFrame:
    """Visits expected (one per household per round, baseline included) against recorded."""
    rounds = 0 if last_round is None else last_round + 1
    done = (visits.filter(_["round"] <= (last_round or 0)).select("household_id", "round")
            .distinct().group_by("household_id").aggregate(recorded=_.count()))
    joined = pop.select("household_id", by).left_join(done, "household_id")
    frame = joined.group_by(by).aggregate(households=_.count(),
                                          recorded=_.recorded.fill_null(0).sum()).execute()
    frame["expected"] = frame["households"] * rounds
    frame["completeness"] = (frame["recorded"] / frame["expected"]).where(frame["expected"] > 0)
    return frame.sort_values(["completeness", by], na_position="first", ignore_index=True)


def _empty(*columns: str) -> pd.DataFrame:
    return pd.DataFrame(columns=["household_id", "amphoe_code", *columns])


def quality_report(con: BaseBackend, filters: Filters,
                   definitions: Definitions) -> QualityReport:
    rules = definitions.quality
    pop, visits = _visits(con, filters)
    outliers, typical = income_outliers(visits, rules.outlier_robust_z)
    missed, last_round = missed_rounds(con, pop, visits, rules.missed_rounds_in_a_row)
    checks = {
        "duplicate_citizen_id": shared_values(con, pop, "head_citizen_id"),
        "duplicate_household": shared_values(con, pop, "house_code"),
        "tambon_not_in_amphoe": tambon_outside_amphoe(con, pop),
        "income_outlier": outliers,
        "income_jump": income_jumps(visits, rules.jump_factor, rules.min_jump_baht),
        "missed_rounds": missed,
        "visit_not_by_buddy": visits_not_by_buddy(con, visits),
    }
    by_amphoe = completeness(pop, visits, last_round, "amphoe_code")
    by_agency = completeness(pop, visits, last_round, "agency_code")
    affected = pd.concat([f[["household_id", "amphoe_code"]] for f in checks.values()])
    affected = affected.drop_duplicates().groupby("amphoe_code").size().rename("affected")
    scores = by_amphoe.set_index("amphoe_code").join(affected).fillna({"affected": 0})
    scores["affected"] = scores["affected"].astype(int)
    scores["score"] = (100 * scores["completeness"].fillna(0)
                       * (1 - scores["affected"] / scores["households"])).round(1)
    scores = scores.reset_index().sort_values(["score", "amphoe_code"], ignore_index=True)
    return QualityReport(checks=checks, completeness_amphoe=by_amphoe,
                         completeness_agency=by_agency, scores=scores, last_round=last_round,
                         notes={"typical_income": typical})
