"""Households explorer and profile: find one household, see its whole story. No Streamlit.

Personal data are protected here, in the data layer: every frame of household- or
official-level rows leaves this module through :func:`dashboard.store.privacy.protect`, so the
cache, the table, the profile and the downloads only ever hold what the viewer's role may
see. A viewer without row access (role ``viewer``) gets
:class:`~dashboard.store.privacy.NotAllowedError` before any row is read.

Search never becomes an oracle for masked data: the house code matches only in full for roles
that see it masked (a prefix search would reveal it digit by digit), and names are searched
only for roles that see them. Nothing is sorted by a personal column in the engine.

Units: incomes are baht per person per year (``income_per_member``) or per household per
year (``income_*``); dates are Gregorian here and shown in the Buddhist Era.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import reduce
from typing import Any

import ibis
import pandas as pd
from ibis import _
from ibis.backends import BaseBackend

from dashboard.queries.status import status
from dashboard.store.privacy import (
    THAI_LEADING_VOWELS,
    THAI_TITLES,
    NotAllowedError,
    Viewer,
    protect,
)
from domain.definitions import INCOME_SOURCES, Definitions
from domain.filters import Filters
from domain.reference import amphoe_table, indicator_table, tambon_table
from domain.thai_dates import BE_OFFSET
from loaders.contracts import JPT_COUNT, NEED_TYPES
from loaders.derived import open_needs
from loaders.normalise import clean_text

TABLE_LIMIT = 5_000
"""Rows sent to the browser at most; the caption says how many matched."""
INCOME_FILTERS = ("", "below", "at_or_above")
RECENCY_FILTERS = ("", "recent", "overdue")
SORTS = ("household", "level", "income", "visit")
MAX_SEARCH = 100
HOUSE_CODE_DIGITS = 11
HOUSEHOLD_ID = re.compile(r"[\w][\w./-]{0,63}")

TABLE_COLUMNS = ("household_id", "head_name", "house_code", "amphoe_code", "tambon_code", "moo",
                 "members", "level", "baseline_level", "income_per_member", "last_visit_date",
                 "days_since_visit", "agency_code", "unmet_needs")
"""What the table query returns: only what the table shows."""

_MOO = re.compile(r"(?:หมู่(?:ที่)?|ม\.|moo|village)\s*(\d{1,2})\b", re.IGNORECASE)
_PLACE_PREFIX = re.compile(r"^(?:ตำบล|ต\.|อำเภอ|อ\.|tambon|amphoe)\s*", re.IGNORECASE)
_CODE_LIKE = re.compile(r"[\d\s-]+")
_MASKED_HOUSE_CODE = re.compile(r"(\d{4})-?x{6}-?x", re.IGNORECASE)
# a title at the start of a name ("นางสาว" before "นาง"), as a regular expression
_TITLE = "^(?:" + "|".join(re.escape(title) for title in THAI_TITLES) + r")\s*"
_SPACES = r"\s+"


def _require_rows(viewer: Viewer) -> None:
    if not viewer.sees_rows:
        raise NotAllowedError(viewer.role)


# --- search -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Search:
    """What a search box text asks for: see :func:`parse_search`."""

    text: str = ""  # what is left once the moo is taken out
    moo: int | None = None
    digits: str = ""  # the text's digits, when it looks like a code (digits, spaces, dashes)
    tambon_codes: tuple[str, ...] = ()
    amphoe_codes: tuple[str, ...] = ()
    name: str = ""  # the text as a name: title and spaces taken out
    masked_house_code: str = ""  # the 4 digits of a house code written as a role sees it


def name_key(text: str) -> str:
    """A name as search compares it: no title (นาย, นาง, นางสาว, ...), no spaces, lower case:
    "นาย สุวิทย์  นาคสุข" and "สุวิทย์นาคสุข" are the same."""
    return re.sub(_SPACES, "", re.sub(_TITLE, "", text.strip())).lower()


def parse_search(raw: str) -> Search:
    """Read a search box: a household id (``KK-4001-0001``, or part of it), a house code, a
    village (``หมู่ 5``, ``ม.5``, ``moo 5``), a tambon or amphoe name (Thai or English, with or
    without ``ต.``/``ตำบล``/``อ.``), or a place and a moo together (``ศิลา ม.5``).
    Thai digits are read as digits."""
    text = (clean_text(raw) or "")[:MAX_SEARCH]
    moo = None
    found = _MOO.search(text)
    if found:
        moo = int(found.group(1))
        text = (text[:found.start()] + text[found.end():]).strip()
    place = _PLACE_PREFIX.sub("", text).strip().lower()
    tambon_codes: tuple[str, ...] = ()
    amphoe_codes: tuple[str, ...] = ()
    if len(place) >= 2 and not _CODE_LIKE.fullmatch(place):
        tambon_codes = _names_matching(tambon_table(), "tambon_code", place)
        amphoe_codes = _names_matching(amphoe_table(), "amphoe_code", place)
    digits = re.sub(r"\D", "", text) if text and _CODE_LIKE.fullmatch(text) else ""
    masked = _MASKED_HOUSE_CODE.fullmatch(re.sub(_SPACES, "", text))
    return Search(text=text, moo=moo, digits=digits, tambon_codes=tambon_codes,
                  amphoe_codes=amphoe_codes, name="" if digits else name_key(text),
                  masked_house_code=masked.group(1) if masked else "")


def _name_key_expr(name: ibis.expr.types.StringValue) -> ibis.expr.types.StringValue:
    """:func:`name_key` in the engine."""
    return name.re_replace(_TITLE, "").re_replace(_SPACES, "").lower()


def _masked_name_key_expr(name: ibis.expr.types.StringValue) -> ibis.expr.types.StringValue:
    """The name as :func:`~dashboard.store.privacy.mask_name` shows it ("สุวิทย์ น."), as
    :func:`name_key` compares it ("สุวิทย์น."), in the engine: a search by a role that sees
    masked names matches only what it is shown, so it reveals nothing more."""
    bare = name.strip().re_replace(_TITLE, "")
    first = bare.re_extract(r"^(\S+)", 1)
    surname = bare.re_extract(r"\s(\S+)$", 1)
    initial = surname.re_replace(f"^[{THAI_LEADING_VOWELS}]+", "").substr(0, 1)
    one_word = first.substr(0, 1) + "…"
    return ibis.ifelse(surname == "", one_word, first + initial + ".").lower()


def _names_matching(table: pd.DataFrame, code: str, needle: str) -> tuple[str, ...]:
    hit = (table["name_th"].str.lower().str.contains(needle, regex=False)
           | table["name_en"].str.lower().str.contains(needle, regex=False))
    return tuple(sorted(table.loc[hit, code]))


def search_condition(table: ibis.Table, search: Search,
                     viewer: Viewer) -> ibis.expr.types.BooleanValue | None:
    """The rows a search keeps, as a parameterised Ibis condition (``None``: no search).
    ``table`` carries household_id, house_code, head_name, amphoe_code, tambon_code, moo."""
    any_of: list[ibis.expr.types.BooleanValue] = []
    if search.text:
        any_of.append(table.household_id.upper().contains(search.text.upper()))
        # a house code or a name is searched only by a role that sees it: a masked code typed
        # in full must not confirm whose it is
        if viewer.sees_personal_data:
            if len(search.digits) == HOUSE_CODE_DIGITS:
                any_of.append(table.house_code == search.digits)
            if len(search.digits) >= 4:
                any_of.append(table.house_code.contains(search.digits))
            if search.name:
                any_of.append(_name_key_expr(table.head_name).contains(search.name))
        elif search.name:  # only what the role is shown: first name and surname initial
            any_of.append(_masked_name_key_expr(table.head_name).contains(search.name))
        if search.masked_house_code:  # "4001-xxxxxx-x": the digits the role is shown
            any_of.append(table.house_code.startswith(search.masked_house_code))
        if search.tambon_codes:
            any_of.append(table.tambon_code.isin(list(search.tambon_codes)))
        if search.amphoe_codes:
            any_of.append(table.amphoe_code.isin(list(search.amphoe_codes)))
    condition = reduce(lambda a, b: a | b, any_of) if any_of else None
    if search.moo is not None:
        at_moo = table.moo == search.moo
        condition = at_moo if condition is None else condition & at_moo
    return condition


def valid_household_id(value: object) -> str | None:
    """A household id from a URL or a text box, or ``None`` when it cannot be one."""
    text = clean_text(value) if isinstance(value, str) else None
    return text if text and HOUSEHOLD_ID.fullmatch(text) else None


# --- the table --------------------------------------------------------------------------------

@dataclass(frozen=True)
class HouseholdTable:
    rows: pd.DataFrame  # TABLE_COLUMNS, protected for the viewer
    total: int  # households matching, before the row limit

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)


def open_need_rows(con: BaseBackend, households: ibis.Table) -> ibis.Table:
    """(household_id, as_of, need): each need recorded at a household's latest visit
    (``needs``, carried with its status) with no delivered help of that type on or before
    ``as_of``."""
    return open_needs(households, con.table("help_delivered"))  # first deliveries (derived)


def unmet_needs(con: BaseBackend, households: ibis.Table) -> ibis.Table:
    """Per household: :func:`open_need_rows`, ``;``-separated (household_id, unmet_needs)."""
    return open_need_rows(con, households).group_by("household_id").aggregate(
        unmet_needs=_.need.group_concat(";"))


def household_table(con: BaseBackend, filters: Filters, definitions: Definitions,
                    viewer: Viewer, search: str = "", income: str = "", recency: str = "",
                    sort: str = "household", limit: int = TABLE_LIMIT) -> HouseholdTable:
    """Households in the shared filters (status as of the selected quarter), narrowed by a
    search (:func:`parse_search`), income against the line (``below`` / ``at_or_above``) and
    visit recency (``recent``: last visit within the definitions' window; ``overdue``: later
    or never), sorted in the engine (``household``, ``level`` lowest first, ``income``
    lowest first, ``visit`` longest ago first) and cut at ``limit`` rows."""
    _require_rows(viewer)
    if income not in INCOME_FILTERS or recency not in RECENCY_FILTERS or sort not in SORTS:
        raise ValueError(f"unknown choice: {income!r}, {recency!r}, {sort!r}")
    count, rows = _household_rows(con, filters, definitions, viewer, search, income, recency,
                                  sort, limit)
    total = int(count.execute())
    frame = rows.execute()
    frame["unmet_needs"] = frame["unmet_needs"].map(_sorted_needs)
    return HouseholdTable(rows=protect(frame, viewer), total=total)


def _household_rows(con: BaseBackend, filters: Filters, definitions: Definitions,
                    viewer: Viewer, search: str, income: str, recency: str, sort: str,
                    limit: int) -> tuple[ibis.Scalar, ibis.Table]:
    """How many households the table has, and its first ``limit`` rows."""

    people = con.table("household").select("household_id", "head_name", "house_code", "moo")
    line, window = definitions.income_line, definitions.visited_within_days
    conditions = {
        "below": [_.income_per_member < line], "at_or_above": [_.income_per_member >= line],
        "recent": [_.days_since_visit <= window],
        "overdue": [_.days_since_visit.isnull() | (_.days_since_visit > window)],
    }
    rows = status(con, filters, *conditions.get(income, []), *conditions.get(recency, []))
    if search.strip():  # the names and house codes are read only for a search
        found = rows.join(people, "household_id")
        condition = search_condition(found, parse_search(search), viewer)
        if condition is not None:
            rows = rows.semi_join(found.filter(condition).select("household_id"),
                                  "household_id")
    order = {
        "household": [],
        "level": [_.level.asc(nulls_first=True), _.income_per_member.asc(nulls_first=True)],
        "income": [_.income_per_member.asc(nulls_first=False)],
        "visit": [_.days_since_visit.desc(nulls_first=True)],
    }[sort]
    # the rows shown first, then their unmet needs (read for those rows only)
    shown = rows.order_by([*order, _.household_id]).limit(limit).join(people, "household_id")
    shown = shown.left_join(unmet_needs(con, shown), "household_id").drop("household_id_right")
    return rows.count(), shown.order_by([*order, _.household_id]).select(*TABLE_COLUMNS)


def _sorted_needs(value: object) -> str:
    """``;``-separated need codes in the contract's order (the engine gives any order)."""
    codes = set(str(value).split(";")) if isinstance(value, str) and value else set()
    return ";".join(n for n in NEED_TYPES if n in codes)


def be_iso(value: object) -> str | None:
    """A sortable Buddhist-Era date, ``2563-09-15``."""
    if value is None or pd.isna(value):  # type: ignore[arg-type]
        return None
    day = pd.Timestamp(value)  # type: ignore[arg-type]
    return f"{day.year + BE_OFFSET}-{day.month:02d}-{day.day:02d}"


# --- the profile ------------------------------------------------------------------------------

VISIT_COLUMNS = ("visit_id", "visit_date", "round", "kind", "official_id", "members",
                 *(f"income_{s}" for s in INCOME_SOURCES), "income_total", "income_per_member",
                 "debt_formal", "debt_fund", "debt_informal", "saves", "land_tenure", "land_rai",
                 "level", "next_gaps", "needs", "note",
                 *(f"jpt_{i:02d}" for i in range(1, JPT_COUNT + 1)))
HOUSEHOLD_COLUMNS = ("household_id", "head_name", "head_citizen_id", "phone", "house_code",
                     "moo", "tambon_code", "amphoe_code", "members", "enrolled_on")
"""What the profile shows of the household record (no house number, no coordinates: the
profile needs the village, not the house)."""


@dataclass(frozen=True)
class HouseholdProfile:
    """One household's story; every frame already protected for the viewer."""

    household: pd.DataFrame  # one row, HOUSEHOLD_COLUMNS
    visits: pd.DataFrame  # VISIT_COLUMNS, oldest first
    indicators: pd.DataFrame  # indicator, name_th, name_en, baseline, latest (bool/None)
    needs: pd.DataFrame  # need, first_noted, at_baseline, needed_now, delivered, ... unmet
    assistance: pd.DataFrame  # assistance_id, date, type, agency_code, partner, ..., status
    pairings: pd.DataFrame  # official_id, official_name, position, agency_code, phone, ...

    @property
    def record(self) -> dict[str, Any]:
        return self.household.iloc[0].to_dict()

    @property
    def latest(self) -> dict[str, Any] | None:
        return None if self.visits.empty else self.visits.iloc[-1].to_dict()

    @property
    def baseline(self) -> dict[str, Any] | None:
        return None if self.visits.empty else self.visits.iloc[0].to_dict()

    @property
    def gaps(self) -> tuple[str, ...]:
        """What keeps the household from its next step at the latest visit (gap codes)."""
        latest = self.latest
        codes = str((latest or {}).get("next_gaps") or "")
        return tuple(c for c in codes.split(";") if c)

    @property
    def unmet(self) -> tuple[str, ...]:
        return tuple(self.needs.loc[self.needs["unmet"], "need"]) if len(self.needs) else ()

    @property
    def current_buddy(self) -> dict[str, Any] | None:
        open_rows = self.pairings[self.pairings["end_date"].isna()]
        return None if open_rows.empty else open_rows.iloc[-1].to_dict()


def household_profile(con: BaseBackend, filters: Filters, definitions: Definitions,
                      household_id: str, viewer: Viewer) -> HouseholdProfile | None:
    """The whole story of one household (``None`` if there is no such household). The shared
    filters do not apply (a profile is the household's own, from enrolment to its last visit),
    but the viewer's area does: a household outside it is not found.
    ``definitions`` is taken so the cache follows a change of the definitions file."""
    _require_rows(viewer)
    if filters.within_amphoe or filters.within_agency:  # the viewer's area: nothing outside
        area = Filters(within_amphoe=filters.within_amphoe, within_agency=filters.within_agency)
        if not status(con, area).filter(_.household_id == household_id).count().execute():
            return None
    household = con.table("household")
    record = household.filter(household.household_id == household_id).select(
        *HOUSEHOLD_COLUMNS).execute()
    if record.empty:
        return None
    visits = con.table("visit_status")
    visits = visits.filter(visits.household_id == household_id).order_by(
        ["visit_date", "visit_id"]).select(*VISIT_COLUMNS).execute()
    help_rows = con.table("assistance")
    help_rows = help_rows.filter(help_rows.household_id == household_id).order_by(
        ["date", "assistance_id"]).select("assistance_id", "date", "type", "agency_code",
                                          "partner", "provider_kind", "value_baht",
                                          "status").execute()
    pairing = con.table("pairing")
    official = con.table("official").select(
        "official_id", official_name=_.name, position=_.position, agency_code=_.agency_code,
        phone=_.phone)
    pairings = pairing.filter(pairing.household_id == household_id).select(
        "official_id", "start_date", "end_date").join(official, "official_id").order_by(
        ["start_date", "official_id"]).execute()
    return HouseholdProfile(
        household=protect(record, viewer),
        visits=protect(visits, viewer),
        indicators=indicator_changes(visits),
        needs=needs_against_help(visits, help_rows),
        assistance=protect(help_rows, viewer),
        pairings=protect(pairings, viewer),
    )


# --- the profile, shaped for people (pure; the page lays these out) ---------------------------


def indicator_changes(visits: pd.DataFrame) -> pd.DataFrame:
    """The 31 จปฐ. indicators at baseline and at the latest visit (True pass, False fail,
    None not applicable or not recorded), failures first: failing now, then failing at
    baseline only, then passing, then not applicable."""
    titles = indicator_table()
    out = titles[["indicator", "name_th", "name_en"]].copy()
    if visits.empty:
        out["baseline"] = None
        out["latest"] = None
    else:
        first, last = visits.iloc[0], visits.iloc[-1]
        out["baseline"] = [_flag(first.get(f"jpt_{i:02d}")) for i in out["indicator"]]
        out["latest"] = [_flag(last.get(f"jpt_{i:02d}")) for i in out["indicator"]]

    def rank(row: pd.Series) -> int:
        if row["latest"] is False:
            return 0
        if row["baseline"] is False:
            return 1
        return 2 if row["latest"] is True else 3

    out["order"] = out.apply(rank, axis=1)
    out = out.sort_values(["order", "indicator"], kind="stable").drop(columns="order")
    return out.reset_index(drop=True)


def _flag(value: object) -> bool | None:
    if value is None or pd.isna(value):  # type: ignore[arg-type]
        return None
    return bool(value)


def need_codes(value: object) -> list[str]:
    if not isinstance(value, str):
        return []
    return [c.strip() for c in value.split(";") if c.strip()]


def needs_against_help(visits: pd.DataFrame, help_rows: pd.DataFrame) -> pd.DataFrame:
    """One row per kind of need or help the household has: when the need was first noted,
    whether it was noted at baseline and at the latest visit, help delivered (count and
    baht), planned and cancelled. ``unmet``: needed at the latest visit, with no help of that
    kind ever delivered."""
    first_noted: dict[str, object] = {}
    for needs, day in zip(visits["needs"], visits["visit_date"], strict=True):
        for code in need_codes(needs):
            first_noted.setdefault(code, day)
    at_baseline = set(need_codes(visits.iloc[0]["needs"])) if len(visits) else set()
    needed_now = set(need_codes(visits.iloc[-1]["needs"])) if len(visits) else set()
    kinds = [k for k in NEED_TYPES if k in first_noted or k in set(help_rows["type"])]
    kinds += sorted(k for k in first_noted if k not in NEED_TYPES)
    rows = []
    for kind in kinds:
        same = help_rows[help_rows["type"] == kind]
        delivered = same[same["status"] == "delivered"]
        rows.append({
            "need": kind,
            "first_noted": first_noted.get(kind),
            "at_baseline": kind in at_baseline,
            "needed_now": kind in needed_now,
            "delivered": len(delivered),
            "delivered_baht": float(delivered["value_baht"].fillna(0).sum()),
            "planned": int((same["status"] == "planned").sum()),
            "cancelled": int((same["status"] == "cancelled").sum()),
            "unmet": kind in needed_now and delivered.empty,
        })
    columns = ["need", "first_noted", "at_baseline", "needed_now", "delivered",
               "delivered_baht", "planned", "cancelled", "unmet"]
    frame = pd.DataFrame(rows, columns=columns)
    # unmet needs first, then what is still needed, then the rest, each in the contract order
    frame = frame.sort_values(["unmet", "needed_now"], ascending=False, kind="stable")
    return frame.astype({"unmet": bool, "needed_now": bool, "at_baseline": bool}).reset_index(
        drop=True)
