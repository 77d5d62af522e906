"""The Households page's profile of one household: heading, cards, what keeps it from the
next step, income and level over time, needs against help, indicators, buddies, visits."""

from __future__ import annotations

import streamlit as st

from dashboard import store
from dashboard.queries.households import HouseholdProfile
from dashboard.ui import PageContext, level_names, rows_or_note
from dashboard.ui.followup import profile_case
from dashboard.views import household_charts, households

KEY_RECORDED = "_profile_on_record"


def on_record(ctx: PageContext, action: str, household_id: str | None) -> None:
    """A profile opened (or asked for and not found: outside the area, or no such household)
    goes on record once per opening, not on every rerun of the page."""
    if not household_id:
        return
    if st.session_state.get(KEY_RECORDED) != (action, household_id, ctx.viewer.email):
        store.audit(ctx.viewer, action, f"household {household_id}")
        st.session_state[KEY_RECORDED] = (action, household_id, ctx.viewer.email)


def profile_section(ctx: PageContext, profile: HouseholdProfile, household_id: str) -> None:
    """Everything the profile shows, as protected for the viewer by the data layer."""
    names, line = level_names(ctx), ctx.definitions.income_line
    title, caption = households.profile_heading(profile, ctx.lang)
    st.markdown(title)
    st.caption(f"{caption}  \n[:material/link: {ctx.t('households.link')}]"
               f"(?{households.profile_query(household_id, ctx.lang)})")
    if profile.latest is None:
        st.info(ctx.t("households.no_visit"), icon=":material/event_busy:")
        return
    cards = households.profile_cards(profile, ctx.lang, names, line)
    # the last card (the buddy's name and agency) gets the room, and a smaller type, that a
    # Thai name with its title needs
    st.html("<style>.st-key-households_buddy_card [data-testid='stMetricValue'] "
            "{font-size: 1.75rem}</style>")
    columns = st.columns([2] * (len(cards) - 1) + [3])
    columns[-1] = columns[-1].container(key="households_buddy_card")
    for column, card in zip(columns, cards, strict=True):
        column.metric(card.label, card.value, delta=card.delta, delta_color=card.tone,
                      delta_arrow="auto" if card.tone == "normal" else "off", border=True,
                      help=card.help)
    if profile.gaps:
        next_step = names.get(int(profile.latest["level"]) + 1, "")
        st.markdown(f"**{ctx.t('households.gaps', next=next_step)}**\n" + "\n".join(
            f"- {gap}" for gap in households.gap_lines(profile, ctx.definitions, ctx.lang)))
    else:
        st.success(ctx.t("households.top_level"), icon=":material/verified:")

    charts, needs = st.columns([4, 3])
    with charts:
        st.markdown(f"**{ctx.t('households.income_timeline')}**")
        st.plotly_chart(household_charts.income_timeline_chart(profile.visits, line,
                                 ctx.lang),
                        key="households_income_chart", config={"displaylogo": False})
        st.markdown(f"**{ctx.t('households.level_timeline')}**")
        st.plotly_chart(household_charts.level_step_chart(profile.visits, names, ctx.lang),
                        key="households_level_chart", config={"displaylogo": False})
    with needs:
        st.markdown(f"**{ctx.t('households.needs_vs_help')}**")
        if profile.unmet:
            st.warning(ctx.t("households.unmet", needs=households.need_labels(
                ";".join(profile.unmet), ctx.lang)), icon=":material/report:")
        baht = st.column_config.NumberColumn(format="localized")  # 23,100 as on every page
        rows_or_note(ctx, households.needs_for_display(profile.needs, ctx.lang),
                     hide_index=True, column_config={ctx.t("households.delivered_baht"): baht})
        st.markdown(f"**{ctx.t('households.assistance')}**")
        rows_or_note(ctx, households.assistance_for_display(profile.assistance, ctx.lang),
                     hide_index=True, column_config={ctx.t("households.value"): baht})

    indicators, pairings = st.columns([4, 3])
    indicators.markdown(f"**{ctx.t('households.indicators')}**")
    rows_or_note(ctx, households.indicators_for_display(profile.indicators, ctx.lang),
                 indicators, hide_index=True, height=430)
    pairings.markdown(f"**{ctx.t('households.pairings')}**")
    rows_or_note(ctx, households.pairings_for_display(profile.pairings, ctx.lang), pairings,
                 hide_index=True)
    profile_case(ctx, household_id)
    with st.expander(ctx.t("households.visits"), icon=":material/history:",
                     key="households_visits_box"):
        rows_or_note(ctx, households.visits_for_display(profile.visits, ctx.lang, names),
                     hide_index=True)


def table_config(ctx: PageContext, heads: dict[str, str], line: float) -> dict[str, object]:
    """The household table's columns: widths that keep its key columns within 1,280 px (the
    default ones add up to about 780 px beside the selection box), percent and thousands."""
    widths = {"household_id": 105, "head_name": 125, "tambon_code": 95, "level": 85,
              "income_vs_line": 95, "days_since_visit": 70, "agency_code": 90,
              "unmet_needs": 140}
    config: dict[str, object] = {heads[c]: st.column_config.Column(width=w)
                                 for c, w in widths.items()}
    config[heads["income_vs_line"]] = st.column_config.ProgressColumn(
        format="percent", min_value=0, max_value=1, width=widths["income_vs_line"],
        help=ctx.t("households.income_vs_line_help", line=f"{line:,.0f}"))
    config[heads["days_since_visit"]] = st.column_config.NumberColumn(
        width=widths["days_since_visit"], help=heads["days_since_visit"])
    config[heads["income_per_member"]] = st.column_config.NumberColumn(format="localized")
    config[heads["level_change"]] = st.column_config.NumberColumn(format="%+d")
    return config
