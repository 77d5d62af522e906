"""A household's follow-up case: its status, next action, responsible agency, due date and
note, and the rules an edit must keep (checked before anything is written).

Statuses: ``open`` (needs action), ``in_progress`` (help arranged), ``resolved`` (done),
``closed`` (no further action, with a reason). Dates are Gregorian (CE) here and shown in the
Buddhist Era.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.reference import agency_table

STATUSES = ("open", "in_progress", "resolved", "closed")
ACTIVE = ("open", "in_progress")
"""Statuses of a case still being worked on: its due date can pass ("action overdue")."""
NOTE_MAX = 2_000
"""Characters a note may hold."""
ACTION_MAX = 300
"""Characters of the next action (a line on the buddy's visit list)."""
REASON_MAX = 300


class CaseError(ValueError):
    """An edit that cannot be saved: ``key`` names the message, ``params`` fill it."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key, self.params = key, params


@dataclass(frozen=True)
class CaseEdit:
    """What a user asks to save for one household's case."""

    household_id: str
    status: str = "open"
    next_action: str = ""
    agency_code: str = ""
    due_date: dt.date | None = None
    note: str = ""
    close_reason: str = ""


@dataclass(frozen=True)
class Case(CaseEdit):
    """A case as stored: an edit plus its version and who changed it when (UTC)."""

    version: int = 0
    opened_at: dt.datetime | None = None
    changed_at: dt.datetime | None = None
    changed_by: str = ""


def checked_edit(edit: CaseEdit, today: dt.date, saved: Case | None = None) -> CaseEdit:
    """``edit`` tidied (text stripped, agency upper-cased, a reason only when closed), or
    :class:`CaseError` naming what is wrong. A due date before ``today`` is refused when it
    is set or changed on a case still being worked on; one that has passed since it was set
    may stay (the case is then "action overdue")."""
    if edit.status not in STATUSES:
        raise CaseError("followup.bad_status", status=edit.status)
    note, action = edit.note.strip(), " ".join(edit.next_action.split())
    reason = " ".join(edit.close_reason.split())
    agency = edit.agency_code.strip().upper()
    if len(note) > NOTE_MAX:
        raise CaseError("followup.note_too_long", n=len(note), most=NOTE_MAX)
    if len(action) > ACTION_MAX:
        raise CaseError("followup.action_too_long", n=len(action), most=ACTION_MAX)
    if len(reason) > REASON_MAX:
        raise CaseError("followup.reason_too_long", n=len(reason), most=REASON_MAX)
    if agency and agency not in set(agency_table()["agency_code"]):
        raise CaseError("followup.unknown_agency", agency=agency)
    if edit.status == "closed" and not reason:
        raise CaseError("followup.reason_needed")
    changed_due = saved is None or saved.due_date != edit.due_date
    if (edit.due_date is not None and edit.due_date < today and changed_due
            and edit.status in ACTIVE):
        raise CaseError("followup.due_in_past", due=edit.due_date, today=today)
    return CaseEdit(household_id=edit.household_id, status=edit.status, next_action=action,
                    agency_code=agency, due_date=edit.due_date, note=note,
                    close_reason=reason if edit.status == "closed" else "")
