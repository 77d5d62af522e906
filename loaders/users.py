"""Users, their roles and areas, and the audit log, kept in the store.

Imports never touch these tables and an undo leaves them alone. The audit log is only ever
appended to: who opened whose profile, who downloaded personal data, who imported or undid
what, who changed a user, and every access refused.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from domain.access import User, UserError, checked_user
from domain.filters import Area
from loaders.store import AUDIT_COLUMNS, USER_COLUMNS, Store

ACTIONS = ("sign_in", "refused", "open_profile", "download_personal", "import", "undo",
           "user_add", "user_set", "user_remove", "case_edit", "mapping_save", "mapping_remove")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)  # UTC; microseconds keep the order


def _codes(value: object) -> tuple[str, ...]:
    return tuple(c for c in str(value or "").split(";") if c)


def _user(row: pd.Series) -> User:
    return User(email=row["email"], role=row["role"], name=row["name"] or "",
                area=Area(amphoe=_codes(row["amphoe"]), agency=_codes(row["agency"])))


def list_users(store: Store) -> pd.DataFrame:
    """Every user, by e-mail."""
    return store.table("app_user").order_by("email").execute()


def find_user(store: Store, email: str | None) -> User | None:
    if not email:
        return None
    rows = store.execute("SELECT * FROM app_user WHERE email = ?", [email.strip().lower()])
    if not rows:
        return None
    return _user(pd.Series(dict(zip(USER_COLUMNS, rows[0], strict=True))))


def _write(store: Store, user: User, by: str) -> None:
    store.append_rows("app_user", USER_COLUMNS, [{
        "email": user.email, "name": user.name, "role": user.role,
        "amphoe": ";".join(user.area.amphoe), "agency": ";".join(user.area.agency),
        "changed_at": _now(), "changed_by": by}])


def add_user(store: Store, user: User, by: str, client: str = "") -> None:
    """Add a user; one who exists already is refused (use :func:`set_user`)."""
    with store.transaction():
        if find_user(store, user.email) is not None:
            raise UserError("users.exists", email=user.email)
        _write(store, user, by)
        append_audit(store, by, "user_add", f"{user.email} {user.role} {_area_text(user.area)}",
                client)


def set_user(store: Store, email: str, by: str, client: str = "", *, role: str | None = None,
             name: str | None = None, amphoe: tuple[str, ...] | None = None,
             agency: tuple[str, ...] | None = None) -> User:
    """Change what is given of a user's record; the rest stays. Returns the new record."""
    with store.transaction():
        old = find_user(store, email)
        if old is None:
            raise UserError("users.unknown", email=email)
        new = checked_user(
            old.email, role if role is not None else old.role,
            name if name is not None else old.name,
            amphoe if amphoe is not None else (() if agency else old.area.amphoe),
            agency if agency is not None else (() if amphoe else old.area.agency))
        store.execute("DELETE FROM app_user WHERE email = ?", [old.email])
        _write(store, new, by)
        append_audit(store, by, "user_set", f"{new.email} {new.role} {_area_text(new.area)}",
                client)
    return new


def remove_user(store: Store, email: str, by: str, client: str = "") -> None:
    with store.transaction():
        old = find_user(store, email)
        if old is None:
            raise UserError("users.unknown", email=email)
        store.execute("DELETE FROM app_user WHERE email = ?", [old.email])
        append_audit(store, by, "user_remove", old.email, client)


def _area_text(area: Area) -> str:
    if area.amphoe:
        return "amphoe=" + ",".join(area.amphoe)
    if area.agency:
        return "agency=" + ",".join(area.agency)
    return "all"


def append_audit(store: Store, user: str, action: str, obj: str, client: str) -> None:
    """Append one entry inside the caller's transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    store.append_rows("audit_log", AUDIT_COLUMNS, [{
        "at": _now(), "user_email": user or "", "action": action, "object": obj[:500],
        "client": client or ""}])


def audit(store: Store, user: str, action: str, obj: str = "", client: str = "") -> None:
    """Append one entry to the audit log (its own transaction)."""
    with store.transaction():
        append_audit(store, user, action, obj, client)


def audit_log(store: Store) -> pd.DataFrame:
    """The audit log, newest first."""
    return store.table("audit_log").order_by([
        store.table("audit_log").at.desc()]).execute()
