"""Follow-up: the households that need action, why, how urgently, and their cases. No
Streamlit.

A household needs action, as of the selected quarter, for any of these reasons (thresholds
in the definitions file's ``[followup]``; see docs/followup.md):

- ``no_recent_visit``: no visit within ``no_visit_after_days`` of the as-of date (or none);
- ``fell_back``: its level at the latest visit is lower than at the visit before;
- ``need_unhelped``: a need recorded at the latest visit, first recorded more than
  ``need_unhelped_after_days`` before the as-of date, with no help of that kind delivered;
- ``missed_rounds``: the Data quality check's run of missed follow-up rounds;
- ``no_buddy``: no pairing open at the as-of date;
- ``action_overdue``: its case is open or in progress and the next action's due date is
  before ``today`` (a case's dates are real dates, not the data's).

Urgency is the sum of the reasons' weights; the list is ranked by it, then by days since the
last visit (never visited first), then by household. A household with a case still being
worked on is listed even when no reason holds any more, so that its case can be closed.

Rows leave this module through :func:`dashboard.store.privacy.protect`. The ``cases``
argument of the reads is the cases' version (:func:`dashboard.store.cases_version`): it is
not used in the expression, but a kept result is keyed by it, so every save shows at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import ibis
import pandas as pd
from ibis import _
from ibis.backends import BaseBackend

from dashboard.queries.status import selected_quarter, status_at
from dashboard.store.privacy import NotAllowedError, Viewer, protect
from domain.cases import ACTIVE
from domain.definitions import FOLLOWUP_REASONS, Definitions
from domain.filters import Filters
from domain.thai_dates import quarter_bounds, quarter_indices
from loaders.contracts import NEED_TYPES

LIST_LIMIT = 5_000
"""Households sent to the browser at most (the most urgent); the caption says how many."""
LIST_COLUMNS = ("household_id", "head_name", "house_no", "moo", "tambon_code", "amphoe_code",
                "official_id", "official_name", "agency_code", "level", "previous_level",
                "last_visit_date", "days_since_visit", "rounds_missed", "unhelped_needs",
                "reasons", "urgency", "case_status", "next_action", "case_agency",
                "due_date", "case_version")


def _needing_action(con: BaseBackend, filters: Filters, definitions: Definitions,
                    today: dt.date) -> ibis.Table:
    """One row per household in the filters that has a reason or a case being worked on:
    a boolean ``r_<reason>`` per reason and its ``urgency``."""
    quarter = selected_quarter(con, filters)
    rules = definitions.followup
    rows = status_at(con, filters, quarter).select(
        "household_id", "amphoe_code", "tambon_code", "official_id", "agency_code", "level",
        "previous_level", "last_visit_date", "days_since_visit", "paired")
    needs = con.table("need_unhelped").filter(_.q_idx == quarter).select(
        "household_id", "unhelped_needs")  # built at import with the definitions
    missed = con.table("quality_finding").filter(
        _.check == "missed_rounds", _.q_idx == quarter).select("household_id", "rounds_missed")
    case = con.table("followup_case").select(
        "household_id", "next_action", "due_date", case_status="status",
        case_agency="agency_code", case_version="version")
    table = (rows.left_join(needs, rows.household_id == needs.household_id)
             .left_join(missed, rows.household_id == missed.household_id)
             .left_join(case, rows.household_id == case.household_id)
             .select(rows, needs.unhelped_needs, missed.rounds_missed,
                     *(case[c] for c in case.columns if c != "household_id")))
    active = table.case_status.isin(list(ACTIVE)).fill_null(False)
    flags = {
        "action_overdue": active & (table.due_date < ibis.literal(today)).fill_null(False),
        "fell_back": (table.level < table.previous_level).fill_null(False),
        "no_buddy": ~table.paired.fill_null(False),
        "need_unhelped": table.unhelped_needs.notnull(),
        "no_recent_visit": table.days_since_visit.isnull()
        | (table.days_since_visit > rules.no_visit_after_days),
        "missed_rounds": table.rounds_missed.notnull(),
    }
    urgency = sum((flags[r].ifelse(rules.weight(r), 0) for r in FOLLOWUP_REASONS),
                  ibis.literal(0))
    table = table.mutate(urgency=urgency.cast("int32"),
                         **{f"r_{r}": flag for r, flag in flags.items()})
    return table.filter((_.urgency > 0) | active)


@dataclass(frozen=True)
class FollowupList:
    rows: pd.DataFrame  # LIST_COLUMNS, protected for the viewer, the most urgent first
    total: int  # households needing action in the filters, before the row limit

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)


def followup_list(con: BaseBackend, filters: Filters, definitions: Definitions,
                  viewer: Viewer, today: dt.date, cases: str = "",
                  limit: int = LIST_LIMIT) -> FollowupList:
    """The households needing action in the filters, ranked by urgency, with their reasons
    (``reasons``: codes of :data:`FOLLOWUP_REASONS` joined by ``;``, most urgent first) and
    their case; cut at ``limit`` rows."""
    if not viewer.sees_rows:
        raise NotAllowedError(viewer.role)
    # the count rides along with the rows (one pass of the engine, not two)
    table = _needing_action(con, filters, definitions, today).mutate(
        total=_.household_id.count().over(ibis.window()))
    order = [_.urgency.desc(), _.days_since_visit.desc(nulls_first=True), _.household_id]
    shown = table.order_by(order).limit(limit)
    people = con.table("household").select("household_id", "head_name", "house_no", "moo")
    officials = con.table("official").select("official_id", official_name=_.name)
    shown = shown.join(people, "household_id").left_join(officials, "official_id").drop(
        "official_id_right")
    frame = shown.order_by(order).execute()
    total = int(frame["total"].iloc[0]) if len(frame) else 0
    frame["reasons"] = [
        ";".join(r for r in FOLLOWUP_REASONS if row[f"r_{r}"])
        for row in frame[[f"r_{r}" for r in FOLLOWUP_REASONS]].to_dict("records")]
    frame["unhelped_needs"] = frame["unhelped_needs"].map(_in_contract_order)
    frame = frame[list(LIST_COLUMNS)].reset_index(drop=True)
    return FollowupList(rows=protect(frame, viewer), total=total)


def _in_contract_order(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    codes = set(value.split(";"))
    return ";".join([n for n in NEED_TYPES if n in codes]
                    + sorted(c for c in codes if c not in NEED_TYPES))


def reason_counts(con: BaseBackend, filters: Filters, definitions: Definitions,
                  today: dt.date, cases: str = "") -> dict[str, Any]:
    """Aggregates only (any role): households needing action and, per reason, how many have
    it (a household with several reasons counts under each)."""
    table = _needing_action(con, filters, definitions, today)
    counts = table.aggregate(
        households=_.count(),
        **{r: _[f"r_{r}"].ifelse(1, 0).sum() for r in FOLLOWUP_REASONS}).execute()
    row = counts.iloc[0]
    return {name: int(0 if pd.isna(row[name]) else row[name])
            for name in ("households", *FOLLOWUP_REASONS)}


def cases_by_place(con: BaseBackend, filters: Filters, today: dt.date, cases: str = "",
                   by: str = "amphoe_code") -> pd.DataFrame:
    """Aggregates (any role): per amphoe (or tambon) of the households in the filters that
    have a case, ``open_cases`` (open or in progress), ``overdue`` (of those, due before
    ``today``) and ``done`` (resolved or closed); the most overdue first. Reads the small
    case table only, so the Overview pays little for it."""
    if by not in ("amphoe_code", "tambon_code"):
        raise ValueError(f"cannot group by {by!r}")
    households = status_at(con, filters, selected_quarter(con, filters)).select(
        "household_id", by)
    case = con.table("followup_case").select("household_id", "status", "due_date")
    joined = households.join(case, "household_id")
    active = joined.status.isin(list(ACTIVE))
    out = joined.group_by(by).aggregate(
        open_cases=active.ifelse(1, 0).sum(),
        overdue=(active & (joined.due_date < ibis.literal(today)).fill_null(False)).ifelse(
            1, 0).sum(),
        done=(~active).ifelse(1, 0).sum(),
    ).execute()
    for column in ("open_cases", "overdue", "done"):
        out[column] = out[column].astype("int64")
    return out.sort_values(["overdue", "open_cases", by], ascending=[False, False, True],
                           ignore_index=True)


QUARTER_COLUMNS = ("q_idx", "opened", "resolved", "overdue")


def cases_by_quarter(con: BaseBackend, filters: Filters, today: dt.date,
                     cases: str = "") -> pd.DataFrame:
    """Aggregates (any role), per Thai fiscal quarter from the first case to ``today``'s, for
    the households in the filters: cases ``opened`` (first saved), ``resolved`` (moved to
    resolved or closed from open or in progress, or first saved so) and ``overdue`` at the
    quarter's end (or today, for the quarter running): open or in progress, due before it.
    Dates here are the cases' own (when they were saved), not the data's."""
    households = status_at(con, filters, selected_quarter(con, filters)).select("household_id")
    history = con.table("followup_case_history").semi_join(households, "household_id")
    frame = history.select("household_id", "version", "status", "due_date",
                           "changed_at").execute()
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in QUARTER_COLUMNS})
    frame = frame.sort_values(["household_id", "version"], ignore_index=True)
    frame["day"] = pd.to_datetime(frame["changed_at"]).dt.date
    frame["due"] = pd.to_datetime(frame["due_date"]).dt.date
    before = frame.groupby("household_id")["status"].shift()
    frame["closing"] = ~frame["status"].isin(ACTIVE) & (before.isna() | before.isin(ACTIVE))
    rows = []
    for index in quarter_indices(min(frame["day"]), max(today, max(frame["day"]))):
        start, end = quarter_bounds(index)
        moment = min(end, today)
        inside = frame[(frame["day"] >= start) & (frame["day"] <= end)]
        state = frame[frame["day"] <= moment].groupby("household_id").tail(1)
        late = state["status"].isin(ACTIVE) & state["due"].map(
            lambda d, m=moment: d is not None and not pd.isna(d) and d < m)
        rows.append({"q_idx": index, "opened": int((inside["version"] == 1).sum()),
                     "resolved": int(inside["closing"].sum()), "overdue": int(late.sum())})
    return pd.DataFrame(rows, columns=list(QUARTER_COLUMNS)).astype("int64")
