"""Reference tables: the 26 amphoe, 199 tambon, 15 agencies and 31 จปฐ. indicators.

The CSV files in ``data/reference/`` are written by :func:`build_reference` (run
``python -m loaders reference``) from the DOPA codes and names in the ``geothai`` package and
from the programme facts (coordinates, areas, agencies, indicators) kept beside them as
``*_facts.csv``. They are committed, so the dashboard never needs ``geothai`` at run time.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DIR = ROOT / "data" / "reference"
PROVINCE_CODE = "40"
LEGACY_AMPHOE_CODES = {"4026": "4029"}
"""Older files give Wiang Kao its pre-renumbering code."""


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / name, dtype=str, encoding="utf-8").fillna("")


@lru_cache(maxsize=1)
def amphoe_table() -> pd.DataFrame:
    """amphoe_code, name_th, name_en, n_tambon, seat/centroid lat-lon, area_km2 (26 rows)."""
    df = _read("amphoe.csv")
    for col in ("seat_lat", "seat_lon", "centroid_lat", "centroid_lon", "area_km2"):
        df[col] = df[col].astype(float)
    df["n_tambon"] = df["n_tambon"].astype(int)
    return df


@lru_cache(maxsize=1)
def tambon_table() -> pd.DataFrame:
    """tambon_code, amphoe_code, name_th, name_en (199 rows)."""
    return _read("tambon.csv")


@lru_cache(maxsize=1)
def agency_table() -> pd.DataFrame:
    """agency_code, name_th, name_en, role_in_programme, source (15 rows)."""
    return _read("agency.csv")


@lru_cache(maxsize=1)
def indicator_table() -> pd.DataFrame:
    """indicator (1-31), name_th, name_en, jpt_group, tpmap_dimension."""
    df = _read("jpt_indicator.csv")
    df["indicator"] = df["indicator"].astype(int)
    return df


def build_reference(domain_dir: Path | None = None) -> dict[str, int]:
    """Write the reference CSVs; return row counts per file.

    ``domain_dir`` holds ``districts.csv``, ``agencies.csv`` and ``jpt_indicators.csv`` (the
    programme facts). Codes and names always come from geothai, never from the facts files.
    """
    import geothai  # only needed when rebuilding the committed tables

    domain_dir = domain_dir or REFERENCE_DIR / "facts"
    facts = pd.read_csv(domain_dir / "districts.csv", dtype={"amphoe_code": str})
    districts = geothai.districts(PROVINCE_CODE)
    amphoe = pd.DataFrame(
        [{"amphoe_code": d.code, "name_th": d.name_th, "name_en": d.name_en} for d in districts]
    )
    tambon = pd.DataFrame(
        [
            {
                "tambon_code": s.code,
                "amphoe_code": d.code,
                "name_th": s.name_th,
                "name_en": s.name_en,
            }
            for d in districts
            for s in geothai.subdistricts(d.code)
        ]
    )
    counts = tambon.groupby("amphoe_code").size().rename("n_tambon").reset_index()
    geo_cols = ["seat_lat", "seat_lon", "centroid_lat", "centroid_lon", "area_km2"]
    amphoe = amphoe.merge(counts, on="amphoe_code", validate="one_to_one").merge(
        facts[["amphoe_code", *geo_cols]], on="amphoe_code", how="left", validate="one_to_one"
    )
    if amphoe[geo_cols].isna().any().any():
        missing = amphoe.loc[amphoe[geo_cols].isna().any(axis=1), "amphoe_code"].tolist()
        raise ValueError(f"districts.csv lacks coordinates for amphoe {missing}")
    agencies = pd.read_csv(domain_dir / "agencies.csv", dtype=str)
    indicators = pd.read_csv(domain_dir / "jpt_indicators.csv", dtype=str).fillna("")

    REFERENCE_DIR.mkdir(parents=True, exist_ok=True)
    out = {
        "amphoe.csv": amphoe,
        "tambon.csv": tambon.sort_values("tambon_code"),
        "agency.csv": agencies,
        "jpt_indicator.csv": indicators,
    }
    for name, frame in out.items():
        frame.to_csv(REFERENCE_DIR / name, index=False, encoding="utf-8", lineterminator="\n")
    for fn in (amphoe_table, tambon_table, agency_table, indicator_table):
        fn.cache_clear()
    return {name: len(frame) for name, frame in out.items()}


def name_column(lang: str) -> str:
    return "name_th" if lang == "th" else "name_en"


@cache
def _names(kind: str, lang: str) -> tuple[tuple[str, str], ...]:
    table = {"amphoe": amphoe_table, "tambon": tambon_table, "agency": agency_table}[kind]()
    return tuple(zip(table[f"{kind}_code"], table[name_column(lang)], strict=True))


def amphoe_names(lang: str) -> dict[str, str]:
    return dict(_names("amphoe", lang))


def tambon_names(lang: str) -> dict[str, str]:
    return dict(_names("tambon", lang))


def agency_names(lang: str) -> dict[str, str]:
    return dict(_names("agency", lang))
