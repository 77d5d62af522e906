"""Derived tables, rebuilt inside every import's transaction so pages never wait on heavy work.

- ``visit_status``: every visit with income per member, income sources, each target's
  conditions and the household's level at that visit.
- ``quarter_calendar``: every Thai fiscal quarter the data spans, with its as-of date (the
  quarter's last day, or the latest visit date for the quarter still running).
- ``status_quarter``: one row per household and fiscal quarter: the household's latest visit
  on or before the quarter's as-of date (carried forward when a quarter has no visit), its
  level then, its level at baseline, and its buddy and agency at that date; plus what the
  pages would otherwise join for at query time: the start of the current pairing, visits to
  date, the latest visit's gaps, needs, TPMAP deprivations and the level at the visit before
  it, and the baseline's.

- ``level_pattern``: per quarter and amphoe, households by their levels over the forecast's
  window (its starting patterns).
- ``need_noted`` and ``help_delivered``: per household, when each need was first recorded and
  when each kind of help was first delivered; ``need_unhelped``: per household and quarter,
  the needs with no help after ``need_unhelped_after_days`` (the Follow-up page's "a need
  with no help").
- ``climb_start``, ``climb_treated`` and ``climb_near``: what is followed by a climb
  (:mod:`loaders.derived_climb`); and the Data quality page's tables
  (:mod:`loaders.derived_quality`).

The expressions are Ibis, so they compile to DuckDB here and to PostgreSQL where a province
outgrows one machine.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import ibis
import pandas as pd
from ibis import _

from domain.definitions import Definitions
from domain.targets import with_levels
from domain.thai_dates import quarter_bounds, quarter_indices
from loaders.quarters import quarter_of
from loaders.store import Store


def calendar_frame(first: dt.date, last: dt.date) -> pd.DataFrame:
    rows = []
    for index in quarter_indices(first, last):
        start, end = quarter_bounds(index)
        rows.append({"q_idx": index, "q_start": start, "q_end": end, "as_of": min(end, last)})
    frame = pd.DataFrame(rows)
    for col in ("q_start", "q_end", "as_of"):
        # microseconds: what PostgreSQL reads back, so a page sees the same type on both
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[us]")
    return frame


DERIVED_LAYOUT = 12
"""The derived tables' layout; raise it whenever their columns change, so that a store built
by an earlier version is rebuilt when it is first opened (the fingerprint below changes)."""


def definitions_fingerprint(definitions: Definitions) -> str:
    """What the derived tables were built under: the definitions and the layout version."""
    text = f"layout {DERIVED_LAYOUT}: {definitions!r}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


DATA_AS_OF = "data_as_of"
"""The ``meta`` key holding the latest visit date (ISO), or empty for a store with no visit."""

READ_BY = {"status_quarter": ("q_idx", "amphoe_code"),
           "official_quarter": ("q_idx", "amphoe_code"),
           "need_unhelped": ("q_idx",)}
"""The large derived tables that pages (and the later steps here) read one quarter of, and
often one amphoe: each is written in that order (:meth:`Store.index_for_reads`)."""


def read_by(store: Store, name: str) -> None:
    if name in READ_BY:
        store.index_for_reads(name, READ_BY[name])


def rebuild_derived(store: Store, definitions: Definitions) -> None:
    """Rebuild every derived table. Call inside a transaction (an import's, or a definitions
    change's): the fingerprint of the definitions used is stored with them. The tables in
    use stay readable until the new ones are in place (:meth:`Store.building_aside`)."""
    with store.building_aside():
        _rebuild_derived(store, definitions)


def _rebuild_derived(store: Store, definitions: Definitions) -> None:
    visits = store.source("visit")
    store.replace_table_from_expr("visit_status", with_levels(visits, definitions))
    span = store.execute("SELECT min(visit_date), max(visit_date) FROM visit")[0]
    # the pages' "data as of": one row to read, not the largest table to scan
    store.set_meta(DATA_AS_OF, "" if span[1] is None else str(span[1])[:10])
    if span[0] is None:
        span = (dt.date.today(), dt.date.today())  # an empty store still gets one quarter
    store.replace_table_from_frame("quarter_calendar", calendar_frame(span[0], span[1]))
    # status_quarter in steps, each kept as a table until the next has used it: one query
    # holding every join and window at once needs ~10 GB of memory for a million households
    steps: dict[str, ibis.Table] = {}
    for name, expr in status_quarter_steps(store, steps):
        store.replace_table_from_expr(name, expr)
        read_by(store, name)
        steps[name] = store.source(name)
    for name in steps:
        if name.startswith("_"):
            store.execute(f'DROP TABLE "{name}"')
    store.replace_table_from_expr("official_quarter", official_quarter_expr(store))
    read_by(store, "official_quarter")
    store.replace_table_from_expr("unpaired_quarter", unpaired_quarter_expr(store))
    store.replace_table_from_expr("level_pattern", level_pattern_expr(store, definitions))
    store.replace_table_from_expr("level_count", level_count_expr(store))
    store.replace_table_from_expr("need_noted", need_noted_expr(store))
    store.replace_table_from_expr("help_delivered", help_delivered_expr(store))
    store.replace_table_from_parts("need_unhelped", need_unhelped_exprs(store, definitions))
    read_by(store, "need_unhelped")
    # the Data quality page's and "what is followed by a climb"'s own tables
    from loaders.derived_climb import rebuild_climb
    from loaders.derived_quality import build_quality_tables

    rebuild_climb(store, definitions)
    build_quality_tables(store, definitions)
    store.set_meta("definitions", definitions_fingerprint(definitions))


def status_quarter_expr(store: Store) -> ibis.Table:
    """``status_quarter`` as one expression (the rebuild runs it in steps)."""
    steps: dict[str, ibis.Table] = {}
    for name, expr in status_quarter_steps(store, steps):
        steps[name] = expr
    return steps["status_quarter"]


def status_quarter_steps(store: Store, done: dict[str, ibis.Table]
                         ) -> Iterator[tuple[str, ibis.Table]]:
    """The steps of ``status_quarter``: (table name, expression). Each step may use the
    tables of the steps before it, read from ``done`` (filled in by the caller, with the
    expression itself or with the table it was written to); names starting with ``_`` are
    intermediate. Households are numbered first so that the heavy joins and windows work on
    integers, not on ID text."""
    vs = store.source("visit_status")
    cal = store.source("quarter_calendar").mutate(as_of=_.as_of.cast("date")).select(
        "q_idx", "as_of")
    # and the date of its first assistance delivered (the funnel's "helped by the as-of date")
    first_help = help_delivered_expr(store).group_by("household_id").aggregate(
        first_helped=_.first_delivered.min())
    yield "_sq_household", store.source("household").select(
        "household_id", "amphoe_code", "tambon_code"
    ).left_join(first_help, "household_id").select(
        "household_id", "amphoe_code", "tambon_code", "first_helped"
    ).mutate(hh_no=ibis.row_number().over(order_by="household_id"))
    households = done["_sq_household"]
    numbers = households.select("household_id", "hh_no")

    # what the pages read of a household's latest and first visit travels with its status
    carried = ["next_gaps", "needs", "previous_level",
               *[c for c in vs.columns if c.startswith("deprived_")]]
    visits = vs.join(numbers, "household_id").select(
        "hh_no", "visit_id", "visit_date", "level", "income_per_member", "members",
        *[c for c in carried if c != "previous_level"],
        # the level at the visit before (the Follow-up page's "fell back a level")
        previous_level=_.level.lag().over(group_by="hh_no",
                                          order_by=[_.visit_date, _.visit_id]))
    yield "_sq_latest", visits.mutate(
        visit_q=quarter_of(visits.visit_date),
    ).mutate(
        rn=ibis.row_number().over(group_by=["hh_no", "visit_q"],
                                  order_by=[ibis.desc("visit_date"), ibis.desc("visit_id")]),
        visits_in_q=_.visit_id.count().over(group_by=["hh_no", "visit_q"]),
    ).filter(_.rn == 0).select(
        "hh_no", "visit_q", "visits_in_q", *carried, last_visit_id="visit_id",
        last_visit_date="visit_date", level="level", income_per_member="income_per_member",
        members="members",
    )
    yield "_sq_first", visits.mutate(
        rn=ibis.row_number().over(group_by="hh_no",
                                  order_by=[ibis.asc("visit_date"), ibis.asc("visit_id")])
    ).filter(_.rn == 0).select(
        "hh_no", baseline_visit_id="visit_id", baseline_date="visit_date",
        baseline_level="level", baseline_income_per_member="income_per_member",
        **{f"baseline_{c}": c for c in carried if c.startswith("deprived_")},
    )

    # the buddy at each as-of date: the pairing open then (latest start wins)
    pairing = store.source("pairing").join(numbers, "household_id")
    official = store.source("official").select("official_id", "agency_code")
    active = pairing.join(
        cal, [pairing.start_date <= cal.as_of,
              pairing.end_date.isnull() | (pairing.end_date >= cal.as_of)],
    ).select("hh_no", "q_idx", "official_id", "start_date")
    active = active.mutate(
        rn=ibis.row_number().over(group_by=["hh_no", "q_idx"],
                                  order_by=[ibis.desc("start_date"), ibis.desc("official_id")])
    ).filter(_.rn == 0).drop("rn").rename(pairing_start="start_date")
    yield "_sq_active", active.left_join(official, "official_id").drop("official_id_right")

    # each household x quarter: the quarter of its latest visit so far (carried forward)
    latest = done["_sq_latest"]
    quarters = numbers.select("hh_no").cross_join(cal)
    grid = quarters.left_join(latest, [quarters.hh_no == latest.hh_no,
                                       quarters.q_idx == latest.visit_q])
    so_far = ibis.cumulative_window(group_by="hh_no", order_by="q_idx")
    yield "_sq_grid", grid.select("hh_no", "q_idx", "as_of", "visit_q", "visits_in_q").mutate(
        eff_q=_.visit_q.max().over(so_far),
        visits_to_date=_.visits_in_q.fill_null(0).sum().over(so_far).cast("int32"),
    ).drop("visit_q", "visits_in_q")

    grid = done["_sq_grid"]
    status = grid.left_join(latest, [grid.hh_no == latest.hh_no, grid.eff_q == latest.visit_q])
    status = status.select("hh_no", "q_idx", "as_of", "visits_to_date", "last_visit_id",
                           "last_visit_date", "level", "income_per_member", "members",
                           *carried)
    first = done["_sq_first"]
    status = status.left_join(first, "hh_no").drop("hh_no_right")
    active = done["_sq_active"]
    status = status.left_join(active, [status.hh_no == active.hh_no,
                                       status.q_idx == active.q_idx])
    status = status.drop("hh_no_right", "q_idx_right")
    out = status.join(households, "hh_no").select(
        "household_id", "amphoe_code", "tambon_code", "q_idx", "as_of",
        "last_visit_id", "last_visit_date", "level", "income_per_member", "members",
        "baseline_visit_id", "baseline_date", "baseline_level", "baseline_income_per_member",
        "official_id", "agency_code", "pairing_start", "visits_to_date", *carried,
        *[f"baseline_{c}" for c in carried if c.startswith("deprived_")], "first_helped",
    )
    # stored by quarter, then place: a page reads one quarter (and often one amphoe), and the
    # engine skips the blocks of every other
    # every household has a row at every quarter, so the row before is the quarter before
    before = ibis.window(group_by="household_id", order_by="q_idx")
    yield "status_quarter", out.mutate(
        paired=_.official_id.notnull(),
        helped=(_.first_helped <= _.as_of).fill_null(False),
        days_since_visit=_.as_of.delta(_.last_visit_date, unit="day").cast("int32"),
        level_before=_.level.lag().over(before),
    ).drop("first_helped").order_by(["q_idx", "amphoe_code", "tambon_code", "household_id"])


def official_quarter_expr(store: Store) -> ibis.Table:
    """Every official × fiscal quarter: the households they look after at its as-of date
    (0 for none) and those households' IDs, and whether they had been paired with anyone by
    then. The caseload check reads one quarter of it instead of counting a million statuses
    on every filter change. Stored by quarter, then the official's amphoe and agency."""
    current = store.source("status_quarter").filter(_.paired)
    load = current.group_by(["q_idx", "official_id"]).aggregate(
        households=current.count(),
        # sorted lists, not an ordered string aggregate: 4 s against 11 s at a million
        household_ids=ibis.literal("; ").join(current.household_id.collect().sort()))
    cal = store.source("quarter_calendar").select("q_idx", as_of=_.as_of.cast("date"))
    official = store.source("official").select("official_id", "amphoe_code", "agency_code")
    first = store.source("pairing").group_by("official_id").aggregate(
        first_start=_.start_date.min())
    grid = official.cross_join(cal)
    out = grid.left_join(load, [grid.official_id == load.official_id,
                                grid.q_idx == load.q_idx]).drop("official_id_right",
                                                                "q_idx_right")
    out = out.left_join(first, "official_id").drop("official_id_right")
    return out.select(
        "q_idx", "official_id", "amphoe_code", "agency_code",
        households=_.households.fill_null(0).cast("int32"),
        household_ids="household_ids",
        paired_before=(_.first_start <= _.as_of).fill_null(False),
    ).order_by(["q_idx", "amphoe_code", "agency_code", "official_id"])


def unpaired_quarter_expr(store: Store) -> ibis.Table:
    """Every household without a buddy at a fiscal quarter's as-of date: its last buddy by
    then (none if it never had one), that buddy's agency, when that pairing ended, and when
    the household enrolled. A few thousand rows that save the caseload check joining the
    pairings, officials and households on every filter change."""
    alone = store.source("status_quarter").filter(~_.paired).select(
        "household_id", "q_idx", "as_of")
    pairing = store.source("pairing")
    past = alone.join(pairing, [alone.household_id == pairing.household_id,
                                pairing.start_date <= alone.as_of]).select(
        alone.household_id, alone.q_idx, pairing.official_id, pairing.end_date)
    last = past.mutate(rn=ibis.row_number().over(
        group_by=["household_id", "q_idx"],
        order_by=[ibis.desc("end_date"), ibis.desc("official_id")],
    )).filter(_.rn == 0).select("household_id", "q_idx", previous_official_id="official_id",
                                buddy_ended="end_date")
    agency = store.source("official").select(previous_official_id="official_id",
                                            previous_agency_code="agency_code")
    enrolled = store.source("household").select("household_id", "enrolled_on")
    out = alone.left_join(last, ["household_id", "q_idx"]).drop("household_id_right",
                                                                "q_idx_right")
    out = out.left_join(agency, "previous_official_id").drop("previous_official_id_right")
    out = out.left_join(enrolled, "household_id").drop("household_id_right")
    return out.select("q_idx", "household_id", "previous_official_id", "previous_agency_code",
                      "buddy_ended", "enrolled_on").order_by(["q_idx", "household_id"])


def need_noted_expr(store: Store) -> ibis.Table:
    """Every need a household has had recorded, and the first visit date it was recorded at
    (the Follow-up page's "a need with no help after N days": a need listed at the latest
    visit was first listed no later than that visit, so the first date over all visits is the
    one as of any quarter). Saves a page scanning every visit's needs."""
    noted = store.source("visit").filter(_.needs.notnull()).select(
        "household_id", "visit_date", need=_.needs.split(";").unnest().strip())
    return noted.filter(_.need != "").group_by(["household_id", "need"]).aggregate(
        first_noted=_.visit_date.min()).order_by(["household_id", "need"])


def level_count_expr(store: Store) -> ibis.Table:
    """Per quarter, place and the buddy's agency then, the assessed households at each level:
    the targets' trend over every quarter reads these few thousand rows, not a row per
    household and quarter (twelve million at a million households)."""
    keys = ["q_idx", "amphoe_code", "tambon_code", "agency_code", "level"]
    return (store.source("status_quarter").filter(_.level.notnull())
            .group_by(keys).aggregate(households=_.count()).order_by(keys))


def level_pattern_expr(store: Store, definitions: Definitions) -> ibis.Table:
    """Per quarter and amphoe, households by their level at that quarter and each of the
    ``[forecast] window_quarters`` before it (l0 the earliest, lW that quarter; -1 where not
    yet assessed or before the data began): the forecast's starting patterns, counted once.
    Only households with a level at that quarter (a level, once set, is carried forward)."""
    width = definitions.forecast.window_quarters
    rows = store.source("status_quarter")
    by_household = ibis.window(group_by="household_id", order_by="q_idx")
    levels = {f"l{k}": rows.level.lag(width - k).over(by_household) for k in range(width)}
    rows = rows.mutate(**levels, **{f"l{width}": rows.level}).filter(_.level.notnull())
    columns = [f"l{k}" for k in range(width + 1)]
    rows = rows.mutate(**{c: rows[c].fill_null(-1).cast("int32") for c in columns})
    return rows.group_by(["q_idx", "amphoe_code", *columns]).aggregate(
        households=_.count()).order_by(["q_idx", "amphoe_code", *columns])


def open_needs(households: ibis.Table, delivered: ibis.Table,
               keys: tuple[str, ...] = ()) -> ibis.Table:
    """(household_id, *keys, as_of, need): each need recorded at a household's latest visit
    (``needs``, carried with its status) with no help of that type delivered (``delivered``:
    ``help_delivered``) on or before ``as_of``."""
    latest = households.filter(_.needs.notnull())
    needs = latest.select("household_id", *keys, "as_of",
                          need=_.needs.split(";").unnest().strip())
    needs = needs.filter(_.need != "")
    return needs.anti_join(delivered, [needs.household_id == delivered.household_id,
                                       needs.need == delivered.type,
                                       delivered.first_delivered <= needs.as_of])


def need_unhelped_exprs(store: Store, definitions: Definitions) -> list[ibis.Table]:
    """Per household and quarter, the needs of its latest visit then with no help of that
    kind by the quarter's as-of date, first recorded more than ``[followup]
    need_unhelped_after_days`` before it, ``;``-separated in code order (the Follow-up page's
    "a need with no help after N days"); only the households and quarters that have one. One
    expression per quarter: at a million households all quarters at once need more memory
    than an import may use."""
    days = definitions.followup.need_unhelped_after_days
    delivered, noted = store.source("help_delivered"), store.source("need_noted")
    parts = []
    for (q_idx,) in store.execute("SELECT q_idx FROM quarter_calendar ORDER BY q_idx"):
        quarter = store.source("status_quarter").filter(_.q_idx == q_idx)
        rows = open_needs(quarter, delivered, ("q_idx",)).join(noted, ["household_id", "need"])
        old = rows.filter(_.as_of.delta(_.first_noted, unit="day") > days)
        parts.append(old.group_by(["q_idx", "household_id"]).aggregate(
            # in one order on both engines (the page shows them in the contract's order)
            unhelped_needs=_.need.group_concat(";", order_by=_.need)).order_by("household_id"))
    return parts


def help_delivered_expr(store: Store) -> ibis.Table:
    """Per household and kind of help, the first date help of that kind was delivered: a
    need counts as helped as of any date on or after it."""
    delivered = store.source("assistance").filter(_.status == "delivered")
    return delivered.group_by(["household_id", "type"]).aggregate(
        first_delivered=_.date.min()).order_by(["household_id", "type"])
