"""Derived tables, rebuilt inside every import's transaction so pages never wait on heavy work.

- ``visit_status``: every visit with income per member, income sources, each target's
  conditions and the household's level at that visit.
- ``quarter_calendar``: every Thai fiscal quarter the data spans, with its as-of date (the
  quarter's last day, or the latest visit date for the quarter still running).
- ``status_quarter``: one row per household and fiscal quarter: the household's latest visit
  on or before the quarter's as-of date (carried forward when a quarter has no visit), its
  level then, its level at baseline, and its buddy and agency at that date.

The expressions are Ibis, so they compile to DuckDB here and to PostgreSQL where a province
outgrows one machine.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import ibis
import pandas as pd
from ibis import _

from dashboard.definitions import Definitions
from dashboard.targets import with_levels
from dashboard.thai_dates import quarter_bounds, quarter_indices
from loaders.store import Store


def quarter_of(date_col: ibis.expr.types.DateValue) -> ibis.expr.types.IntegerValue:
    """Fiscal quarter index (BE fiscal year * 10 + quarter) of a date column."""
    month = date_col.month()
    fiscal_year = date_col.year() + 543 + (month >= 10).cast("int32")
    quarter = ((month + 2) % 12) // 3 + 1
    return (fiscal_year * 10 + quarter).cast("int32")


def calendar_frame(first: dt.date, last: dt.date) -> pd.DataFrame:
    rows = []
    for index in quarter_indices(first, last):
        start, end = quarter_bounds(index)
        rows.append({"q_idx": index, "q_start": start, "q_end": end, "as_of": min(end, last)})
    frame = pd.DataFrame(rows)
    for col in ("q_start", "q_end", "as_of"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[s]")
    return frame


def definitions_fingerprint(definitions: Definitions) -> str:
    return hashlib.sha256(repr(definitions).encode("utf-8")).hexdigest()[:12]


def rebuild_derived(store: Store, definitions: Definitions) -> None:
    """Rebuild every derived table. Call inside a transaction (an import's, or a definitions
    change's): the fingerprint of the definitions used is stored with them."""
    visits = store.table("visit")
    store.replace_table_from_expr("visit_status", with_levels(visits, definitions))
    span = store.execute("SELECT min(visit_date), max(visit_date) FROM visit")[0]
    if span[0] is None:
        span = (dt.date.today(), dt.date.today())  # an empty store still gets one quarter
    store.replace_table_from_frame("quarter_calendar", calendar_frame(span[0], span[1]))
    store.replace_table_from_expr("status_quarter", status_quarter_expr(store))
    store.set_meta("definitions", definitions_fingerprint(definitions))


def status_quarter_expr(store: Store) -> ibis.Table:
    vs = store.table("visit_status")
    cal = store.table("quarter_calendar").mutate(as_of=_.as_of.cast("date"))
    hh = store.table("household").select("household_id", "amphoe_code", "tambon_code")

    ranked = vs.mutate(q_idx=quarter_of(vs.visit_date))
    latest_in_q = ranked.mutate(
        rn=ibis.row_number().over(group_by=["household_id", "q_idx"],
                                  order_by=[ibis.desc("visit_date"), ibis.desc("visit_id")])
    ).filter(_.rn == 0).select(
        "household_id", visit_q="q_idx", last_visit_id="visit_id", last_visit_date="visit_date",
        level="level", income_per_member="income_per_member", members="members",
    )
    first = vs.mutate(
        rn=ibis.row_number().over(group_by="household_id",
                                  order_by=[ibis.asc("visit_date"), ibis.asc("visit_id")])
    ).filter(_.rn == 0).select(
        "household_id", baseline_visit_id="visit_id", baseline_date="visit_date",
        baseline_level="level",
        baseline_income_per_member="income_per_member",
    )

    grid = hh.cross_join(cal.select("q_idx", "as_of"))
    grid = grid.left_join(latest_in_q, [grid.household_id == latest_in_q.household_id,
                                        grid.q_idx == latest_in_q.visit_q])
    grid = grid.select(
        "household_id", "amphoe_code", "tambon_code", "q_idx", "as_of", "visit_q"
    ).mutate(
        eff_q=_.visit_q.max().over(ibis.cumulative_window(group_by="household_id",
                                                          order_by="q_idx"))
    )
    status = grid.left_join(latest_in_q, [grid.household_id == latest_in_q.household_id,
                                          grid.eff_q == latest_in_q.visit_q])
    status = status.select(
        "household_id", "amphoe_code", "tambon_code", "q_idx", "as_of",
        "last_visit_id", "last_visit_date", "level", "income_per_member", "members",
    )
    status = status.left_join(first, "household_id").drop("household_id_right")

    pairing = store.table("pairing")
    official = store.table("official").select("official_id", "agency_code")
    keys = status.select("household_id", "q_idx", "as_of")
    active = keys.join(
        pairing,
        [keys.household_id == pairing.household_id,
         pairing.start_date <= keys.as_of,
         pairing.end_date.isnull() | (pairing.end_date >= keys.as_of)],
    ).select(keys.household_id, keys.q_idx, pairing.official_id, pairing.start_date)
    active = active.mutate(
        rn=ibis.row_number().over(group_by=["household_id", "q_idx"],
                                  order_by=[ibis.desc("start_date"), ibis.desc("official_id")])
    ).filter(_.rn == 0).drop("rn", "start_date")
    active = active.left_join(official, "official_id").drop("official_id_right")

    out = status.left_join(active, [status.household_id == active.household_id,
                                    status.q_idx == active.q_idx])
    out = out.drop("household_id_right", "q_idx_right")
    return out.mutate(
        paired=_.official_id.notnull(),
        days_since_visit=_.as_of.delta(_.last_visit_date, unit="day").cast("int32"),
    )
