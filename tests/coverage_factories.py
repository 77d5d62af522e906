"""A hand-made programme with a re-pairing, for the Coverage and Agencies pages.

Seven households, five officials, visits from Oct 2019 to 25 Sep 2020 (fiscal year 2563).
Official A (CDD) is transferred: both A's pairings are closed on 30 Jun 2020 (the rows are kept,
with an end date), C (DOPA, a newcomer) takes R1 over from 1 Jul 2020, and R2 waits for a buddy.
B (CDD) looks after three households, one of them (R5) in another amphoe; E (CDD) is in the
register but never paired.

| household | amphoe | buddy on 30 Jun 2020 | buddy on 25 Sep 2020 | visits (level) |
|---|---|---|---|---|
| R1 | 4001 | A | C (from 1 Jul) | 10 Oct 2019 by A (0), 1 May 2020 by A (1) |
| R2 | 4001 | A | none (A's pairing ended 30 Jun) | 10 Oct 2019 by A (0), 1 May 2020 by A (0) |
| R3 | 4001 | B | B | 11 Oct 2019 by B (1), 25 Sep 2020 by B (2) |
| R4 | 4001 | B | B | 11 Oct 2019 by B (0), 15 Aug 2020 by B (0) |
| R5 | 4005 | B | B | never visited |
| R6 | 4001 | D | D | 12 Oct 2019 by D (1), 1 Jun 2020 by D (3) |
| R7 | 4005 | never paired | never paired | 15 Oct 2019 by D (0) |

Answers as of 25 Sep 2020 (quarter 4/2563, the data's as-of date; 4 quarters of visits):

- caseload: A 0 (pairings ended), B 3, C 1, D 1, E 0 (never paired): {0: 2, 1: 2, 3: 1};
  on 30 Jun 2020 (quarter 3/2563, A's last day): A 2, B 3, C 0 (not paired yet), D 1, E 0.
- without a buddy: R7 for 364 days (since enrolment, 27 Sep 2019), R2 for 87 days (since 30 Jun).
- days since the last visit: R1 147, R2 147, R3 0, R4 41, R5 never, R6 116, R7 346. Bands
  (30/90/180): 4001 = R3 ≤ 30, R4 31–90, R1 R2 R6 91–180; 4005 = R7 > 180, R5 never.
  Visited within 90 days: 2 (R3, R4), as the Overview counts.
- overdue (90 days): B by 274 days (R5, never visited: counted from the pairing's start,
  27 Sep 2019, 364 days), D by 26 (R6). C took R1 over on 1 Jul: 86 days, not overdue (R1's
  last visit was 147 days ago, but a new buddy gets 90 days).
- league (level 2): CDD = 1 official (B), 3 households (R3, R4, R5), 4 visits to them (R3's 2
  and R4's 2; R5 never visited) / (3 households × 4 quarters) = 0.33, 2 surveyed, 1 climbed
  (R3), 1 at level 2+ (R3), 1 official overdue (B); DOPA = 2 officials (C, D), 2 households
  (R1, R6), 4 visits to them (R1's 2, made by A before the transfer, and R6's 2; D's visit to
  R7, which has no buddy, counts for no agency) / (2 × 4) = 0.5, 2 surveyed, 2 climbed (R1,
  R6), 1 at 2+ (R6), 1 official overdue (D).
- matrix: 4001 × CDD 2 households 1 official, 4001 × DOPA 2 / 2, 4001 × none 1;
  4005 × CDD 1 / 1 (B again), 4005 × none 1. Officials in total 3 (B counted once).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tests.factories import household, visit

AS_OF = dt.date(2020, 9, 25)
LAST_QUARTER = 25634
TRANSFER_QUARTER = 25633  # ends 30 Jun 2020, A's last day with R1 and R2
A_NAME = "นายสมชาย ทองดี"
B_NAME = "นางสาวมาลี ใจงาม"

LEAGUE = {  # agency -> (officials, households, visits, assessed, climbed, at level 2+, overdue)
    "CDD": (1, 3, 4, 2, 1, 1, 1),
    "DOPA": (2, 2, 4, 2, 2, 1, 1),
}


def repairing_frames() -> dict[str, pd.DataFrame]:
    households = [household(f"R{i}", "4001", "400101") for i in (1, 2, 3, 4, 6)]
    households += [household("R5", "4005", "400501"), household("R7", "4005", "400501")]
    officials = [
        {"official_id": "A", "name": A_NAME, "position": "นักวิชาการ", "agency_code": "CDD",
         "amphoe_code": "4001", "phone": "0812345678"},
        {"official_id": "B", "name": B_NAME, "position": "นักวิชาการ", "agency_code": "CDD",
         "amphoe_code": "4001", "phone": ""},
        {"official_id": "C", "name": "นาย ใหม่ มาแทน", "position": "ปลัดอำเภอ",
         "agency_code": "DOPA", "amphoe_code": "4001", "phone": ""},
        {"official_id": "D", "name": "นาง ดี ดูแล", "position": "ปลัดอำเภอ",
         "agency_code": "DOPA", "amphoe_code": "4001", "phone": ""},
        {"official_id": "E", "name": "นาย ยัง รอ", "position": "นักวิชาการ",
         "agency_code": "CDD", "amphoe_code": "4005", "phone": ""},
    ]
    start = "2019-09-27"
    pairings = [
        {"official_id": "A", "household_id": "R1", "start_date": start, "end_date": "2020-06-30"},
        {"official_id": "A", "household_id": "R2", "start_date": start, "end_date": "2020-06-30"},
        {"official_id": "C", "household_id": "R1", "start_date": "2020-07-01", "end_date": ""},
        {"official_id": "B", "household_id": "R3", "start_date": start, "end_date": ""},
        {"official_id": "B", "household_id": "R4", "start_date": start, "end_date": ""},
        {"official_id": "B", "household_id": "R5", "start_date": start, "end_date": ""},
        {"official_id": "D", "household_id": "R6", "start_date": start, "end_date": ""},
    ]
    visits = [
        visit("V01", "R1", "A", "2019-10-10", 0),
        visit("V02", "R2", "A", "2019-10-10", 0),
        visit("V03", "R3", "B", "2019-10-11", 1),
        visit("V04", "R4", "B", "2019-10-11", 0),
        visit("V05", "R6", "D", "2019-10-12", 1),
        visit("V06", "R7", "D", "2019-10-15", 0),
        visit("V11", "R1", "A", "2020-05-01", 1, 2),
        visit("V12", "R2", "A", "2020-05-01", 0, 2),
        visit("V13", "R6", "D", "2020-06-01", 3, 2),
        visit("V14", "R4", "B", "2020-08-15", 0, 3),
        visit("V15", "R3", "B", "2020-09-25", 2, 4),
    ]
    return {
        "households": pd.DataFrame(households),
        "officials": pd.DataFrame(officials),
        "pairings": pd.DataFrame(pairings),
        "visits": pd.DataFrame(visits),
    }
