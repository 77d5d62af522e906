"""Buddhist-Era display and Thai fiscal periods.

Dates are stored and computed in the Gregorian calendar; only display converts to พ.ศ.
The Thai fiscal year runs 1 Oct - 30 Sep and is named by the BE year it ends in.
"""

from __future__ import annotations

import datetime as dt

BE_OFFSET = 543
MONTHS_TH = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.",
             "พ.ย.", "ธ.ค.")
MONTHS_TH_FULL = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
                  "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def fiscal_year_be(day: dt.date) -> int:
    """Thai fiscal year (BE) a date falls in: 1 Oct 2019 -> 2563."""
    return day.year + BE_OFFSET + (1 if day.month >= 10 else 0)


def fiscal_quarter(day: dt.date) -> int:
    """1 = Oct-Dec, 2 = Jan-Mar, 3 = Apr-Jun, 4 = Jul-Sep."""
    return ((day.month - 10) % 12) // 3 + 1


def quarter_index(day: dt.date) -> int:
    """A sortable integer for a fiscal quarter: fiscal_year_be * 10 + quarter (25631..)."""
    return fiscal_year_be(day) * 10 + fiscal_quarter(day)


def quarter_bounds(index: int) -> tuple[dt.date, dt.date]:
    """First and last day (CE) of the fiscal quarter ``index`` (e.g. 25634 -> Jul-Sep 2020)."""
    fy_be, q = divmod(index, 10)
    if not 1 <= q <= 4:
        raise ValueError(f"not a fiscal quarter index: {index}")
    start_month = (10 + 3 * (q - 1) - 1) % 12 + 1
    year = fy_be - BE_OFFSET - (1 if start_month >= 10 else 0)
    start = dt.date(year, start_month, 1)
    end_month = start_month + 2
    next_first = dt.date(year + (end_month // 12), end_month % 12 + 1, 1)
    return start, next_first - dt.timedelta(days=1)


def format_date(day: dt.date | None, lang: str = "th") -> str:
    """The one way a date is written: 18 ส.ค. 2563 in Thai (Buddhist Era), 18 Aug 2020 in
    English (Common Era, as an English reader writes it)."""
    if day is None:
        return "–"
    if lang == "th":
        return f"{day.day} {MONTHS_TH[day.month - 1]} {day.year + BE_OFFSET}"
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def format_datetime(moment: dt.datetime | None, lang: str = "th") -> str:
    """:func:`format_date` and the time to the minute: 6 ธ.ค. 2569 14:05."""
    if moment is None:
        return "–"
    return f"{format_date(moment.date(), lang)} {moment:%H:%M}"


def format_quarter(index: int, lang: str = "th") -> str:
    fy_be, q = divmod(index, 10)
    if lang == "th":
        return f"ไตรมาส {q}/{fy_be}"
    return f"Q{q} FY{fy_be}"


def quarter_indices(first: dt.date, last: dt.date) -> list[int]:
    """Every fiscal quarter index from the one holding ``first`` to the one holding ``last``."""
    out = []
    index = quarter_index(first)
    stop = quarter_index(last)
    while index <= stop:
        out.append(index)
        fy, q = divmod(index, 10)
        index = fy * 10 + q + 1 if q < 4 else (fy + 1) * 10 + 1
    return out
