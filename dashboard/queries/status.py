"""Aggregations, written once as Ibis expressions and run inside the engine.

Every function takes the Ibis backend and the filters, and returns a small pandas frame or a
dict of plain numbers: nothing large crosses into pandas. Shares are fractions (0-1) of the
households in the filter; a share of nothing is ``None``, never 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ibis
import pandas as pd
from ibis import _
from ibis.backends import BaseBackend

from domain.filters import Choices, Filters, apply_place_agency, at_levels
from domain.reference import agency_table, amphoe_table, tambon_table
from loaders.derived import DATA_AS_OF


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
    """The latest visit date in the data (not today's date), as the import noted it."""
    meta = con.table("meta")
    values = meta.filter(meta.key == DATA_AS_OF).value.execute()
    return dt.date.fromisoformat(values.iloc[0]) if len(values) and values.iloc[0] else None


def selected_quarter(con: BaseBackend, filters: Filters) -> Any:
    """The selected quarter (as a page query's parameter), or the latest one."""
    if filters.quarter is not None:
        return filters.quarter
    latest = con.table("quarter_calendar").q_idx.max().execute()
    return None if latest is None or pd.isna(latest) else int(latest)


def status(con: BaseBackend, filters: Filters, *also: ibis.Value | ibis.Deferred
           ) -> ibis.Table:
    """One row per household in the filter, as of the selected quarter, and that meets the
    conditions ``also`` (in the same filter: see :func:`domain.filters.apply_place_agency`)."""
    return status_at(con, filters, selected_quarter(con, filters), *also)


def status_at(con: BaseBackend, filters: Filters, quarter: Any,
              *also: ibis.Value | ibis.Deferred) -> ibis.Table:
    """:func:`status` as of ``quarter`` (found once by a builder that needs it again)."""
    table = con.table("status_quarter")
    return apply_place_agency(table, filters, table.q_idx == quarter, *at_levels(table, filters),
                              *also)


def by_place_only(filters: Filters) -> bool:
    """Whether the filters choose households by place alone, or not at all. A household's
    place is the same at every quarter and ``status_quarter`` has a row for every household
    at every quarter, so such filters choose the same households at any quarter: a query
    over several quarters may filter their rows instead of joining the selected quarter's."""
    return not (filters.agency or filters.within_agency or filters.levels)


def share(part: int | float | None, whole: int | float | None) -> float | None:
    if not whole or part is None:
        return None
    return float(part) / float(whole)


def quarterly(con: BaseBackend, filters: Filters, quarter: Any, now: ibis.Table,
               levels: Sequence[int]) -> ibis.Table:
    """Per fiscal quarter up to ``quarter``: the assessed households, those at or above each
    of ``levels`` (n_<level>) and their shares. With a level filter, the households at those
    levels now (in ``now``, :func:`status`), followed back through time. Without one, the
    counts per quarter, place and agency (``level_count``) are summed instead."""
    if not filters.levels:
        counts = apply_place_agency(con.table("level_count"), filters, _.q_idx <= quarter)
        agg: dict[str, ibis.Value] = {"assessed": _.households.sum()}
        for level in levels:
            agg[f"n_{level}"] = (_.level >= level).ifelse(_.households, 0).sum()
        return with_shares(counts.group_by("q_idx").aggregate(**agg), levels)
    table = apply_place_agency(con.table("status_quarter"), filters, _.q_idx <= quarter,
                               _.level.notnull())
    table = table.semi_join(now.select("household_id"), "household_id")
    return with_shares(table.group_by("q_idx").aggregate(**at_least(levels)), levels)


def population(con: BaseBackend, filters: Filters) -> ibis.Table:
    """The households in the filter (place, agency, level as of the selected quarter)."""
    return status(con, filters).select("household_id")


def at_least(levels: Sequence[int]) -> dict[str, ibis.Value]:
    """The assessed rows and, per level, those at or above it (n_<level>)."""
    agg: dict[str, ibis.Value] = {"assessed": _.count()}
    for level in levels:
        agg[f"n_{level}"] = (_.level >= level).sum()
    return agg


def with_shares(counts: ibis.Table, levels: Sequence[int]) -> ibis.Table:
    """share_<level> = n_<level> / assessed, divided in the engine (the same division of two
    doubles as pandas', for a fraction of its cost on a small frame)."""
    return counts.mutate(**{f"share_{level}": counts[f"n_{level}"] / counts.assessed
                            for level in levels})
