"""Follow-up cases kept in the store: the current state of each household's case
(``followup_case``) and every version of it (``followup_case_history``).

Like the users and the audit log, imports never touch these tables and an undo leaves them
alone. Every save carries the version it was read at; a case changed meanwhile (by another
session, or another server of a shared store) is refused with :class:`CaseConflict`, which
holds the case as it is now, so nothing is silently overwritten. A save, its history row, the
cases' version in ``meta`` and its audit entry are written in one transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pandas as pd

from domain.cases import Case, CaseEdit
from loaders.store import CASE_COLUMNS, Store
from loaders.users import append_audit

CASES_VERSION = "cases_version"
"""The ``meta`` key changed by every save: what a kept list of cases is keyed by."""


class CaseConflict(RuntimeError):
    """The case changed since it was read: ``current`` is how it is now (``None``: it was
    made by someone else while this one was new)."""

    def __init__(self, current: Case | None) -> None:
        super().__init__("the case changed since it was read")
        self.current = current


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _date(value: Any) -> dt.date | None:
    if value is None or (not isinstance(value, dt.date) and pd.isna(value)):
        return None
    return value.date() if isinstance(value, dt.datetime) else value


def _case(row: tuple[Any, ...]) -> Case:
    values = dict(zip(CASE_COLUMNS, row, strict=True))
    return Case(
        household_id=values["household_id"], status=values["status"],
        next_action=values["next_action"] or "", agency_code=values["agency_code"] or "",
        due_date=_date(values["due_date"]), note=values["note"] or "",
        close_reason=values["close_reason"] or "", version=int(values["version"]),
        opened_at=values["opened_at"], changed_at=values["changed_at"],
        changed_by=values["changed_by"] or "")


def read_case(store: Store, household_id: str) -> Case | None:
    """The household's case as it is now, or ``None`` when it has none."""
    rows = store.execute("SELECT * FROM followup_case WHERE household_id = ?", [household_id])
    return _case(rows[0]) if rows else None


def case_history(store: Store, household_id: str) -> pd.DataFrame:
    """Every version of the household's case, the newest first (CASE_COLUMNS)."""
    history = store.table("followup_case_history")
    return history.filter(history.household_id == household_id).order_by(
        history.version.desc()).execute()


def household_place(store: Store, household_id: str) -> tuple[str, str | None] | None:
    """(amphoe, agency of the buddy paired now) of a household, ``None`` if there is none:
    what decides whose area it is in."""
    rows = store.execute("""
        SELECT h.amphoe_code, (
            SELECT o.agency_code FROM pairing AS p
            JOIN official AS o ON o.official_id = p.official_id
            WHERE p.household_id = h.household_id AND p.end_date IS NULL
            ORDER BY p.start_date DESC, p.official_id DESC LIMIT 1)
        FROM household AS h WHERE h.household_id = ?""", [household_id])
    return (rows[0][0], rows[0][1]) if rows else None


def cases_version(store: Store) -> str:
    """Changes on every save of any case."""
    return store.meta(CASES_VERSION) or "0"


def save_case(store: Store, edit: CaseEdit, read_version: int, by: str,
              client: str = "") -> Case:
    """Write ``edit`` (already checked, :func:`domain.cases.checked_edit`) as the next version
    of the household's case, if the case is still at ``read_version`` (0: it had none), with
    its history row and an audit entry; else :class:`CaseConflict`. Returns the saved case."""
    with store.transaction():
        current = read_case(store, edit.household_id)
        if (current.version if current else 0) != read_version:
            raise CaseConflict(current)
        now = _now()
        saved = Case(**{**edit.__dict__, "version": read_version + 1,
                        "opened_at": current.opened_at if current else now,
                        "changed_at": now, "changed_by": by})
        row = {name: getattr(saved, name) for name in CASE_COLUMNS}
        store.execute("DELETE FROM followup_case WHERE household_id = ?", [edit.household_id])
        store.append_rows("followup_case", CASE_COLUMNS, [row])
        store.append_rows("followup_case_history", CASE_COLUMNS, [row])
        store.set_meta(CASES_VERSION, uuid.uuid4().hex[:12])
        append_audit(store, by, "case_edit",
                     f"household {edit.household_id} v{saved.version} {saved.status}", client)
    return saved
