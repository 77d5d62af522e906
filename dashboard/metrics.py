"""Aggregations, written once as Ibis expressions and run inside the engine.

Every function takes the Ibis backend and the filters, and returns a small pandas frame or a
dict of plain numbers: nothing large crosses into pandas. Shares are fractions (0-1) of the
households in the filter; a share of nothing is ``None``, never 0.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd
from ibis import _
from ibis.backends import BaseBackend

from dashboard.compiled import kept_expression, read_parts, value
from dashboard.definitions import TARGET_LEVELS, Definitions
from dashboard.filters import Choices, Filters, apply_place_agency
from dashboard.targets import deprived_column
from loaders.reference import agency_table, amphoe_table, tambon_table


def choices(con: BaseBackend) -> Choices:
    """Valid filter values: every amphoe, tambon and agency of the reference tables (so a
    link to a place with no household yet still works) and the fiscal quarters the data spans."""
    tambon = tambon_table()
    quarters = con.table("quarter_calendar").select("q_idx").order_by("q_idx").execute()
    return Choices(
        amphoe=tuple(amphoe_table()["amphoe_code"]),
        tambon_of={code: tuple(group["tambon_code"])
                   for code, group in tambon.groupby("amphoe_code")},
        agency=tuple(agency_table()["agency_code"]),
        quarters=tuple(int(q) for q in quarters["q_idx"]),
    )


def data_as_of(con: BaseBackend) -> dt.date | None:
    """The latest visit date in the data (not today's date)."""
    value = con.table("visit").visit_date.max().execute()
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _quarter(con: BaseBackend, filters: Filters) -> Any:
    """The selected quarter (as a page query's parameter), or the latest one."""
    if filters.quarter is not None:
        return value(filters, "quarter")
    latest = con.table("quarter_calendar").q_idx.max().execute()
    return None if latest is None or pd.isna(latest) else int(latest)


def status(con: BaseBackend, filters: Filters) -> ibis.Table:
    """One row per household in the filter, as of the selected quarter."""
    return _status_at(con, filters, _quarter(con, filters))


def _status_at(con: BaseBackend, filters: Filters, quarter: Any) -> ibis.Table:
    """:func:`status` as of ``quarter`` (found once by a builder that needs it again)."""
    table = con.table("status_quarter")
    table = table.filter(table.q_idx == quarter)
    table = apply_place_agency(table, filters)
    if filters.levels:
        table = table.filter(table.level.fill_null(-1).isin(list(filters.levels)))
    return table


def _share(part: int | float | None, whole: int | float | None) -> float | None:
    if not whole or part is None:
        return None
    return float(part) / float(whole)


@dataclass(frozen=True)
class OverviewKpis:
    households: int
    paired: int
    officials: int
    visited_recently: int
    assessed: int  # households with at least one visit by the as-of date
    at_least: dict[int, int]  # level -> households at or above it now
    at_least_baseline: dict[int, int]  # level -> households at or above it at baseline
    as_of: dt.date | None

    @property
    def paired_share(self) -> float | None:
        return _share(self.paired, self.households)

    @property
    def visited_share(self) -> float | None:
        return _share(self.visited_recently, self.households)

    def share_at_least(self, level: int) -> float | None:
        return _share(self.at_least.get(level), self.assessed)

    def baseline_share_at_least(self, level: int) -> float | None:
        return _share(self.at_least_baseline.get(level), self.assessed)


def overview_kpis(con: BaseBackend, filters: Filters, definitions: Definitions) -> OverviewKpis:
    row = _overview_kpis(con, filters, definitions).execute().iloc[0]

    def as_int(name: str) -> int:
        value = row[name]
        return 0 if value is None or pd.isna(value) else int(value)

    as_of = row["as_of"]
    return OverviewKpis(
        households=as_int("households"),
        paired=as_int("paired"),
        officials=as_int("officials"),
        visited_recently=as_int("visited_recently"),
        assessed=as_int("assessed"),
        at_least={tg.level: as_int(f"now_{tg.level}") for tg in definitions.targets},
        at_least_baseline={tg.level: as_int(f"base_{tg.level}") for tg in definitions.targets},
        as_of=None if as_of is None or pd.isna(as_of) else pd.Timestamp(as_of).date(),
    )


@kept_expression
def _overview_kpis(con: BaseBackend, filters: Filters, definitions: Definitions) -> ibis.Table:
    table = status(con, filters)
    days = definitions.visited_within_days
    agg = {
        "households": _.count(),
        "paired": _.paired.sum(),
        "officials": _.official_id.nunique(),
        "visited_recently": (_.days_since_visit <= days).fill_null(False).sum(),
        "assessed": _.level.notnull().sum(),
        "as_of": _.as_of.max(),
    }
    for tg in definitions.targets:
        agg[f"now_{tg.level}"] = (_.level >= tg.level).fill_null(False).sum()
        agg[f"base_{tg.level}"] = (
            (_.baseline_level >= tg.level) & _.level.notnull()).fill_null(False).sum()
    return table.aggregate(**agg)


def target_trend(con: BaseBackend, filters: Filters, definitions: Definitions) -> pd.DataFrame:
    """Per fiscal quarter up to the selected one: share of assessed households at or above
    each target. Columns: q_idx, assessed, n_<level> and share_<level> for each target
    level."""
    return _target_trend(con, filters, definitions).execute()


@kept_expression
def _target_trend(con: BaseBackend, filters: Filters, definitions: Definitions) -> ibis.Table:
    quarter = _quarter(con, filters)
    return _quarterly(con, filters, quarter, _status_at(con, filters, quarter),
                      [tg.level for tg in definitions.targets]).order_by("q_idx")


def _quarterly(con: BaseBackend, filters: Filters, quarter: Any, now: ibis.Table,
               levels: Sequence[int]) -> ibis.Table:
    """Per fiscal quarter up to ``quarter``: the assessed households, those at or above each
    of ``levels`` (n_<level>) and their shares. With a level filter, the households at those
    levels now (in ``now``, :func:`status`), followed back through time."""
    table = apply_place_agency(con.table("status_quarter"), filters)
    if filters.levels:
        table = table.semi_join(now.select("household_id"), "household_id")
    table = table.filter(_.q_idx <= quarter, _.level.notnull())
    return _with_shares(table.group_by("q_idx").aggregate(**_at_least(levels)), levels)


def place_summary(con: BaseBackend, filters: Filters, definitions: Definitions,
                  level: int = 2, by: str = "amphoe_code") -> pd.DataFrame:
    """Per amphoe (or, with ``by="tambon_code"``, per tambon) in the filter: households,
    paired, visited recently, assessed, at or above ``level``, and the shares of those."""
    if by not in ("amphoe_code", "tambon_code"):
        raise ValueError(f"cannot group by {by!r}")
    frame = _place_summary(con, filters, definitions, level, by).execute()
    frame["paired_share"] = frame["paired"] / frame["households"]
    frame["visited_share"] = frame["visited_recently"] / frame["households"]
    frame["level_share"] = (frame["at_level"] / frame["assessed"]).where(frame["assessed"] > 0)
    return frame.sort_values(["level_share", by], ascending=[False, True], ignore_index=True)


@kept_expression
def _place_summary(con: BaseBackend, filters: Filters, definitions: Definitions, level: int,
                   by: str) -> ibis.Table:
    days = definitions.visited_within_days
    return status(con, filters).group_by(by).aggregate(
        households=_.count(),
        paired=_.paired.sum(),
        visited_recently=(_.days_since_visit <= days).fill_null(False).sum(),
        assessed=_.level.notnull().sum(),
        at_level=(_.level >= level).fill_null(False).sum(),
    )


PERIODS = ("quarter", "month", "round")

INCOME_BIN_WIDTH = 5_000
INCOME_CAP = 120_000
COMPARE_LEVEL = TARGET_LEVELS[1]
"""The Outcomes page's histogram bins and cap (baht/person/year), and the level it compares
groups at (the second target): the parameters its shared read (:func:`_outcomes`) is made
for."""


def population(con: BaseBackend, filters: Filters) -> ibis.Table:
    """The households in the filter (place, agency, level as of the selected quarter)."""
    return status(con, filters).select("household_id")


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


@kept_expression
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
    return _with_shares(visits.group_by(key).aggregate(**_at_least(levels)),
                        levels).order_by("period")


def _at_least(levels: Sequence[int]) -> dict[str, ibis.Value]:
    """The assessed rows and, per level, those at or above it (n_<level>)."""
    agg: dict[str, ibis.Value] = {"assessed": _.count()}
    for level in levels:
        agg[f"n_{level}"] = (_.level >= level).sum()
    return agg


def _with_shares(counts: ibis.Table, levels: Sequence[int]) -> ibis.Table:
    """share_<level> = n_<level> / assessed, divided in the engine (the same division of two
    doubles as pandas', for a fraction of its cost on a small frame)."""
    return counts.mutate(**{f"share_{level}": counts[f"n_{level}"] / counts.assessed
                            for level in levels})


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


@kept_expression
def _group_comparison(con: BaseBackend, filters: Filters, by: str, level: int) -> ibis.Table:
    return _compared(status(con, filters), by, level).order_by("seq").drop("seq")


def _compared(table: ibis.Table, by: str, level: int) -> ibis.Table:
    """Per value of ``by`` (none left out), the comparison's columns, numbered by ``seq``
    in its order."""
    assessed = table.filter(_.level.notnull(), table[by].notnull())
    groups = assessed.group_by(by).aggregate(
        assessed=_.count(),
        now=(_.level >= level).cast("int64").sum(),
        baseline=(_.baseline_level >= level).fill_null(False).cast("int64").sum(),
        fell_back=(_.level < _.baseline_level).fill_null(False).cast("int64").sum(),
        climbed=(_.level > _.baseline_level).fill_null(False).cast("int64").sum(),
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


def _slots(schema: ibis.Schema) -> tuple[str, ...]:
    """Where each of a part's columns travels in the read: the n-th column of a type in the
    read's n-th column for that type (``i0``, ``i1``, … for int64, ``j`` for int32, ``f``
    for float64, ``s`` for text), so that the read is no wider than its widest part. A
    column for every part's own would make its SQL twice as long, with nulls, and DuckDB
    binds and plans a prepared statement's SQL again on every run."""
    kinds = {"int64": "i", "int32": "j", "float64": "f", "string": "s"}
    seen: dict[str, int] = {}
    out = []
    for dtype in schema.types:
        kind = kinds[str(dtype).rstrip("!")]
        out.append(f"{kind}{seen.get(kind, 0)}")
        seen[kind] = seen.get(kind, 0) + 1
    return tuple(out)


_PART_SLOTS = tuple(_slots(schema) for schema in _PARTS)
_PART_COLUMNS = tuple(pd.Index(schema.names) for schema in _PARTS)
"""Each part's column labels, made once (copying one costs a fifth of making it)."""


def _outcome_parts(con: BaseBackend, filters: Filters, parts: Sequence[int], *,
                   bin_width: int = INCOME_BIN_WIDTH, cap: int = INCOME_CAP,
                   level: int = COMPARE_LEVEL) -> list[pd.DataFrame]:
    """The given parts (ascending) of the Outcomes page's read, with their own columns.
    Every query of the page reads the same table with the page's parameters: the first
    runs it and the others find it kept by the page backend, one engine query instead of
    six (each cost 1.5-3 ms, and 1-2 ms more to reach pandas, however small)."""
    asked: list[tuple[str, ...] | None] = [None] * (max(parts) + 1)  # others not made
    for part in parts:
        asked[part] = _PART_SLOTS[part]
    frames = read_parts(con, _outcomes(con, filters, bin_width, cap, level), asked)
    out = []
    for part in parts:
        frame = frames[part]
        frame.columns = _PART_COLUMNS[part].copy()  # a label of its own (its name is settable)
        out.append(frame)
    return out


@kept_expression
def _outcomes(con: BaseBackend, filters: Filters, bin_width: int, cap: int,
              level: int) -> ibis.Table:
    """The Outcomes page's figures as one table in parts (:data:`_PARTS`), each ordered as
    its query gives it:

    - the trend: per fiscal quarter up to the selected one, the assessed households and
      those at or above each target, and their shares (with a level filter, the households
      at those levels now, followed back);
    - the transitions: surveyed households by level at baseline and now;
    - the summary: at baseline and now, the surveyed households (row 0) and those deprived
      in each TPMAP dimension (row i for dimension i), and on every row the median income
      per member at baseline and now (of every household in the filter);
    - the households per income bin at baseline and now;
    - the gaps to the next target: households per level now and gap code, the most missed
      first (ties in the order the engine counted them, as when sorted in pandas);
    - the comparison per amphoe at ``level`` (:func:`group_comparison`)."""
    quarter = _quarter(con, filters)
    table = _status_at(con, filters, quarter)
    parts: list[ibis.Table] = []

    trend = _quarterly(con, filters, quarter, table, TARGET_LEVELS).rename(period="q_idx")
    parts.append(trend.mutate(seq=_.period))

    moves = table.filter(_.level.notnull(), _.baseline_level.notnull()).group_by(
        baseline_level=_.baseline_level.cast("int64"), level=_.level.cast("int64"),
    ).aggregate(households=_.count())
    parts.append(_numbered(moves, moves.baseline_level, moves.level))

    surveyed = table.last_visit_id.notnull()
    dimensions = range(1, sum(1 for c in table.columns if re.fullmatch(r"deprived_\d+", c)) + 1)
    summary = table.aggregate(
        baseline_median=table.baseline_income_per_member.median(),
        latest_median=table.income_per_member.median(),
        surveyed=table.last_visit_id.count(),
        **{f"baseline_{i}": table.count(where=surveyed & table[f"baseline_{deprived_column(i)}"])
           for i in dimensions},
        **{f"latest_{i}": table.count(where=surveyed & table[deprived_column(i)])
           for i in dimensions})
    parts.append(summary.select(
        "baseline_median", "latest_median", seq=ibis.array([0, *dimensions]).unnest(),
        **{label: ibis.array([summary.surveyed,
                              *(summary[f"{label}_{i}"] for i in dimensions)]).unnest()
           for label in ("baseline", "latest")}))

    # both incomes of each household, binned, counted in one pass
    binned = table.select(now=ibis.array([False, True]).unnest(), bin_start=ibis.array([
        (table[column].clip(upper=cap) / bin_width).floor().cast("int64") * bin_width
        for column in ("baseline_income_per_member", "income_per_member")]).unnest())
    parts.append(binned.filter(_.bin_start.notnull()).group_by("bin_start").aggregate(
        baseline=_.count(where=~_.now), latest=_.count(where=_.now)).mutate(seq=_.bin_start))

    codes = table.filter(surveyed, _.next_gaps != "").select(
        "level", gap=_.next_gaps.split(";").unnest())
    gaps = codes.group_by(["level", "gap"]).aggregate(households=_.count()).mutate(
        counted=ibis.row_number())
    parts.append(_numbered(gaps, gaps.level, ibis.desc(gaps.households), gaps.counted))

    parts.append(_compared(table, "amphoe_code", level))
    return _in_parts(parts)


def _numbered(table: ibis.Table, *order: Any) -> ibis.Table:
    """``table`` with ``seq``, its rows' order by ``order``."""
    return table.mutate(seq=ibis.row_number().over(order_by=list(order)))


def _in_parts(parts: Sequence[ibis.Table]) -> ibis.Table:
    """The parts as one table for :func:`compiled.read_parts`: ``part`` (their number), each
    part's columns of :data:`_PARTS` in its slots (:func:`_slots`), null in the slots it
    does not use; ordered by part and each part's ``seq``."""
    width: dict[str, Any] = {}
    for schema, slots in zip(_PARTS, _PART_SLOTS, strict=True):
        width.update(zip(slots, schema.types, strict=True))
    padded = []
    for number, (table, schema, slots) in enumerate(zip(parts, _PARTS, _PART_SLOTS,
                                                        strict=True)):
        mine = dict(zip(slots, schema.names, strict=True))
        padded.append(table.select(
            part=ibis.literal(number, "int8"), seq=table.seq.cast("int64"),
            **{slot: table[mine[slot]].cast(dtype) if slot in mine else ibis.null(dtype)
               for slot, dtype in width.items()}))
    return ibis.union(*padded).order_by(["part", "seq"])


from dashboard.coverage import *  # noqa: E402,F403
from dashboard.geo import *  # noqa: E402,F403
from dashboard.households import *  # noqa: E402,F403
