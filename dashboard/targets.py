"""The three-target ladder as engine expressions.

:func:`with_levels` adds to a visit table the per-member income, the number of income sources,
whether each target's own conditions hold and the household's level at that visit (0-3), all as
Ibis expressions so the same rule runs in DuckDB or PostgreSQL. Thresholds come from
:class:`~dashboard.definitions.Definitions`, never from this module.
"""

from __future__ import annotations

import ibis
from ibis import _
from ibis.expr.types import BooleanValue, Table

from dashboard.definitions import INCOME_SOURCES, Definitions, Target

INCOME_COLUMNS = tuple(f"income_{source}" for source in INCOME_SOURCES)
LEVEL_CRISIS = 0


def _jpt(table: Table, indicator: int) -> ibis.expr.types.BooleanColumn:
    return table[f"jpt_{indicator:02d}"]


def target_conditions(table: Table, target: Target, income_line: float) -> BooleanValue:
    """The conditions a target adds on top of the one below it (NULL counts as not met)."""
    conds: list[BooleanValue] = [ibis.literal(True)]
    for i in target.jpt_must_pass:
        conds.append(_jpt(table, i).fill_null(False))
    for i in target.jpt_pass_or_not_applicable:
        conds.append(_jpt(table, i).fill_null(True))
    if target.income_at_least_line:
        conds.append((table.income_per_member >= income_line).fill_null(False))
    if target.requires_savings:
        conds.append(table.saves.fill_null(False))
    if target.informal_debt_at_most_baht is not None:
        conds.append(table.debt_informal.fill_null(0) <= target.informal_debt_at_most_baht)
    if target.min_income_sources is not None:
        counted = sum(((table[f"income_{name}"].fill_null(0) > 0).cast("int32")
                       for name in target.income_sources_counted), ibis.literal(0))
        conds.append(counted >= target.min_income_sources)
    result = conds[0]
    for cond in conds[1:]:
        result = result & cond
    return result


def with_levels(visits: Table, definitions: Definitions) -> Table:
    """Visits plus ``income_total`` (baht/household/year), ``income_per_member``
    (baht/person/year), ``income_sources`` (sources above zero, all five counted),
    ``meets_<target>`` (own conditions only) and
    ``level`` (the highest target met on the ladder, 0 = in crisis)."""
    total = sum((visits[c].fill_null(0) for c in INCOME_COLUMNS), ibis.literal(0.0))
    sources = sum(((visits[c].fill_null(0) > 0).cast("int32") for c in INCOME_COLUMNS),
                  ibis.literal(0))
    t = visits.mutate(income_total=total, income_sources=sources)
    t = t.mutate(income_per_member=_.income_total / _.members.nullif(0))
    meets = {f"meets_{tg.key}": target_conditions(t, tg, definitions.income_line)
             for tg in definitions.targets}
    t = t.mutate(**meets)
    level = ibis.literal(LEVEL_CRISIS)
    reached = ibis.literal(True)
    for tg in definitions.targets:
        reached = reached & t[f"meets_{tg.key}"]
        level = reached.ifelse(tg.level, level)
    return t.mutate(level=level.cast("int8"))
