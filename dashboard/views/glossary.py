"""What the Definitions page shows, from the definitions file: every target's rule, the income
line, the plan, the indicators, the TPMAP dimensions and the sources, in the user's language."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from dashboard.views.tables import grid
from domain.definitions import Definitions
from domain.i18n import t
from domain.reference import indicator_table, name_column
from domain.targets import describe_rules


@dataclass(frozen=True)
class Glossary:
    names: dict[int, str]  # each level's name, 0 (crisis) included
    rules: tuple[tuple[str, ...], ...]  # each target's conditions, in words
    plan: pa.Table | pd.DataFrame  # the plan's shares by fiscal year, for st.dataframe
    indicators: pd.DataFrame  # each indicator's numerator and denominator, by name
    dimensions: pd.DataFrame  # each dimension's basic-needs indicators, by dimension
    jpt: pa.Table | pd.DataFrame  # every basic-needs indicator, for st.dataframe


def build(definitions: Definitions, lang: str) -> Glossary:
    names = definitions.level_names(lang)
    years = sorted({year for shares in definitions.plan.values() for year in shares})
    plan = pd.DataFrame({t("definitions.fiscal_year", lang): years} | {
        names[target.level]: [f"{definitions.plan.get(target.key, {}).get(y, float('nan')):.1%}"
                              for y in years]
        for target in definitions.targets})
    fill = definitions.fill
    indicators = pd.DataFrame([{
        t("definitions.col_name", lang): fill(getattr(i, f"name_{lang}"), lang),
        t("definitions.col_numerator", lang): fill(getattr(i, f"numerator_{lang}"), lang),
        t("definitions.col_denominator", lang): fill(getattr(i, f"denominator_{lang}"), lang),
        t("definitions.col_unit", lang): t("unit." + re.sub(r"\W+", "_", i.unit), lang),
    } for i in definitions.indicators]).set_index(t("definitions.col_name", lang))
    table = indicator_table()
    titles = table.set_index("indicator")[name_column(lang)]
    dimensions = pd.DataFrame([{
        t("definitions.col_dimension", lang): getattr(d, f"name_{lang}"),
        t("definitions.col_jpt", lang): "; ".join(f"({n}) {titles[n]}" for n in d.jpt),
    } for d in definitions.dimensions]).set_index(t("definitions.col_dimension", lang))
    jpt = pd.DataFrame({
        "#": table["indicator"],
        t("definitions.col_name", lang): table[name_column(lang)],
        t("definitions.col_group", lang): table["jpt_group"],
        t("definitions.col_dimension", lang): table["tpmap_dimension"],
    })
    return Glossary(names=names,
                    rules=tuple(tuple(describe_rules(target, definitions, lang))
                                for target in definitions.targets),
                    plan=grid(plan), indicators=indicators, dimensions=dimensions, jpt=grid(jpt))
