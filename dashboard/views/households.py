"""What the Households page shows of the household queries: the table and the profile shaped
for people (translated headers, levels by name, dates in พ.ศ., needs against help), and the
profile's heading and cards. The rows arrive protected for the viewer
(:mod:`dashboard.queries.households`); nothing here unmasks or reads the store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from dashboard.queries.households import TABLE_COLUMNS, HouseholdProfile, need_codes
from dashboard.views.coverage import short_agency_names
from domain.definitions import Definitions
from domain.i18n import DEFAULT_LANGUAGE, t
from domain.reference import agency_table, amphoe_table, tambon_table
from domain.thai_dates import format_date


def profile_query(household_id: str, lang: str) -> str:
    """The URL query of a link that opens this household's profile (and keeps the language)."""
    params = {"household": household_id} | ({"lang": lang} if lang != DEFAULT_LANGUAGE else {})
    return urlencode(params)


def level_label(level: object, names: Mapping[int, str]) -> str | None:
    """``2 พอเพียง``: the number first, so the column sorts by level."""
    if level is None or pd.isna(level):  # type: ignore[arg-type]
        return None
    return f"{int(level)} {names.get(int(level), '')}".strip()  # type: ignore[arg-type]


def need_labels(codes: object, lang: str) -> str:
    if not isinstance(codes, str) or not codes:
        return ""
    return ", ".join(t(f"hh_need.{code}", lang) for code in codes.split(";") if code)


def table_columns(lang: str) -> dict[str, str]:
    """Screen (and download) header of each table column."""
    return {col: t(f"hh_col.{col}", lang) for col in (*TABLE_COLUMNS, "income_vs_line",
                                                       "level_change")}


DEFAULT_COLUMNS = ("household_id", "head_name", "tambon_code", "level", "income_vs_line",
                   "days_since_visit", "agency_code", "unmet_needs")
"""The table's columns shown at first: who, where, how they stand, when last seen, by whom,
what they still need; they fit at 1,280 px. The others are a click away."""


def table_for_display(rows: pd.DataFrame, lang: str, level_names: Mapping[int, str],
                      income_line: float) -> pd.DataFrame:
    """The table as shown and downloaded: names for codes, levels as ``2 พอเพียง``, the
    change since baseline, income against the line (1.0 = on the line), dates in BE."""
    amphoe = dict(zip(amphoe_table()["amphoe_code"], amphoe_table()[_name(lang)], strict=True))
    tambon = dict(zip(tambon_table()["tambon_code"], tambon_table()[_name(lang)], strict=True))
    agency = short_agency_names(lang)  # the short form: the column stays narrow
    heads = table_columns(lang)
    change = (rows["level"].astype("Float64") - rows["baseline_level"].astype("Float64"))
    out = pd.DataFrame({
        heads["household_id"]: rows["household_id"],
        heads["head_name"]: rows["head_name"],
        heads["amphoe_code"]: rows["amphoe_code"].map(lambda c: amphoe.get(c, c)),
        heads["tambon_code"]: rows["tambon_code"].map(lambda c: tambon.get(c, c)),
        heads["moo"]: rows["moo"].astype("Int64"),
        heads["level"]: rows["level"].map(lambda v: level_label(v, level_names)),
        heads["level_change"]: change.round().astype("Int64"),
        heads["income_per_member"]: rows["income_per_member"].round().astype("Int64"),
        heads["income_vs_line"]: (rows["income_per_member"] / income_line).round(3),
        heads["last_visit_date"]: [
            format_date(pd.Timestamp(d).date(), lang) if d is not None and not pd.isna(d)
            else None for d in rows["last_visit_date"]],
        heads["days_since_visit"]: rows["days_since_visit"].astype("Int64"),
        heads["agency_code"]: rows["agency_code"].map(
            lambda c: agency.get(c, c) if isinstance(c, str) else None),
        heads["unmet_needs"]: rows["unmet_needs"].map(lambda c: need_labels(c, lang)),
        heads["members"]: rows["members"].astype("Int64"),
        heads["house_code"]: rows["house_code"],
    })
    return out.reset_index(drop=True)


def _name(lang: str) -> str:
    return "name_th" if lang == "th" else "name_en"


def flag_text(value: bool | None, lang: str) -> str:
    if value is None:
        return t("households.flag_na", lang)
    return t("households.flag_pass" if value else "households.flag_fail", lang)


def indicators_for_display(indicators: pd.DataFrame, lang: str) -> pd.DataFrame:
    return pd.DataFrame({
        "#": indicators["indicator"],
        t("households.jpt_title", lang): indicators[_name(lang)],
        t("households.at_baseline", lang): [flag_text(v, lang) for v in indicators["baseline"]],
        t("households.at_latest", lang): [flag_text(v, lang) for v in indicators["latest"]],
    })


def needs_for_display(needs: pd.DataFrame, lang: str) -> pd.DataFrame:
    def state(row: pd.Series) -> str:
        if row["unmet"]:
            return t("households.need_unmet", lang)
        if row["delivered"]:
            return t("households.need_helped", lang)
        if row["planned"]:
            return t("households.need_planned", lang)
        return t("households.need_not_now", lang)

    return pd.DataFrame({
        t("households.need", lang): [t(f"hh_need.{k}", lang) for k in needs["need"]],
        t("households.state", lang): [state(r) for _, r in needs.iterrows()],
        t("households.first_noted", lang): [
            format_date(pd.Timestamp(d).date(), lang) if d is not None and not pd.isna(d)
            else "–" for d in needs["first_noted"]],
        t("households.delivered", lang): needs["delivered"].astype(int),
        t("households.delivered_baht", lang): needs["delivered_baht"].round().astype(int),
    })


def _provider(row: Mapping[str, Any], agency: Mapping[str, str]) -> str:
    code = row.get("agency_code")
    if isinstance(code, str) and code:
        return agency.get(code, code)
    partner = row.get("partner")
    return partner if isinstance(partner, str) else "–"


def assistance_for_display(assistance: pd.DataFrame, lang: str) -> pd.DataFrame:
    agency = dict(zip(agency_table()["agency_code"], agency_table()[_name(lang)], strict=True))
    return pd.DataFrame({
        t("households.date", lang): [format_date(pd.Timestamp(d).date(), lang)
                                     for d in assistance["date"]],
        t("households.need", lang): [t(f"hh_need.{k}", lang) for k in assistance["type"]],
        t("households.value", lang): assistance["value_baht"].round().astype("Int64"),
        t("households.status", lang): [t(f"hh_status.{s}", lang) for s in assistance["status"]],
        t("households.provider", lang): [_provider(r, agency)
                                         for r in assistance.to_dict("records")],
    })


def pairings_for_display(pairings: pd.DataFrame, lang: str) -> pd.DataFrame:
    agency = dict(zip(agency_table()["agency_code"], agency_table()[_name(lang)], strict=True))

    def day(value: object) -> str:
        if value is None or pd.isna(value):  # type: ignore[arg-type]
            return t("households.still_paired", lang)
        return format_date(pd.Timestamp(value).date(), lang)  # type: ignore[arg-type]

    return pd.DataFrame({
        t("households.official", lang): pairings["official_name"],
        t("households.start", lang): [day(d) for d in pairings["start_date"]],
        t("households.end", lang): [day(d) for d in pairings["end_date"]],
        t("households.agency", lang): [agency.get(c, c) for c in pairings["agency_code"]],
        t("households.position", lang): pairings["position"],
        t("households.phone", lang): pairings["phone"],
    })


def visits_for_display(visits: pd.DataFrame, lang: str, level_names: Mapping[int, str],
                       ) -> pd.DataFrame:
    return pd.DataFrame({
        t("households.date", lang): [format_date(pd.Timestamp(d).date(), lang)
                                     for d in visits["visit_date"]],
        t("households.round", lang): visits["round"].astype(int),
        t("households.visited_by", lang): visits["official_id"],
        t("hh_col.members", lang): visits["members"].astype(int),
        t("hh_col.income_per_member", lang): visits["income_per_member"].round().astype(
            "Int64"),
        t("hh_col.level", lang): [level_label(v, level_names) for v in visits["level"]],
        t("households.needs", lang): [need_labels(";".join(need_codes(v)), lang)
                                      for v in visits["needs"]],
        t("households.note", lang): visits["note"].fillna(""),
    })


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def markdown_text(value: object) -> str:
    """Imported text (names, notes) made safe to show inside markdown: no link, no format;
    a missing value shows as a dash."""
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return "–"
    return _MARKDOWN_SPECIALS.sub(r"\\\1", str(value))


@dataclass(frozen=True)
class Card:
    """One KPI card of the profile: ``tone`` "normal" colours the delta (up green, down red),
    "off" leaves it grey and without an arrow."""

    label: str
    value: str
    delta: str | None = None
    tone: str = "off"
    help: str | None = None


def _day(value: object, lang: str) -> str:
    if value is None or pd.isna(value):  # type: ignore[arg-type]
        return "–"
    return format_date(pd.Timestamp(value).date(), lang)  # type: ignore[arg-type]


def profile_heading(profile: HouseholdProfile, lang: str) -> tuple[str, str]:
    """Markdown title (id and head's name) and caption (village, members, enrolment, then
    the identifiers), every imported value escaped and already protected."""
    record = profile.record
    tambon = dict(zip(tambon_table()["tambon_code"], tambon_table()[_name(lang)], strict=True))
    amphoe = dict(zip(amphoe_table()["amphoe_code"], amphoe_table()[_name(lang)], strict=True))
    title = f"#### {markdown_text(record['household_id'])} · {markdown_text(record['head_name'])}"
    caption = t("households.place", lang, moo=markdown_text(record["moo"]),
                members=markdown_text(record["members"]),
                tambon=tambon.get(record["tambon_code"], "–"),
                amphoe=amphoe.get(record["amphoe_code"], "–"),
                enrolled=_day(record["enrolled_on"], lang))
    identity = t("households.identity", lang, **{
        k: markdown_text(record[k]) for k in ("head_citizen_id", "phone", "house_code")})
    return title, f"{caption}  \n{identity}"


def profile_cards(profile: HouseholdProfile, lang: str, level_names: Mapping[int, str],
                  income_line: float) -> list[Card]:
    """Level now (and the steps since baseline), income per member against the line, the
    last visit, the current buddy and agency. The profile must have a visit."""
    latest, baseline, buddy = profile.latest, profile.baseline, profile.current_buddy
    assert latest is not None and baseline is not None
    level, base = int(latest["level"]), int(baseline["level"])
    income = float(latest["income_per_member"] or 0)
    agency = dict(zip(agency_table()["agency_code"], agency_table()[_name(lang)], strict=True))
    return [
        Card(t("households.level_now", lang), level_names[level],
             t("households.level_delta", lang, n=f"{level - base:+d}"),
             "normal" if level != base else "off",
             t("households.level_help", lang, base=level_names[base],
               date=_day(baseline["visit_date"], lang))),
        Card(t("households.income_now", lang), f"{income:,.0f}",
             t("households.vs_line", lang, diff=f"{income - income_line:+,.0f}"), "normal"),
        Card(t("households.last_visit", lang), _day(latest["visit_date"], lang),
             t("households.visits_n", lang, n=len(profile.visits))),
        Card(t("households.buddy", lang),
             str(buddy["official_name"]) if buddy else t("households.no_buddy", lang),
             agency.get(buddy["agency_code"], buddy["agency_code"]) if buddy else None),
    ]


def gap_lines(profile: HouseholdProfile, definitions: Definitions, lang: str) -> list[str]:
    """What keeps the household from its next step, in words with its own figures."""
    from domain.targets import describe_gap

    return [describe_gap(code, definitions, lang, profile.latest) for code in profile.gaps]
