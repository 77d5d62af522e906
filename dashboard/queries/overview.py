"""Aggregations, written once as Ibis expressions and run inside the engine.

Every function takes the Ibis backend and the filters, and returns a small pandas frame or a
dict of plain numbers: nothing large crosses into pandas. Shares are fractions (0-1) of the
households in the filter; a share of nothing is ``None``, never 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import pandas as pd
from ibis import _
from ibis.backends import BaseBackend

from dashboard.queries.status import quarterly, selected_quarter, share, status, status_at
from domain.definitions import Definitions
from domain.filters import Filters


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
        return share(self.paired, self.households)

    @property
    def visited_share(self) -> float | None:
        return share(self.visited_recently, self.households)

    def share_at_least(self, level: int) -> float | None:
        return share(self.at_least.get(level), self.assessed)

    def baseline_share_at_least(self, level: int) -> float | None:
        return share(self.at_least_baseline.get(level), self.assessed)


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


def _target_trend(con: BaseBackend, filters: Filters, definitions: Definitions) -> ibis.Table:
    quarter = selected_quarter(con, filters)
    return quarterly(con, filters, quarter, status_at(con, filters, quarter),
                      [tg.level for tg in definitions.targets]).order_by("q_idx")


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






FUNNEL_STEPS = ("screened", "paired", "interviewed", "helped", "followed_up")
"""The programme's four work processes as a funnel; each step keeps the households of the
step before that also meet its own condition."""


def process_funnel(con: BaseBackend, filters: Filters, definitions: Definitions
                   ) -> pd.DataFrame:
    """Per place (amphoe, or the chosen amphoe's tambon: ``filters.place_column``), the
    households at each step of the four work processes, as of the selected quarter:

    - screened: in the programme (chosen by the จปฐ. income screening) and in the filters;
    - paired: and with a buddy now;
    - interviewed: and with a baseline deep interview;
    - helped: and with at least one assistance delivered by the as-of date;
    - followed_up: and visited again after the baseline, the last visit within the recency
      window (``recency.visited_within_days``).

    Columns: the place column, then one count per step (:data:`FUNNEL_STEPS`)."""
    place = filters.place_column
    return _process_funnel(con, filters, definitions, place).order_by(place).execute()


def _process_funnel(con: BaseBackend, filters: Filters, definitions: Definitions,
                    place: str) -> ibis.Table:
    table = status(con, filters)
    paired = table.paired.fill_null(False)
    interviewed = paired & table.baseline_visit_id.notnull()
    helped_ = interviewed & table.helped  # an assistance delivered by the as-of date
    followed = (helped_ & (table.last_visit_id != table.baseline_visit_id).fill_null(False)
                & (table.days_since_visit <= definitions.visited_within_days).fill_null(False))
    return table.group_by(place).aggregate(
        screened=_.count(),  # booleans summed, not cast: PostgreSQL cannot cast them
        paired=paired.sum(),
        interviewed=interviewed.sum(),
        helped=helped_.sum(),
        followed_up=followed.sum(),
    )
