"""Personal data protection (Thai PDPA): the one place that decides what a viewer may see.

Roles, set for a deployment by ``KUSIAO_ROLE`` (default ``analyst``):

- ``viewer``: aggregates only; no household- or official-level rows at all.
- ``analyst``: rows, with every personal column masked ("สมชาย ท.", "1-xxxx-xxxxx-xx-3",
  coordinates coarsened to about 1 km).
- ``officer``: everything, as imported.

Presenter mode always masks, whatever the role. Pages never mask by themselves: they get rows
through :func:`protect`, so a masked value never reaches the browser (table, tooltip or
download). The personal columns are the ones the dataset contracts mark ``pii``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from domain.access import ROLES
from domain.filters import EVERYWHERE, Area
from loaders.contracts import DATASETS, Column

ROLE_ENV = "KUSIAO_ROLE"
DEFAULT_ROLE = "analyst"
MIN_GROUP = 5
"""Groups of fewer households never show a share or a count below the total (suppressed)."""
SMALL_GROUP = 20
"""Groups of fewer households are flagged: one household moves their share by 5 points."""
COORDINATE_DECIMALS = 2  # 0.01 degree, about 1.1 km: a village, not a house

THAI_TITLES = ("นางสาว", "นาง", "นาย", "น.ส.", "ด.ช.", "ด.ญ.", "เด็กชาย", "เด็กหญิง")
# Thai leading vowels are written before the consonant they follow in speech: the initial
# shown for a surname is its first consonant.
THAI_LEADING_VOWELS = "เแโใไ"


class NotAllowedError(PermissionError):
    """The viewer's role may not see household- or official-level rows."""


@dataclass(frozen=True)
class Viewer:
    """Who is looking: their role and area, and who they are (for the audit log)."""

    role: str = DEFAULT_ROLE
    presenter: bool = False
    area: Area = EVERYWHERE
    email: str = ""  # empty when sign-in is not configured
    name: str = ""
    client: str = ""  # the client's address, as the server saw it

    @property
    def sees_rows(self) -> bool:
        """Household- and official-level rows (masked unless :attr:`sees_personal_data`)."""
        return self.role in ("analyst", "officer", "admin")

    @property
    def sees_personal_data(self) -> bool:
        return self.role in ("officer", "admin") and not self.presenter

    @property
    def imports(self) -> bool:
        return self.role in ("officer", "admin") and not self.presenter

    @property
    def edits_cases(self) -> bool:
        """Follow-up cases of households in the viewer's area (officers: an amphoe
        coordinator is an officer whose area is that amphoe)."""
        return self.role in ("officer", "admin") and not self.presenter

    @property
    def administers(self) -> bool:
        return self.role == "admin" and not self.presenter


def configured_role() -> str:
    role = os.environ.get(ROLE_ENV, DEFAULT_ROLE).strip().lower()
    return role if role in ROLES else "viewer"  # a typo must not open the data up


def mask_name(value: object) -> str | None:
    """"นายสมชาย ทองดี" -> "สมชาย ท."; a title is dropped, the surname cut to its initial."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    for title in THAI_TITLES:
        if text.startswith(title):
            text = text[len(title):].strip()
            break
    parts = text.split()
    if not parts:
        return None
    first = parts[0]
    if len(parts) == 1:
        return first[:1] + "…"
    surname = parts[-1].lstrip(THAI_LEADING_VOWELS) or parts[-1]
    return f"{first} {surname[:1]}."


def mask_citizen_id(value: object) -> str | None:
    """13 digits -> "1-xxxx-xxxxx-xx-3": the first and the check digit stay."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    digits = re.sub(r"\D", "", str(value))
    if len(digits) != 13:
        return "x" * 5
    return f"{digits[0]}-xxxx-xxxxx-xx-{digits[-1]}"


def format_citizen_id(value: object) -> str | None:
    """13 digits as written on the card: 1-2345-67890-12-3 (anything else as it is)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    digits = re.sub(r"\D", "", str(value))
    if len(digits) != 13:
        return str(value)
    return f"{digits[0]}-{digits[1:5]}-{digits[5:10]}-{digits[10:12]}-{digits[12]}"


def mask_phone(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    digits = re.sub(r"\D", "", str(value))
    return f"{digits[:2]}x-xxx-xx{digits[-2:]}" if len(digits) >= 9 else "xxx"


def mask_house_code(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    digits = re.sub(r"\D", "", str(value))
    return f"{digits[:4]}-xxxxxx-x" if len(digits) == 11 else "xxxx"


def _coarsen(value: object) -> float | None:
    if value is None or pd.isna(value):  # type: ignore[arg-type]
        return None
    return round(float(value), COORDINATE_DECIMALS)  # type: ignore[arg-type]


def hide_text(value: object) -> str | None:
    """Free text and house numbers: nothing of them is shown, only that there was something."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or str(value) == "":
        return None
    return "•••"


def _masker(column: Column) -> Callable[[object], object]:
    if column.kind == "citizen_id":
        return mask_citizen_id
    if column.kind == "phone":
        return mask_phone
    if column.kind == "house_code":
        return mask_house_code
    if column.kind == "float":
        return _coarsen
    if column.name in ("note", "house_no"):
        return hide_text
    return mask_name


PII_MASKERS: dict[str, Callable[[object], object]] = {
    col.name: _masker(col)
    for dataset in DATASETS.values() for col in dataset.columns if col.pii
}
"""Canonical personal column -> its masking function (``name`` and ``head_name`` included)."""
OFFICIAL_NAME_COLUMNS = ("official_name",)
CITIZEN_ID_COLUMNS = ("head_citizen_id",)  # how queries name an official's name beside others


def protect(frame: pd.DataFrame, viewer: Viewer) -> pd.DataFrame:
    """The rows this viewer may see: a copy with personal columns masked (analyst, presenter)
    or untouched (officer). A viewer without row access gets :class:`NotAllowedError`."""
    if not viewer.sees_rows:
        raise NotAllowedError(viewer.role)
    out = frame.copy()
    if viewer.sees_personal_data:  # shown in full, written as on the card
        for column in CITIZEN_ID_COLUMNS:
            if column in out.columns:
                out[column] = out[column].map(format_citizen_id)
        return out
    for column in out.columns:
        masker = PII_MASKERS.get(column) or (
            mask_name if column in OFFICIAL_NAME_COLUMNS else None)
        if masker is not None:
            out[column] = out[column].map(masker)
    return out
