"""The Overview's first screen: each target's card with its gap to the plan year in force,
and the box naming the places furthest behind that plan."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.queries.overview import OverviewKpis
from dashboard.ui import (
    PageContext,
    amphoe_names,
    download_buttons,
    figure_columns,
    filters_summary,
    level_names,
    place_names,
    tambon_names,
)
from dashboard.ui.registry import PAGES
from dashboard.views import charts, funnel, plan
from dashboard.views.tables import for_display
from domain.i18n import format_percent


def target_gaps(ctx: PageContext, kpis: OverviewKpis) -> list[plan.Gap]:
    """Each target's share now, its plan in force on the data date, and its baseline."""
    gaps = []
    for target in ctx.definitions.targets:
        in_force = ctx.definitions.plan_in_force(target.key, kpis.as_of)
        gaps.append(plan.Gap(share=kpis.share_at_least(target.level),
                             plan_year=in_force[0] if in_force else None,
                             planned=in_force[1] if in_force else None,
                             baseline=kpis.baseline_share_at_least(target.level)))
    return gaps


def target_cards(ctx: PageContext, columns: list, gaps: list[plan.Gap],
                 trend: pd.DataFrame) -> None:
    """One card per target: the share, the gap to plan as the delta (red when behind), the
    change since baseline below it, and the quarterly trend."""
    names = level_names(ctx)
    for column, target, gap in zip(columns, ctx.definitions.targets, gaps, strict=True):
        with column.container(border=True, key=f"overview_target_{target.level}"):
            st.metric(
                ctx.t("kpi.at_target", n=target.level, name=names[target.level]),
                plan.format_share(gap.share), delta=plan.gap_delta(gap, ctx.lang),
                delta_color="normal",  # behind the plan: red, pointing down
                chart_data=charts.sparkline_values(trend, target.level), chart_type="area",
                help=ctx.t("kpi.at_target_help", name=names[target.level]))
            st.caption(plan.baseline_note(gap, ctx.lang))


def push_box(ctx: PageContext, column: object, summary: pd.DataFrame, gap: plan.Gap) -> None:
    """The places furthest behind the plan at target 2 (tambon once an amphoe is chosen)."""
    by = "tambon_code" if ctx.filters.amphoe else "amphoe_code"
    names = tambon_names(ctx.lang) if ctx.filters.amphoe else amphoe_names(ctx.lang)
    target = ctx.definitions.targets[1]
    level_name = level_names(ctx)[target.level]
    top, held = plan.places_to_push(summary, gap.planned, by, names)
    with column.container(border=True, key="overview_push"):
        title = ctx.t("overview.push_title_tambon" if ctx.filters.amphoe
                      else "overview.push_title")
        st.markdown(f"**:material/priority_high: {title}**")
        st.caption(ctx.t("overview.push_caption", year=gap.plan_year, name=level_name,
                         plan=plan.format_share(gap.planned))
                   if gap.planned is not None
                   else ctx.t("overview.push_caption_noplan", name=level_name))
        lines = plan.push_lines(top, held, gap.planned, ctx.lang)
        st.markdown("\n".join(lines) if lines else ctx.t("overview.push_none"))


def funnel_section(ctx: PageContext, frame: pd.DataFrame) -> None:
    """The four work processes: the funnel with its losses, and the table by place behind
    it (in an expander, with its download)."""
    st.subheader(ctx.t("funnel.title"))
    left, right = st.columns([3, 2])
    left.plotly_chart(funnel.funnel_chart(frame, ctx.lang), key="overview_funnel",
                      config={"displaylogo": False})
    right.markdown(funnel.funnel_sentence(frame, ctx.lang))
    right.caption(ctx.t("funnel.note", days=ctx.definitions.visited_within_days))
    table = funnel.funnel_table(frame, place_names(ctx), ctx.lang)
    with st.expander(ctx.t("funnel.by_place"), icon=":material/table_rows:",
                     key="overview_funnel_box"):
        st.dataframe(for_display(table, table.attrs["decimals"]), hide_index=True,
                     key="overview_funnel_table", column_config=figure_columns(table))
        download_buttons(ctx, table, "overview_funnel", key="overview_funnel_dl")


def followup_section(ctx: PageContext, by_place: pd.DataFrame, by: str) -> None:
    """The deputy governor's view of follow-up, aggregates only: cases being worked on and
    actions past their due date, in all and by place (the most overdue first), with a link
    to the Follow-up page."""
    st.subheader(ctx.t("overview.followup"))
    first, second, third, link = st.columns([1, 1, 1, 1.2], vertical_alignment="center")
    first.metric(ctx.t("overview.open_cases"), f"{by_place['open_cases'].sum():,}",
                 border=True)
    second.metric(ctx.t("overview.overdue"), f"{by_place['overdue'].sum():,}", border=True)
    third.metric(ctx.t("overview.done_cases"), f"{by_place['done'].sum():,}", border=True)
    link.page_link(next(spec.path for spec in PAGES if spec.file == "followup.py"),
                   label=ctx.t("overview.to_followup"), icon=":material/assignment_late:")
    if by_place.empty:
        st.caption(ctx.t("overview.no_cases"))
        return
    names = tambon_names(ctx.lang) if by == "tambon_code" else amphoe_names(ctx.lang)
    table = pd.DataFrame({
        ctx.t("overview.place_tambon" if by == "tambon_code" else "overview.place_amphoe"):
            by_place[by].map(lambda c: names.get(c, c)),
        ctx.t("overview.open_cases"): by_place["open_cases"],
        ctx.t("overview.overdue"): by_place["overdue"],
        ctx.t("overview.done_cases"): by_place["done"]})
    st.dataframe(table, hide_index=True, height=min(36 * 7, 36 * (len(table) + 1)))


def figures_section(ctx: PageContext, kpis: OverviewKpis, names: dict[int, str]) -> None:
    """The page's figures in one table, with the filters they are under, and its downloads:
    on screen as a reader quotes them (1,174; 99.3%; a dash where a figure has no share),
    in the files as numbers."""
    targets = ctx.definitions.targets
    shares = [None, kpis.paired_share, None, kpis.visited_share,
              *[kpis.share_at_least(tg.level) for tg in targets]]
    share = ctx.t("download.share")
    figures = pd.DataFrame({
        ctx.t("download.figure"): [
            ctx.t("kpi.households"), ctx.t("kpi.paired"), ctx.t("kpi.officials"),
            ctx.t("kpi.visited", days=ctx.definitions.visited_within_days),
            *[ctx.t("kpi.at_target", n=tg.level, name=names[tg.level]) for tg in targets],
        ],
        ctx.t("download.value"): [
            kpis.households, kpis.paired, kpis.officials, kpis.visited_recently,
            *[kpis.at_least[tg.level] for tg in targets],
        ],
        share: shares,
        ctx.t("download.filters"): filters_summary(ctx),
    })
    with st.expander(ctx.t("download.title"), icon=":material/download:",
                     key="overview_download_box"):
        st.dataframe(for_display(figures.assign(**{
            share: [format_percent(v) for v in shares]})), hide_index=True,
            column_config=figure_columns(figures))
        download_buttons(ctx, figures, "overview", key="overview_dl")
