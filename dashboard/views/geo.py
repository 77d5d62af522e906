"""Geography for the Map page: the amphoe tile layout, colour classes and official boundaries.

- **Tile layout** (``data/reference/amphoe_tiles.csv``): the 26 amphoe as equal hexagons on a
  grid that echoes the province's shape, so every district is equally visible on a projector.
  :func:`build_tile_layout` derives it from the amphoe centroids; the committed file is its
  output (``python -m dashboard.views.geo`` rewrites it).
- **Colour classes**: explicit edges per indicator, plus "no data" and "fewer than
  :data:`~dashboard.store.privacy.MIN_GROUP` households (hidden)".
- **Boundaries**: a GeoJSON file the user points to with ``KUSIAO_BOUNDARIES_AMPHOE`` /
  ``KUSIAO_BOUNDARIES_TAMBON``, in our format (``amphoe_code``/``tambon_code``) or the OCHA/HDX
  COD-AB format (``ADM2_PCODE`` like ``TH4001``, ``ADM3_PCODE`` like ``TH400101``), checked
  against the reference tables.

The map's queries are in :mod:`dashboard.queries.geo`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard.queries.geo import KM_PER_DEG_LAT, SQRT3
from dashboard.store.privacy import MIN_GROUP
from domain.i18n import format_number, format_percent, t
from domain.reference import (
    LEGACY_AMPHOE_CODES,
    PROVINCE_CODE,
    REFERENCE_DIR,
    ROOT,
    amphoe_table,
    tambon_table,
)

AMPHOE_BOUNDARIES_ENV = "KUSIAO_BOUNDARIES_AMPHOE"


TAMBON_BOUNDARIES_ENV = "KUSIAO_BOUNDARIES_TAMBON"


TILES_FILE = REFERENCE_DIR / "amphoe_tiles.csv"


HEX_DIRECTIONS = ((1, 0), (1, -1), (0, -1), (-1, 0), (-1, 1), (0, 1))


def hex_distance(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Steps between two hexagons in axial coordinates (1 = they touch)."""
    dq, dr = a[0] - b[0], a[1] - b[1]
    return (abs(dq) + abs(dr) + abs(dq + dr)) // 2


def tile_centre(q: int, r: int) -> tuple[float, float]:
    """Centre of a pointy-top hexagon tile, neighbours 1 apart; ``y`` grows northwards."""
    return q + r / 2, r * SQRT3 / 2


def _cube_round(qf: float, rf: float) -> tuple[int, int]:
    sf = -qf - rf
    q, r, s = round(qf), round(rf), round(sf)
    dq, dr, ds = abs(q - qf), abs(r - rf), abs(s - sf)
    if dq > dr and dq > ds:
        q = -r - s
    elif dr > ds:
        r = -q - s
    return q, r


TILE_SPACINGS = tuple(round(0.12 + 0.01 * i, 2) for i in range(11))
"""Candidate distances between neighbouring tiles, in degrees of latitude (0.12-0.22)."""


DISPLACEMENT_WEIGHT = 1.0
"""Weight of (tile centre - projected centroid)² against (neighbour steps - 1)²."""


OUTLINE_WEIGHT = 0.5
"""Weight of each tile side on the outline (see :func:`_layout_cost`)."""


def _projected(amphoe: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Centroids in degrees of latitude, longitude scaled by cos(mean latitude), centred."""
    lat0 = float(amphoe["centroid_lat"].mean())
    lon0 = float(amphoe["centroid_lon"].mean())
    k = math.cos(math.radians(lat0))
    return {code: ((lon - lon0) * k, lat - lat0) for code, lat, lon in
            zip(amphoe["amphoe_code"], amphoe["centroid_lat"], amphoe["centroid_lon"],
                strict=True)}


def centroid_neighbours(amphoe: pd.DataFrame) -> set[tuple[str, str]]:
    """Pairs of amphoe that are neighbours by their centroids (the Gabriel graph: no other
    centroid lies inside the circle whose diameter joins the two). Of its 45 pairs, 42 share a
    border on the official map (checked in the tests where the boundary file is present)."""
    points = _projected(amphoe)
    codes = sorted(points)
    pairs = set()
    for i, a in enumerate(codes):
        for b in codes[i + 1:]:
            (ax, ay), (bx, by) = points[a], points[b]
            mx, my, r2 = (ax + bx) / 2, (ay + by) / 2, ((ax - bx) ** 2 + (ay - by) ** 2) / 4
            if all((x - mx) ** 2 + (y - my) ** 2 >= r2
                   for c, (x, y) in points.items() if c not in (a, b)):
                pairs.add((a, b))
    return pairs


def _first_assignment(pos: Mapping[str, tuple[float, float]]) -> dict[str, tuple[int, int]]:
    """Each amphoe to a free cell near its position. Cells prefer the nearer amphoe (deferred
    acceptance), ties broken by code, so the result does not depend on any ordering."""
    def candidates(code: str) -> list[tuple[float, int, int]]:
        x, y = pos[code]
        rf = y / (SQRT3 / 2)
        q0, r0 = _cube_round(x - rf / 2, rf)
        out = []
        for dq in range(-4, 5):
            for dr in range(-4, 5):
                cx, cy = tile_centre(q0 + dq, r0 + dr)
                out.append(((cx - x) ** 2 + (cy - y) ** 2, q0 + dq, r0 + dr))
        return sorted(out)

    prefs = {code: candidates(code) for code in sorted(pos)}
    distance = {code: {(q, r): d for d, q, r in p} for code, p in prefs.items()}
    holder: dict[tuple[int, int], str] = {}
    tried = dict.fromkeys(prefs, 0)
    waiting = sorted(pos)
    while waiting:
        code = waiting.pop(0)
        d, q, r = prefs[code][tried[code]]
        tried[code] += 1
        other = holder.get((q, r))
        if other is None:
            holder[(q, r)] = code
        elif (d, code) < (distance[other][(q, r)], other):
            holder[(q, r)] = code
            waiting.append(other)
        else:
            waiting.append(code)
    return {code: cell for cell, code in holder.items()}


def _layout_cost(cells: Mapping[str, tuple[int, int]], pos: Mapping[str, tuple[float, float]],
                 pairs: set[tuple[str, str]]) -> float:
    """What the layout search lowers: distance of each tile from its projected centroid, plus
    (steps between centroid neighbours - 1)², plus the outline (tile sides facing no tile),
    which keeps the shape compact instead of leaving holes the province does not have."""
    placed = sum((tile_centre(*cell)[0] - pos[c][0]) ** 2
                 + (tile_centre(*cell)[1] - pos[c][1]) ** 2 for c, cell in cells.items())
    apart = sum((hex_distance(cells[a], cells[b]) - 1) ** 2 for a, b in pairs)
    tiles = set(cells.values())
    outline = sum((q + dq, r + dr) not in tiles for q, r in tiles for dq, dr in HEX_DIRECTIONS)
    return DISPLACEMENT_WEIGHT * placed + apart + OUTLINE_WEIGHT * outline


def _improve(cells: dict[str, tuple[int, int]], pos: Mapping[str, tuple[float, float]],
             pairs: set[tuple[str, str]]) -> float:
    """Local search in place: move an amphoe to a cell up to two steps away (swapping with
    the amphoe there) while that lowers :func:`_layout_cost`; amphoe in code order, the best
    move each time. Returns the final cost."""
    neighbours: dict[str, list[str]] = {code: [] for code in cells}
    for a, b in pairs:
        neighbours[a].append(b)
        neighbours[b].append(a)

    def own(code: str, cell: tuple[int, int]) -> float:
        x, y = pos[code]
        cx, cy = tile_centre(*cell)
        return DISPLACEMENT_WEIGHT * ((cx - x) ** 2 + (cy - y) ** 2) + sum(
            (hex_distance(cell, cells[n]) - 1) ** 2 for n in neighbours[code])

    def touching(cell: tuple[int, int], tiles: set[tuple[int, int]]) -> int:
        return sum((cell[0] + dq, cell[1] + dr) in tiles for dq, dr in HEX_DIRECTIONS)

    improved = True
    while improved:
        improved = False
        for code in sorted(cells):
            here = cells[code]
            occupant = {cell: c for c, cell in cells.items()}
            best: tuple[float, tuple[int, int] | None] = (-1e-9, None)
            for dq in range(-2, 3):
                for dr in range(-2, 3):
                    there = (here[0] + dq, here[1] + dr)
                    if there == here:
                        continue
                    other = occupant.get(there)
                    before = own(code, here) + (own(other, there) if other else 0.0)
                    cells[code] = there
                    if other:
                        cells[other] = here
                    after = own(code, there) + (own(other, here) if other else 0.0)
                    cells[code] = here
                    if other:
                        cells[other] = there
                    else:  # the tile set changes: outline = 6 tiles - 2 shared sides
                        rest = set(occupant) - {here}
                        shared = touching(there, rest) - touching(here, rest)
                        after -= 2 * OUTLINE_WEIGHT * shared
                    if after - before < best[0]:
                        best = (after - before, there)
            if best[1] is not None:
                other = occupant.get(best[1])
                if other:
                    cells[other] = here
                cells[code] = best[1]
                improved = True
    return _layout_cost(cells, pos, pairs)


def build_tile_layout(amphoe: pd.DataFrame | None = None) -> pd.DataFrame:
    """The tile map layout: one hexagon per amphoe, placed to echo the geography.

    Centroids are projected (longitude scaled by the cosine of the latitude) and snapped to a
    pointy-top hexagon grid at each candidate spacing in :data:`TILE_SPACINGS`; collisions go
    to the nearer amphoe, the others to the next free cell; a local search then lowers
    ``(steps between centroid neighbours - 1)² + (distance from the centroid)²``. The spacing
    with the lowest cost wins. Deterministic: the same centroids give the same table.

    Columns: amphoe_code, name_th, name_en, q, r (axial grid cell), x, y (tile centre,
    neighbours 1 apart, y northwards; the grid is shifted so both start at 0 or 0.5).
    """
    amphoe = amphoe_table() if amphoe is None else amphoe
    projected = _projected(amphoe)
    pairs = centroid_neighbours(amphoe)
    best: tuple[float, dict[str, tuple[int, int]]] | None = None
    for spacing in TILE_SPACINGS:
        pos = {code: (x / spacing, y / spacing) for code, (x, y) in projected.items()}
        cells = _first_assignment(pos)
        cost = _improve(cells, pos, pairs)
        if best is None or cost < best[0] - 1e-9:
            best = (cost, cells)
    assert best is not None
    cells = best[1]
    # shift so that x and y start at 0 (an integer shift of q keeps the grid)
    r_min = min(r for _, r in cells.values())
    q_shift = -math.floor(min(q + (r - r_min) / 2 for q, r in cells.values()))
    rows = []
    for code, name_th, name_en in zip(amphoe["amphoe_code"], amphoe["name_th"],
                                      amphoe["name_en"], strict=True):
        q, r = cells[code][0] + q_shift, cells[code][1] - r_min
        x, y = tile_centre(q, r)
        rows.append({"amphoe_code": code, "name_th": name_th, "name_en": name_en, "q": q,
                     "r": r, "x": round(x, 4), "y": round(y, 4)})
    return pd.DataFrame(rows).sort_values("amphoe_code", ignore_index=True)


def write_tile_layout(path: Path = TILES_FILE) -> pd.DataFrame:
    layout = build_tile_layout()
    layout.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    tile_layout.cache_clear()
    return layout


@lru_cache(maxsize=1)
def tile_layout() -> pd.DataFrame:
    """The committed layout (see :func:`build_tile_layout`)."""
    return pd.read_csv(TILES_FILE, dtype={"amphoe_code": str}, encoding="utf-8")


INDICATORS = ("households", "paired_share", "visited_share", "share_1", "share_2", "share_3",
              "income_mean", "cases_overdue", "forecast_status")
"""What the map can be coloured by. ``share_<n>``: share of surveyed households at target n or
above; ``income_mean``: mean income per member, baht/person/year, of the surveyed households;
``cases_overdue``: follow-up cases whose next action is past its due date (a count, added to
the place values by :func:`with_cases_overdue`); ``forecast_status``: the amphoe's forecast
verdict for the first plan year ahead (a word, added by :func:`with_forecast_status`)."""
COUNTS = frozenset({"households", "cases_overdue"})
"""Indicators that are counts of households (classes of round steps from 0)."""
VERDICTS = frozenset({"forecast_status"})
"""Indicators that are a verdict, not a number: coloured by category, shown as words."""
AMPHOE_ONLY = VERDICTS
"""Indicators made per amphoe only (the forecast): no tambon map of them."""


DEFAULT_INDICATOR = "share_2"
"""What the map opens on: progress, the share at target 2 (sufficient) or above."""
HIGHER_IS_BETTER = frozenset(INDICATORS) - COUNTS - VERDICTS


# ColorBrewer YlGnBu (5 of its 6 classes): sequential, colour-blind and print safe
SEQUENTIAL = ("#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494")


NOT_JUDGED = "not_judged"
"""A verdict's class where none is given: too few households, or no back-test to allow for."""


# Okabe-Ito blue, orange and vermillion: told apart with any colour vision, and the word is on
# every tile and in the legend
VERDICT_COLOURS = {"on_track": "#0072B2", "at_risk": "#E69F00", "off_track": "#D55E00"}


DARK_CLASSES = frozenset({"c3", "c4", "on_track"})  # labels on these read in white


NO_DATA = "no_data"


HIDDEN = "hidden"


NO_DATA_COLOUR = "#f4f4f4"


HIDDEN_COLOUR = "#d9d9d9"


INCOME_EDGE_FACTORS = (0.75, 1.0, 1.25, 1.5)  # of the จปฐ. income line


def indicator_columns(indicator: str) -> tuple[str, str]:
    """(value column, denominator column) of an indicator in :func:`map_place_values`."""
    if indicator in ("households", "paired_share", "visited_share", "cases_overdue"):
        return indicator, "households"
    if indicator == "income_mean":
        return "income_mean", "income_n"
    if indicator.startswith("share_"):
        return indicator, "assessed"
    if indicator in VERDICTS:
        return indicator, "households"
    raise ValueError(f"unknown map indicator {indicator!r}")


@dataclass(frozen=True)
class ClassScheme:
    """Colour classes with explicit edges: class ``c<i>`` holds values in
    ``[edges[i], edges[i+1])``, the last one also its upper edge; values outside clamp to the
    first or last class. ``kind`` says how edges read: share, count or baht; a ``verdict``
    scheme has no edges: its classes are the verdicts, then "not judged"."""

    indicator: str
    kind: str
    edges: tuple[float, ...]
    colours: tuple[str, ...] = SEQUENTIAL

    @property
    def keys(self) -> tuple[str, ...]:
        if self.kind == "verdict":
            return (*VERDICT_COLOURS, NOT_JUDGED)
        return tuple(f"c{i}" for i in range(len(self.edges) - 1))

    @property
    def legend_keys(self) -> tuple[str, ...]:
        """Every class a legend lists: a verdict has no hidden class (a small amphoe is not
        judged)."""
        return (*self.keys, NO_DATA) if self.kind == "verdict" else (*self.keys, HIDDEN, NO_DATA)

    def colour(self, key: str) -> str:
        if key == NO_DATA:
            return NO_DATA_COLOUR
        if key in (HIDDEN, NOT_JUDGED):
            return HIDDEN_COLOUR
        if self.kind == "verdict":
            return VERDICT_COLOURS[key]
        return self.colours[self.keys.index(key)]

    def class_of(self, value: Any) -> str:
        if self.kind == "verdict":
            return value if value in VERDICT_COLOURS else NOT_JUDGED
        inner = self.edges[1:-1]
        index = sum(1 for edge in inner if value >= edge)
        return f"c{index}"


def _nice_step(value: float, multipliers: Sequence[float] = (1, 2, 2.5, 5)) -> float:
    """The smallest multiplier x 10^k at or above ``value`` (``value`` > 0)."""
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (*multipliers, 10) if m * power >= value * (1 - 1e-9))


def _shown(values: Iterable[float]) -> list[float]:
    return [float(v) for v in values if v is not None and not pd.isna(v)]


def share_edges(values: Iterable[float]) -> tuple[float, ...]:
    """Five classes of one round width (1, 2, 2.5 or 5 points x 10^k) that cover the shares
    shown, inside 0-100 %: when every amphoe is between 93 and 100 %, the classes are 90-92,
    ..., 98-100 % and the laggards still stand out."""
    shown = _shown(values)
    low, high = (min(shown), max(shown)) if shown else (0.0, 1.0)
    step = min(_nice_step(max(high - low, 0.05) / 5), 0.2)
    start = math.floor(low / step + 1e-9) * step
    if start + 5 * step < high - 1e-9:  # rounding left the top out: one more step down
        step = min(_nice_step(step * 1.01), 0.2)
        start = math.floor(low / step + 1e-9) * step
    start = max(0.0, min(start, 1.0 - 5 * step))
    return tuple(round(start + i * step, 6) for i in range(6))


def class_scheme(indicator: str, values: Iterable[float], income_line: float) -> ClassScheme:
    """Explicit edges, worked out from the values shown so differences stay visible: shares in
    five classes of a round width (:func:`share_edges`); mean income at 75, 100, 125 and 150 %
    of the income line; households in five steps of a round number from 0 up to the
    largest value; a verdict by its words."""
    if indicator in VERDICTS:
        return ClassScheme(indicator, "verdict", ())
    if indicator == "income_mean":
        edges = (0.0, *(round(income_line * f) for f in INCOME_EDGE_FACTORS), math.inf)
        return ClassScheme(indicator, "baht", tuple(float(e) for e in edges))
    if indicator in COUNTS:
        top = max(_shown(values), default=0.0)
        step = _nice_step(top / 5) if top > 5 else 1.0
        if step != int(step):  # 2.5 households is no class edge
            step = _nice_step(top / 5, (1, 2, 5))
        return ClassScheme(indicator, "count", (*(step * i for i in range(5)), math.inf))
    indicator_columns(indicator)  # refuses an unknown indicator
    return ClassScheme(indicator, "share", share_edges(values))


def with_cases_overdue(values: pd.DataFrame, by_place: pd.DataFrame, by: str) -> pd.DataFrame:
    """``values`` (``map_place_values``) with ``cases_overdue`` per place from ``by_place``
    (:func:`dashboard.queries.followup.cases_by_place`); 0 where a place has none."""
    overdue = dict(zip(by_place[by], by_place["overdue"], strict=True))
    return values.assign(cases_overdue=values[by].map(overdue).fillna(0).astype("int64"))


def with_forecast_status(values: pd.DataFrame, verdicts: pd.DataFrame) -> pd.DataFrame:
    """``values`` (per amphoe) with ``forecast_status`` from ``verdicts``
    (:meth:`dashboard.queries.forecast.Forecast.status_by_amphoe`): "on_track", "at_risk",
    "off_track", or "" where the amphoe is not judged."""
    found = dict(zip(verdicts["amphoe_code"], verdicts["status"], strict=True))
    return values.assign(forecast_status=values["amphoe_code"].map(found).fillna("")
                         .astype(object))


def shown_values(values: pd.DataFrame, indicator: str) -> pd.Series:
    """The values of an indicator that the map may show (denominator at least
    :data:`MIN_GROUP`): class edges are worked out from these only, so a hidden group's value
    never shapes the legend."""
    column, denominator = indicator_columns(indicator)
    return values[column].where(values[denominator].fillna(0) >= MIN_GROUP)


def classify(values: pd.Series, denominators: pd.Series, scheme: ClassScheme) -> pd.Series:
    """Class key per place: ``no_data`` when the denominator is 0 or missing, ``hidden`` when it
    is under :data:`MIN_GROUP` (the value is then never shown), else ``c<i>``; a verdict's
    class is the verdict (the forecast itself does not judge a small amphoe)."""
    out = []
    for value, n in zip(values, denominators, strict=True):
        n = 0 if n is None or pd.isna(n) else int(n)
        if n == 0 or value is None or (scheme.kind != "verdict" and pd.isna(value)):
            out.append(NO_DATA)
        elif scheme.kind == "verdict":
            out.append(scheme.class_of(value))
        elif n < MIN_GROUP:
            out.append(HIDDEN)
        else:
            out.append(scheme.class_of(float(value)))
    return pd.Series(out, index=values.index, dtype=object)


def format_value(value: float, kind: str) -> str:
    """A value as shown on the map: ``93.5%`` for a share (one decimal, as everywhere),
    ``47,500`` otherwise."""
    if kind == "share":
        return format_percent(value)
    return format_number(value)


def _edge_text(value: float, kind: str) -> str:
    if kind == "share":
        return f"{round(value * 100, 1):g}%"
    return f"{value:,.0f}"


def class_label(key: str, scheme: ClassScheme, lang: str) -> str:
    """Legend text: ``20% – <40%``, ``≥ 47,500``, ``no data``, ``fewer than 5 (hidden)``."""
    if key == NO_DATA:
        return t("map.class_no_data", lang)
    if key == HIDDEN:
        return t("map.class_hidden", lang, n=MIN_GROUP)
    if key == NOT_JUDGED:
        return t("map.class_not_judged", lang)
    if scheme.kind == "verdict":
        word = t(f"forecast.status.{key}", lang)
        return word[:1].upper() + word[1:]
    i = scheme.keys.index(key)
    low, high = scheme.edges[i], scheme.edges[i + 1]
    low_text, high_text = _edge_text(low, scheme.kind), _edge_text(high, scheme.kind)
    if math.isinf(high):
        return f"≥ {low_text}"
    if i == len(scheme.keys) - 1:
        return f"{low_text} – {high_text}"
    return f"{low_text} – <{high_text}"


def lagging(values: pd.DataFrame, indicator: str, classes: pd.Series, code_column: str,
            n: int = 3) -> tuple[str, ...]:
    """The ``n`` places with the lowest shown value of an indicator where higher is better
    (none for household counts); hidden and empty places never count."""
    if indicator not in HIGHER_IS_BETTER:
        return ()
    column, _ = indicator_columns(indicator)
    shown = values.loc[~classes.isin([NO_DATA, HIDDEN])]
    ranked = shown.sort_values([column, code_column], kind="stable")
    return tuple(ranked[code_column].head(n))


@dataclass(frozen=True)
class Colouring:
    """An indicator's colours for a set of places: ``frame`` has every place of the reference
    rows it was made from (with their other columns, e.g. tile x and y), the indicator's value
    column, ``n`` (its denominator) and ``klass``; ``lagging`` the lowest shown places."""

    indicator: str
    code_column: str
    scheme: ClassScheme
    frame: pd.DataFrame = field(repr=False)
    lagging: tuple[str, ...]

    @property
    def column(self) -> str:
        return indicator_columns(self.indicator)[0]


def colour_places(values: pd.DataFrame, places: pd.DataFrame, indicator: str,
                  income_line: float, code_column: str = "amphoe_code") -> Colouring:
    """Classes for every place of ``places`` from ``values`` (``map_place_values``): edges
    from the values that may be shown, ``no_data`` for a place without households."""
    column, denominator = indicator_columns(indicator)
    scheme = class_scheme(indicator, shown_values(values, indicator), income_line)
    classes = classify(values[column], values[denominator], scheme)
    keyed = values.assign(klass=classes.to_numpy())
    wanted = list(dict.fromkeys([code_column, column, denominator, "klass"]))
    frame = places.merge(keyed[wanted], on=code_column, how="left", validate="one_to_one")
    frame["klass"] = frame["klass"].fillna(NO_DATA)
    frame["n"] = frame[denominator].fillna(0).astype(int)
    return Colouring(indicator, code_column, scheme, frame,
                     lagging(values, indicator, classes, code_column))


class BoundaryError(ValueError):
    """A boundary file that cannot be used; :meth:`message` says why, in the user's language."""

    def __init__(self, path: Path, key: str, **params: Any) -> None:
        super().__init__(f"{path}: {key} {params}")
        self.path, self.key, self.params = path, key, params

    def message(self, lang: str) -> str:
        return t("map.boundary_error", lang, file=self.path.name,
                 problem=t(f"map.{self.key}", lang, **self.params))


@dataclass(frozen=True)
class Boundaries:
    """Checked boundaries: a FeatureCollection whose features have ``id`` = DOPA code and
    properties ``code`` and ``amphoe_code``; ``missing`` lists reference codes with no
    feature; ``ignored`` counts features of other provinces (a national HDX file)."""

    level: str  # "amphoe" | "tambon"
    path: Path
    source_format: str  # "kusiao" | "hdx"
    geojson: dict[str, Any] = field(repr=False)
    codes: tuple[str, ...]
    missing: tuple[str, ...]
    ignored: int
    bounds: tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max

    def features_of(self, amphoe_code: str) -> dict[str, Any]:
        """A FeatureCollection of the features inside one amphoe (a new dict)."""
        return {"type": "FeatureCollection", "features": [
            f for f in self.geojson["features"] if f["properties"]["amphoe_code"] == amphoe_code]}

    def bounds_of(self, amphoe_code: str) -> tuple[float, float, float, float]:
        return _bounds(self.features_of(amphoe_code)["features"])


# property names: ours first, then OCHA/HDX COD-AB
CODE_PROPERTIES = {"amphoe": ("amphoe_code", "ADM2_PCODE"), "tambon": ("tambon_code", "ADM3_PCODE")}


# tambon-level properties seen in a file given as amphoe boundaries mean the wrong file
OTHER_LEVEL = {"amphoe": CODE_PROPERTIES["tambon"], "tambon": ()}


LON_LAT_BOX = (97.0, 5.0, 106.0, 21.0)  # Thailand, generously: anything else is not WGS84


def configured_boundaries(level: str, environ: Mapping[str, str] | None = None) -> Path | None:
    """The boundary file set for ``level`` ("amphoe" or "tambon"), or None. A relative path is
    read from the project root."""
    environ = os.environ if environ is None else environ
    name = AMPHOE_BOUNDARIES_ENV if level == "amphoe" else TAMBON_BOUNDARIES_ENV
    value = (environ.get(name) or "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else ROOT / path


def _rings(geometry: Mapping[str, Any]) -> list[list[list[float]]]:
    if geometry.get("type") == "Polygon":
        return list(geometry["coordinates"])
    return [ring for polygon in geometry["coordinates"] for ring in polygon]


def _bounds(features: Sequence[Mapping[str, Any]]) -> tuple[float, float, float, float]:
    lons = [p[0] for f in features for ring in _rings(f["geometry"]) for p in ring]
    lats = [p[1] for f in features for ring in _rings(f["geometry"]) for p in ring]
    if not lons:
        return (0.0, 0.0, 0.0, 0.0)
    return (min(lons), min(lats), max(lons), max(lats))


def _code(properties: Mapping[str, Any], names: Sequence[str]) -> str | None:
    for name in names:
        value = properties.get(name)
        if value is not None and str(value).strip():
            text = str(value).strip().upper()
            return text[2:] if text.startswith("TH") else text
    return None


def _short_list(codes: Iterable[str], limit: int = 12) -> str:
    codes = sorted(codes)
    shown = ", ".join(codes[:limit])
    return shown + (f" … (+{len(codes) - limit})" if len(codes) > limit else "")


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise BoundaryError(path, "boundary_not_found", where=str(path))
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BoundaryError(path, "boundary_not_json", detail=str(exc)[:120]) from exc


def _check_geometry(path: Path, code: str, geometry: Any) -> None:
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon",
                                                                       "MultiPolygon"):
        kind = geometry.get("type") if isinstance(geometry, dict) else "none"
        raise BoundaryError(path, "boundary_bad_geometry", code=code, kind=kind)
    lon_min, lat_min, lon_max, lat_max = LON_LAT_BOX
    for ring in _rings(geometry):
        for point in ring:
            if not (lon_min <= point[0] <= lon_max and lat_min <= point[1] <= lat_max):
                raise BoundaryError(path, "boundary_not_lon_lat", code=code,
                                    point=f"{point[0]}, {point[1]}")


def load_boundaries(path: Path, level: str) -> Boundaries:
    """Read and check a boundary file; raises :class:`BoundaryError` with a clear reason.

    Accepted: a GeoJSON FeatureCollection in WGS84 longitude/latitude whose features carry the
    code as ``amphoe_code`` / ``tambon_code`` (ours) or ``ADM2_PCODE`` / ``ADM3_PCODE`` (OCHA/HDX,
    ``TH`` + code). Features of other provinces are ignored (a national file works); a Khon Kaen
    code that is not in the reference tables, a code given twice, a tambon filed under another
    amphoe, a geometry that is not a polygon or not in longitude/latitude refuse the file.
    Reference codes without a feature are reported in ``missing``. Cached by path, size and
    modification time."""
    if level not in CODE_PROPERTIES:
        raise ValueError(f"level must be 'amphoe' or 'tambon', not {level!r}")
    stat = path.stat() if path.is_file() else None
    if stat is None:
        raise BoundaryError(path, "boundary_not_found", where=str(path))
    return _load(path, level, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _load(path: Path, level: str, mtime_ns: int, size: int) -> Boundaries:
    data = _read_json(path)
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(
            data.get("features"), list):
        raise BoundaryError(path, "boundary_not_collection")
    if level == "amphoe":
        known = set(amphoe_table()["amphoe_code"])
        parent = {code: code for code in known}
    else:
        tambon = tambon_table()
        known = set(tambon["tambon_code"])
        parent = dict(zip(tambon["tambon_code"], tambon["amphoe_code"], strict=True))
    features, seen, unknown, duplicate = [], set(), set(), set()
    ignored, source_format = 0, "kusiao"
    for number, feature in enumerate(data["features"], start=1):
        properties = (feature.get("properties") or {}) if isinstance(feature, dict) else {}
        if any(name in properties for name in OTHER_LEVEL[level]):
            raise BoundaryError(path, "boundary_wrong_level", setting=TAMBON_BOUNDARIES_ENV)
        code = _code(properties, CODE_PROPERTIES[level])
        if code is None:
            raise BoundaryError(path, "boundary_no_code", n=number,
                                names=" / ".join(CODE_PROPERTIES[level]))
        if CODE_PROPERTIES[level][1] in properties:
            source_format = "hdx"
        if level == "amphoe":
            code = LEGACY_AMPHOE_CODES.get(code, code)
        if not code.startswith(PROVINCE_CODE):
            ignored += 1
            continue
        if code not in known:
            unknown.add(code)
            continue
        if code in seen:
            duplicate.add(code)
        seen.add(code)
        stated_parent = _code(properties, ("amphoe_code", "ADM2_PCODE"))
        if level == "tambon" and stated_parent and stated_parent != parent[code]:
            raise BoundaryError(path, "boundary_wrong_amphoe", code=code, stated=stated_parent,
                                amphoe=parent[code])
        _check_geometry(path, code, feature.get("geometry"))
        features.append({"type": "Feature", "id": code,
                         "properties": {"code": code, "amphoe_code": parent[code]},
                         "geometry": feature["geometry"]})
    if unknown:
        raise BoundaryError(path, "boundary_unknown_codes", codes=_short_list(unknown),
                            n=len(unknown))
    if duplicate:
        raise BoundaryError(path, "boundary_duplicate_codes", codes=_short_list(duplicate))
    if not features:
        raise BoundaryError(path, "boundary_empty")
    features.sort(key=lambda f: f["id"])
    return Boundaries(
        level=level, path=path, source_format=source_format,
        geojson={"type": "FeatureCollection", "features": features},
        codes=tuple(f["id"] for f in features), missing=tuple(sorted(known - seen)),
        ignored=ignored, bounds=_bounds(features),
    )


def fit_view(bounds: tuple[float, float, float, float], width_px: int = 720,
             height_px: int = 600) -> tuple[float, float, float]:
    """(centre lon, centre lat, zoom) showing ``bounds`` in a ``width_px`` x ``height_px`` map
    (web-mercator zoom as deck.gl and MapLibre count it: the world is 512 pixels wide at
    zoom 0)."""
    lon_min, lat_min, lon_max, lat_max = bounds

    def mercator_y(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    lon_span = max(lon_max - lon_min, 1e-6)
    y_span = max(mercator_y(lat_max) - mercator_y(lat_min), 1e-8)
    zoom_x = math.log2(width_px * 360 / (512 * lon_span))
    zoom_y = math.log2(height_px * 2 * math.pi / (512 * y_span))
    return ((lon_min + lon_max) / 2, (lat_min + lat_max) / 2,
            round(min(zoom_x, zoom_y) - 0.15, 2))


def reference_bounds(amphoe_code: str | None = None) -> tuple[float, float, float, float]:
    """Bounds from the reference facts alone (no boundary file): around one amphoe's centroid
    by its area, or around every centroid with a margin."""
    amphoe = amphoe_table()
    if amphoe_code:
        row = amphoe.set_index("amphoe_code").loc[amphoe_code]
        half_km = math.sqrt(float(row["area_km2"])) * 0.75
        dlat = half_km / KM_PER_DEG_LAT
        dlon = half_km / (KM_PER_DEG_LAT * math.cos(math.radians(float(row["centroid_lat"]))))
        lat, lon = float(row["centroid_lat"]), float(row["centroid_lon"])
        return (lon - dlon, lat - dlat, lon + dlon, lat + dlat)
    margin = 0.15
    return (float(amphoe["centroid_lon"].min()) - margin,
            float(amphoe["centroid_lat"].min()) - margin,
            float(amphoe["centroid_lon"].max()) + margin,
            float(amphoe["centroid_lat"].max()) + margin)


def area_km2(amphoe_code: str | None = None) -> float:
    """Area of one amphoe, or of the province, from the reference facts."""
    amphoe = amphoe_table()
    if amphoe_code:
        return float(amphoe.set_index("amphoe_code").loc[amphoe_code, "area_km2"])
    return float(amphoe["area_km2"].sum())


if __name__ == "__main__":  # python -m dashboard.views.geo: rewrite the committed tile layout
    print(write_tile_layout().to_string(index=False))
