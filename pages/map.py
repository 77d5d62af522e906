"""แผนที่ / Map: which amphoe lag, on a tile map that works offline (or on official boundaries
when a file is configured), and where households stand on a geographic view."""

import dataclasses

import streamlit as st

from dashboard.queries import geo as q_geo
from dashboard.ui import amphoe_names, context, level_names, page_header, tambon_names
from dashboard.ui.maps import boundaries, map_note, place_map, place_values
from dashboard.views import geo
from dashboard.views import maps as map_charts
from domain.filters import KEY_AMPHOE, KEY_TAMBON
from domain.reference import amphoe_table, tambon_table

ctx = context()
page_header(ctx, "map.title")
f, levels, days = ctx.filters, level_names(ctx), ctx.definitions.visited_within_days


amphoe_file, tambon_file = boundaries(ctx, "amphoe"), boundaries(ctx, "tambon")
# opens on progress (the share at target 2), with the three lowest amphoe outlined
indicator = st.selectbox(ctx.t("map.indicator"), geo.INDICATORS, key="map_indicator",
                         index=geo.INDICATORS.index(geo.DEFAULT_INDICATOR),
                         format_func=lambda i: map_charts.indicator_label(i, ctx.lang, levels,
                                                                          days))
label = map_charts.indicator_label(indicator, ctx.lang, levels, days)
views = ["boundaries", "tiles"] if amphoe_file else ["tiles"]
view = st.segmented_control(ctx.t("map.view"), views, default=views[0], required=True,
                            key="map_view", format_func=lambda v: ctx.t(f"map.view_{v}"))
whole = dataclasses.replace(f, amphoe=None, tambon=None)
province = place_values(ctx, indicator, ctx.data.read(q_geo.map_place_values, whole,
                                                      ctx.definitions), whole, "amphoe_code")
if province.empty:
    st.info(ctx.t("map.no_households"), icon=":material/search_off:")
    st.stop()
place_map(ctx, indicator, label, province,
          geo.tile_layout() if view == "tiles" else amphoe_table(), "amphoe_code",
          amphoe_names(ctx.lang), f"map_amphoe_{view}", KEY_AMPHOE,
          *((amphoe_file.bounds, amphoe_file.geojson) if view == "boundaries" else ()))
st.caption(map_note(ctx, indicator, whole))

if f.amphoe and tambon_file and indicator in geo.AMPHOE_ONLY:
    st.caption(ctx.t("map.forecast_no_tambon"))
elif f.amphoe and tambon_file:
    st.subheader(ctx.t("map.tambon_title", amphoe=amphoe_names(ctx.lang)[f.amphoe]))
    inside = dataclasses.replace(f, tambon=None)
    tambon_values = place_values(ctx, indicator, ctx.data.read(
        q_geo.map_place_values, inside, ctx.definitions, by="tambon_code"), inside, "tambon_code")
    place_map(ctx, indicator, label, tambon_values,
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
