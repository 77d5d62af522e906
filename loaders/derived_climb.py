"""The derived tables of "what is followed by a climb" (Outcomes, presenter; docs/forecast.md),
built at import so that a page only filters and counts them.

- ``climb_start``: every household and quarter end with a level and a level at each of the
  ``[climb] within_quarters`` + 1 quarter ends after it: its stratum there (amphoe, level,
  income band; ``start`` = that quarter's ordinal) and whether it climbed (its best level in
  that window above its level at the start).
- ``climb_treated``: per household and group of help (``kind`` "type" or "provider",
  ``group`` its type code, or its agency code / partner name), its stratum at the end of the
  quarter before the first quarter it received that help, whether it climbed, and the baht of
  that help delivered in that first quarter.
- ``climb_near``: per household and group, every start at which help of that group came
  within ``within_quarters`` quarters either side of the help's quarter: the household leaves
  that group's comparison there.
- ``climb_stratum``: the three counted by stratum, for filters by amphoe alone.

A page keeps the rows whose window has ended by the selected quarter (``start`` +
``within_quarters`` + 1 <= its ordinal) and of the households in its filters. Built from
``status_quarter``, so after it.
"""

from __future__ import annotations

import ibis
from ibis import _

from domain.definitions import Definitions
from loaders.quarters import ordinal, quarter_of
from loaders.store import Store

KINDS = ("type", "provider")
"""What the help is grouped by: its type, and who gave it (the agency, or else the partner)."""
STRATUM = ["amphoe_code", "start", "level", "band"]


def climb_start_expr(store: Store, definitions: Definitions) -> ibis.Table:
    within = definitions.climb.within_quarters
    rows = store.source("status_quarter").filter(_.level.notnull())
    line = definitions.income_line
    band = ibis.literal(0)
    for i, edge in enumerate(definitions.climb.income_band_edges, start=1):
        band = (rows.income_per_member >= edge * line).ifelse(i, band)
    rows = rows.mutate(start=ordinal(rows.q_idx).cast("int32"),
                       band=band.fill_null(0).cast("int32"))
    ahead = ibis.window(group_by="household_id", order_by="start", following=(1, within + 1))
    rows = rows.mutate(best=rows.level.max().over(ahead), seen=rows.level.count().over(ahead))
    return rows.filter(_.seen == within + 1).select(
        "household_id", *STRATUM, climbed=(_.best > _.level).cast("int32"))


def _receipts(store: Store) -> ibis.Table:
    """Delivered help, once per kind of grouping: household, kind, group, the quarter's
    ordinal, baht."""
    help_ = store.source("assistance").filter(_.status == "delivered")
    help_ = help_.mutate(ordinal=ordinal(quarter_of(help_.date)).cast("int32"),
                         value=help_.value_baht.fill_null(0))
    by_type = help_.select("household_id", "ordinal", "value", kind=ibis.literal("type"),
                           group=help_.type)
    by_provider = help_.select("household_id", "ordinal", "value",
                               kind=ibis.literal("provider"),
                               group=help_.agency_code.fill_null(help_.partner))
    return ibis.union(by_type, by_provider).filter(_.group.notnull())


def climb_treated_expr(store: Store) -> ibis.Table:
    receipts = _receipts(store)
    keys = ["household_id", "kind", "group"]
    first = receipts.group_by(keys).aggregate(ordinal=_.ordinal.min())
    value = receipts.group_by([*keys, "ordinal"]).aggregate(value=_.value.sum())
    first = first.join(value, [*keys, "ordinal"])
    starts = store.source("climb_start")
    treated = first.mutate(start=(_.ordinal - 1).cast("int32"))
    treated = treated.join(starts, ["household_id", "start"])
    return treated.select(*keys, *STRATUM, "climbed", "value")


def climb_near_expr(store: Store, definitions: Definitions) -> ibis.Table:
    within = definitions.climb.within_quarters
    keys = ["household_id", "kind", "group"]
    near = _receipts(store).select(*keys, "ordinal").distinct()
    offsets = ibis.union(*[near.mutate(start=(_.ordinal - 1 + offset).cast("int32"))
                           for offset in range(-within, within + 1)])
    shifted = offsets.select(*keys, "start").distinct()
    starts = store.source("climb_start")
    return shifted.join(starts, ["household_id", "start"]).select(
        *keys, *STRATUM, "climbed")


def climb_stratum_expr(store: Store) -> ibis.Table:
    """The three tables counted by stratum (and group): ``part`` "treated" (households,
    climbed, value), "all" (every start; kind and group empty) and "near". What a page reads
    when its filters choose households by amphoe alone, or not at all."""
    keys = ["kind", "group"]
    # counts (BIGINT on both engines; DuckDB would make a sum of integers HUGEINT)
    counts = {"households": _.count(), "climbed": _.count(where=_.climbed == 1)}
    treated = store.source("climb_treated").group_by([*keys, *STRATUM]).aggregate(
        **counts, value=_.value.sum().cast("float64"))
    everyone = store.source("climb_start").group_by(STRATUM).aggregate(**counts).mutate(
        kind=ibis.literal(""), group=ibis.literal(""), value=ibis.null("float64"))
    near = store.source("climb_near").group_by([*keys, *STRATUM]).aggregate(**counts).mutate(
        value=ibis.null("float64"))
    columns = ["part", *keys, *STRATUM, "households", "climbed", "value"]
    return ibis.union(*[part.mutate(part=ibis.literal(name)).select(*columns)
                        for name, part in (("treated", treated), ("all", everyone),
                                           ("near", near))]).order_by(columns[:7])


def rebuild_climb(store: Store, definitions: Definitions) -> None:
    """(Re)build the tables inside the open transaction, after ``status_quarter``."""
    store.replace_table_from_expr("climb_start", climb_start_expr(store, definitions))
    store.replace_table_from_expr("climb_treated", climb_treated_expr(store))
    store.replace_table_from_expr("climb_near", climb_near_expr(store, definitions))
    store.replace_table_from_expr("climb_stratum", climb_stratum_expr(store))
