"""นิยาม / Definitions & sources: every figure's definition, from the definitions file."""

import streamlit as st

from dashboard.ui import context, page_header
from dashboard.views import glossary
from domain.definitions import definitions_path

ctx = context()
page_header(ctx, "page.definitions")
defs = ctx.definitions
shown = glossary.build(defs, ctx.lang)  # the tables, made once per file and language
names = shown.names
st.caption(ctx.t("definitions.file", path=definitions_path().name))

st.subheader(ctx.t("definitions.targets"))
st.markdown(ctx.t("definitions.ladder", crisis=names[0]))
for column, target, rules in zip(st.columns(3), defs.targets, shown.rules, strict=True):
    with column.container(border=True):
        st.markdown(f"**{ctx.t('definitions.target_n', n=target.level)} · "
                    f"{names[target.level]}**")
        st.markdown("\n".join(f"- {rule}" for rule in rules))

left, right = st.columns(2)
with left:
    st.subheader(ctx.t("definitions.income_line"))
    st.metric(ctx.t("definitions.income_line_value"), f"{defs.income_line:,.0f}",
              help=defs.income_source(ctx.lang))
    st.caption(defs.income_source(ctx.lang))
    st.caption(ctx.t("definitions.recency", days=defs.visited_within_days))
with right:
    st.subheader(ctx.t("definitions.plan"))
    st.dataframe(shown.plan, hide_index=True)

st.subheader(ctx.t("definitions.indicators"))
st.table(shown.indicators)

st.subheader(ctx.t("definitions.dimensions"))
st.table(shown.dimensions)

with st.expander(ctx.t("definitions.jpt_all"), icon=":material/checklist:",
                 key="definitions_jpt_box"):
    st.dataframe(shown.jpt, hide_index=True)

st.subheader(ctx.t("definitions.sources"))
st.markdown("\n".join(f"- {ctx.t(f'definitions.source_{k}')}"
                      for k in ("programme", "jpt", "tpmap", "codes", "font", "demo")))
