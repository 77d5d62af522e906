"""Who may use the dashboard, in which role, over which area.

Roles, from the least to the most:

- ``viewer``: aggregates only; no household- or official-level rows at all.
- ``analyst``: rows, with every personal column masked.
- ``officer``: everything, as imported, and the Import page.
- ``admin``: what an officer may, and the users and the audit log.

A user's area is every household, some amphoe, or the households whose buddy is of some
agencies (:class:`domain.filters.Area`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.filters import EVERYWHERE, Area
from domain.reference import agency_table, amphoe_table

ROLES = ("viewer", "analyst", "officer", "admin")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}")


class UserError(ValueError):
    """A user record that cannot be kept: ``key`` names the message, ``params`` fill it."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key, self.params = key, params


@dataclass(frozen=True)
class User:
    email: str
    role: str
    name: str = ""
    area: Area = EVERYWHERE


def checked_user(email: str, role: str, name: str = "", amphoe: tuple[str, ...] = (),
                 agency: tuple[str, ...] = ()) -> User:
    """A user record made from what an admin typed, or :class:`UserError` saying what is
    wrong. An area is amphoe or agencies, not both."""
    email = email.strip().lower()
    if not EMAIL.fullmatch(email):
        raise UserError("users.bad_email", email=email)
    if role not in ROLES:
        raise UserError("users.bad_role", role=role, roles=", ".join(ROLES))
    amphoe = tuple(sorted({a.strip() for a in amphoe if a.strip()}))
    agency = tuple(sorted({a.strip().upper() for a in agency if a.strip()}))
    if amphoe and agency:
        raise UserError("users.both_areas")
    unknown = [a for a in amphoe if a not in set(amphoe_table()["amphoe_code"])]
    unknown += [a for a in agency if a not in set(agency_table()["agency_code"])]
    if unknown:
        raise UserError("users.unknown_area", codes=", ".join(unknown))
    return User(email=email, role=role, name=name.strip()[:200],
                area=Area(amphoe=amphoe, agency=agency))
