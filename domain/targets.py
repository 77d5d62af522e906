"""The three-target ladder as engine expressions.

:func:`with_levels` adds to a visit table the per-member income, the number of income sources,
whether each target's own conditions hold and the household's level at that visit (0-3), all as
Ibis expressions so the same rule runs in DuckDB or PostgreSQL. Thresholds come from
:class:`~domain.definitions.Definitions`, never from this module.
"""

from __future__ import annotations

import ibis
from ibis import _
from ibis.expr.types import BooleanValue, Table

from domain.definitions import INCOME_SOURCES, Definitions, Target

INCOME_COLUMNS = tuple(f"income_{source}" for source in INCOME_SOURCES)
LEVEL_CRISIS = 0


def _jpt(table: Table, indicator: int) -> ibis.expr.types.BooleanColumn:
    return table[f"jpt_{indicator:02d}"]


def conditions(table: Table, target: Target, income_line: float) -> list[tuple[str, BooleanValue]]:
    """The conditions a target adds on top of the one below it, each named by a gap code
    (``jpt_08``, ``income``, ``savings``, ``informal_debt``, ``income_sources``) and true when
    met. A missing value counts as not met; a not-applicable care indicator counts as met."""
    conds: list[tuple[str, BooleanValue]] = []
    for i in target.jpt_must_pass:
        conds.append((f"jpt_{i:02d}", _jpt(table, i).fill_null(False)))
    for i in target.jpt_pass_or_not_applicable:
        conds.append((f"jpt_{i:02d}", _jpt(table, i).fill_null(True)))
    if target.income_at_least_line:
        conds.append(("income", (table.income_per_member >= income_line).fill_null(False)))
    if target.requires_savings:
        conds.append(("savings", table.saves.fill_null(False)))
    if target.informal_debt_at_most_baht is not None:
        conds.append(("informal_debt",
                      table.debt_informal.fill_null(0) <= target.informal_debt_at_most_baht))
    if target.min_income_sources is not None:
        counted = sum(((table[f"income_{name}"].fill_null(0) > 0).cast("int32")
                       for name in target.income_sources_counted), ibis.literal(0))
        conds.append(("income_sources", counted >= target.min_income_sources))
    return conds


def target_conditions(table: Table, target: Target, income_line: float) -> BooleanValue:
    """True where every condition the target adds holds."""
    result: BooleanValue = ibis.literal(True)
    for _code, cond in conditions(table, target, income_line):
        result = result & cond
    return result


def next_target_gaps(table: Table, definitions: Definitions) -> ibis.expr.types.StringValue:
    """Semicolon-separated gap codes of the next target up from ``level`` (empty at the top).
    ``table`` must already carry ``level`` (see :func:`with_levels`)."""
    result = ibis.literal("")
    for target in definitions.targets:
        codes = ibis.literal("")
        for code, cond in conditions(table, target, definitions.income_line):
            codes = codes.concat(cond.ifelse("", code + ";"))
        result = (table.level == target.level - 1).ifelse(codes, result)
    return result.re_replace(r";$", "")


def counted_income_sources(row: dict[str, object], target: Target) -> int:
    return sum(1 for name in target.income_sources_counted
               if float(row.get(f"income_{name}") or 0) > 0)


def describe_gap(code: str, definitions: Definitions, lang: str,
                 row: dict[str, object] | None = None) -> str:
    """Words for a gap code; with the visit ``row``, the figures too ("income 31,200 < 38,000
    baht/person/year")."""
    from domain.i18n import t
    from domain.reference import indicator_table

    line = f"{definitions.income_line:,.0f}"
    if code.startswith("jpt_"):
        number = int(code[4:])
        titles = indicator_table().set_index("indicator")
        title = titles.loc[number, "name_th" if lang == "th" else "name_en"]
        return t("gap.jpt", lang, n=number, title=title)
    if code == "income":
        if row is not None and row.get("income_per_member") is not None:
            value = f"{float(row['income_per_member']):,.0f}"  # type: ignore[arg-type]
            return t("gap.income_value", lang, value=value, line=line)
        return t("gap.income", lang, line=line)
    if code == "informal_debt" and row is not None:
        return t("gap.informal_debt_value", lang,
                 value=f"{float(row.get('debt_informal') or 0):,.0f}")  # type: ignore[arg-type]
    if code == "income_sources":
        target = definitions.targets[-1]
        minimum = target.min_income_sources or 0
        if row is not None:
            return t("gap.income_sources_value", lang, n=counted_income_sources(row, target),
                     min=minimum)
        return t("gap.income_sources", lang, min=minimum)
    return t(f"gap.{code}", lang)


def with_levels(visits: Table, definitions: Definitions) -> Table:
    """Visits plus ``income_total`` (baht/household/year), ``income_per_member``
    (baht/person/year), ``income_sources`` (sources above zero, all five counted),
    ``meets_<target>`` (own conditions only), ``level`` (the highest target met on the
    ladder, 0 = in crisis), ``next_gaps`` (what keeps it from the next target: gap codes
    separated by ``;``, empty at the top) and ``deprived_<n>`` per TPMAP dimension."""
    total = sum((visits[c].fill_null(0) for c in INCOME_COLUMNS), ibis.literal(0.0))
    # int32, as stored: Ibis types the sum int64 and the ladder below int8, but writes their
    # literals untyped, so DuckDB made INTEGER columns of both; PostgreSQL builds a table
    # with the expression's own types, so they must say what both engines store
    sources = sum(((visits[c].fill_null(0) > 0).cast("int32") for c in INCOME_COLUMNS),
                  ibis.literal(0)).cast("int32")
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
    t = t.mutate(level=level.cast("int32"))
    return t.mutate(next_gaps=next_target_gaps(t, definitions), **{
        deprived_column(i): deprived(t, dim.jpt)
        for i, dim in enumerate(definitions.dimensions, 1)})


def deprived_column(number: int) -> str:
    """The column flagging deprivation in the definitions' ``number``-th dimension (from 1)."""
    return f"deprived_{number}"


def deprived(visits: Table, jpt: tuple[int, ...]) -> BooleanValue:
    """Deprived in a dimension: any of its จปฐ. indicators failed (not applicable or not
    recorded is not a failure)."""
    result: BooleanValue = ibis.literal(False)
    for i in jpt:
        result = result | (visits[f"jpt_{i:02d}"] == False).fill_null(False)  # noqa: E712
    return result


def describe_rules(target: Target, definitions: Definitions, lang: str) -> list[str]:
    """The conditions a target adds, in words, for the Definitions page."""
    from domain.i18n import t
    from domain.reference import indicator_table

    titles = indicator_table().set_index("indicator")["name_th" if lang == "th" else "name_en"]
    rules = []
    if target.level > 1:
        below = definitions.targets[target.level - 2]
        rules.append(t("rule.below", lang, name=below.name_th if lang == "th" else below.name_en))
    rules += [t("rule.jpt_pass", lang, n=i, title=titles[i]) for i in target.jpt_must_pass]
    rules += [t("rule.jpt_pass_or_na", lang, n=i, title=titles[i])
              for i in target.jpt_pass_or_not_applicable]
    if target.income_at_least_line:
        rules.append(t("rule.income", lang, line=f"{definitions.income_line:,.0f}"))
    if target.requires_savings:
        rules.append(t("rule.savings", lang))
    if target.informal_debt_at_most_baht == 0:
        rules.append(t("rule.no_informal_debt", lang))
    elif target.informal_debt_at_most_baht is not None:
        rules.append(t("rule.informal_debt", lang,
                       max=f"{target.informal_debt_at_most_baht:,.0f}"))
    if target.min_income_sources is not None:
        rules.append(t("rule.income_sources", lang, min=target.min_income_sources,
                       sources=", ".join(t(f"source.{s}", lang)
                                         for s in target.income_sources_counted)))
    return rules
