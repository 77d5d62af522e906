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

Each household's starts, first receipts and near receipts are tables built at import
(:mod:`loaders.derived_climb`); the engine counts them by stratum (amphoe x level x band x
quarter) for the households in the filters, and the weighting is in pandas on those few
thousand rows, the same on both engines.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
from ibis import _
from ibis.backends import BaseBackend

from dashboard.queries.status import by_place_only, population, selected_quarter
from domain.definitions import Definitions
from domain.filters import Filters, apply_place_agency
from domain.forecast import quarter_ordinal
from loaders.derived_climb import KINDS, STRATUM

COLUMNS = ["kind", "group", "households", "climbed", "share", "comparable_share",
           "comparable_households", "difference_pp", "value_baht", "baht_per_climber"]


def _counts(con: BaseBackend, filters: Filters, definitions: Definitions
            ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(treated, everyone, excluded) counts by stratum: the helped households of each group
    by their start; all households by start; and those to leave out of each group's
    comparison (help of that group near the start). Read from the tables built at import
    (:mod:`loaders.derived_climb`), keeping the starts whose window has ended by the selected
    quarter and the households in the filters."""
    within = definitions.climb.within_quarters
    last = quarter_ordinal(int(selected_quarter(con, filters) or 0))
    keys = ["kind", "group"]
    if by_place_only(filters) and not filters.tambon:  # the counts by amphoe, kept at import
        table = apply_place_agency(con.table("climb_stratum"), filters,
                                   _.start + within + 1 <= last).execute()
        parts = {name: part.drop(columns="part").reset_index(drop=True)
                 for name, part in table.groupby("part")}
        empty = table.drop(columns="part").iloc[:0]
        treated, everyone, excluded = (parts.get(name, empty)
                                       for name in ("treated", "all", "near"))
        return (treated, everyone.drop(columns=[*keys, "value"]),
                excluded.drop(columns="value"))
    households = population(con, filters)

    def rows(name: str) -> ibis.Table:
        table = con.table(name).filter(_.start + within + 1 <= last)
        return table.semi_join(households, "household_id")

    treated = rows("climb_treated").group_by([*keys, *STRATUM]).aggregate(
        households=_.count(), climbed=_.climbed.sum(), value=_.value.sum())
    everyone = rows("climb_start").group_by(STRATUM).aggregate(households=_.count(),
                                                               climbed=_.climbed.sum())
    excluded = rows("climb_near").group_by([*keys, *STRATUM]).aggregate(
        households=_.count(), climbed=_.climbed.sum())
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
