"""แผนที่ / Map: which amphoe lag, on a tile map that works offline (or on official boundaries
when a file is configured), and where households stand on a geographic view."""

import dataclasses

import streamlit as st

from dashboard.queries import geo as q_geo
from dashboard.ui import (
    amphoe_names,
    context,
    counts_config,
    download_buttons,
    level_names,
    page_header,
    tambon_names,
)
from dashboard.views import geo, tables
from dashboard.views import maps as map_charts
from domain.filters import ALL, KEY_AMPHOE, KEY_TAMBON
from domain.reference import amphoe_table, tambon_table

PLOTLY_CONFIG = {"displaylogo": False, "doubleClickDelay": 200, "scrollZoom": False}
ctx = context()
page_header(ctx, "map.title")
f, levels, days = ctx.filters, level_names(ctx), ctx.definitions.visited_within_days


def boundaries(level: str) -> geo.Boundaries | None:
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


def place_map(values, places, by, names, key, filter_key, bounds=None, features=None) -> None:
    """Map (tiles or true boundaries) and table of one indicator; a click filters the app."""
    colouring = geo.colour_places(values, places, indicator,
                         ctx.definitions.income_line, by)
    chosen = f.amphoe if by == "amphoe_code" else f.tambon
    fig = (map_charts.tile_map_figure(colouring, names, label, ctx.lang, chosen)
           if features is None else
           map_charts.choropleth_figure(colouring, features, names, label, ctx.lang,
                                        geo.fit_view(bounds), chosen))
    left, right = st.columns([3, 2])
    left.plotly_chart(fig, key=key, selection_mode="points", config=PLOTLY_CONFIG,
                      on_select=lambda: clicked(key, filter_key))
    table = map_charts.place_table(colouring, names, label, ctx.lang)
    shown = map_charts.table_for_display(table)
    right.dataframe(shown, hide_index=True, height=min(560, 35 * (len(table) + 1) + 3),
                    column_config=counts_config(shown))
    with right:
        download_buttons(ctx, table, f"map_{by.removesuffix('_code')}_{indicator}", key=key)


amphoe_file, tambon_file = boundaries("amphoe"), boundaries("tambon")
indicator = st.selectbox(ctx.t("map.indicator"), geo.INDICATORS, key="map_indicator",
                         format_func=lambda i: map_charts.indicator_label(i, ctx.lang, levels,
                                                                          days))
label = map_charts.indicator_label(indicator, ctx.lang, levels, days)
views = ["boundaries", "tiles"] if amphoe_file else ["tiles"]
view = st.segmented_control(ctx.t("map.view"), views, default=views[0], required=True,
                            key="map_view", format_func=lambda v: ctx.t(f"map.view_{v}"))
province = ctx.data.read(q_geo.map_place_values, dataclasses.replace(f, amphoe=None, tambon=None),
                         ctx.definitions)
if province.empty:
    st.info(ctx.t("map.no_households"), icon=":material/search_off:")
    st.stop()
place_map(province, geo.tile_layout() if view == "tiles" else amphoe_table(), "amphoe_code",
          amphoe_names(ctx.lang), f"map_amphoe_{view}", KEY_AMPHOE,
          *((amphoe_file.bounds, amphoe_file.geojson) if view == "boundaries" else ()))
st.caption(ctx.t("map.click_note", min=tables.MIN_GROUP))

if f.amphoe and tambon_file:
    st.subheader(ctx.t("map.tambon_title", amphoe=amphoe_names(ctx.lang)[f.amphoe]))
    place_map(ctx.data.read(q_geo.map_place_values, dataclasses.replace(f, tambon=None),
                            ctx.definitions, by="tambon_code"),
              tambon_table()[tambon_table()["amphoe_code"] == f.amphoe], "tambon_code",
              tambon_names(ctx.lang), "map_tambon", KEY_TAMBON,
              tambon_file.bounds_of(f.amphoe), tambon_file.features_of(f.amphoe))

st.subheader(ctx.t("map.geo_title"))
here = ctx.data.read(q_geo.map_place_values, f, ctx.definitions)
households = int(here["households"].sum())
basemap = st.toggle(ctx.t("map.basemap"), key="map_basemap", help=ctx.t("map.basemap_help"))
points_mode = ctx.viewer.sees_rows and households <= map_charts.POINTS_MAX_HOUSEHOLDS
cell_m = map_charts.cell_size_m(households, geo.area_km2(f.amphoe))
source = (ctx.data.read(q_geo.map_points, f) if points_mode else
          ctx.data.read(q_geo.map_cells, f, cell_m=cell_m))
bounds = ((amphoe_file.bounds_of(f.amphoe) if f.amphoe else amphoe_file.bounds)
          if amphoe_file else geo.reference_bounds(f.amphoe))
deck, marks = map_charts.geo_view(geo.fit_view(bounds, 900, 620), here, amphoe_table(),
    amphoe_names(ctx.lang), levels, ctx.lang, **{"points" if points_mode else "cells": source},
    cell_m=cell_m, basemap=basemap,
    amphoe_boundaries=amphoe_file.geojson if amphoe_file else None,
    tambon_boundaries=tambon_file.features_of(f.amphoe) if tambon_file and f.amphoe else None)
# no click-to-filter on the deck: a selection on it did not survive the redraw a filter
# change brings (every other click was lost in Chromium); the maps above filter reliably
st.pydeck_chart(deck, height=620, key="map_deck")
st.html(map_charts.legend_html(map_charts.deck_legend(points_mode, levels, ctx.lang)))
st.caption(map_charts.mode_note(points_mode, marks, cell_m, amphoe_file is None,
                                ctx.lang))
if amphoe_file:
    st.caption(ctx.t("map.attribution"))
