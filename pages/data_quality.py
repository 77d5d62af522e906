"""คุณภาพข้อมูล / Data quality: what in the data could mislead, before it does."""

import pandas as pd
import streamlit as st

from dashboard.queries import quality as q_quality
from dashboard.queries.quality import CHECK_COLUMNS, CHECKS, SEVERITY
from dashboard.store.privacy import NotAllowedError
from dashboard.ui import (
    amphoe_names,
    context,
    download_buttons,
    page_header,
    place_names,
    rows_or_note,
)
from dashboard.views.coverage import short_agency_names as agency_short
from dashboard.views.quality import named_table, percent_points, shown_rows
from dashboard.views.tables import for_display
from domain.i18n import format_number

SHOW_ROWS = 500  # rows of a check shown on screen; the download has them all
COLUMNS = (*dict.fromkeys(c for columns in CHECK_COLUMNS.values() for c in columns),
           "agency_code", "score", "completeness", "affected", "households", "recorded",
           "expected")

ctx = context()
page_header(ctx, "page.quality")
report = ctx.data.read(q_quality.quality_report, ctx.filters, ctx.definitions)
rules = ctx.definitions.quality
amphoe = amphoe_names(ctx.lang)
params = {"z": rules.outlier_robust_z, "factor": rules.jump_factor,
          "min": format_number(rules.min_jump_baht), "n": rules.missed_rounds_in_a_row,
          "typical": report.notes.get("typical_income", "–")}

labels = {c: ctx.t(f"quality.col_{c}") for c in COLUMNS}
# counts and baht as 12,780 (as on every page); a column a table lacks is passed over
localized = {labels[c]: st.column_config.NumberColumn(format="localized") for c in (
    "households", "affected", "recorded", "expected", "income_per_member", "previous")}
# completeness is a share: in percent with one decimal, as every share is written
completeness = labels["completeness"]
as_percent = {completeness: st.column_config.NumberColumn(format="%.1f%%")}

summary = pd.DataFrame({
    ctx.t("quality.col_check"): [ctx.t(f"quality.check_{c}") for c in CHECKS],
    ctx.t("quality.col_severity"): [ctx.t(f"quality.severity_{SEVERITY[c]}") for c in CHECKS],
    ctx.t("quality.col_rows"): [len(report.checks[c]) for c in CHECKS],
    ctx.t("quality.col_households"): [report.households[c] for c in CHECKS],
    ctx.t("quality.col_rule"): [ctx.t(f"quality.rule_{c}", **params) for c in CHECKS],
})
found = sum(len(f) for f in report.checks.values())
st.markdown(ctx.t("quality.headline", n=format_number(found),
                  households=format_number(report.affected)))
# a static table: each rule is a sentence, and a data grid cut them off at its right edge
st.table(for_display(summary), hide_index=True, border="horizontal")
download_buttons(ctx, summary, "quality_summary", key="quality_summary_dl")

left, right = st.columns(2)
with left:
    st.subheader(ctx.t("quality.scores_tambon" if ctx.filters.amphoe else "quality.scores"))
    scores = named_table(report.scores, report.place, place_names(ctx),
                         labels | {report.place: ctx.t(f"table.{report.place}")},
                         (report.place, "score", "completeness", "affected", "households"))
    rows_or_note(ctx, percent_points(scores, completeness), hide_index=True,
                 key="quality_scores", column_config={
                     **localized, **as_percent, ctx.t("quality.col_score"):
                     st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.1f")})
    st.caption(ctx.t("quality.scores_note", last=report.last_round or 0))
with right:
    st.subheader(ctx.t("quality.completeness_agency"))
    agency = named_table(report.completeness_agency, "agency_code",
                           agency_short(ctx.lang), labels,
                           ("agency_code", "completeness", "recorded", "expected", "households"),
                           ctx.t("quality.no_buddy"))
    rows_or_note(ctx, percent_points(agency, completeness), hide_index=True,
                 key="quality_agency", column_config=localized | as_percent)

st.subheader(ctx.t("quality.details"))
st.caption(ctx.t("quality.filters_note"))
# one check's rows at a time: a national run can hold thousands of rows per check
if "quality_check" not in st.session_state:
    st.session_state["quality_check"] = next(
        (c for c in CHECKS if len(report.checks[c])), CHECKS[0])
check = st.selectbox(ctx.t("quality.pick_check"), CHECKS, key="quality_check",
                     format_func=lambda c: f"{ctx.t(f'quality.check_{c}')} · "
                                           f"{format_number(len(report.checks[c]))}")
rows = report.checks[check]
st.caption(ctx.t(f"quality.rule_{check}", **params))
# the rows are part of the cached report: name them by its key, not by content
if rows.empty:
    st.success(ctx.t("quality.none_found"), icon=":material/check:")
else:
    try:
        shown = shown_rows(rows, ctx.viewer, amphoe, labels)
    except NotAllowedError:
        st.info(ctx.t("quality.rows_hidden"))
    else:
        # the screen gets the first rows, the download (written only when clicked) all of them
        st.dataframe(shown.head(SHOW_ROWS), hide_index=True, key=f"quality_rows_{check}",
                     column_config=localized)
        if len(shown) > SHOW_ROWS:
            st.caption(ctx.t("quality.rows_capped", shown=format_number(SHOW_ROWS),
                             n=format_number(len(shown))))
        download_buttons(ctx, shown, f"quality_{check}", key=f"quality_dl_{check}",
                         personal=True)
