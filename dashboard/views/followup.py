"""What the Follow-up page shows of the follow-up queries: the list shaped for people (reasons
and statuses as words, addresses, dates in พ.ศ.), its groups, and a case's history. The rows
arrive protected for the viewer (:mod:`dashboard.queries.followup`); nothing here unmasks or
reads the store."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashboard.views.charts import LEVEL_COLOURS, figure
from dashboard.views.coverage import short_agency_names
from dashboard.views.households import need_labels
from domain.definitions import Definitions
from domain.i18n import t
from domain.reference import agency_names, amphoe_names, tambon_names
from domain.thai_dates import format_date, format_datetime, format_quarter

GROUPS = ("", "buddy", "agency", "tambon")
"""What the list may be grouped by ("" = not grouped)."""
LOCAL_TIME = dt.timedelta(hours=7)
"""Cases are stamped in UTC; people in Khon Kaen read Indochina time (UTC+7)."""
SHOWN = ("household_id", "head_name", "urgency", "status", "due_date", "reasons", "next_action",
         "buddy", "address", "days_since_visit", "case_agency", "needs")
"""The list's columns, in order: who, how urgent, whether it is in hand and by when, why,
what is planned, then where (the status and due date in view on a 1,280-pixel screen)."""


def reason_words(codes: object, definitions: Definitions, lang: str) -> str:
    """``no_buddy;fell_back`` -> "ไม่มีคู่เสี่ยว, ระดับลดลงจากครั้งก่อน" (most urgent first)."""
    if not isinstance(codes, str) or not codes:
        return ""
    days = definitions.followup.no_visit_after_days
    return ", ".join(t(f"followup.reason.{code}", lang, days=days)
                     for code in codes.split(";") if code)


def status_word(status: object, lang: str) -> str:
    return t(f"followup.status.{status if isinstance(status, str) and status else 'none'}",
             lang)


def _each(values: pd.Series, shape: Callable[[Any], str]) -> pd.Series:
    """``shape`` of every value, worked out once per distinct value: a list of thousands of
    households holds a few dozen reason sets, dates and places (0.9 s became a few ms).
    A missing value is shaped from ``None``."""
    known = values.notna()
    shaped = values[known].map({v: shape(v) for v in values[known].drop_duplicates()})
    out = shaped.reindex(values.index).astype(object)
    return out if known.all() else out.where(known, shape(None))


def addresses(rows: pd.DataFrame, lang: str) -> pd.Series:
    """House number, moo, tambon and amphoe, as a buddy writes it on a visit list."""
    tambon, amphoe = tambon_names(lang), amphoe_names(lang)
    places = _each(rows["tambon_code"].fillna("") + "|" + rows["amphoe_code"].fillna(""),
                   lambda key: t("followup.address_place", lang,
                                 tambon=tambon.get(key.split("|")[0], "–"),
                                 amphoe=amphoe.get(key.split("|")[1], "–")))
    moo = _each(rows["moo"], lambda m: "" if pd.isna(m) else f"{t('followup.moo', lang)} {int(m)}")
    house = rows["house_no"].where(rows["house_no"].map(lambda h: isinstance(h, str)), "")
    joined = house.astype(str) + " " + moo.astype(str) + " " + places.astype(str)
    return joined.str.replace(r"\s+", " ", regex=True).str.strip()


def buddy_labels(rows: pd.DataFrame, lang: str) -> pd.Series:
    """"Name (O1)", the ID alone when there is no name, or "(no buddy)"."""
    ids, names = rows["official_id"], rows["official_name"]
    named = names.where(names.map(lambda n: isinstance(n, str) and bool(n)), None)
    label = (named + " (" + ids + ")").fillna(ids)
    return label.where(ids.map(lambda i: isinstance(i, str)), t("followup.no_buddy_group", lang))


def _day(value: object, lang: str) -> str:
    if value is None or pd.isna(value):  # type: ignore[arg-type]
        return ""
    return format_date(pd.Timestamp(value).date(), lang)  # type: ignore[arg-type]


def list_for_display(rows: pd.DataFrame, definitions: Definitions, lang: str,
                     group: str = "") -> pd.DataFrame:
    """The list as shown and downloaded (keys of :data:`SHOWN`, plus the ``group`` column
    first when grouped), ordered by group, then as ranked by the query."""
    agencies = short_agency_names(lang)  # a table column: the short names
    tambon = tambon_names(lang)
    no_agency = t("followup.no_agency_group", lang)
    out = pd.DataFrame({
        "household_id": rows["household_id"],
        "head_name": rows["head_name"],
        "address": addresses(rows, lang),
        "buddy": buddy_labels(rows, lang),
        "agency": _each(rows["agency_code"], lambda c: agencies.get(c, no_agency)),
        "tambon": _each(rows["tambon_code"], lambda c: tambon.get(c, c) if isinstance(c, str)
                        else ""),
        "reasons": _each(rows["reasons"], lambda c: reason_words(c, definitions, lang)),
        "urgency": rows["urgency"].astype("Int64"),
        "days_since_visit": rows["days_since_visit"].astype("Int64"),
        "status": _each(rows["case_status"], lambda s: status_word(s, lang)),
        "next_action": rows["next_action"].fillna(""),
        "case_agency": _each(rows["case_agency"], lambda c: agencies.get(c, "")),
        "due_date": _each(rows["due_date"], lambda d: _day(d, lang)),
        "needs": _each(rows["unhelped_needs"], lambda c: need_labels(c, lang)),
    })
    columns = list(SHOWN)
    if group:  # the groups most in need first (as in :func:`group_summary`), then as ranked
        out = out.assign(group=out[group])
        size = out.groupby("group")["group"].transform("size")
        top = out.groupby("group")["urgency"].transform("max")
        out = out.assign(_top=top, _size=size).sort_values(
            ["_top", "_size", "group"], ascending=[False, False, True], kind="stable")
        columns = ["group", *[c for c in columns if c != group]]
    return out[columns].rename(columns=headers(lang, group)).reset_index(drop=True)


def summary_line(shown: pd.DataFrame, household_id: str, lang: str) -> str:
    """Who the household is, where, and why it is listed, from the list as shown ("" when
    it is not in the list)."""
    heads = headers(lang)
    listed = shown[shown[heads["household_id"]] == household_id]
    if listed.empty:
        return ""
    row = listed.iloc[0]
    return " · ".join(str(row[heads[c]]) for c in ("head_name", "address", "reasons")
                      if row[heads[c]])


def headers(lang: str, group: str = "") -> dict[str, str]:
    heads = {c: t(f"followup.col.{c}", lang) for c in (*SHOWN, "agency", "tambon")}
    heads["household_id"] = t("followup.col.household_id", lang)
    if group:
        heads["group"] = t(f"followup.group_{group}", lang)
    return heads


def group_summary(shown: pd.DataFrame, group: str, lang: str) -> pd.DataFrame:
    """Per group of the shown list (in its order: the most urgent first): households, those
    with an overdue action, the highest urgency."""
    heads = headers(lang, group)
    overdue = t("followup.reason.action_overdue", lang)
    frame = pd.DataFrame({
        "group": shown[heads["group"]],
        "overdue": shown[heads["reasons"]].str.contains(overdue, regex=False),
        "urgency": shown[heads["urgency"]]})
    summary = frame.groupby("group", sort=False).agg(
        households=("group", "size"), overdue=("overdue", "sum"), urgency=("urgency", "max"))
    return summary.reset_index().rename(columns={
        "group": heads["group"], "households": t("followup.households", lang),
        "overdue": t("followup.overdue_in_group", lang),
        "urgency": t("followup.top_urgency", lang)})


def history_for_display(history: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Every version of a case, the newest first, with who changed it and when (local
    time)."""
    agencies = agency_names(lang)
    out = pd.DataFrame({
        "version": history["version"].astype("Int64"),
        "changed_at": [format_datetime(pd.Timestamp(v).to_pydatetime() + LOCAL_TIME, lang)
                       for v in history["changed_at"]],
        "changed_by": history["changed_by"],
        "status": [status_word(s, lang) for s in history["status"]],
        "next_action": history["next_action"].fillna(""),
        "case_agency": [agencies.get(c, "") if isinstance(c, str) else "" for c in
                        history["agency_code"]],
        "due_date": [_day(d, lang) for d in history["due_date"]],
        "note": history["note"].fillna(""),
        "close_reason": history["close_reason"].fillna(""),
    })
    return out.rename(columns={c: t(f"followup.col.{c}", lang) for c in out.columns})


def local_time(moment: dt.datetime | None, lang: str) -> str:
    return format_datetime(None if moment is None else moment + LOCAL_TIME, lang)


def cases_quarter_chart(frame: pd.DataFrame, lang: str) -> go.Figure:
    """Cases opened, resolved and overdue per fiscal quarter (``cases_by_quarter``), as
    grouped bars: what the deputy governor asks of follow-up over time."""
    quarters = [format_quarter(int(q), lang) for q in frame["q_idx"]]
    series = (("opened", LEVEL_COLOURS[2]), ("resolved", LEVEL_COLOURS[3]),
              ("overdue", LEVEL_COLOURS[0]))
    return figure(
        [{"type": "bar", "name": t(f"followup.quarter_{name}", lang), "x": quarters,
          "y": frame[name].tolist(), "marker": {"color": colour}, "text": frame[name].tolist(),
          "textposition": "outside",
          "hovertemplate": "%{x}: %{y:,}<extra>%{fullData.name}</extra>"}
         for name, colour in series],
        height=380, barmode="group",
        yaxis={"rangemode": "tozero", "tickformat": ",d", "tick0": 0,  # whole cases only
               "dtick": max(1, math.ceil(int(frame[[s for s, _ in series]].max().max()) / 5))},
        legend={"orientation": "h", "y": -0.18})
