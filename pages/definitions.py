"""นิยาม / Definitions & sources: every figure's definition, from the definitions file."""

import re

import pandas as pd
import streamlit as st

from dashboard.definitions import definitions_path
from dashboard.targets import describe_rules
from dashboard.ui import context, level_names, name_column, page_header
from loaders.reference import indicator_table

ctx = context()
page_header(ctx, "page.definitions")
defs = ctx.definitions
names = level_names(ctx)
st.caption(ctx.t("definitions.file", path=definitions_path().name))

st.subheader(ctx.t("definitions.targets"))
st.markdown(ctx.t("definitions.ladder", crisis=names[0]))
for column, target in zip(st.columns(3), defs.targets, strict=True):
    with column.container(border=True):
        st.markdown(f"**{ctx.t('definitions.target_n', n=target.level)} · "
                    f"{names[target.level]}**")
        st.markdown("\n".join(f"- {rule}" for rule in describe_rules(target, defs, ctx.lang)))

left, right = st.columns(2)
with left:
    st.subheader(ctx.t("definitions.income_line"))
    st.metric(ctx.t("definitions.income_line_value"), f"{defs.income_line:,.0f}",
              help=defs.income_line_source)
    st.caption(defs.income_line_source)
    st.caption(ctx.t("definitions.recency", days=defs.visited_within_days))
with right:
    st.subheader(ctx.t("definitions.plan"))
    years = sorted({year for shares in defs.plan.values() for year in shares})
    plan = pd.DataFrame({ctx.t("definitions.fiscal_year"): years} | {
        names[t.level]: [f"{defs.plan.get(t.key, {}).get(y, float('nan')):.0%}" for y in years]
        for t in defs.targets})
    st.dataframe(plan, hide_index=True)

st.subheader(ctx.t("definitions.indicators"))
indicator_rows = pd.DataFrame([{
    ctx.t("definitions.col_name"): getattr(i, f"name_{ctx.lang}"),
    ctx.t("definitions.col_numerator"): getattr(i, f"numerator_{ctx.lang}"),
    ctx.t("definitions.col_denominator"): getattr(i, f"denominator_{ctx.lang}"),
    ctx.t("definitions.col_unit"): ctx.t("unit." + re.sub(r"\W+", "_", i.unit)),
} for i in defs.indicators])
st.table(indicator_rows.set_index(ctx.t("definitions.col_name")))

st.subheader(ctx.t("definitions.dimensions"))
jpt = indicator_table().set_index("indicator")[name_column(ctx.lang)]
st.table(pd.DataFrame([{
    ctx.t("definitions.col_dimension"): getattr(d, f"name_{ctx.lang}"),
    ctx.t("definitions.col_jpt"): "; ".join(f"({n}) {jpt[n]}" for n in d.jpt),
} for d in defs.dimensions]).set_index(ctx.t("definitions.col_dimension")))

with st.expander(ctx.t("definitions.jpt_all"), icon=":material/checklist:"):
    table = indicator_table()
    st.dataframe(pd.DataFrame({
        "#": table["indicator"],
        ctx.t("definitions.col_name"): table[name_column(ctx.lang)],
        ctx.t("definitions.col_group"): table["jpt_group"],
        ctx.t("definitions.col_dimension"): table["tpmap_dimension"],
    }), hide_index=True)

st.subheader(ctx.t("definitions.sources"))
st.markdown("\n".join(f"- {ctx.t(f'definitions.source_{k}')}"
                      for k in ("programme", "jpt", "tpmap", "codes", "font", "demo")))
