"""Aggregations, written once as Ibis expressions and run inside the engine.

Every function takes the Ibis backend and the filters, and returns a small pandas frame or a
dict of plain numbers: nothing large crosses into pandas. Shares are fractions (0-1) of the
households in the filter; a share of nothing is ``None``, never 0.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import ibis
import pandas as pd
from ibis import _
from ibis.backends import BaseBackend

from dashboard.compiled import kept_expression, value
from dashboard.definitions import Definitions
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
    table = con.table("status_quarter")
    table = table.filter(table.q_idx == _quarter(con, filters))
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
    each target. Columns: q_idx, assessed, share_<level> for each target level."""
    frame = _target_trend(con, filters, definitions).execute()
    for tg in definitions.targets:
        frame[f"share_{tg.level}"] = frame[f"n_{tg.level}"] / frame["assessed"]
    return frame


@kept_expression
def _target_trend(con: BaseBackend, filters: Filters, definitions: Definitions) -> ibis.Table:
    quarter = _quarter(con, filters)
    table = apply_place_agency(con.table("status_quarter"), filters)
    if filters.levels:
        # the households at the chosen levels now, followed back through time
        chosen = status(con, filters).select("household_id")
        table = table.semi_join(chosen, "household_id")
    table = table.filter(_.q_idx <= quarter, _.level.notnull())
    agg = {"assessed": _.count()}
    for tg in definitions.targets:
        agg[f"n_{tg.level}"] = (_.level >= tg.level).sum()
    return table.group_by("q_idx").aggregate(**agg).order_by("q_idx")


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


def population(con: BaseBackend, filters: Filters) -> ibis.Table:
    """The households in the filter (place, agency, level as of the selected quarter)."""
    return status(con, filters).select("household_id")


def level_trend(con: BaseBackend, filters: Filters, definitions: Definitions,
                period: str = "quarter") -> pd.DataFrame:
    """Share at or above each target per period. ``quarter``: every household's status at
    each fiscal quarter's end (latest visit carried forward); ``month`` and ``round``: the
    households visited in that month or survey round. Columns: period, assessed,
    share_<level>."""
    if period == "quarter":
        frame = target_trend(con, filters, definitions)
        return frame.rename(columns={"q_idx": "period"})
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}")
    frame = _level_trend(con, filters, definitions, period).execute()
    for tg in definitions.targets:
        frame[f"share_{tg.level}"] = frame[f"n_{tg.level}"] / frame["assessed"]
    return frame


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
    agg = {"assessed": _.count()}
    for tg in definitions.targets:
        agg[f"n_{tg.level}"] = (_.level >= tg.level).sum()
    return visits.group_by(key).aggregate(**agg).order_by("period")


def transitions(con: BaseBackend, filters: Filters) -> pd.DataFrame:
    """Households by level at baseline and level now (surveyed households only)."""
    frame = _transitions(con, filters).execute()
    return frame.astype({"baseline_level": int, "level": int, "households": int})


@kept_expression
def _transitions(con: BaseBackend, filters: Filters) -> ibis.Table:
    table = status(con, filters).filter(_.level.notnull() & _.baseline_level.notnull())
    frame = table.group_by(["baseline_level", "level"]).aggregate(households=_.count())
    return frame.order_by(["baseline_level", "level"])


def income_histogram(con: BaseBackend, filters: Filters, bin_width: int = 5_000,
                     cap: int = 120_000) -> pd.DataFrame:
    """Households per income-per-member bin (baht/person/year) at baseline and now, binned in
    the engine; incomes at or above ``cap`` fall in the last bin. Columns: bin_start,
    baseline, latest."""
    counted = _income_bins(con, filters, bin_width, cap).execute()
    parts = [counted.loc[counted["part"] == label].set_index("bin_start")["households"].rename(
        label) for label in ("baseline", "latest")]
    bins = pd.RangeIndex(0, cap + bin_width, bin_width, name="bin_start")
    frame = pd.concat(parts, axis=1).reindex(bins, fill_value=0).fillna(0).astype(int)
    return frame.reset_index()


@kept_expression
def _income_bins(con: BaseBackend, filters: Filters, bin_width: int, cap: int) -> ibis.Table:
    """Both distributions in one query (``part``: baseline or latest)."""
    table = status(con, filters)
    out = []
    for column, label in (("baseline_income_per_member", "baseline"),
                          ("income_per_member", "latest")):
        value = table[column]
        binned = table.filter(value.notnull()).mutate(
            bin_start=(value.clip(upper=cap) / bin_width).floor().cast("int64") * bin_width)
        out.append(binned.group_by("bin_start").aggregate(households=_.count()).mutate(
            part=ibis.literal(label)))
    return out[0].union(out[1])


def income_medians(con: BaseBackend, filters: Filters) -> tuple[float | None, float | None]:
    """Median income per member (baht/person/year) at baseline and now."""
    row = _outcome_summary(con, filters).execute().iloc[0]
    return (None if pd.isna(row["baseline"]) else float(row["baseline"]),
            None if pd.isna(row["latest"]) else float(row["latest"]))


def dimension_deprivation(con: BaseBackend, filters: Filters,
                          definitions: Definitions) -> pd.DataFrame:
    """Per TPMAP dimension: share of surveyed households deprived at baseline and now (the
    flags of the latest and the first visit travel with each household's status)."""
    counts = _outcome_summary(con, filters).execute().iloc[0]
    n = int(counts["n"])
    out = pd.DataFrame({"dimension": [d.key for d in definitions.dimensions]})
    for label in ("baseline", "latest"):
        out[f"{label}_households"] = [
            0 if pd.isna(value := counts[f"{label}_{i}"]) else int(value)
            for i in range(1, len(definitions.dimensions) + 1)]
        out[f"{label}_share"] = out[f"{label}_households"] / n if n else None
    return out


@kept_expression
def _outcome_summary(con: BaseBackend, filters: Filters) -> ibis.Table:
    """The Outcomes page's single-row figures in one read: the median income per member at
    baseline and now (every household in the filter), and the surveyed households, with
    those deprived in each TPMAP dimension at baseline and now. Both queries ask for it; the
    second gets the page backend's kept result."""
    table = status(con, filters)
    surveyed = table.last_visit_id.notnull()
    agg: dict[str, ibis.Value] = {"baseline": table.baseline_income_per_member.median(),
                                  "latest": table.income_per_member.median(),
                                  "n": table.last_visit_id.count()}
    for i in range(1, sum(1 for c in table.columns if re.fullmatch(r"deprived_\d+", c)) + 1):
        agg[f"latest_{i}"] = table[deprived_column(i)].cast("int64").sum(where=surveyed)
        agg[f"baseline_{i}"] = table[f"baseline_{deprived_column(i)}"].fill_null(False).cast(
            "int64").sum(where=surveyed)
    return table.aggregate(**agg)


def group_comparison(con: BaseBackend, filters: Filters, definitions: Definitions,
                     by: str = "amphoe_code", level: int = 2) -> pd.DataFrame:
    """Per amphoe or per agency (of the current buddy): households surveyed, the share at or
    above ``level`` at baseline and now, the change in points, and how many fell back."""
    if by not in ("amphoe_code", "agency_code"):
        raise ValueError(f"cannot compare by {by!r}")
    frame = _group_comparison(con, filters, by, level).execute()
    frame = frame.dropna(subset=[by])
    frame["share_now"] = frame["now"] / frame["assessed"]
    frame["share_baseline"] = frame["baseline"] / frame["assessed"]
    frame["change_points"] = (frame["share_now"] - frame["share_baseline"]) * 100
    return frame.sort_values(["share_now", by], ascending=[False, True], ignore_index=True)


@kept_expression
def _group_comparison(con: BaseBackend, filters: Filters, by: str, level: int) -> ibis.Table:
    return status(con, filters).filter(_.level.notnull()).group_by(by).aggregate(
        assessed=_.count(),
        now=(_.level >= level).cast("int64").sum(),
        baseline=(_.baseline_level >= level).fill_null(False).cast("int64").sum(),
        fell_back=(_.level < _.baseline_level).fill_null(False).cast("int64").sum(),
        climbed=(_.level > _.baseline_level).fill_null(False).cast("int64").sum(),
    )


def gap_counts(con: BaseBackend, filters: Filters) -> pd.DataFrame:
    """What keeps households from their next target: per current level and gap code, the
    households missing it (a household may miss several). Columns: level, gap, households."""
    frame = _gap_counts(con, filters).execute()
    return frame.sort_values(["level", "households"], ascending=[True, False],
                             ignore_index=True)


@kept_expression
def _gap_counts(con: BaseBackend, filters: Filters) -> ibis.Table:
    table = status(con, filters).filter(_.last_visit_id.notnull())
    codes = table.filter(_.next_gaps != "").select(
        "level", gap=_.next_gaps.split(";").unnest())
    return codes.group_by(["level", "gap"]).aggregate(households=_.count())


from dashboard.coverage import *  # noqa: E402,F403
from dashboard.geo import *  # noqa: E402,F403
from dashboard.households import *  # noqa: E402,F403
