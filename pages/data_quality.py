"""คุณภาพข้อมูล / Data quality: what in the data could mislead, before it does."""

import pandas as pd
import streamlit as st

from dashboard import store_access
from dashboard.i18n import format_number
from dashboard.privacy import NotAllowedError, protect
from dashboard.quality import CHECKS, SEVERITY
from dashboard.ui import agency_names, amphoe_names, context, download_buttons, page_header

ctx = context()
page_header(ctx, "page.quality")
report = store_access.query("quality_report", ctx.version, ctx.filters)
rules = ctx.definitions.quality
amphoe = amphoe_names(ctx.lang)
params = {"z": rules.outlier_robust_z, "factor": rules.jump_factor,
          "min": format_number(rules.min_jump_baht), "n": rules.missed_rounds_in_a_row,
          "typical": report.notes.get("typical_income", "–")}

summary = pd.DataFrame({
    ctx.t("quality.col_check"): [ctx.t(f"quality.check_{c}") for c in CHECKS],
    ctx.t("quality.col_severity"): [ctx.t(f"quality.severity_{SEVERITY[c]}") for c in CHECKS],
    ctx.t("quality.col_rows"): [len(report.checks[c]) for c in CHECKS],
    ctx.t("quality.col_households"): [report.checks[c]["household_id"].nunique() for c in CHECKS],
    ctx.t("quality.col_rule"): [ctx.t(f"quality.rule_{c}", **params) for c in CHECKS],
})
found = sum(len(f) for f in report.checks.values())
st.markdown(ctx.t("quality.headline", n=format_number(found),
                  households=format_number(len(report.affected_households()))))
st.dataframe(summary, hide_index=True, key="quality_summary")
download_buttons(ctx, summary, "quality_summary", key="quality_summary_dl")

left, right = st.columns(2)
with left:
    st.subheader(ctx.t("quality.scores"))
    scores = report.scores.assign(amphoe_code=lambda f: f["amphoe_code"].map(amphoe))
    scores = scores[["amphoe_code", "score", "completeness", "affected", "households"]]
    scores = scores.rename(columns=lambda c: ctx.t(f"quality.col_{c}"))
    st.dataframe(scores, hide_index=True, key="quality_scores", column_config={
        ctx.t("quality.col_score"): st.column_config.ProgressColumn(
            min_value=0, max_value=100, format="%.1f"),
        ctx.t("quality.col_completeness"): st.column_config.NumberColumn(format="percent")})
    st.caption(ctx.t("quality.scores_note", last=report.last_round or 0))
with right:
    st.subheader(ctx.t("quality.completeness_agency"))
    agency = report.completeness_agency.assign(agency_code=lambda f: f["agency_code"].map(
        agency_names(ctx.lang)).fillna(ctx.t("quality.no_buddy")))
    agency = agency.rename(columns=lambda c: ctx.t(f"quality.col_{c}"))
    st.dataframe(agency, hide_index=True, key="quality_agency", column_config={
        ctx.t("quality.col_completeness"): st.column_config.NumberColumn(format="percent")})

st.subheader(ctx.t("quality.details"))
for check in CHECKS:
    rows = report.checks[check]
    label = f"{ctx.t(f'quality.check_{check}')} · {format_number(len(rows))}"
    with st.expander(label, icon=":material/error:" if len(rows) else ":material/check:"):
        st.caption(ctx.t(f"quality.rule_{check}", **params))
        if rows.empty:
            st.write(ctx.t("quality.none_found"))
            continue
        try:
            shown = protect(rows, ctx.viewer)
        except NotAllowedError:
            st.info(ctx.t("quality.rows_hidden"))
            continue
        shown = shown.assign(amphoe_code=shown["amphoe_code"].map(amphoe))
        shown = shown.rename(columns=lambda c: ctx.t(f"quality.col_{c}"))
        st.dataframe(shown, hide_index=True, key=f"quality_rows_{check}")
        download_buttons(ctx, shown, f"quality_{check}", key=f"quality_dl_{check}")
