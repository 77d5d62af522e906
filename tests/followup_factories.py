"""A hand-made programme where each follow-up reason is planted once.

As of the last visit, 30 Sep 2020 (quarter 4/2563), with the default ``[followup]`` rules
(no visit for 90 days, a need unhelped for 60 days) and ``[quality]`` missed rounds (3 in a
row), rounds 0, 2 and 4 recorded programme-wide:

| household | amphoe | what is planted | reason |
|---|---|---|---|
| F0 | 4001 | visited on time, level rising, its need (occupation) helped | none |
| F1 | 4001 | last visit 1 May 2020 (152 days before) | no_recent_visit |
| F2 | 4001 | level 2 at round 2, level 1 at round 4 | fell_back |
| F3 | 4001 | "land" needed since Oct 2019, no help | need_unhelped |
| F4 | 4005 | rounds 0 and 4 only (1-3 missed) | missed_rounds |
| F5 | 4005 | pairing ended 30 Jun 2020 | no_buddy |
| F6 | 4005 | a case in progress due 10 Jan 2026 (the test's "today" is later) | action_overdue |
| F7 | 4005 | a case open, due later than "today" | none, listed for its case |
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from domain.cases import Case
from tests.factories import household, visit

TODAY = dt.date(2026, 2, 1)
EXPECTED = {"F1": "no_recent_visit", "F2": "fell_back", "F3": "need_unhelped",
            "F4": "missed_rounds", "F5": "no_buddy", "F6": "action_overdue", "F7": ""}


def _visits(hid: str, oid: str, plan: list[tuple[str, int, int]], needs: str = ""
            ) -> list[dict[str, object]]:
    """Visits of ``(date, round, level)``, each recording ``needs``."""
    rows = []
    for n, (date, round_, level) in enumerate(plan):
        row = visit(f"{hid}V{n}", hid, oid, date, level, round_)
        row["needs"] = needs
        rows.append(row)
    return rows


def followup_frames() -> dict[str, pd.DataFrame]:
    households = [household(f"F{i}", "4001" if i < 4 else "4005",
                            "400101" if i < 4 else "400501") for i in range(8)]
    for row in households:  # numbers of the synthetic ID come from the digits after "F"
        row["house_no"] = f"{row['household_id'][1:]}/1"
    officials = [
        {"official_id": "O1", "name": "นาย หนึ่ง ใจดี", "position": "นักวิชาการ",
         "agency_code": "CDD", "amphoe_code": "4001", "phone": ""},
        {"official_id": "O2", "name": "นาง สอง รักษ์ดี", "position": "ปลัดอำเภอ",
         "agency_code": "DOPA", "amphoe_code": "4005", "phone": ""},
    ]
    start = "2019-09-27"
    pairings = [{"official_id": "O1" if i < 4 else "O2", "household_id": f"F{i}",
                 "start_date": start, "end_date": "2020-06-30" if i == 5 else ""}
                for i in range(8)]
    steady = [("2019-10-01", 0, 1), ("2020-03-01", 2, 1), ("2020-09-20", 4, 1)]
    visits = (
        _visits("F0", "O1", [("2019-10-01", 0, 1), ("2020-03-01", 2, 1),
                             ("2020-09-30", 4, 2)], needs="occupation")
        + _visits("F1", "O1", [("2019-10-01", 0, 1), ("2020-03-01", 2, 1),
                               ("2020-05-01", 4, 1)])
        + _visits("F2", "O1", [("2019-10-01", 0, 1), ("2020-03-01", 2, 2),
                               ("2020-09-20", 4, 1)])
        + _visits("F3", "O1", steady, needs="land")
        + _visits("F4", "O2", [("2019-10-01", 0, 1), ("2020-09-25", 4, 1)])
        + _visits("F5", "O2", steady)
        + _visits("F6", "O2", steady)
        + _visits("F7", "O2", steady)
    )
    assistance = [{"assistance_id": "A1", "household_id": "F0", "date": "2020-01-15",
                   "type": "occupation", "agency_code": "CDD", "partner": "",
                   "provider_kind": "state", "value_baht": 5000, "status": "delivered"}]
    return {"households": pd.DataFrame(households), "officials": pd.DataFrame(officials),
            "pairings": pd.DataFrame(pairings), "visits": pd.DataFrame(visits),
            "assistance": pd.DataFrame(assistance)}


PLANTED_CASES = (
    Case(household_id="F6", status="in_progress", next_action="ติดตามการซ่อมบ้าน",
         agency_code="DOPA", due_date=dt.date(2026, 1, 10), note="เบอร์ติดต่อลูกสาว"),
    Case(household_id="F7", status="open", next_action="นัดเยี่ยมบ้าน", agency_code="CDD",
         due_date=dt.date(2026, 3, 1)),
)
