"""Hand-made datasets with answers worked out by hand, written as the files a team would send.

The tiny programme (``tiny_frames``): 8 households, 3 officials, visits from Oct 2019 to
Sep 2020 (fiscal year 2563). As of the last visit, 30 Sep 2020 (quarter 4/2563):

| household | amphoe | buddy now | last visit | level now | level at baseline |
|---|---|---|---|---|---|
| H1 | 4001 | O1 (CDD)  | 2020-09-30 | 3 | 1 |
| H2 | 4001 | O1 (CDD)  | 2020-09-15 | 2 | 0 |
| H3 | 4001 | O2 (DOPA) | 2020-08-01 | 1 | 1 |
| H4 | 4001 | O2 (DOPA) | 2020-05-10 | 0 | 1 (fell back) |
| H5 | 4001 | none (pairing with O2 closed 2020-06-30) | 2020-09-20 | 2 | 0 |
| H6 | 4001 | none | 2019-10-20 | 0 | 0 (never followed up) |
| H7 | 4005 | O3 (CDD)  | 2020-09-01 | 1 | 0 |
| H8 | 4005 | none | no visit | – | – |

So: 8 households, 5 paired, 3 officials (O1, O2, O3), visited within 90 days of 30 Sep 2020
(on or after 2 Jul 2020): H1, H2, H3, H5, H7 = 5; assessed (any visit) = 7; at level >= 1: 5,
>= 2: 3, >= 3: 1; at baseline (of the 7 assessed) >= 1: 3, >= 2: 0, >= 3: 0.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from loaders.contracts import DATASETS, JPT_COUNT

AS_OF = dt.date(2020, 9, 30)


def household(hid: str, amphoe: str, tambon: str, members: int = 4,
              citizen_id: str = "") -> dict[str, object]:
    return {
        "household_id": hid, "house_code": "", "head_name": f"นาง ทดสอบ {hid}",
        "head_citizen_id": citizen_id or synthetic_citizen_id(int(hid[1:])), "phone": "",
        "house_no": "1", "moo": 1, "tambon_code": tambon, "amphoe_code": amphoe,
        "lat": "", "lon": "", "members": members, "enrolled_on": "2019-09-27",
    }


def synthetic_citizen_id(n: int) -> str:
    from loaders.normalise import citizen_id_check_digit

    first12 = f"09999{n:07d}"
    return first12 + str(citizen_id_check_digit(first12))


def visit(vid: str, hid: str, oid: str, date: str, level: int, round_: int = 0,
          members: int = 4) -> dict[str, object]:
    """A visit whose household meets exactly ``level`` under the default definitions."""
    per_member = {0: 20_000, 1: 20_000, 2: 40_000, 3: 40_000}[level]
    row: dict[str, object] = {
        "visit_id": vid, "household_id": hid, "official_id": oid, "visit_date": date,
        "round": round_, "kind": "baseline" if round_ == 0 else "follow_up",
        "members": members,
        "income_main": per_member * members - (5_000 if level == 3 else 0),
        "income_secondary": 5_000 if level == 3 else 0,
        "income_remittance": 0, "income_welfare": 0, "income_own_food": 0,
        "debt_formal": 10_000, "debt_fund": 0, "debt_informal": 0 if level == 3 else 5_000,
        "saves": "true" if level == 3 else "false", "land_tenure": "none", "land_rai": 0,
        "needs": "land", "note": "",
    }
    for i in range(1, JPT_COUNT + 1):
        row[f"jpt_{i:02d}"] = "pass"
    for i in (1, 2, 3, 27, 28, 29):
        row[f"jpt_{i:02d}"] = "na"
    if level == 0:
        row["jpt_08"] = "fail"
    if level == 1:
        row["jpt_20"] = "fail"
    return row


def tiny_frames() -> dict[str, pd.DataFrame]:
    households = [household(f"H{i}", "4001", "400101") for i in range(1, 7)]
    households += [household("H7", "4005", "400501"), household("H8", "4005", "400501")]
    officials = [
        {"official_id": "O1", "name": "นาย หนึ่ง", "position": "นักวิชาการ",
         "agency_code": "CDD", "amphoe_code": "4001", "phone": ""},
        {"official_id": "O2", "name": "นาย สอง", "position": "ปลัดอำเภอ",
         "agency_code": "DOPA", "amphoe_code": "4001", "phone": ""},
        {"official_id": "O3", "name": "นาง สาม", "position": "นักวิชาการ",
         "agency_code": "CDD", "amphoe_code": "4005", "phone": ""},
    ]
    start = "2019-09-27"
    pairings = [
        {"official_id": "O1", "household_id": "H1", "start_date": start, "end_date": ""},
        {"official_id": "O1", "household_id": "H2", "start_date": start, "end_date": ""},
        {"official_id": "O2", "household_id": "H3", "start_date": start, "end_date": ""},
        {"official_id": "O2", "household_id": "H4", "start_date": start, "end_date": ""},
        {"official_id": "O2", "household_id": "H5", "start_date": start,
         "end_date": "2020-06-30"},
        {"official_id": "O3", "household_id": "H7", "start_date": start, "end_date": ""},
    ]
    visits = [
        visit("V01", "H1", "O1", "2019-10-15", 1),
        visit("V02", "H2", "O1", "2019-10-15", 0),
        visit("V03", "H3", "O2", "2019-10-16", 1),
        visit("V04", "H4", "O2", "2019-10-16", 1),
        visit("V05", "H5", "O2", "2019-10-17", 0),
        visit("V06", "H6", "O2", "2019-10-20", 0),
        visit("V07", "H7", "O3", "2019-10-21", 0),
        visit("V11", "H1", "O1", "2020-02-10", 2, 1),
        visit("V12", "H4", "O2", "2020-05-10", 0, 2),
        visit("V13", "H3", "O2", "2020-08-01", 1, 3),
        visit("V14", "H7", "O3", "2020-09-01", 1, 4),
        visit("V15", "H2", "O1", "2020-09-15", 2, 4),
        visit("V16", "H5", "O1", "2020-09-20", 2, 4),
        visit("V17", "H1", "O1", "2020-09-30", 3, 4),
    ]
    assistance = [
        {"assistance_id": "A1", "household_id": "H1", "date": "2020-01-15",
         "type": "occupation", "agency_code": "CDD", "partner": "", "provider_kind": "state",
         "value_baht": 5000, "status": "delivered"},
    ]
    return {
        "households": pd.DataFrame(households),
        "officials": pd.DataFrame(officials),
        "pairings": pd.DataFrame(pairings),
        "visits": pd.DataFrame(visits),
        "assistance": pd.DataFrame(assistance),
    }


def write_csvs(frames: dict[str, pd.DataFrame], folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in frames.items():
        path = folder / f"{name}.csv"
        frame[DATASETS[name].column_names].to_csv(path, index=False, encoding="utf-8")
        paths[name] = path
    return paths
