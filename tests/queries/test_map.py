"""The Map page: tile layout, colour classes, suppression, the boundary loader, map queries,
the deck's privacy, and the page through AppTest with and without a boundary file."""

from __future__ import annotations

import html
import json
import math
import re
from collections import Counter
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from dashboard.queries import geo
from dashboard.views import geo as geo_views
from dashboard.views import maps as map_charts
from dashboard.views.geo import HIDDEN, NO_DATA, BoundaryError
from domain.filters import Filters
from domain.reference import amphoe_table, tambon_table
from tests.conftest import ROOT
from tests.pages.test_app import copy_of, run_app

SHARED_GEO = ROOT.parent / "shared" / "geo"
OFFICIAL_AMPHOE = SHARED_GEO / "khon_kaen_amphoe.geojson"
OFFICIAL_TAMBON = SHARED_GEO / "khon_kaen_tambon.geojson"
LEVELS = {0: "ต่ำกว่าอยู่รอด", 1: "อยู่รอด", 2: "พอเพียง", 3: "ยั่งยืน"}


def official(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"official boundaries not present ({path.parent})")
    return path


def tile_cells() -> dict[str, tuple[int, int]]:
    layout = geo_views.tile_layout()
    return {c: (int(q), int(r)) for c, q, r in zip(layout["amphoe_code"], layout["q"],
                                                   layout["r"], strict=True)}


# --- tile layout -----------------------------------------------------------------------------

def test_tile_layout_is_complete_and_sane() -> None:
    layout = geo_views.tile_layout()
    reference = amphoe_table()
    assert list(layout["amphoe_code"]) == sorted(reference["amphoe_code"])
    assert dict(zip(layout["amphoe_code"], layout["name_th"], strict=True)) == dict(
        zip(reference["amphoe_code"], reference["name_th"], strict=True))
    assert len(set(tile_cells().values())) == 26, "one amphoe per hexagon"
    for _, row in layout.iterrows():
        assert (row["x"], row["y"]) == pytest.approx(geo_views.tile_centre(row["q"], row["r"]),
                                                     abs=1e-4)
    assert layout["x"].min() in (0, 0.5) and layout["y"].min() == 0


def test_regenerating_the_layout_gives_the_committed_file() -> None:
    built = geo_views.build_tile_layout()
    committed = pd.read_csv(geo_views.TILES_FILE, dtype={"amphoe_code": str})
    pd.testing.assert_frame_equal(built, committed, check_dtype=False)


def test_neighbouring_amphoe_stay_near_each_other() -> None:
    cells = tile_cells()
    pairs = geo_views.centroid_neighbours(amphoe_table())
    steps = Counter(geo_views.hex_distance(cells[a], cells[b]) for a, b in pairs)
    assert max(steps) <= 2, steps
    assert steps[1] >= 0.85 * len(pairs), steps  # 40 of 45 touch
    # one piece, no island
    seen, todo = set(), [next(iter(cells.values()))]
    while todo:
        cell = todo.pop()
        seen.add(cell)
        todo += [c for c in cells.values()
                 if c not in seen and geo_views.hex_distance(c, cell) == 1]
    assert len(seen) == 26
    # north stays north and west stays west for amphoe far enough apart
    table = amphoe_table().set_index("amphoe_code")
    layout = geo_views.tile_layout().set_index("amphoe_code")
    for a in table.index:
        for b in table.index:
            if table.at[a, "centroid_lat"] - table.at[b, "centroid_lat"] > 0.35:
                assert layout.at[a, "y"] > layout.at[b, "y"], (a, b)
            if table.at[a, "centroid_lon"] - table.at[b, "centroid_lon"] > 0.45:
                assert layout.at[a, "x"] > layout.at[b, "x"], (a, b)


def _touching(path: Path, tolerance: float = 0.003) -> set[tuple[str, str]]:
    """Amphoe pairs whose official outlines meet (3+ vertices within ~300 m)."""
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    points = {f["properties"]["amphoe_code"]: np.array(
        [p for ring in f["geometry"]["coordinates"] for p in ring]) for f in features}
    codes = sorted(points)
    pairs = set()
    for i, a in enumerate(codes):
        for b in codes[i + 1:]:
            near = np.sqrt(((points[a][:, None] - points[b][None]) ** 2).sum(-1)).min(1)
            if (near < tolerance).sum() >= 3:
                pairs.add((a, b))
    return pairs


def test_amphoe_that_share_a_border_are_neighbours_on_the_tile_map() -> None:
    touching = _touching(official(OFFICIAL_AMPHOE))
    assert len(touching) >= 45
    assert len(geo_views.centroid_neighbours(amphoe_table()) - touching) <= 3
    cells = tile_cells()
    steps = Counter(geo_views.hex_distance(cells[a], cells[b]) for a, b in touching)
    assert max(steps) <= 3, steps
    assert steps[1] >= 0.7 * len(touching), steps  # 40 of 53


# --- colour classes and suppression ----------------------------------------------------------

@pytest.mark.parametrize(("low", "high", "edges"), [
    (0.0, 1.0, (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)),
    (0.93, 1.0, (0.9, 0.92, 0.94, 0.96, 0.98, 1.0)),
    (0.2, 0.65, (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)),
    (0.31, 0.52, (0.3, 0.35, 0.4, 0.45, 0.5, 0.55)),
    (0.5, 0.5, (0.5, 0.51, 0.52, 0.53, 0.54, 0.55)),
    (1.0, 1.0, (0.95, 0.96, 0.97, 0.98, 0.99, 1.0)),
])
def test_share_classes_cover_the_values_with_round_edges(low: float, high: float,
                                                         edges: tuple) -> None:
    got = geo_views.share_edges([low, high, None, float("nan")])
    assert got == pytest.approx(edges)
    assert got[0] <= low and high <= got[-1] and got[0] >= 0 and got[-1] <= 1


def test_class_edges_belong_to_the_class_above_and_the_top_edge_to_the_last() -> None:
    scheme = geo_views.class_scheme("share_2", [0.0, 1.0], 38_000)
    assert [scheme.class_of(v) for v in (0.0, 0.1999, 0.2, 0.3999, 0.4, 0.8, 0.9999, 1.0)] == [
        "c0", "c0", "c1", "c1", "c2", "c4", "c4", "c4"]
    assert scheme.class_of(-0.1) == "c0" and scheme.class_of(1.5) == "c4"  # clamped
    assert [geo_views.class_label(k, scheme, "th") for k in scheme.keys] == [
        "0% – <20%", "20% – <40%", "40% – <60%", "60% – <80%", "80% – 100%"]
    income = geo_views.class_scheme("income_mean", [], 38_000)
    assert income.edges[1:5] == (28_500, 38_000, 47_500, 57_000)
    assert income.class_of(37_999.99) == "c1" and income.class_of(38_000) == "c2"
    assert geo_views.class_label("c4", income, "en") == "≥ 57,000"
    assert geo_views.class_label("c0", income, "en") == "0 – <28,500"
    households = geo_views.class_scheme("households", [16, 112], 38_000)
    assert households.edges[:5] == (0, 25, 50, 75, 100)
    assert geo_views.class_scheme("households", [12], 38_000).edges[:5] == (0, 5, 10, 15, 20)
    with pytest.raises(ValueError, match="unknown map indicator"):
        geo_views.class_scheme("head_name", [], 38_000)


def test_small_groups_are_hidden_and_empty_ones_have_no_data() -> None:
    scheme = geo_views.class_scheme("share_2", [0.0, 1.0], 38_000)
    values = pd.Series([0.5, 0.5, 0.5, None, 0.5])
    n = pd.Series([5, 4, 0, 7, None])
    assert list(geo_views.classify(values, n, scheme)) == ["c2", HIDDEN, NO_DATA, NO_DATA, NO_DATA]
    assert geo_views.class_label(HIDDEN, scheme, "th") == "น้อยกว่า 5 ครัวเรือน (ไม่แสดง)"
    assert geo_views.class_label(NO_DATA, scheme, "en") == "No data"


def place_values() -> pd.DataFrame:
    """Four amphoe: 4001 (n=40, 25 %), 4002 (n=4: hidden), 4003 (n=10, 60 %), 4004 (n=5,
    20 %); no other amphoe has households."""
    return pd.DataFrame({
        "amphoe_code": ["4001", "4002", "4003", "4004"], "households": [40, 4, 10, 5],
        "assessed": [40, 4, 10, 5], "share_2": [0.25, 0.75, 0.6, 0.2],
    })


def test_the_tile_map_hides_small_groups_and_shows_every_class() -> None:
    values = place_values()
    scheme = geo_views.class_scheme("share_2", geo_views.shown_values(values, "share_2"), 38_000)
    assert scheme.edges == pytest.approx((0.2, 0.3, 0.4, 0.5, 0.6, 0.7))  # 4002's 75% unseen
    classes = geo_views.classify(values["share_2"], values["assessed"], scheme)
    assert list(classes) == ["c0", HIDDEN, "c4", "c0"]
    colouring = geo_views.colour_places(values, geo_views.tile_layout(), "share_2", 38_000)
    assert colouring.scheme == scheme
    assert colouring.lagging == ("4004", "4001", "4003")  # the hidden 4002 never counts
    klass = dict(zip(colouring.frame["amphoe_code"], colouring.frame["klass"], strict=True))
    assert (klass["4002"], klass["4010"], klass["4003"]) == (HIDDEN, NO_DATA, "c4")
    names = dict(zip(amphoe_table()["amphoe_code"], amphoe_table()["name_th"], strict=True))
    fig = map_charts.tile_map_figure(colouring, names, "ขั้น 2", "th", selected="4003")
    spec = json.loads(fig.to_json())
    legend = [t["name"] for t in spec["data"] if t.get("marker", {}).get("size") == 16]
    assert legend == [t["name"] for t in spec["data"] if t.get("fill") == "toself"]
    assert legend == [*(geo_views.class_label(k, scheme, "th") for k in scheme.keys),
                      "น้อยกว่า 5 ครัวเรือน (ไม่แสดง)", "ไม่มีข้อมูล"]
    labels = spec["data"][-1]
    assert len(labels["customdata"]) == 26
    text = dict(zip([c[0] for c in labels["customdata"]], labels["text"], strict=True))
    hover = dict(zip([c[0] for c in labels["customdata"]], labels["hovertext"], strict=True))
    assert text["4002"].endswith("n < 5") and "75" not in text["4002"] + hover["4002"]
    assert text["4001"].endswith("25.0%") and text["4010"].endswith("–")
    # every share shown is written with one decimal, as everywhere else
    shown = [v for v in text.values() if v.endswith("%")]
    assert len(shown) >= 3 and all(re.search(r"<br>\d{1,3}\.\d%$", v) for v in shown), shown
    outlines = {t["name"] for t in spec["data"] if t.get("mode") == "lines" and not t.get("fill")}
    assert outlines == {"ต่ำสุด 3 อำเภอ", "ที่เลือกอยู่"}
    # a page's map keeps its lower left tiles clear: its legend is HTML under it, the same
    # entries in the same order
    bare = map_charts.tile_map_figure(colouring, names, "ขั้น 2", "th", legend=False)
    assert bare.layout.showlegend is False
    under = map_charts.tile_legend_html(colouring, "ขั้น 2", "th")
    entries = [*legend, "ต่ำสุด 3 อำเภอ"]
    assert all(html.escape(e) in under for e in entries)
    assert sorted(entries, key=lambda e: under.index(html.escape(e))) == entries
    table = map_charts.place_table(colouring, names, "ขั้น 2", "th")
    assert len(table) == 26
    assert list(table.iloc[:3, 0]) == ["หนองเรือ", "เมืองขอนแก่น", "พระยืน"]  # lowest first
    hidden_row = table[table.iloc[:, 0] == "บ้านฝาง"].iloc[0]
    assert pd.isna(hidden_row.iloc[1]) and hidden_row.iloc[2] == 4


def test_hexagon_cells_under_five_surveyed_households_give_no_shares() -> None:
    cells = pd.DataFrame({"q": [0, 1], "r": [0, 0], "lon": [102.5, 102.53],
                          "lat": [16.35, 16.36], "households": [5, 9], "assessed": [4, 8],
                          "n_0": [1, 1], "n_1": [1, 2], "n_2": [1, 4], "n_3": [1, 1]})
    frame = map_charts.cells_layer_frame(cells, LEVELS, "th", 2000)
    assert "%" not in frame.loc[0, "tip"] and "น้อยกว่า 5" in frame.loc[0, "tip"]
    assert "พอเพียง 50.0%" in frame.loc[1, "tip"]
    assert "ครัวเรือนลำดับกลาง: พอเพียง" in frame.loc[1, "tip"]  # 8 surveyed: 4th-5th at 2
    assert len(frame.loc[1, "polygon"]) == 6


# --- boundary loader -------------------------------------------------------------------------

def square(lon: float, lat: float, half: float) -> dict:
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
            [lon - half, lat + half], [lon - half, lat - half]]
    return {"type": "Polygon", "coordinates": [ring]}


def synthetic_amphoe(hdx: bool = False, codes: list[str] | None = None) -> dict:
    """Squares around the reference centroids, in our format or the HDX one."""
    features = []
    table = amphoe_table().set_index("amphoe_code")
    for code in codes or list(table.index):
        row = table.loc[code] if code in table.index else table.iloc[0]
        props = ({"ADM2_PCODE": f"TH{code}", "ADM2_TH": row["name_th"], "ADM2_EN": row["name_en"],
                  "ADM1_PCODE": "TH40"} if hdx else
                 {"amphoe_code": code, "name_th": row["name_th"]})
        features.append({"type": "Feature", "properties": props,
                         "geometry": square(row["centroid_lon"], row["centroid_lat"], 0.05)})
    return {"type": "FeatureCollection", "features": features}


def synthetic_tambon(hdx: bool = False) -> dict:
    """Small squares in a row inside each amphoe's square."""
    table = amphoe_table().set_index("amphoe_code")
    features = []
    for amphoe, group in tambon_table().groupby("amphoe_code"):
        lon, lat = table.at[amphoe, "centroid_lon"], table.at[amphoe, "centroid_lat"]
        for i, code in enumerate(group["tambon_code"]):
            props = ({"ADM3_PCODE": f"TH{code}", "ADM2_PCODE": f"TH{amphoe}"} if hdx else
                     {"tambon_code": code, "amphoe_code": amphoe})
            features.append({"type": "Feature", "properties": props,
                             "geometry": square(lon - 0.045 + 0.005 * i, lat, 0.002)})
    return {"type": "FeatureCollection", "features": features}


def write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def to_hdx(source: Path, target: Path, level: str) -> Path:
    """A copy of one of our files with the properties renamed as OCHA/HDX COD-AB has them."""
    data = json.loads(source.read_text(encoding="utf-8"))
    for feature in data["features"]:
        p = feature["properties"]
        if level == "amphoe":
            feature["properties"] = {"ADM2_PCODE": "TH" + p["amphoe_code"], "ADM2_TH": p["name_th"],
                                     "ADM2_EN": p["name_en"], "ADM1_PCODE": "TH40"}
        else:
            feature["properties"] = {"ADM3_PCODE": "TH" + p["tambon_code"],
                                     "ADM2_PCODE": "TH" + p["amphoe_code"],
                                     "ADM3_TH": p["name_th"], "ADM3_EN": p["name_en"]}
    return write(target, data)


@pytest.mark.parametrize("hdx", [False, True], ids=["ours", "hdx"])
def test_loader_reads_the_official_files_in_both_formats(tmp_path: Path, hdx: bool) -> None:
    amphoe_path, tambon_path = official(OFFICIAL_AMPHOE), official(OFFICIAL_TAMBON)
    if hdx:
        amphoe_path = to_hdx(amphoe_path, tmp_path / "adm2.geojson", "amphoe")
        tambon_path = to_hdx(tambon_path, tmp_path / "adm3.geojson", "tambon")
    amphoe = geo_views.load_boundaries(amphoe_path, "amphoe")
    assert amphoe.source_format == ("hdx" if hdx else "kusiao")
    assert amphoe.codes == tuple(sorted(amphoe_table()["amphoe_code"])) and not amphoe.missing
    assert amphoe.bounds == pytest.approx((101.749636, 15.632625, 103.184459, 17.088059))
    tambon = geo_views.load_boundaries(tambon_path, "tambon")
    assert len(tambon.codes) == 199 and not tambon.missing
    inside = tambon.features_of("4005")["features"]
    assert {f["id"] for f in inside} == set(
        tambon_table().loc[tambon_table()["amphoe_code"] == "4005", "tambon_code"])
    lon_min, lat_min, lon_max, lat_max = tambon.bounds_of("4005")
    assert 101.8 < lon_min < lon_max < 102.4 and 16.4 < lat_min < lat_max < 16.9


@pytest.mark.parametrize("hdx", [False, True], ids=["ours", "hdx"])
def test_loader_reads_both_formats(tmp_path: Path, hdx: bool) -> None:
    amphoe = geo_views.load_boundaries(write(tmp_path / "a.geojson", synthetic_amphoe(hdx)),
                                       "amphoe")
    assert len(amphoe.codes) == 26 and amphoe.source_format == ("hdx" if hdx else "kusiao")
    feature = amphoe.geojson["features"][0]
    assert feature["id"] == "4001" and feature["properties"] == {"code": "4001",
                                                                 "amphoe_code": "4001"}
    tambon = geo_views.load_boundaries(write(tmp_path / "t.geojson", synthetic_tambon(hdx)),
                                       "tambon")
    assert len(tambon.codes) == 199


def test_loader_rejects_a_wrong_code_with_a_clear_message(tmp_path: Path) -> None:
    codes = [*amphoe_table()["amphoe_code"], "4099"]
    path = write(tmp_path / "wrong.geojson", synthetic_amphoe(codes=codes))
    with pytest.raises(BoundaryError) as caught:
        geo_views.load_boundaries(path, "amphoe")
    assert caught.value.key == "boundary_unknown_codes"
    assert caught.value.message("th") == (
        "ใช้ไฟล์ขอบเขต wrong.geojson ไม่ได้: มีรหัสที่ไม่อยู่ในจังหวัดขอนแก่น 1 รหัส: 4099"
        " — จึงแสดงแผนที่หกเหลี่ยมแทน")
    assert "1 codes are not in Khon Kaen province: 4099" in caught.value.message("en")


@pytest.mark.parametrize(("data", "level", "key"), [
    ({"type": "Feature"}, "amphoe", "boundary_not_collection"),
    (synthetic_tambon(), "amphoe", "boundary_wrong_level"),
    (synthetic_tambon(hdx=True), "amphoe", "boundary_wrong_level"),
    (synthetic_amphoe(), "tambon", "boundary_no_code"),
    (synthetic_amphoe(codes=["4001", "4001"]), "amphoe", "boundary_duplicate_codes"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "tambon_code": "400101", "amphoe_code": "4005"}, "geometry": square(102.8, 16.4, 0.01)}]},
     "tambon", "boundary_wrong_amphoe"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "amphoe_code": "4001"}, "geometry": {"type": "Point", "coordinates": [102.8, 16.4]}}]},
     "amphoe", "boundary_bad_geometry"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "amphoe_code": "4001"}, "geometry": square(260_000, 1_820_000, 500)}]},  # UTM metres
     "amphoe", "boundary_not_lon_lat"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "ADM2_PCODE": "TH1001"}, "geometry": square(100.5, 13.7, 0.05)}]},
     "amphoe", "boundary_empty"),
])
def test_loader_refuses_unusable_files(tmp_path: Path, data: dict, level: str, key: str) -> None:
    with pytest.raises(BoundaryError) as caught:
        geo_views.load_boundaries(write(tmp_path / "bad.geojson", data), level)
    assert caught.value.key == key
    for lang in ("th", "en"):
        message = caught.value.message(lang)
        assert "bad.geojson" in message and "{" not in message and "map." not in message


def test_loader_reports_missing_areas_ignores_other_provinces_and_maps_old_codes(
        tmp_path: Path) -> None:
    codes = [c for c in amphoe_table()["amphoe_code"] if c not in ("4025", "4029")]
    data = synthetic_amphoe(hdx=True, codes=[*codes, "4026"])  # Wiang Kao's old code
    data["features"].append({"type": "Feature", "properties": {"ADM2_PCODE": "TH1001"},
                             "geometry": square(100.5, 13.7, 0.05)})  # Bangkok
    found = geo_views.load_boundaries(write(tmp_path / "national.geojson", data), "amphoe")
    assert found.missing == ("4025",) and found.ignored == 1 and "4029" in found.codes
    (tmp_path / "broken.geojson").write_text("{not json", encoding="utf-8")
    with pytest.raises(BoundaryError, match="boundary_not_json"):
        geo_views.load_boundaries(tmp_path / "broken.geojson", "amphoe")
    with pytest.raises(BoundaryError, match="boundary_not_found"):
        geo_views.load_boundaries(tmp_path / "absent.geojson", "amphoe")


def test_boundary_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert geo_views.configured_boundaries("amphoe", {}) is None
    assert geo_views.configured_boundaries("tambon", {"KUSIAO_BOUNDARIES_TAMBON": " "}) is None
    env = {"KUSIAO_BOUNDARIES_AMPHOE": "geo/a.geojson",
           "KUSIAO_BOUNDARIES_TAMBON": str(tmp_path / "t.geojson")}
    assert geo_views.configured_boundaries("amphoe", env) == geo_views.ROOT / "geo" / "a.geojson"
    assert geo_views.configured_boundaries("tambon", env) == tmp_path / "t.geojson"


def test_fit_view_shows_the_bounds() -> None:
    lon, lat, zoom = geo_views.fit_view((101.75, 15.63, 103.18, 17.09), 720, 600)
    assert (lon, lat) == pytest.approx((102.465, 16.36)) and 7.5 < zoom < 8.5
    assert geo_views.fit_view((102.0, 16.5, 102.1, 16.6))[2] > zoom + 3


# --- queries ---------------------------------------------------------------------------------

@pytest.fixture
def located() -> tuple[ibis.BaseBackend, pd.DataFrame]:
    """An in-memory engine with 300 households at known places (status as of one quarter)."""
    rng = np.random.default_rng(3)
    n = 300
    households = pd.DataFrame({"household_id": [f"H{i}" for i in range(n)],
                               "lat": rng.uniform(16.0, 16.8, n), "lon": rng.uniform(102.0,
                                                                                   103.0, n)})
    status = pd.DataFrame({"household_id": households["household_id"], "q_idx": 25654,
                           "amphoe_code": "4001", "tambon_code": "400101", "agency_code": "CDD",
                           "level": rng.integers(0, 4, n).astype(float)})
    status.loc[:9, "level"] = np.nan
    con = ibis.duckdb.connect()
    con.create_table("household", households)
    con.create_table("status_quarter", status)
    con.create_table("quarter_calendar", pd.DataFrame({"q_idx": [25654]}))
    return con, households.merge(status, on="household_id")


def test_cells_hold_every_household_near_its_centre(located) -> None:
    con, truth = located
    cells = geo.map_cells(con, Filters(), cell_m=5000)
    assert cells["households"].sum() == 300 and cells["assessed"].sum() == 290
    assert sum(cells[f"n_{lv}"].sum() for lv in range(4)) == 290
    # each household's cell centre (recomputed here) is within one cell size of it
    for _, row in truth.sample(40, random_state=1).iterrows():
        km = np.hypot((cells["lon"] - row["lon"]) * geo.KM_PER_DEG_LON,
                      (cells["lat"] - row["lat"]) * geo.KM_PER_DEG_LAT)
        assert km.min() <= 5.0
    assert set(cells.columns) == {"q", "r", "households", "assessed", "n_0", "n_1", "n_2",
                                  "n_3", "lon", "lat"}


def test_points_are_coarsened_in_the_engine(located) -> None:
    con, truth = located
    points = geo.map_points(con, Filters(levels=(2, 3)))
    assert points["households"].sum() == int(truth["level"].isin([2, 3]).sum())
    assert set(points["level"]) <= {2, 3}
    assert (points["lat"] == points["lat"].round(2)).all()
    assert (points["lon"] == points["lon"].round(2)).all()
    assert set(points.columns) == {"lat", "lon", "level", "households"}


def test_place_values_on_the_tiny_programme(tiny_store) -> None:
    from domain.definitions import load_definitions

    values = geo.map_place_values(tiny_store.con, Filters(), load_definitions())
    rows = values.set_index("amphoe_code")
    assert rows.loc["4001", "households"] == 6 and rows.loc["4005", "households"] == 2
    assert rows.loc["4001", "share_2"] == pytest.approx(3 / 6)  # H1, H2, H5 of 6 assessed
    assert rows.loc["4005", "assessed"] == 1 and rows.loc["4005", "income_n"] == 1
    assert rows.loc["4001", "income_mean"] == pytest.approx((40_000 * 3 + 20_000 * 3) / 6)
    shown = geo_views.shown_values(values, "households")
    assert list(shown.fillna(-1)) == [6, -1]  # 4005's 2 households never shape the classes
    scheme = geo_views.class_scheme("households", shown, 38_000)
    assert scheme.edges[:5] == (0, 2, 4, 6, 8)
    assert dict(zip(values["amphoe_code"], geo_views.classify(values["households"],
                                                        values["households"], scheme),
                    strict=True)) == {"4001": "c3", "4005": HIDDEN}


# --- the page --------------------------------------------------------------------------------

PERSONAL = re.compile(r"KK-\d{4}-\d{4}|\b0\d{12}\b|\b0\d{2}-\d{3}-\d{4}\b|head_name|"
                      r"household_id|citizen|phone|official_id")


def deck_spec(at) -> dict:
    return json.loads(at.get("deck_gl_json_chart")[0].proto.json)


def deck_data(spec: dict) -> dict[str, list]:
    return {layer["id"]: layer["data"] for layer in spec["layers"]}


@pytest.mark.parametrize("role", ["analyst", "viewer"])
def test_the_deck_carries_no_personal_data(demo_store_dir: Path, use_store,
                                           monkeypatch: pytest.MonkeyPatch, role: str) -> None:
    monkeypatch.setenv("KUSIAO_ROLE", role)
    monkeypatch.delenv("KUSIAO_BOUNDARIES_AMPHOE", raising=False)
    use_store(demo_store_dir)
    at = run_app()
    at.switch_page("../pages/map.py").run()
    assert not at.exception, at.exception
    raw = at.get("deck_gl_json_chart")[0].proto.json
    assert not PERSONAL.search(raw), PERSONAL.search(raw)
    heads = pd.read_csv(ROOT / "data" / "demo" /
                        "households.csv", encoding="utf-8-sig").iloc[:, 2]
    assert not any(name in raw for name in heads.head(50))
    data = deck_data(deck_spec(at))
    if role == "analyst":  # 1,174 households: coarsened points
        points = data[map_charts.LAYER_POINTS]
        assert sum(int(re.match(r"[\d,]+", p["tip"]).group().replace(",", ""))
                   for p in points) == 1174
        for p in points:
            assert set(p) == {"lon", "lat", "colour", "radius", "tip"}
            assert p["lat"] == round(p["lat"], 2) and p["lon"] == round(p["lon"], 2)
    else:  # a viewer sees aggregates only: hexagon cells
        assert map_charts.LAYER_POINTS not in data
        assert all(set(c) == {"polygon", "colour", "tip"} for c in data[map_charts.LAYER_CELLS])
    centres = data[map_charts.LAYER_CENTRES]
    assert len(centres) == 26 and set(centres[0]) == {"code", "name", "lon", "lat", "radius",
                                                      "tip"}


def test_the_page_without_a_boundary_file_shows_the_tile_map(
        tmp_path: Path, tiny_template, use_store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUSIAO_BOUNDARIES_AMPHOE", raising=False)
    monkeypatch.delenv("KUSIAO_BOUNDARIES_TAMBON", raising=False)
    use_store(copy_of(tiny_template, tmp_path))
    at = run_app()
    at.switch_page("../pages/map.py").run()
    assert not at.exception and not at.warning
    assert at.segmented_control(key="map_view").options == ["หกเหลี่ยม 26 อำเภอ"]
    tiles = json.loads(at.get("plotly_chart")[0].proto.spec)
    labels = tiles["data"][-1]
    text = dict(zip([c[0] for c in labels["customdata"]], labels["text"], strict=True))
    # the map opens on progress: the share at target 2
    assert text["4001"].endswith("50.0%")  # one decimal, as every share
    shown = at.dataframe[0].value
    assert list(shown.iloc[0, :3]) == ["เมืองขอนแก่น", "50.0", 6]
    assert shown.iloc[1, 0] == "ชุมแพ" and shown.iloc[1, 1] == "–"  # hidden: n = 1 surveyed
    at.selectbox(key="map_indicator").set_value("households").run()
    labels = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][-1]
    text = dict(zip([c[0] for c in labels["customdata"]], labels["text"], strict=True))
    # a long name breaks between its words: "เมือง|ขอนแก่น"
    assert text["4001"] == "<b>เมือง<br>ขอนแก่น</b><br>6" and text["4005"] == "<b>ชุมแพ</b><br>n < 5"


def test_the_page_with_boundary_files_draws_true_boundaries(
        tmp_path: Path, tiny_template, use_store, monkeypatch: pytest.MonkeyPatch) -> None:
    amphoe_file = (OFFICIAL_AMPHOE if OFFICIAL_AMPHOE.is_file()
                   else write(tmp_path / "a.geojson", synthetic_amphoe()))
    tambon_file = (OFFICIAL_TAMBON if OFFICIAL_TAMBON.is_file()
                   else write(tmp_path / "t.geojson", synthetic_tambon()))
    monkeypatch.setenv("KUSIAO_BOUNDARIES_AMPHOE", str(amphoe_file))
    monkeypatch.setenv("KUSIAO_BOUNDARIES_TAMBON", str(tambon_file))
    use_store(copy_of(tiny_template, tmp_path / "store"))
    at = run_app({"amphoe": "4001"})
    at.switch_page("../pages/map.py").run()
    assert not at.exception and not at.warning
    amphoe_map, tambon_map = (json.loads(c.proto.spec) for c in at.get("plotly_chart"))
    assert {t["type"] for t in amphoe_map["data"]} == {"choroplethmap"}
    assert amphoe_map["layout"]["map"]["style"] == "white-bg"
    drawn = {loc for t in amphoe_map["data"] for loc in t["locations"]}
    assert set(amphoe_table()["amphoe_code"]) <= drawn
    assert {f["id"] for t in tambon_map["data"] for f in t["geojson"]["features"]} == set(
        tambon_table().loc[tambon_table()["amphoe_code"] == "4001", "tambon_code"])
    layers = deck_data(deck_spec(at))
    assert map_charts.LAYER_BOUNDARIES in layers and map_charts.LAYER_CENTRES not in layers
    assert "/app/static/blank_style.json" in at.get("deck_gl_json_chart")[0].proto.json
    assert any("CC BY 3.0 IGO" in c.value for c in at.caption)


def test_a_broken_boundary_file_falls_back_to_the_tile_map(
        tmp_path: Path, tiny_template, use_store, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = write(tmp_path / "bad.geojson", synthetic_amphoe(codes=["4001", "4099"]))
    monkeypatch.setenv("KUSIAO_BOUNDARIES_AMPHOE", str(bad))
    monkeypatch.delenv("KUSIAO_BOUNDARIES_TAMBON", raising=False)
    use_store(copy_of(tiny_template, tmp_path / "store"))
    at = run_app({"lang": "en"})
    at.switch_page("../pages/map.py").run()
    assert not at.exception
    assert "4099" in at.warning[0].value and "bad.geojson" in at.warning[0].value
    assert json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["type"] == "scatter"




def test_a_tile_outline_starts_halfway_along_an_edge() -> None:
    """A thick outline's two ends meet where the line is straight: started at the top corner
    they left a notch in it on a projector."""
    xs, ys = map_charts._hexagon(2.0, 3.0)
    assert (xs[0], ys[0]) == (xs[-1], ys[-1])  # closed
    corners = set(zip(xs[1:-1], ys[1:-1], strict=True))
    assert len(corners) == 6 and (xs[0], ys[0]) not in corners
    # the start is the middle of the edge between the top corner and the next one
    top = max(corners, key=lambda c: c[1])
    assert math.dist((xs[0], ys[0]), top) == pytest.approx(map_charts.TILE_RADIUS / 2)


# --- the forecast verdict ------------------------------------------------------------------------

def test_a_verdict_is_coloured_by_its_word_and_small_or_unjudged_amphoe_are_not_judged() -> None:
    from domain.i18n import t

    values = pd.DataFrame({"amphoe_code": ["4001", "4002", "4003", "4004"],
                           "households": [50, 3, 40, 60]})
    verdicts = pd.DataFrame({"amphoe_code": ["4001", "4002", "4003", "4004"],
                             "status": ["on_track", "", "off_track", "at_risk"]})
    colouring = geo_views.colour_places(geo_views.with_forecast_status(values, verdicts),
                                        geo_views.tile_layout(), "forecast_status", 30000.0)
    klass = colouring.frame.set_index("amphoe_code")["klass"]
    assert list(klass[["4001", "4002", "4003", "4004"]]) == [
        "on_track", geo_views.NOT_JUDGED, "off_track", "at_risk"]
    assert klass["4005"] == NO_DATA and colouring.lagging == ()  # no households; no "lowest"
    scheme = colouring.scheme
    assert scheme.legend_keys == ("on_track", "at_risk", "off_track", geo_views.NOT_JUDGED,
                                  NO_DATA)  # no "hidden" class: a small amphoe is not judged
    assert len({scheme.colour(k) for k in scheme.legend_keys}) == 5  # a colour each
    table = map_charts.table_for_display(map_charts.place_table(colouring, {}, "x", "en"))
    assert list(table.iloc[:5, 1]) == ["Off track", "At risk", "On track", "Not judged", "–"]
    legend = map_charts.tile_legend_html(colouring, "x", "en")
    assert all(word in legend for word in ("On track", "At risk", "Off track", "Not judged ("))
    boundaries = {"type": "FeatureCollection", "features": [
        {**f, "id": f["properties"]["amphoe_code"]} for f in synthetic_amphoe()["features"]]}
    choropleth = map_charts.choropleth_figure(colouring, boundaries, {}, "x", "en",
                                              (102.5, 16.4, 8.0))
    assert [(d.name, list(d.locations)) for d in choropleth.data][:4] == [
        ("On track", ["4001"]), ("At risk", ["4004"]), ("Off track", ["4003"]),
        (t("map.class_not_judged", "en"), ["4002"])]
    assert "x: On track<br>n = 50" in choropleth.data[0].hovertext[0]


@pytest.mark.parametrize("lang", ["th", "en"])
def test_the_map_shows_each_amphoe_forecast_verdict_in_words(
        demo_store_dir: Path, use_store, monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    from dashboard import store as store_access
    from dashboard.queries.forecast import ladder_forecast
    from dashboard.views.forecast import first_year
    from domain.definitions import load_definitions
    from domain.i18n import t

    monkeypatch.delenv("KUSIAO_BOUNDARIES_AMPHOE", raising=False)
    use_store(demo_store_dir)
    at = run_app({"lang": lang})
    at.switch_page("../pages/map.py").run()
    at.selectbox(key="map_indicator").set_value("forecast_status").run()
    assert not at.exception, at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    labels = spec["data"][-1]
    words = {t(f"forecast.status.{s}", lang) for s in ("on_track", "at_risk", "off_track")}
    words = {w[:1].upper() + w[1:] for w in words} | {t("map.not_judged_short", lang)}
    for text in labels["text"]:  # a name and a verdict, never a number
        assert text.rsplit("<br>", 1)[-1] in words | {"–"}, text
        assert not re.search(r"\d", text.rsplit("</b>", 1)[-1]), text
    assert {t("forecast.status.off_track", lang).capitalize(),
            t("map.class_not_judged", lang)} <= {d.get("name") for d in spec["data"]}
    found = ladder_forecast(store_access.store().con, Filters(), load_definitions())
    expected = found.status_by_amphoe()
    shown = at.dataframe[0].value
    status = dict(zip(shown.iloc[:, 0], shown[t("forecast.col_status", lang)], strict=True))
    names = amphoe_table().set_index("amphoe_code")["name_th" if lang == "th" else "name_en"]
    for code, verdict in zip(expected["amphoe_code"], expected["status"], strict=True):
        word = t(f"forecast.status.{verdict}", lang) if verdict else t("map.not_judged_short",
                                                                        lang)
        assert status[names[code]] == word[:1].upper() + word[1:]
    note = t("map.forecast_note", lang, year=first_year(found), min=5)
    assert any(c.value == note for c in at.caption)
