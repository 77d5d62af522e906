"""What is followed by a climb: for each type of help and each agency or partner giving it,
the share of households that climbed at least one level within ``[climb] within_quarters``
quarters of receiving it, against comparable households that did not receive it. No
Streamlit. An association seen in the data, not proof of cause (docs/forecast.md).

- A household's start is its status at the end of the quarter before the one it first
  received that help in (level and income band); it "climbed" when its level at any of the
  next ``within_quarters`` quarter ends after the help's quarter, or at that quarter's end, is
  above its start. Only receipts whose window has ended by the selected quarter count.
- Comparable households: the same amphoe, level and income band at the same start, with no
  help of that kind (or from that provider) delivered from ``within_quarters`` quarters before
  the help's quarter to ``within_quarters`` after it. Their climb rate per stratum is weighted
  by the helped households in that stratum (direct standardisation); strata with no
  comparable household leave the comparison.
- The value: baht of that help delivered in the help's quarter, per helped household that
  climbed.

The engine counts by stratum (amphoe x level x band x quarter); the weighting is in pandas on
those few thousand rows, the same on both engines.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
from ibis import _
from ibis.backends import BaseBackend

from dashboard.queries.forecast import population_levels
from dashboard.queries.status import selected_quarter
from domain.definitions import Definitions
from domain.filters import Filters
from domain.forecast import quarter_ordinal
from loaders.derived import quarter_of

KINDS = ("type", "provider")
"""What the help is grouped by: its type, and who gave it (the agency, or else the partner)."""
STRATUM = ["amphoe_code", "start", "level", "band"]
COLUMNS = ["kind", "group", "households", "climbed", "share", "comparable_share",
           "comparable_households", "difference_pp", "value_baht", "baht_per_climber"]


def _ordinal(q_idx: ibis.Value) -> ibis.Value:
    """Quarter index (25634) -> a count of quarters (domain.forecast.quarter_ordinal)."""
    return (q_idx // 10) * 4 + q_idx % 10 - 1


def _starts(con: BaseBackend, filters: Filters, definitions: Definitions) -> ibis.Table:
    """Every household and quarter end with a level: its stratum there (``start`` = that
    quarter's ordinal), and whether it climbed within the window after the next quarter."""
    within = definitions.climb.within_quarters
    rows = population_levels(con, filters)
    line = definitions.income_line
    band = ibis.literal(0)
    for i, edge in enumerate(definitions.climb.income_band_edges, start=1):
        band = (rows.income_per_member >= edge * line).ifelse(i, band)
    rows = rows.mutate(ordinal=_ordinal(rows.q_idx).cast("int32"),
                       band=band.fill_null(0).cast("int32"))
    ahead = ibis.window(group_by="household_id", order_by="ordinal",
                        following=(1, within + 1))
    rows = rows.mutate(best=rows.level.max().over(ahead), seen=rows.level.count().over(ahead))
    last = quarter_ordinal(int(selected_quarter(con, filters) or 0))
    return rows.filter(_.seen == within + 1, _.ordinal + within + 1 <= last).select(
        "household_id", "amphoe_code", "level", "band", start="ordinal",
        climbed=(_.best > _.level).cast("int32"))


def _receipts(con: BaseBackend) -> ibis.Table:
    """Delivered help, once per kind of grouping: kind, group (its type, or its provider),
    household, the quarter's ordinal, baht."""
    help_ = con.table("assistance").filter(_.status == "delivered")
    help_ = help_.mutate(ordinal=_ordinal(quarter_of(help_.date)).cast("int32"),
                         value=help_.value_baht.fill_null(0))
    by_type = help_.select("household_id", "ordinal", "value", kind=ibis.literal("type"),
                           group=help_.type)
    by_provider = help_.select("household_id", "ordinal", "value",
                               kind=ibis.literal("provider"),
                               group=help_.agency_code.fill_null(help_.partner))
    return ibis.union(by_type, by_provider).filter(_.group.notnull())


def _counts(con: BaseBackend, filters: Filters, definitions: Definitions
            ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(treated, everyone, excluded) counts by stratum: the helped households of each group
    by their start; all households by start; and those to leave out of each group's
    comparison (help of that group near the start)."""
    within = definitions.climb.within_quarters
    starts = _starts(con, filters, definitions)
    receipts = _receipts(con)
    keys = ["kind", "group"]
    first = receipts.group_by(["household_id", *keys]).aggregate(ordinal=_.ordinal.min())
    value = receipts.group_by(["household_id", *keys, "ordinal"]).aggregate(
        value=_.value.sum())
    first = first.join(value, ["household_id", *keys, "ordinal"])
    treated = first.mutate(start=_.ordinal - 1).join(starts, ["household_id", "start"])
    treated = treated.group_by([*keys, *STRATUM]).aggregate(
        households=_.count(), climbed=_.climbed.sum(), value=_.value.sum())
    everyone = starts.group_by(STRATUM).aggregate(households=_.count(),
                                                  climbed=_.climbed.sum())
    near = receipts.select("household_id", *keys, "ordinal").distinct()
    offsets = ibis.union(*[near.mutate(start=_.ordinal - 1 + offset)
                           for offset in range(-within, within + 1)])
    shifted = offsets.select("household_id", *keys, "start").distinct()
    excluded = shifted.join(starts, ["household_id", "start"]).group_by(
        [*keys, *STRATUM]).aggregate(households=_.count(), climbed=_.climbed.sum())
    return treated.execute(), everyone.execute(), excluded.execute()


def climb_after_help(con: BaseBackend, filters: Filters, definitions: Definitions
                     ) -> pd.DataFrame:
    """Per kind ("type", "provider") and group (help type code, or agency code / partner
    name): helped households, those that climbed and their share; the comparable households'
    share (weighted to the helped households' strata) and how many there were; the difference
    in percentage points; the baht given and baht per household that climbed. Not yet
    suppressed: the view hides groups under 5 and flags those under 20."""
    rows = []
    treated_all, everyone, excluded_all = _counts(con, filters, definitions)
    for kind in KINDS:
        treated = treated_all[treated_all["kind"] == kind].drop(columns="kind")
        excluded = excluded_all[excluded_all["kind"] == kind].drop(columns="kind")
        if treated.empty:
            continue
        merged = treated.merge(everyone, on=STRATUM, suffixes=("", "_all"), how="left")
        merged = merged.merge(excluded, on=["group", *STRATUM], suffixes=("", "_near"),
                              how="left").fillna({"households_all": 0, "climbed_all": 0,
                                                  "households_near": 0, "climbed_near": 0})
        merged["others"] = merged["households_all"] - merged["households_near"]
        merged["others_climbed"] = merged["climbed_all"] - merged["climbed_near"]
        compared = merged[merged["others"] > 0]
        rate = compared["others_climbed"] / compared["others"]
        compared = compared.assign(expected=rate * compared["households"])
        by_group = merged.groupby("group").agg(households=("households", "sum"),
                                               climbed=("climbed", "sum"),
                                               value_baht=("value", "sum"))
        comp = compared.groupby("group").agg(weight=("households", "sum"),
                                             expected=("expected", "sum"),
                                             comparable_households=("others", "sum"))
        by_group = by_group.join(comp, how="left")
        for group, row in by_group.iterrows():
            share = row["climbed"] / row["households"]
            comparable = (row["expected"] / row["weight"]
                          if row["weight"] and not np.isnan(row["weight"]) else np.nan)
            rows.append({
                "kind": kind, "group": str(group), "households": int(row["households"]),
                "climbed": int(row["climbed"]), "share": share,
                "comparable_share": comparable,
                "comparable_households": int(np.nan_to_num(row["comparable_households"])),
                "difference_pp": (share - comparable) * 100,
                "value_baht": float(row["value_baht"]),
                "baht_per_climber": (float(row["value_baht"]) / row["climbed"]
                                     if row["climbed"] else np.nan)})
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.sort_values(["kind", "households", "group"], ascending=[True, False, True],
                             ignore_index=True)
