"""Map builders: small frames in, plotly figures and pydeck decks out. Pure: no Streamlit, no
queries.

- :func:`tile_map_figure`: the 26 amphoe as equal hexagons (works with no boundary file and no
  internet), one filled trace per colour class so the legend lists every class.
- :func:`choropleth_figure`: the same classes on official boundaries (``go.Choroplethmap`` on
  a blank style: no tiles are fetched).
- :func:`geo_deck`: households on a map, as coarsened points or hexagon cells, with amphoe
  boundaries or amphoe centre symbols. Only aggregates reach the deck: tooltips carry counts
  and level shares, never an id, a name or a household's own coordinates.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk

from dashboard.queries.geo import KM_PER_DEG_LAT, KM_PER_DEG_LON, SQRT3
from dashboard.store.privacy import MIN_GROUP
from dashboard.views.charts import FONT_FAMILY, LEVEL_COLOURS, figure
from dashboard.views.geo import (
    DARK_CLASSES,
    HIDDEN,
    HIGHER_IS_BETTER,
    NO_DATA,
    NOT_JUDGED,
    Colouring,
    class_label,
    format_value,
)
from domain.i18n import format_number, t
from domain.thai_text import words

SELECTED_COLOUR = "#1F2933"
LAGGING_COLOUR = LEVEL_COLOURS[0]  # vermillion: the amphoe that lag
OFFLINE_STYLE = "/app/static/blank_style.json"  # dashboard/static/, served by Streamlit
ONLINE_STYLE = pdk.map_styles.CARTO_LIGHT
UNSURVEYED_COLOUR = "#9AA5AD"
HIDDEN_CELL_COLOUR = "#C9CED2"  # opaque: translucent fills show their triangle seams
LEGEND_ONLY = "legend-only"
# Thai vowel and tone marks written above or below a letter: they take no room on a line
_MARKS = re.compile("[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]")

POINTS_MAX_HOUSEHOLDS = 10_000
"""Above this many households in the filters the geographic view draws hexagon cells instead
of points. Measured on the project's machine kind (2 cores), building the deck JSON the way
``st.pydeck_chart`` does (``Deck.to_json``) for synthetic points with Thai tooltips, one per
household at distinct coordinates: 1,000 points 0.02 s and 0.3 MB; 10,000: 0.17 s, 3.4 MB;
20,000: 0.36 s, 6.8 MB; 100,000: 1.9 s, 34 MB; 1,000,000: 29 s, 338 MB (and the browser must
then parse and draw it). Coarsening alone does not save the day: 1,000,000 households spread
over the province still fall in 76,699 distinct 0.01-degree cells. Hexagon cells at 1,000,000
households: the engine query takes 0.2 s; 2-km cells give 2,230 cells, a 2.5 MB deck built in
0.17 s (1-km cells: 8,779 cells, 9.7 MB, 0.75 s, hence :data:`MAX_CELLS`)."""
CELL_SIZES_M = (1000, 2000, 3000, 5000, 8000, 10000)
HOUSEHOLDS_PER_CELL = 25  # aim: a typical cell holds enough households to show its shares
MAX_CELLS = 3000  # and the deck stays under about 2 MB (see POINTS_MAX_HOUSEHOLDS)


def indicator_label(indicator: str, lang: str, level_names: Mapping[int, str],
                    days: int) -> str:
    if indicator.startswith("share_"):
        level = int(indicator.removeprefix("share_"))
        return t("map.ind_share", lang, n=level, name=level_names.get(level, ""))
    return t(f"map.ind_{indicator}", lang, days=days)


def _value_text(row: Mapping[str, Any], colouring: Colouring, lang: str) -> str:
    if row["klass"] == NO_DATA:
        return "–"
    if row["klass"] == HIDDEN:
        return t("map.hidden_short", lang, n=MIN_GROUP)
    scheme = colouring.scheme
    if scheme.kind == "verdict":  # a word, never a number
        return t("map.not_judged_short", lang) if row["klass"] == NOT_JUDGED else \
            class_label(row["klass"], scheme, lang)
    return format_value(float(row[colouring.column]), scheme.kind)


def _hover(colouring: Colouring, names: Mapping[str, str], label: str,
           lang: str) -> list[str]:
    code_column = colouring.code_column
    return [f"<b>{html.escape(names.get(row[code_column], row[code_column]))}</b><br>"
            f"{html.escape(label)}: {_value_text(row, colouring, lang)}<br>n = {row['n']:,}"
            for row in colouring.frame.to_dict("records")]  # records: iterrows is slow


TILE_RADIUS = 1 / SQRT3 * 0.98
"""A tile's centre to corner, in the layout's units (tiles 1 apart): a small gap between
tiles (and their white outlines) keeps them apart on a projector."""
TILE_MARGIN_Y = 0.62
"""Room above the top tiles and below the bottom ones: a corner (:data:`TILE_RADIUS`) and half
of the thickest outline on a projector."""


def _hexagon(x: float, y: float, radius: float = TILE_RADIUS) -> tuple[list, list]:
    """A pointy-top hexagon's outline (closed) around a tile centre. The line starts and ends
    halfway along an edge, so every corner is drawn as a join: started at the top corner, a
    thick outline's two ends left a notch in it."""
    corners = [(x + radius * math.cos(math.radians(90 + 60 * i)),
                y + radius * math.sin(math.radians(90 + 60 * i))) for i in range(6)]
    start = ((corners[0][0] + corners[1][0]) / 2, (corners[0][1] + corners[1][1]) / 2)
    points = [start, *corners[1:], corners[0], start]
    return [p[0] for p in points], [p[1] for p in points]


def _outline(frame: pd.DataFrame) -> tuple[list, list]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for x, y in zip(frame["x"], frame["y"], strict=True):
        hx, hy = _hexagon(x, y)
        xs += [*hx, None]
        ys += [*hy, None]
    return xs, ys


def _letters(text: str) -> int:
    """Letters of ``text`` that take room on a line (Thai vowel and tone marks written above
    or below a letter take none)."""
    return len(_MARKS.sub("", text.strip()))


def _tile_name(name: str, width: int = 8) -> str:
    """A name that fits a tile: one longer than ``width`` letters breaks between two words,
    where its longer line is shortest (Thai words found by the segmenter: "เมือง|ขอนแก่น",
    never "ขอน|แก่น" inside a word; "Khao Suan|Kwang", not "Khao|Suan Kwang")."""
    text = html.escape(name)
    if _letters(name) <= width:
        return text
    pieces = words(name)
    if len(pieces) < 2:
        return text
    ends = [sum(len(p) for p in pieces[:i]) for i in range(1, len(pieces))]
    cut = min(ends, key=lambda i: (max(_letters(name[:i]), _letters(name[i:])), i))
    return html.escape(name[:cut].rstrip()) + "<br>" + html.escape(name[cut:].lstrip())


GREY_CLASSES = (HIDDEN, NO_DATA, NOT_JUDGED)  # outlined in grey; hidden and not judged hatched


def _emphasis(colouring: Colouring, selected: str | None) -> list[tuple[pd.DataFrame, str, str]]:
    """(places, outline colour, legend key) for the lowest places and the chosen one."""
    frame, code_column = colouring.frame, colouring.code_column
    out = []
    for codes, colour, key in ((colouring.lagging, LAGGING_COLOUR, "map.lagging"),
                               ((selected,) if selected else (), SELECTED_COLOUR,
                                "map.selected")):
        part = frame[frame[code_column].isin(codes)]
        if len(part):
            out.append((part, colour, key))
    return out


def _emphasis_trace(part: pd.DataFrame, colour: str, key: str, lang: str) -> dict[str, Any]:
    xs, ys = _outline(part)
    return {"type": "scatter", "x": xs, "y": ys, "mode": "lines",
            "line": {"color": colour, "width": 4}, "name": t(key, lang, n=len(part)),
            "hoverinfo": "skip"}


def _legend(label: str) -> dict[str, Any]:
    return {"orientation": "v", "x": 0, "y": 0, "yanchor": "bottom", "xanchor": "left",
            "title": {"text": label}, "bgcolor": "rgba(255,255,255,0.85)",
            "itemclick": False, "itemdoubleclick": False}


def tile_map_figure(colouring: Colouring, names: Mapping[str, str], label: str, lang: str,
                    selected: str | None = None, legend: bool = True) -> go.Figure:
    """The amphoe tile map: ``colouring`` made from the tile layout (``amphoe_tiles.csv``,
    which gives each tile's x and y). Tiles carry the name and the value, hidden ones
    "n < 5". Clicking returns the amphoe code as ``customdata[0]``. Choosing another amphoe
    changes only its outline: the rest is made once per colouring (:func:`_tile_map_parts`).
    Without ``legend`` the figure has none: a page's narrow column puts
    :func:`tile_legend_html` under it, as the legend's corner there holds tiles."""
    below, above, layout = _tile_map_parts(colouring, names, label, lang)
    chosen = [_emphasis_trace(part, colour, key, lang)
              for part, colour, key in _emphasis(colouring, selected) if key == "map.selected"]
    if not legend:
        layout = {**layout, "showlegend": False}
    return figure([*below, *chosen, *above], **layout)


def _tile_map_parts(colouring: Colouring, names: Mapping[str, str], label: str, lang: str,
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """The tile map's traces under the chosen amphoe's outline (the classes, the lowest
    places' outline), the traces over it (names and values), and the layout."""
    scheme, frame = colouring.scheme, colouring.frame
    by_class = dict(tuple(frame.groupby("klass", sort=False)))
    traces: list[dict[str, Any]] = []
    for key in scheme.legend_keys:
        part = by_class.get(key, frame.iloc[:0])
        xs, ys = _outline(part) if len(part) else ([None], [None])
        traces.append({
            "type": "scatter", "x": xs, "y": ys, "mode": "lines", "fill": "toself",
            "fillcolor": scheme.colour(key),
            "line": {"color": "#9AA5AD" if key == NO_DATA else "white", "width": 1.5,
                     "dash": "dot" if key == NO_DATA else "solid"},
            "fillpattern": {"shape": "/", "bgcolor": scheme.colour(key), "fgcolor": "#8c8c8c",
                            "size": 8} if key in (HIDDEN, NOT_JUDGED) else None,
            "name": class_label(key, scheme, lang), "legendgroup": key, "hoverinfo": "skip",
            "showlegend": False,
        })
        # the legend shows each class as a hexagon swatch (a fill trace's own legend item is
        # a thin line); x=[None] draws nothing
        traces.append({
            "type": "scatter", "x": [None], "y": [None], "mode": "markers",
            "name": class_label(key, scheme, lang), "legendgroup": key, "hoverinfo": "skip",
            "marker": {"symbol": "hexagon", "size": 16, "color": scheme.colour(key),
                       "line": {"color": "#8c8c8c" if key in GREY_CLASSES else "white",
                                "width": 1}},
        })
    traces += [_emphasis_trace(part, colour, key, lang)
               for part, colour, key in _emphasis(colouring, None)]
    text_colour = ["white" if k in DARK_CLASSES else SELECTED_COLOUR for k in frame["klass"]]
    labels = ["<b>" + _tile_name(names.get(row["amphoe_code"], row["amphoe_code"])) + "</b><br>"
              + _value_text(row, colouring, lang) for row in frame.to_dict("records")]
    above = [{
        "type": "scatter", "x": frame["x"].to_numpy(), "y": frame["y"].to_numpy(),
        "mode": "markers+text", "text": labels,
        "textfont": {"color": text_colour, "size": 13, "family": FONT_FAMILY},
        "marker": {"symbol": "hexagon", "size": 62, "color": "rgba(0,0,0,0)"},
        "customdata": frame[["amphoe_code"]].to_numpy(), "showlegend": False,
        "hovertext": _hover(colouring, names, label, lang),
        "hovertemplate": "%{hovertext}<extra></extra>",
        "selected": {"marker": {"opacity": 1}}, "unselected": {"marker": {"opacity": 1}},
    }]
    layout = {
        "height": 700, "legend": _legend(label), "dragmode": False,
        "clickmode": "event+select", "margin": {"l": 0, "r": 0, "t": 4, "b": 0},
        "xaxis": {"visible": False, "range": [frame["x"].min() - 0.7, frame["x"].max() + 0.7],
                  "fixedrange": True},
        "yaxis": {"visible": False, "range": [frame["y"].min() - TILE_MARGIN_Y,
                                               frame["y"].max() + TILE_MARGIN_Y],
                  "scaleanchor": "x", "scaleratio": 1, "fixedrange": True}}
    return traces, above, layout


def _subset(geojson: Mapping[str, Any], codes: Iterable[str]) -> dict[str, Any]:
    """The features of ``codes`` only: each trace carries its own, so the figure holds every
    outline once, not once per colour class."""
    wanted = set(codes)
    return {"type": "FeatureCollection",
            "features": [f for f in geojson["features"] if f["id"] in wanted]}


def choropleth_figure(colouring: Colouring, geojson: Mapping[str, Any],
                      names: Mapping[str, str], label: str, lang: str,
                      view: tuple[float, float, float], selected: str | None = None) -> go.Figure:
    """A true choropleth on official boundaries (features with ``id`` = code), one trace per
    class, on a blank map style: nothing is fetched from the internet. ``view`` is (centre lon,
    centre lat, zoom). Clicking returns the code as ``location``."""
    scheme, code_column = colouring.scheme, colouring.code_column
    frame = colouring.frame.assign(hover=_hover(colouring, names, label, lang))
    traces: list[dict[str, Any]] = []
    for key in scheme.legend_keys:
        part = frame[frame["klass"] == key]
        colour = scheme.colour(key)
        # an empty class keeps its legend entry through a location no feature has
        locations = list(part[code_column]) or [LEGEND_ONLY]
        traces.append({
            "type": "choroplethmap", "geojson": _subset(geojson, locations),
            "locations": locations, "z": [0] * len(locations),
            "colorscale": [[0, colour], [1, colour]], "showscale": False, "zmin": 0, "zmax": 1,
            "marker": {"line": {"color": "#9AA5AD" if key in GREY_CLASSES else "white",
                                "width": 1}},
            "name": class_label(key, scheme, lang), "legendgroup": key, "showlegend": True,
            "customdata": [[c] for c in locations], "hovertext": list(part["hover"]) or [""],
            "hovertemplate": "%{hovertext}<extra></extra>",
        })
    for part, colour, key in _emphasis(colouring, selected):
        traces.append({
            "type": "choroplethmap", "geojson": _subset(geojson, part[code_column]),
            "locations": list(part[code_column]), "z": [0] * len(part),
            "colorscale": [[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], "showscale": False,
            "marker": {"line": {"color": colour, "width": 3.5}},
            "name": t(key, lang, n=len(part)), "hoverinfo": "skip"})
    lon, lat, zoom = view
    return figure(
        traces, height=640,
        map={"style": "white-bg", "center": {"lon": lon, "lat": lat}, "zoom": zoom},
        legend=_legend(label), margin={"l": 0, "r": 0, "t": 10, "b": 0},
        clickmode="event+select",
    )


def place_table(colouring: Colouring, names: Mapping[str, str], label: str,
                lang: str) -> pd.DataFrame:
    """What the map shows, as a table (on screen and in downloads): place, value (empty when
    hidden or no data), n, class; lowest values first for indicators where higher is better
    (largest first for households), then hidden places, then places without households. A
    verdict: place, verdict in words, n; worst first."""
    frame, scheme, code_column = colouring.frame, colouring.scheme, colouring.code_column
    place_column = t(f"map.col_{code_column.removesuffix('_code')}", lang)
    if scheme.kind == "verdict":
        worst_first = [*scheme.keys[-2::-1], NOT_JUDGED, NO_DATA]
        rank = frame["klass"].map({k: i for i, k in enumerate(worst_first)})
        order = frame.assign(_rank=rank).sort_values(["_rank", code_column], kind="stable").index
        return pd.DataFrame({
            place_column: [names.get(c, c) for c in frame[code_column]],
            # the indicator's name is a question, too long for a column: the verdict is a status
            t("forecast.col_status", lang): [_value_text(row, colouring, lang)
                                             for row in frame.to_dict("records")],
            t("map.col_n", lang): frame["n"],
        }).loc[order].reset_index(drop=True)
    shown = ~frame["klass"].isin([NO_DATA, HIDDEN])
    value = frame[colouring.column].where(shown).astype("Float64")
    value = (value * 100).round(1) if scheme.kind == "share" else value.round(0).astype("Int64")
    out = pd.DataFrame({
        place_column: [names.get(c, c) for c in frame[code_column]],
        label + (" (%)" if scheme.kind == "share" else ""): value,
        t("map.col_n", lang): frame["n"],
        t("map.col_class", lang): [class_label(k, scheme, lang) for k in frame["klass"]],
    })
    if colouring.indicator == "households":  # the value is the count: no second column of it
        out = out.drop(columns=t("map.col_n", lang))
    lowest_first = colouring.indicator in HIGHER_IS_BETTER
    rank = frame["klass"].map({HIDDEN: 1, NO_DATA: 2}).fillna(0)  # shown, hidden, empty
    order = frame.assign(_rank=rank, _value=frame[colouring.column].where(shown))
    order = order.sort_values(["_rank", "_value", code_column],
                              ascending=[True, lowest_first, True], kind="stable").index
    return out.loc[order].reset_index(drop=True)


def table_for_display(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`place_table` on screen: the value column as text, a dash where it is hidden or
    missing (a column of numbers and dashes is not one Arrow type); words stay words."""
    value = table.columns[1]
    return table.assign(**{value: [v if isinstance(v, str) else "–" if pd.isna(v) else f"{v:,}"
                                   for v in table[value]]})


# ---------------------------------------------------------------------------------------------
# The geographic view (pydeck)


def _rgb(colour: str, alpha: int = 255) -> list[int]:
    colour = colour.lstrip("#")
    return [int(colour[i:i + 2], 16) for i in (0, 2, 4)] + [alpha]


def cell_size_m(households: int, area_km2: float) -> int:
    """Hexagon size (centre to corner, metres): the smallest of :data:`CELL_SIZES_M` at which
    a typical cell holds :data:`HOUSEHOLDS_PER_CELL` households and the area needs at most
    :data:`MAX_CELLS` cells."""
    if households <= 0 or area_km2 <= 0:
        return CELL_SIZES_M[-1]
    cell_area = 1.5 * SQRT3  # km² of a hexagon 1 km from centre to corner
    wanted_km = max(math.sqrt(HOUSEHOLDS_PER_CELL * area_km2 / (households * cell_area)),
                    math.sqrt(area_km2 / (MAX_CELLS * cell_area)))
    return next((s for s in CELL_SIZES_M if s >= wanted_km * 1000), CELL_SIZES_M[-1])


def level_shares_text(counts: Mapping[int, int], assessed: int,
                      level_names: Mapping[int, str]) -> str:
    return " · ".join(f"{level_names[lv]} {counts.get(lv, 0) / assessed:.1%}"
                      for lv in sorted(level_names)) if assessed else ""


def _cell_outline(lon: float, lat: float, cell_m: int) -> list[list[float]]:
    """A flat-top hexagon around a cell centre (as :func:`dashboard.queries.geo.map_cells` bins),
    drawn slightly smaller so neighbouring cells stay apart."""
    size_km = cell_m / 1000 * 0.95
    return [[round(lon + size_km * math.cos(math.radians(60 * i)) / KM_PER_DEG_LON, 5),
             round(lat + size_km * math.sin(math.radians(60 * i)) / KM_PER_DEG_LAT, 5)]
            for i in range(6)]


def cells_layer_frame(cells: pd.DataFrame, level_names: Mapping[int, str], lang: str,
                      cell_m: int) -> pd.DataFrame:
    """Deck rows for hexagon cells: polygon, colour, tip. A cell is coloured by the level of
    its median surveyed household; a cell with fewer than MIN_GROUP surveyed households is
    grey and its tooltip gives no shares."""
    rows = []
    levels = sorted(level_names)
    for _, cell in cells.iterrows():
        counts = {lv: int(cell[f"n_{lv}"]) for lv in levels}
        assessed, households = int(cell["assessed"]), int(cell["households"])
        head = t("map.tip_households", lang, n=format_number(households))
        if assessed < MIN_GROUP:
            colour = _rgb(HIDDEN_CELL_COLOUR)
            tip = f"{head}\n{t('map.tip_hidden', lang, n=MIN_GROUP)}"
        else:
            middle, running, median = (assessed + 1) / 2, 0, levels[-1]
            for lv in levels:
                running += counts[lv]
                if running >= middle:
                    median = lv
                    break
            colour = _rgb(LEVEL_COLOURS[median])
            tip = (f"{head}\n{t('map.tip_median', lang, level=level_names[median])}\n"
                   f"{level_shares_text(counts, assessed, level_names)}")
        rows.append({"polygon": _cell_outline(float(cell["lon"]), float(cell["lat"]), cell_m),
                     "colour": colour, "tip": tip})
    return pd.DataFrame(rows, columns=["polygon", "colour", "tip"])


def points_layer_frame(points: pd.DataFrame, level_names: Mapping[int, str],
                       lang: str) -> pd.DataFrame:
    """Deck rows for coarsened points (one per 0.01-degree cell and level): lon, lat, colour,
    radius (pixels, by households), tip."""
    frame = points.sort_values("households", ascending=False, kind="stable")
    names = {**level_names, -1: t("map.unsurveyed", lang)}
    return pd.DataFrame({
        "lon": frame["lon"].astype(float), "lat": frame["lat"].astype(float),
        "colour": [_rgb(LEVEL_COLOURS.get(lv, UNSURVEYED_COLOUR), 220) for lv in frame["level"]],
        "radius": (3 + 2.5 * frame["households"].pow(0.5)).round(1),
        "tip": [f"{t('map.tip_households', lang, n=format_number(n))}\n{names[lv]}"
                for n, lv in zip(frame["households"], frame["level"], strict=True)],
    })


def centres_layer_frame(values: pd.DataFrame, amphoe: pd.DataFrame, names: Mapping[str, str],
                        lang: str) -> pd.DataFrame:
    """Deck rows for amphoe centre symbols: code, name, lon, lat, radius (pixels, area by
    households), tip. Amphoe without households are left out."""
    frame = amphoe.merge(values[["amphoe_code", "households"]], on="amphoe_code")
    frame = frame[frame["households"] > 0]
    top = float(frame["households"].max()) if len(frame) else 1.0
    return pd.DataFrame({
        "code": frame["amphoe_code"], "name": [names.get(c, c) for c in frame["amphoe_code"]],
        "lon": frame["centroid_lon"], "lat": frame["centroid_lat"],
        "radius": (6 + 30 * (frame["households"] / top).pow(0.5)).round(1),
        "tip": [f"{names.get(c, c)}\n{t('map.tip_households', lang, n=format_number(n))}"
                for c, n in zip(frame["amphoe_code"], frame["households"], strict=True)],
    }).reset_index(drop=True)


def boundary_layer_data(boundaries: Mapping[str, Any], values: pd.DataFrame,
                        names: Mapping[str, str], lang: str) -> dict[str, Any]:
    """A copy of amphoe boundaries whose features carry only ``code`` and a ``tip`` (name, and
    households where the filters hold any), for the deck's tooltips."""
    households = dict(zip(values["amphoe_code"], values["households"], strict=True))
    features = []
    for feature in boundaries["features"]:
        code = feature["properties"]["code"]
        tip = names.get(code, code)
        if households.get(code):
            tip += "\n" + t("map.tip_households", lang, n=format_number(households[code]))
        features.append({"type": "Feature", "geometry": feature["geometry"],
                         "properties": {"code": code, "tip": tip}})
    return {"type": "FeatureCollection", "features": features}


LAYER_POINTS = "household-points"
LAYER_CELLS = "household-cells"
LAYER_CENTRES = "amphoe-centres"
LAYER_NAMES = "amphoe-names"
LAYER_BOUNDARIES = "amphoe-boundaries"
LAYER_TAMBON = "tambon-boundaries"


class SerialisedDeck(pdk.Deck):
    """A deck that writes its JSON once: the page hands the same (unchanged) deck to the
    browser on every rerun, and writing a few thousand points' JSON costs tens of ms."""

    _json: str | None = None

    def to_json(self) -> str:
        if self._json is None:
            self._json = super().to_json()
        return self._json


def geo_deck(view: tuple[float, float, float], values: pd.DataFrame, amphoe: pd.DataFrame,
             names: Mapping[str, str], lang: str, *, points: pd.DataFrame | None = None,
             cells: pd.DataFrame | None = None,
             amphoe_boundaries: Mapping[str, Any] | None = None,
             tambon_boundaries: Mapping[str, Any] | None = None,
             basemap: bool = False) -> SerialisedDeck:
    """The geographic view at ``view`` (centre lon, centre lat, zoom). Layers (stable ids, so
    reruns update rather than replace them): amphoe boundaries when a file is configured, else
    amphoe centre symbols (``amphoe``: the reference rows with centroids) sized by ``values``
    (``map_place_values``); tambon boundaries inside a chosen amphoe; then either coarsened
    points (:func:`points_layer_frame`) or hexagon cells (:func:`cells_layer_frame`). Without
    ``basemap`` the style is a local blank one: nothing is fetched from the internet.
    deck.gl's TextLayer does not shape Thai (vowels and tone marks above and below a
    consonant get their own advance and read wrongly), so amphoe names are drawn in English
    only; in Thai they appear in the tooltips."""
    centres = centres_layer_frame(values, amphoe, names, lang)
    boundaries = (None if amphoe_boundaries is None else
                  boundary_layer_data(amphoe_boundaries, values, names, lang))
    labels = lang == "en"
    layers = []
    if boundaries is not None:  # an almost clear fill: hovering inside an amphoe names it
        layers.append(pdk.Layer("GeoJsonLayer", data=boundaries, id=LAYER_BOUNDARIES,
                                stroked=True, filled=True, get_fill_color=[255, 255, 255, 1],
                                get_line_color=[60, 70, 80, 220], line_width_min_pixels=1.5,
                                pickable=True))
    if tambon_boundaries is not None:
        layers.append(pdk.Layer("GeoJsonLayer", data=tambon_boundaries, id=LAYER_TAMBON,
                                stroked=True, filled=False, get_line_color=[120, 130, 140, 200],
                                line_width_min_pixels=0.8, pickable=False))
    if cells is not None:
        layers.append(pdk.Layer("PolygonLayer", data=cells, id=LAYER_CELLS,
                                get_polygon="polygon", get_fill_color="colour", stroked=False,
                                pickable=True))
    if points is not None:
        layers.append(pdk.Layer("ScatterplotLayer", data=points, id=LAYER_POINTS,
                                get_position=["lon", "lat"], get_fill_color="colour",
                                get_radius="radius", radius_units="'pixels'", stroked=True,
                                get_line_color=[255, 255, 255, 200], line_width_min_pixels=0.5,
                                pickable=True))
    if boundaries is None:
        layers.append(pdk.Layer("ScatterplotLayer", data=centres, id=LAYER_CENTRES,
                                get_position=["lon", "lat"], get_radius="radius",
                                radius_units="'pixels'", filled=True,
                                get_fill_color=[31, 41, 51, 25], stroked=True,
                                get_line_color=[31, 41, 51, 200], line_width_min_pixels=1.5,
                                pickable=True))
    if labels:
        layers.append(pdk.Layer("TextLayer", data=centres, id=LAYER_NAMES,
                                get_position=["lon", "lat"], get_text="name", get_size=13,
                                get_color=[31, 41, 51, 255], character_set="'auto'",
                                font_family="'Sarabun, Noto Sans Thai, Tahoma, sans-serif'",
                                get_pixel_offset=[0, -14], background=True,
                                get_background_color=[255, 255, 255, 190],
                                background_padding=[3, 1], pickable=False))
    lon, lat, zoom = view
    return SerialisedDeck(
        layers=layers,
        initial_view_state=pdk.ViewState(longitude=lon, latitude=lat, zoom=zoom),
        map_provider="carto", map_style=ONLINE_STYLE if basemap else OFFLINE_STYLE,
        tooltip={"text": "{tip}"},
    )


def geo_view(view: tuple[float, float, float], values: pd.DataFrame, amphoe: pd.DataFrame,
             names: Mapping[str, str], level_names: Mapping[int, str], lang: str, *,
             points: pd.DataFrame | None = None, cells: pd.DataFrame | None = None,
             cell_m: int = 0, **options: Any) -> tuple[SerialisedDeck, int]:
    """:func:`geo_deck` from the map queries' own rows (``map_points`` or ``map_cells``),
    and the number of marks it draws; ``options`` are geo_deck's boundaries and basemap."""
    if points is not None:
        layer = {"points": points_layer_frame(points, level_names, lang)}
    else:
        assert cells is not None, "points or cells"
        layer = {"cells": cells_layer_frame(cells, level_names, lang, cell_m)}
    deck = geo_deck(view, values, amphoe, names, lang, **layer, **options)
    return deck, len(next(iter(layer.values())))


def legend_html(items: Sequence[tuple[str, str]]) -> str:
    """A one-line HTML legend of (colour, label) swatches for the deck."""
    swatch = ('<span style="display:inline-flex;align-items:center;margin-right:1.1em">'
              '<span style="width:0.95em;height:0.95em;border-radius:50%;background:{c};'
              'display:inline-block;margin-right:0.35em"></span>{label}</span>')
    return "<div>" + "".join(swatch.format(c=html.escape(colour), label=html.escape(label))
                             for colour, label in items) + "</div>"


def tile_legend_html(colouring: Colouring, label: str, lang: str) -> str:
    """The tile map's legend as HTML rows under it: the indicator, a hexagon swatch per
    class (hidden and no data included) and the lowest places' outline."""
    scheme = colouring.scheme
    hexagon = "clip-path:polygon(25% 5%,75% 5%,100% 50%,75% 95%,25% 95%,0 50%)"
    item = ('<span style="display:inline-flex;align-items:center;margin:0 1.1em 0.2em 0;'
            'white-space:nowrap"><span style="width:1em;height:1em;display:inline-block;'
            'margin-right:0.4em;{style}"></span>{label}</span>')
    fills = [item.format(style=f"background:{html.escape(scheme.colour(key))};{hexagon}",
                         label=html.escape(class_label(key, scheme, lang)))
             for key in scheme.legend_keys]
    rings = [item.format(style=f"border:3px solid {colour};border-radius:50%;"
                               "box-sizing:border-box",
                         label=html.escape(t(key, lang, n=len(part))))
             for part, colour, key in _emphasis(colouring, None)]
    return (f'<div style="font-size:0.85rem;line-height:1.5"><div style="color:#4A5560">'
            f"{html.escape(label)}</div>{''.join(fills + rings)}</div>")


def mode_note(points_mode: bool, shown: int, cell_m: int, centres: bool, lang: str) -> str:
    """What the geographic view draws, in words."""
    mode = (t("map.mode_points", lang, n=f"{shown:,}") if points_mode else
            t("map.mode_cells", lang, km=f"{cell_m / 1000:g}", n=f"{shown:,}", min=MIN_GROUP))
    return f"{mode} · {t('map.centres_note', lang)}" if centres else mode


def deck_legend(points_mode: bool, level_names: Mapping[int, str],
                lang: str) -> list[tuple[str, str]]:
    """The deck's colours: one per level, then not surveyed (points) or hidden cells."""
    items = [(LEVEL_COLOURS[lv], level_names[lv]) for lv in sorted(level_names)]
    if points_mode:
        return [*items, (UNSURVEYED_COLOUR, t("map.unsurveyed", lang))]
    return [*items, (HIDDEN_CELL_COLOUR, t("map.class_hidden", lang, n=MIN_GROUP))]
