"""The forecast and what is followed by a climb, laid out: the Outcomes sections and the
Overview's row of the three targets against the plan."""

from __future__ import annotations

import streamlit as st

from dashboard.queries import climb as q_climb
from dashboard.queries.forecast import Forecast
from dashboard.store.privacy import MIN_GROUP, SMALL_GROUP
from dashboard.ui import PageContext, agency_names, amphoe_names, download_buttons
from dashboard.views import forecast as views
from domain.i18n import format_number, format_percent
from domain.thai_dates import format_quarter


def _has_years(ctx: PageContext, found: Forecast) -> bool:
    if found.as_of is None:
        st.info(ctx.t("forecast.no_data"), icon=":material/search_off:")
        return False
    if found.table.empty:
        st.info(ctx.t("forecast.no_years", quarter=format_quarter(found.as_of, ctx.lang)),
                icon=":material/event_busy:")
        return False
    return True


def forecast_cards(ctx: PageContext, found: Forecast, year: int) -> None:
    """One card per target: the forecast for ``year`` with its interval, the plan, the
    verdict, and the method's error 4 quarters ahead (or the longest back-tested)."""
    rules = ctx.definitions.forecast
    whole = views.whole_rows(found, year)
    horizon = max(rules.backtest_horizons)
    error = found.error_pp(horizon)
    for column, target in zip(st.columns(len(ctx.definitions.targets)),
                              ctx.definitions.targets, strict=True):
        row = whole.loc[target.level]
        status = views.status_word(row["status"], ctx.lang)
        sign = {"on_track": "normal", "at_risk": "off", "off_track": "inverse"}.get(
            row["status"], "off")
        column.metric(
            ctx.t("forecast.card", target=views.target_name(target, ctx.lang), year=year),
            format_percent(row["point"]), border=True,
            delta=ctx.t("forecast.card_delta", status=status,
                        low=format_percent(row["low"], 0), high=format_percent(row["high"], 0),
                        plan=format_percent(row["plan"], 0)),
            delta_color=sign, delta_arrow="off",
            help=ctx.t("forecast.error_item", h=horizon, pp=f"{error:.1f}")
            if error is not None else ctx.t("forecast.error_none"))


def forecast_section(ctx: PageContext, found: Forecast) -> None:
    """Outcomes: the chart ahead, the cards for the first plan year, the method and its
    error, the amphoe verdicts and a download."""
    if not _has_years(ctx, found):
        return
    rules = ctx.definitions.forecast
    year = views.first_year(found)
    st.caption(views.as_of_text(found, ctx.lang))
    forecast_cards(ctx, found, year)
    st.plotly_chart(views.forecast_chart(found, ctx.definitions, ctx.lang),
                    key="outcomes_forecast")
    st.caption(views.error_text(found, rules, ctx.lang) + ". " + ctx.t("forecast.interval_note"))
    if found.table["beyond_backtest"].any():
        st.caption(ctx.t("forecast.beyond", h=max(rules.backtest_horizons)))
    names = amphoe_names(ctx.lang)
    st.markdown(f"**{ctx.t('forecast.amphoe_table', year=year)}**")
    table = views.amphoe_status_table(found, ctx.definitions.targets, names, ctx.lang, year)
    narrow = {ctx.t(f"forecast.col_{c}"): st.column_config.Column(width="small")
              for c in ("households", "status")}
    with st.container(key="outcomes_forecast_amphoe"):
        st.dataframe(table, hide_index=True, height=min(36 * (len(table) + 1), 460),
                     column_config=narrow)
    st.caption(ctx.t("forecast.amphoe_note", margin=format_number(rules.margin_pp, 1),
                     min=MIN_GROUP))
    download_buttons(ctx, views.forecast_download(found, ctx.definitions.targets, names,
                                                  ctx.lang), "forecast", key="forecast_dl")


def overview_forecast(ctx: PageContext, found: Forecast) -> None:
    """Overview: the three targets' forecast for the first plan year ahead against the plan,
    and how many amphoe are on track, at risk and off track."""
    if found.table.empty:
        return
    year = views.first_year(found)
    st.subheader(ctx.t("forecast.overview_title", year=year))
    forecast_cards(ctx, found, year)
    counts = views.status_counts(found)
    st.caption(ctx.t("forecast.overview_counts", on=counts["on_track"],
                     risk=counts["at_risk"], off=counts["off_track"]) + " · "
               + views.error_text(found, ctx.definitions.forecast, ctx.lang))


@st.fragment
def climb_section(ctx: PageContext) -> None:
    """Outcomes: helped against comparable households, by type of help or by who gave it;
    switching redraws this section only."""
    found = ctx.data.read(q_climb.climb_after_help, ctx.filters, ctx.definitions)
    st.warning(ctx.t("climb.caution"), icon=":material/info:")
    if found.empty:
        st.info(ctx.t("climb.no_data"), icon=":material/search_off:")
        return
    kind = st.segmented_control(ctx.t("climb.by"), list(q_climb.KINDS), default="type",
                                required=True, key="climb_by",
                                format_func=lambda k: ctx.t(f"climb.by_{k}"))
    agencies = agency_names(ctx.lang)
    st.plotly_chart(views.climb_chart(found, kind, agencies, ctx.lang), key="outcomes_climb")
    table = views.climb_table(found, kind, agencies, ctx.lang)
    # full width: the comparison and the baht stay in view at 1,280 px
    with st.container(key="outcomes_climb_table"):
        st.dataframe(table, hide_index=True, height=min(36 * (len(table) + 1), 460))
    st.caption(ctx.t("climb.note", q=ctx.definitions.climb.within_quarters, min=MIN_GROUP,
                     small=SMALL_GROUP))
    download_buttons(ctx, table, f"climb_{kind}", key="climb_dl")
