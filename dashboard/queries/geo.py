"""The Map page's queries, run in the engine (only small frames come back): the indicators'
values per amphoe or tambon, and household locations aggregated to hexagon cells or coarsened
points. Exact household coordinates never leave the engine. The tile layout, colour classes
and boundary files are in :mod:`dashboard.views.geo`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import ibis
import pandas as pd
from ibis import _
from ibis.backends import BaseBackend

from dashboard.store.privacy import COORDINATE_DECIMALS
from domain.definitions import Definitions
from domain.filters import Filters

# A local plane for binning: degrees to km around the province's centre (the equal-area
# projection's origin); good to about 1 % across Khon Kaen.
PLANE_LON0, PLANE_LAT0 = 102.5, 16.35
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320 * math.cos(math.radians(PLANE_LAT0))

# ---------------------------------------------------------------------------------------------
# Hexagon grids. Axial coordinates (q, r); neighbours are one step apart.

SQRT3 = math.sqrt(3.0)


# ---------------------------------------------------------------------------------------------
# The amphoe tile layout


# ---------------------------------------------------------------------------------------------
# Indicators and colour classes


# ---------------------------------------------------------------------------------------------
# Official boundaries


# ---------------------------------------------------------------------------------------------
# Queries


def map_place_values(con: BaseBackend, filters: Filters, definitions: Definitions,
                     by: str = "amphoe_code") -> pd.DataFrame:
    """Per amphoe (or tambon) in the filters: households, paired, paired_share,
    visited_recently, visited_share, assessed, at_<n> and share_<n> for each target (share of
    the assessed at target n or above), income_n and income_mean (mean income per member of the
    surveyed households, baht/person/year). Places without households are absent."""
    if by not in ("amphoe_code", "tambon_code"):
        raise ValueError(f"cannot group by {by!r}")
    out = _place_values(con, filters, definitions, by).execute()  # one pass
    out["paired_share"] = out["paired"] / out["households"]
    out["visited_share"] = out["visited_recently"] / out["households"]
    for tg in definitions.targets:
        out[f"share_{tg.level}"] = (out[f"at_{tg.level}"] / out["assessed"]).where(
            out["assessed"] > 0)
    out["income_n"] = out["income_n"].fillna(0).astype(int)
    return out.dropna(subset=[by]).sort_values(by, ignore_index=True)


def _place_values(con: BaseBackend, filters: Filters, definitions: Definitions,
                  by: str) -> ibis.Table:
    from dashboard.queries.status import status

    days = definitions.visited_within_days
    agg: dict[str, Any] = {
        "households": _.count(),
        "paired": _.paired.sum(),
        "visited_recently": (_.days_since_visit <= days).fill_null(False).sum(),
        "assessed": _.level.notnull().sum(),
        "income_n": _.income_per_member.count(),
        "income_mean": _.income_per_member.mean(),
    }
    for tg in definitions.targets:
        agg[f"at_{tg.level}"] = (_.level >= tg.level).fill_null(False).sum()
    return status(con, filters).group_by(by).aggregate(**agg)


def _located(con: BaseBackend, filters: Filters) -> ibis.Table:
    from dashboard.queries.status import status

    households = con.table("household")
    households = households.filter(households.lat.notnull(), households.lon.notnull()).select(
        "household_id", "lat", "lon")
    return status(con, filters).select("household_id", "level").join(households,
                                                                      "household_id")


def _level_counts(levels: Sequence[int]) -> dict[str, Any]:
    agg: dict[str, Any] = {"households": _.count(), "assessed": _.level.notnull().sum()}
    for level in levels:
        agg[f"n_{level}"] = (_.level == level).fill_null(False).sum()
    return agg


def map_cells(con: BaseBackend, filters: Filters, cell_m: int = 2000) -> pd.DataFrame:
    """Households in the filters binned, in the engine, into flat-top hexagons of
    ``cell_m`` metres centre-to-corner on a local plane. Columns: q, r (cell), lon, lat (cell
    centre), households, assessed, n_0 ... n_3 (households at each level now)."""
    size = cell_m / 1000
    frame = _cells(con, filters, size).execute()
    cx = size * 1.5 * frame["q"]
    cy = size * SQRT3 * (frame["r"] + frame["q"] / 2)
    frame["lon"] = (PLANE_LON0 + cx / KM_PER_DEG_LON).round(5)
    frame["lat"] = (PLANE_LAT0 + cy / KM_PER_DEG_LAT).round(5)
    return frame.sort_values(["q", "r"], ignore_index=True)


def _round(value: ibis.expr.types.FloatingValue) -> ibis.expr.types.IntegerValue:
    """To the nearest integer, halves away from zero, by the same arithmetic in every engine:
    a double's ``round`` is DuckDB's own (halves away from zero) but PostgreSQL's rounds
    halves to even, or, with digits, rounds the decimal value, not the double."""
    return ibis.ifelse(value >= 0, (value + 0.5).floor(), -((0.5 - value).floor()))


def _round_to(value: ibis.expr.types.FloatingValue, digits: int) -> ibis.expr.types.FloatingValue:
    """``value`` rounded to ``digits`` decimals as DuckDB rounds a double (halves away from
    zero, judged on the double's exact value), on every engine. PostgreSQL rounds a double
    through a 15-digit decimal, so 16.095 (really 16.09499...) became 16.10 there and 16.09
    in DuckDB; here the double is first made an exact decimal (times 2^52 it is an integer
    for 1 <= |value| < 2048, which holds for coordinates), then rounded."""
    scale = 2**52
    exact = (value * scale).cast("int64").cast("decimal(38, 20)") / scale
    return exact.round(digits).cast("float64")


def _cells(con: BaseBackend, filters: Filters, size: float) -> ibis.Table:
    table = _located(con, filters)
    x = (table.lon - PLANE_LON0) * KM_PER_DEG_LON
    y = (table.lat - PLANE_LAT0) * KM_PER_DEG_LAT
    qf = (x * (2 / 3)) / size
    rf = (x * (-1 / 3) + y * (SQRT3 / 3)) / size
    sf = -qf - rf
    q, r, s = _round(qf), _round(rf), _round(sf)
    dq, dr, ds = (q - qf).abs(), (r - rf).abs(), (s - sf).abs()
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    return table.group_by(q=ibis.cases((fix_q, -r - s), else_=q).cast("int64"),
                          r=ibis.cases((fix_r, -q - s), else_=r).cast("int64")).aggregate(
        **_level_counts((0, 1, 2, 3)))


def map_points(con: BaseBackend, filters: Filters) -> pd.DataFrame:
    """Households in the filters as points coarsened in the engine to the privacy module's
    grid (0.01 degree, about 1.1 km) and grouped by level: never a household's own location.
    Columns: lat, lon, level (-1 = not surveyed), households."""
    frame = _points(con, filters).execute()
    return frame.astype({"level": int, "households": int}).sort_values(
        ["lat", "lon", "level"], ignore_index=True)


def _points(con: BaseBackend, filters: Filters) -> ibis.Table:
    table = _located(con, filters)
    return table.group_by(
        lat=_round_to(table.lat, COORDINATE_DECIMALS),
        lon=_round_to(table.lon, COORDINATE_DECIMALS),
        level=table.level.fill_null(-1),
    ).aggregate(households=_.count())

