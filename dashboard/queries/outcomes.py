"""Aggregations, written once as Ibis expressions and run inside the engine.

Every function takes the Ibis backend and the filters, and returns a small pandas frame or a
dict of plain numbers: nothing large crosses into pandas. Shares are fractions (0-1) of the
households in the filter; a share of nothing is ``None``, never 0.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

import ibis
import numpy as np
import pandas as pd
from ibis import _
from ibis.backends import BaseBackend

from dashboard.queries.overview import target_trend
from dashboard.queries.status import (
    at_least,
    population,
    quarterly,
    selected_quarter,
    status,
    status_at,
    with_shares,
)
from domain.definitions import TARGET_LEVELS, Definitions
from domain.filters import Filters
from domain.targets import deprived_column

PERIODS = ("quarter", "month", "round")


INCOME_BIN_WIDTH = 5_000


INCOME_CAP = 120_000


COMPARE_LEVEL = TARGET_LEVELS[1]
"""The Outcomes page's histogram bins and cap (baht/person/year), and the level it compares
groups at (the second target): the parameters its shared read (:func:`_outcomes`) is made
for."""


def level_trend(con: BaseBackend, filters: Filters, definitions: Definitions,
                period: str = "quarter") -> pd.DataFrame:
    """Share at or above each target per period. ``quarter``: every household's status at
    each fiscal quarter's end (latest visit carried forward); ``month`` and ``round``: the
    households visited in that month or survey round. Columns: period, assessed,
    n_<level> and share_<level> for each target level."""
    if period == "quarter":
        if tuple(tg.level for tg in definitions.targets) == TARGET_LEVELS:
            return _outcome_parts(con, filters, (_TREND,))[0]
        # definitions made otherwise (not by load_definitions) are not the page's read's
        return target_trend(con, filters, definitions).rename(columns={"q_idx": "period"})
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}")
    return _level_trend(con, filters, definitions, period).execute()


def _level_trend(con: BaseBackend, filters: Filters, definitions: Definitions,
                 period: str) -> ibis.Table:
    as_of = status(con, filters).as_of.max()
    visits = con.table("visit_status").semi_join(population(con, filters), "household_id")
    visits = visits.filter(visits.visit_date <= as_of)
    if period == "month":
        key = (visits.visit_date.year() * 100 + visits.visit_date.month()).name("period")
    else:
        key = visits["round"].name("period")
    levels = [tg.level for tg in definitions.targets]
    return with_shares(visits.group_by(key).aggregate(**at_least(levels)),
                        levels).order_by("period")


def transitions(con: BaseBackend, filters: Filters) -> pd.DataFrame:
    """Households by level at baseline and level now (surveyed households only)."""
    return _outcome_parts(con, filters, (_MOVES,))[0]


def income_histogram(con: BaseBackend, filters: Filters, bin_width: int = INCOME_BIN_WIDTH,
                     cap: int = INCOME_CAP) -> pd.DataFrame:
    """Households per income-per-member bin (baht/person/year) at baseline and now, binned in
    the engine; incomes at or above ``cap`` fall in the last bin. Columns: bin_start,
    baseline, latest."""
    counted = _outcome_parts(con, filters, (_BINS,), bin_width=bin_width, cap=cap)[0]
    bins = np.arange(0, cap + bin_width, bin_width)
    at = counted["bin_start"].to_numpy() // bin_width
    inside = (at >= 0) & (at < len(bins))  # not a negative income's bin
    out = {"bin_start": bins}
    for label in ("baseline", "latest"):
        out[label] = np.zeros(len(bins), dtype=np.int64)
        out[label][at[inside]] = counted[label].to_numpy()[inside]
    return pd.DataFrame(out)


def income_medians(con: BaseBackend, filters: Filters) -> tuple[float | None, float | None]:
    """Median income per member (baht/person/year) at baseline and now."""
    summary = _outcome_parts(con, filters, (_SUMMARY,))[0]  # the medians on every row
    baseline, latest = summary["baseline_median"].iat[0], summary["latest_median"].iat[0]
    return (None if np.isnan(baseline) else float(baseline),
            None if np.isnan(latest) else float(latest))


def dimension_deprivation(con: BaseBackend, filters: Filters,
                          definitions: Definitions) -> pd.DataFrame:
    """Per TPMAP dimension: share of surveyed households deprived at baseline and now (the
    flags of the latest and the first visit travel with each household's status)."""
    summary = _outcome_parts(con, filters, (_SUMMARY,))[0]
    out: dict[str, Any] = {"dimension": [d.key for d in definitions.dimensions]}
    for label in ("baseline", "latest"):
        counts = summary[label].to_numpy()  # the surveyed, then the deprived per dimension
        surveyed = int(counts[0])
        out[f"{label}_households"] = counts[1:len(definitions.dimensions) + 1]
        out[f"{label}_share"] = out[f"{label}_households"] / surveyed if surveyed else None
    return pd.DataFrame(out)


def group_comparison(con: BaseBackend, filters: Filters, definitions: Definitions,
                     by: str = "amphoe_code", level: int = COMPARE_LEVEL) -> pd.DataFrame:
    """Per amphoe or per agency (of the current buddy): households surveyed, the share at or
    above ``level`` at baseline and now, the change in points, and how many fell back; the
    highest share now first. The comparison by amphoe (the one the page opens on) comes
    with the page's read; by agency is read alone, when asked."""
    if by == "amphoe_code":
        return _outcome_parts(con, filters, (_BY_AMPHOE,), level=level)[0]
    if by != "agency_code":
        raise ValueError(f"cannot compare by {by!r}")
    return _group_comparison(con, filters, by, level).execute()


def _group_comparison(con: BaseBackend, filters: Filters, by: str, level: int) -> ibis.Table:
    return _compared(status(con, filters), by, level).order_by("seq").drop("seq")


def _compared(table: ibis.Table, by: str, level: int) -> ibis.Table:
    """Per value of ``by`` (none left out), the comparison's columns, numbered by ``seq``
    in its order."""
    assessed = table.filter(_.level.notnull(), table[by].notnull())
    groups = assessed.group_by(by).aggregate(
        assessed=_.count(),
        now=(_.level >= level).sum(),
        baseline=(_.baseline_level >= level).fill_null(False).sum(),
        fell_back=(_.level < _.baseline_level).fill_null(False).sum(),
        climbed=(_.level > _.baseline_level).fill_null(False).sum(),
    ).mutate(share_now=_.now / _.assessed, share_baseline=_.baseline / _.assessed)
    groups = groups.mutate(change_points=(_.share_now - _.share_baseline) * 100)
    return _numbered(groups, ibis.desc(groups.share_now), groups[by])


def gap_counts(con: BaseBackend, filters: Filters) -> pd.DataFrame:
    """What keeps households from their next target: per current level and gap code, the
    households missing it (a household may miss several), the most missed first. Columns:
    level, gap, households."""
    return _outcome_parts(con, filters, (_GAPS,))[0]


_PARTS: tuple[ibis.Schema, ...] = tuple(ibis.schema(columns) for columns in (
    {"period": "int64", "assessed": "int64", **{f"n_{level}": "int64" for level in TARGET_LEVELS},
     **{f"share_{level}": "float64" for level in TARGET_LEVELS}},
    {"baseline_level": "int64", "level": "int64", "households": "int64"},
    {"baseline": "int64", "latest": "int64", "baseline_median": "float64",
     "latest_median": "float64"},
    {"bin_start": "int64", "baseline": "int64", "latest": "int64"},
    {"level": "int32", "gap": "string", "households": "int64"},
    {"amphoe_code": "string", "assessed": "int64", "now": "int64", "baseline": "int64",
     "fell_back": "int64", "climbed": "int64", "share_now": "float64",
     "share_baseline": "float64", "change_points": "float64"},
))
"""The parts of the Outcomes page's read (:func:`_outcomes`), in their order: each one's
columns as its query gives them."""
_TREND, _MOVES, _SUMMARY, _BINS, _GAPS, _BY_AMPHOE = range(len(_PARTS))


def _outcome_parts(con: BaseBackend, filters: Filters, parts: Sequence[int], *,
                   bin_width: int = INCOME_BIN_WIDTH, cap: int = INCOME_CAP,
                   level: int = COMPARE_LEVEL) -> list[pd.DataFrame]:
    """The given parts of the Outcomes page's figures (:func:`_outcomes`), each read with
    its columns as :data:`_PARTS` types them, in its own order."""
    expressions = _outcomes(con, filters, bin_width, cap, level, parts)
    out = []
    for part in parts:
        table, schema = expressions[part], _PARTS[part]
        read = table.select(seq=table.seq.cast("int64"), **{
            name: table[name].cast(dtype) for name, dtype in schema.items()}).order_by("seq")
        out.append(read.execute().drop(columns="seq"))
    return out


def _outcomes(con: BaseBackend, filters: Filters, bin_width: int, cap: int, level: int,
              wanted: Collection[int]) -> dict[int, ibis.Table]:
    """The ``wanted`` parts of the Outcomes page's figures (:data:`_PARTS`), each with
    ``seq``, its order (only those are built: building an expression costs more than the
    engine's answer on the provincial data):

    - the trend: per fiscal quarter up to the selected one, the assessed households and
      those at or above each target, and their shares (with a level filter, the households
      at those levels now, followed back);
    - the transitions: surveyed households by level at baseline and now;
    - the summary: at baseline and now, the surveyed households (row 0) and those deprived
      in each TPMAP dimension (row i for dimension i), and on every row the median income
      per member at baseline and now (of every household in the filter);
    - the households per income bin at baseline and now;
    - the gaps to the next target: households per level now and gap code, the most missed
      first (ties in the order the household list meets them, as when sorted in pandas);
    - the comparison per amphoe at ``level`` (:func:`group_comparison`)."""
    quarter = selected_quarter(con, filters)
    table = status_at(con, filters, quarter)
    parts: dict[int, ibis.Table] = {}

    if _TREND in wanted:
        trend = quarterly(con, filters, quarter, table, TARGET_LEVELS).rename(period="q_idx")
        parts[_TREND] = trend.mutate(seq=_.period)

    if _MOVES in wanted:
        moves = table.filter(_.level.notnull(), _.baseline_level.notnull()).group_by(
            baseline_level=_.baseline_level.cast("int64"), level=_.level.cast("int64"),
        ).aggregate(households=_.count())
        parts[_MOVES] = _numbered(moves, moves.baseline_level, moves.level)

    surveyed = table.last_visit_id.notnull()
    if _SUMMARY in wanted:
        dimensions = range(1, sum(1 for c in table.columns
                                  if re.fullmatch(r"deprived_\d+", c)) + 1)
        summary = table.aggregate(
            baseline_median=table.baseline_income_per_member.median(),
            latest_median=table.income_per_member.median(),
            surveyed=table.last_visit_id.count(),
            **{f"baseline_{i}": table.count(
                where=surveyed & table[f"baseline_{deprived_column(i)}"]) for i in dimensions},
            **{f"latest_{i}": table.count(where=surveyed & table[deprived_column(i)])
               for i in dimensions})
        parts[_SUMMARY] = summary.select(
            "baseline_median", "latest_median", seq=ibis.array([0, *dimensions]).unnest(),
            **{label: ibis.array([summary.surveyed,
                                  *(summary[f"{label}_{i}"] for i in dimensions)]).unnest()
               for label in ("baseline", "latest")})

    if _BINS in wanted:
        # both incomes of each household, binned, counted in one pass
        binned = table.select(now=ibis.array([False, True]).unnest(), bin_start=ibis.array([
            (table[column].clip(upper=cap) / bin_width).floor().cast("int64") * bin_width
            for column in ("baseline_income_per_member", "income_per_member")]).unnest())
        parts[_BINS] = binned.filter(_.bin_start.notnull()).group_by("bin_start").aggregate(
            baseline=_.count(where=~_.now), latest=_.count(where=_.now)).mutate(seq=_.bin_start)

    if _GAPS in wanted:
        # ties in households in the order the household list meets them (place, then
        # household, then the gap's place in its ``next_gaps``), as pandas' groupby gave
        # them; an unordered row number had left it to each engine's hash table
        codes = table.filter(surveyed, _.next_gaps != "").mutate(seen=ibis.row_number().over(
            order_by=["amphoe_code", "tambon_code", "household_id"])).select(
            "level", "seen", gap=_.next_gaps.split(";")).unnest("gap", offset="place")
        gaps = codes.group_by(["level", "gap"]).aggregate(
            households=_.count(), first=(_.seen * 64 + _.place).min())
        parts[_GAPS] = _numbered(gaps, gaps.level, ibis.desc(gaps.households), gaps.first)

    if _BY_AMPHOE in wanted:
        parts[_BY_AMPHOE] = _compared(table, "amphoe_code", level)
    return parts


def _numbered(table: ibis.Table, *order: Any) -> ibis.Table:
    """``table`` with ``seq``, its rows' order by ``order``."""
    return table.mutate(seq=ibis.row_number().over(order_by=list(order)))
