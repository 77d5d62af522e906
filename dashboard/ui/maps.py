"""The Map page's pieces: official boundaries as configured, and a clickable map of one
indicator beside its table (a click on a place filters the whole dashboard to it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import store
from dashboard.queries.followup import cases_by_place
from dashboard.queries.forecast import ladder_forecast
from dashboard.store.privacy import MIN_GROUP
from dashboard.ui import PageContext, counts_config, download_buttons, today
from dashboard.views import geo
from dashboard.views import maps as map_charts
from dashboard.views.forecast import first_year
from domain.filters import ALL, Filters

PLOTLY_CONFIG = {"displaylogo": False, "doubleClickDelay": 200, "scrollZoom": False}


def boundaries(ctx: PageContext, level: str) -> geo.Boundaries | None:
    """The official boundaries configured for ``level``, or ``None`` (with a warning when the
    file is unusable or lacks places)."""
    path = geo.configured_boundaries(level)
    if path is None:
        return None
    try:
        found = geo.load_boundaries(path, level)
    except geo.BoundaryError as exc:
        st.warning(exc.message(ctx.lang), icon=":material/wrong_location:")
        return None
    if found.missing:
        st.warning(ctx.t("map.boundary_missing", file=path.name, n=len(found.missing),
                         codes=", ".join(found.missing[:12])), icon=":material/wrong_location:")
    return found


def clicked(key: str, filter_key: str) -> None:
    """A click on a place (tile: customdata; choropleth: location) filters the whole app to
    it; a click on the place already chosen clears the filter."""
    points = st.session_state[key].selection.points
    if points:
        code = str((points[0].get("customdata") or [points[0].get("location")])[0])
        st.session_state[filter_key] = ALL if st.session_state.get(filter_key) == code else code


def place_values(ctx: PageContext, indicator: str, values: pd.DataFrame, filters: Filters,
                 by: str) -> pd.DataFrame:
    """The places' values for ``indicator``: follow-up cases overdue are read (from the small
    case table), and the forecast verdicts (per amphoe), only when the map shows them."""
    if indicator in geo.VERDICTS:
        found = ctx.data.read(ladder_forecast, filters, ctx.definitions)
        return geo.with_forecast_status(values, found.status_by_amphoe())
    if indicator != "cases_overdue":
        return values
    by_place = ctx.data.read(cases_by_place, filters, today(), store.cases_version(), by=by)
    return geo.with_cases_overdue(values, by_place, by)


def map_note(ctx: PageContext, indicator: str, filters: Filters) -> str:
    """The note under the amphoe map: for the forecast verdict, the year judged and how."""
    if indicator not in geo.VERDICTS:
        return ctx.t("map.click_note", min=MIN_GROUP)
    found = ctx.data.read(ladder_forecast, filters, ctx.definitions)
    return ctx.t("map.forecast_note", year=first_year(found) or "–", min=MIN_GROUP)


def place_map(ctx: PageContext, indicator: str, label: str, values: pd.DataFrame,
              places: pd.DataFrame, by: str, names: Mapping[str, str], key: str,
              filter_key: str, bounds: tuple[float, float, float, float] | None = None,
              features: Any = None) -> None:
    """Map (tiles or true boundaries) and table of one indicator; a click filters the app."""
    colouring = geo.colour_places(values, places, indicator, ctx.definitions.income_line, by)
    chosen = ctx.filters.amphoe if by == "amphoe_code" else ctx.filters.tambon
    fig = (map_charts.tile_map_figure(colouring, names, label, ctx.lang, chosen, legend=False)
           if features is None else
           map_charts.choropleth_figure(colouring, features, names, label, ctx.lang,
                                        geo.fit_view(bounds), chosen))
    left, right = st.columns([3, 2])
    left.plotly_chart(fig, key=key, selection_mode="points", config=PLOTLY_CONFIG,
                      on_select=lambda: clicked(key, filter_key))
    if features is None:
        left.html(map_charts.tile_legend_html(colouring, label, ctx.lang))
    table = map_charts.place_table(colouring, names, label, ctx.lang)
    shown = map_charts.table_for_display(table)
    right.dataframe(shown, hide_index=True, height=min(560, 35 * (len(table) + 1) + 3),
                    column_config=counts_config(shown))
    with right:
        download_buttons(ctx, table, f"map_{by.removesuffix('_code')}_{indicator}", key=key)
