"""Cell normalisers: turn what field teams type into canonical values.

Every function takes one raw cell and returns the canonical value, ``None`` for an empty cell,
or raises :class:`CellError` with a reason written for the data officer. They are pure and
know nothing of files or rows; :mod:`loaders.validate` applies them column by column.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

import pandas as pd

from domain.reference import LEGACY_AMPHOE_CODES, agency_table, amphoe_table, tambon_table


class CellError(ValueError):
    """A cell that cannot be normalised. ``reason_key`` names the message in the i18n catalogue;
    ``params`` fill it."""

    def __init__(self, reason_key: str, **params: object) -> None:
        super().__init__(reason_key)
        self.reason_key = reason_key
        self.params = params


BE_OFFSET = 543
EXCEL_EPOCH = dt.date(1899, 12, 30)
FIRST_DATE, LAST_DATE = dt.date(1990, 1, 1), dt.date(2100, 12, 31)  # dates accepted

THAI_MONTHS: dict[str, int] = {}
for _i, (_full, _abbr) in enumerate(
    [
        ("มกราคม", "ม.ค."), ("กุมภาพันธ์", "ก.พ."), ("มีนาคม", "มี.ค."), ("เมษายน", "เม.ย."),
        ("พฤษภาคม", "พ.ค."), ("มิถุนายน", "มิ.ย."), ("กรกฎาคม", "ก.ค."), ("สิงหาคม", "ส.ค."),
        ("กันยายน", "ก.ย."), ("ตุลาคม", "ต.ค."), ("พฤศจิกายน", "พ.ย."), ("ธันวาคม", "ธ.ค."),
    ],
    start=1,
):
    THAI_MONTHS[_full] = _i
    THAI_MONTHS[_abbr] = _i
    THAI_MONTHS[_abbr.replace(".", "")] = _i
ENGLISH_MONTHS = {
    m.lower(): i
    for i, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")],
        start=1,
    )
    for m in names
}


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NaT or (not isinstance(value, str | bytes) and pd.api.types.is_scalar(value)
                           and pd.isna(value)):
        return True
    return isinstance(value, str) and value.strip() in {"", "-", "–", "—"}


_SCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉", "0123456789" * 2)
_DECIMAL_DIGIT = re.compile(r"\d")  # a str pattern: the decimal digits of every script
_WHITESPACE = frozenset("\t\n\r\x0b\x0c")


def _is_invisible(char: str) -> bool:
    """Format characters (zero-width spaces and joiners, BOM, directional marks, soft hyphen)
    and control characters other than whitespace: nothing a reader can see or type on purpose."""
    return unicodedata.category(char) in ("Cf", "Cc") and char not in _WHITESPACE


def fold_text(text: str) -> str:
    """Unicode NFC, and every digit as ASCII: Thai (๑), Arabic-Indic (١), fullwidth (１),
    superscript and subscript (¹ ₁) and any other script's decimal digits. Pure ASCII is
    returned as it is."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFC", text).translate(_SCRIPT_DIGITS)
    return _DECIMAL_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group())), text)


def clean_text(value: object) -> str | None:
    """Strip, drop invisible characters, apply NFC, fold digits to ASCII and inner whitespace
    to one space; ``None`` for a blank cell. What is compared and stored is this form."""
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel hands back 12.0 for a typed 12
    text = str(value)
    if not text.isascii() or not text.isprintable():
        text = "".join(c for c in text if not _is_invisible(c))
        text = fold_text(text.replace("\xa0", " "))
    text = re.sub(r"\s+", " ", text).strip()
    return text or None


def invisible_characters(value: object) -> list[str]:
    """The invisible characters of a cell, named (``U+200C ZERO WIDTH NON-JOINER``)."""
    text = "" if is_blank(value) else str(value)
    if text.isascii() and text.isprintable():
        return []
    return [f"U+{ord(c):04X} {unicodedata.name(c, 'CONTROL')}"
            for c in dict.fromkeys(text) if _is_invisible(c)]


def clean_code(value: object) -> str | None:
    """:func:`clean_text` for identifiers and codes, which must not hold an invisible
    character: two ids that look the same must be the same id."""
    found = invisible_characters(value)
    if found:
        raise CellError("invisible_character", value=value, chars=", ".join(found))
    return clean_text(value)


# --- numbers -----------------------------------------------------------------------------

_MONEY_NOISE = re.compile(r"(บาท|baht|฿|thb)", re.IGNORECASE)


def parse_number(value: object) -> float | None:
    """A number written with thousands commas, Thai digits, a baht sign or word."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise CellError("not_a_number", value=value)
    if isinstance(value, int | float):
        return float(value)
    text = clean_text(value)
    assert text is not None
    text = _MONEY_NOISE.sub("", text).replace(" ", "")
    if re.fullmatch(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?", text):
        return float(text.replace(",", ""))
    if re.fullmatch(r"[+-]?\.\d+", text):
        return float(text)
    raise CellError("not_a_number", value=value)


def parse_int(value: object) -> int | None:
    number = parse_number(value)
    if number is None:
        return None
    if not float(number).is_integer():
        raise CellError("not_a_whole_number", value=value)
    return int(number)


# --- dates -------------------------------------------------------------------------------


def _year_to_ce(year: int) -> int:
    """4-digit years above 2400 are BE. A 2-digit year is always a BE year, whatever the
    language of the month: ``63`` is 2563 (2020) in ``18/08/63``, ``18 ส.ค. 63`` and
    ``18 Aug 63`` alike. One rule, because Thai files write BE years, and a programme that
    started in 2562 has no two-digit CE year its dates could be mistaken for: 19-26 read as
    BE fall before its start and are refused, never silently moved."""
    if year >= 2400:
        return year - BE_OFFSET
    if year < 100:
        return 2500 + year - BE_OFFSET
    return year


_TWO_DIGIT_YEAR = re.compile(
    r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2}|\d{1,2}\s*[^\d\s]+(?:\s?[^\d\s]+)*\s*\d{2}")


def has_two_digit_year(value: object) -> bool:
    """Whether a date cell as written has a two-digit year (``18/08/63``, ``18 Aug 63``)."""
    if not isinstance(value, str):
        return False
    return bool(_TWO_DIGIT_YEAR.fullmatch(clean_text(value) or ""))


def _make_date(year: int, month: int, day: int, raw: object) -> dt.date:
    try:
        result = dt.date(year, month, day)
    except ValueError as exc:
        raise CellError("not_a_date", value=raw) from exc
    if not FIRST_DATE <= result <= LAST_DATE:
        if has_two_digit_year(raw):
            raise CellError("date_two_digit_year", value=raw, date=result.isoformat(),
                            date_be=f"{day}/{month}/{year + BE_OFFSET}")
        raise CellError("date_out_of_range", value=raw, date=result.isoformat())
    return result


def parse_date(value: object) -> dt.date | None:
    """Accept BE or CE dates: ``2563-08-18``, ``18/08/2563``, ``18-8-63``, ``18 ส.ค. 2563``,
    ``18-ส.ค.-63`` (Excel's d-mmm-yy), ``18 สิงหาคม 63``, ``18 Aug 2020``, Excel serial numbers
    (typed or as text), and date/datetime objects (an Excel cell typed as a date in BE comes
    back with year 2563: it is converted)."""
    if is_blank(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        year = value.year - BE_OFFSET if value.year >= 2400 else value.year
        return _make_date(year, value.month, value.day, value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not float(value).is_integer() and not 20000 <= value <= 80000:
            raise CellError("not_a_date", value=value)
        serial = int(value)
        if 20000 <= serial <= 80000:  # Excel serial: 1954..2119
            return _make_date(*(EXCEL_EPOCH + dt.timedelta(days=serial)).timetuple()[:3], value)
        raise CellError("not_a_date", value=value)
    text = clean_text(value)
    assert text is not None
    text = re.sub(r"\s*(00:00(:00)?(\.0+)?)$", "", text)  # "2020-08-18 00:00:00" from a sheet
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return parse_date(float(text))
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text)
    if m:
        year, month, day = (int(g) for g in m.groups())
        return _make_date(_year_to_ce(year), month, day, value)
    m = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})", text)
    if m:
        day, month, year = (int(g) for g in m.groups())
        return _make_date(_year_to_ce(year), month, day, value)
    m = re.fullmatch(r"(\d{1,2})\s*([^\d\s]+(?:\s?[^\d\s]+)*)\s*(\d{2}|\d{4})", text)
    if m:
        day, month_text, year_text = m.group(1), m.group(2).strip(), m.group(3)
        month_key = month_text.replace(" ", "").strip("-")  # "17-ม.ค.-68": Excel's d-mmm-yy
        if month_key in THAI_MONTHS:
            return _make_date(_year_to_ce(int(year_text)), THAI_MONTHS[month_key], int(day), value)
        if month_key.lower().rstrip(".") in ENGLISH_MONTHS:
            return _make_date(_year_to_ce(int(year_text)),
                              ENGLISH_MONTHS[month_key.lower().rstrip(".")], int(day), value)
    raise CellError("not_a_date", value=value)


# --- flags and choices -------------------------------------------------------------------

_TRUE = {"1", "true", "yes", "y", "t", "ใช่", "มี", "ผ่าน", "✓", "/"}
_FALSE = {"0", "false", "no", "n", "f", "ไม่ใช่", "ไม่มี", "ไม่ผ่าน", "x", "✗"}
_NOT_APPLICABLE = {"na", "n/a", "ไม่เกี่ยวข้อง", "ไม่เข้าข่าย", "ไม่มีข้อมูลนี้", "ไม่ต้องตอบ"}


def parse_bool(value: object) -> bool | None:
    if is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    text = clean_text(value)
    assert text is not None
    key = text.lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise CellError("not_yes_no", value=value)


def parse_jpt(value: object) -> bool | None:
    """จปฐ. indicator: True = pass, False = fail, None = not applicable (or blank)."""
    if is_blank(value):
        return None
    text = clean_text(value)
    assert text is not None
    key = text.lower()
    if key in {"pass", "p", *_TRUE}:
        return True
    if key in {"fail", *_FALSE}:
        return False
    if key in _NOT_APPLICABLE:
        return None
    raise CellError("not_pass_fail", value=value)


def parse_choice(value: object, choices: Mapping[str, tuple[str, ...]]) -> str | None:
    if is_blank(value):
        return None
    text = clean_text(value)
    assert text is not None
    key = text.lower()
    for canonical, spellings in choices.items():
        if key == canonical or key in {s.lower() for s in spellings}:
            return canonical
    raise CellError("not_a_choice", value=value, choices=", ".join(choices))


# --- identifiers -------------------------------------------------------------------------


def citizen_id_check_digit(first12: str) -> int:
    """Thai citizen ID checksum: (11 - sum(d_i * (13 - i)) mod 11) mod 10, i = 0..11."""
    total = sum(int(d) * (13 - i) for i, d in enumerate(first12))
    return (11 - total % 11) % 10


def is_valid_citizen_id(text: str) -> bool:
    return (
        len(text) == 13
        and text.isdigit()
        and citizen_id_check_digit(text[:12]) == int(text[12])
    )


def parse_id(value: object) -> str | None:
    """An identifier (household, official, visit, assistance): clean text, nothing invisible."""
    return clean_code(value)


def parse_citizen_id(value: object) -> str | None:
    text = clean_code(value)
    if text is None:
        return None
    digits = re.sub(r"[\s-]", "", text)
    if not digits.isdigit():
        raise CellError("citizen_id_not_digits", value=value)
    if len(digits) != 13:
        raise CellError("citizen_id_length", value=value, n=len(digits))
    if not is_valid_citizen_id(digits):
        raise CellError("citizen_id_checksum", value=value)
    return digits


def parse_house_code(value: object) -> str | None:
    text = clean_code(value)
    if text is None:
        return None
    digits = re.sub(r"[\s-]", "", text)
    if not (digits.isdigit() and len(digits) == 11):
        raise CellError("house_code_format", value=value)
    return digits


def parse_phone(value: object) -> str | None:
    text = clean_code(value)
    if text is None:
        return None
    digits = re.sub(r"[\s().-]", "", text)
    if digits.startswith("+66"):
        digits = "0" + digits[3:]
    if not (digits.isdigit() and len(digits) in (9, 10) and digits.startswith("0")):
        raise CellError("phone_format", value=value)
    return digits


# --- places and agencies -----------------------------------------------------------------

_AMPHOE_PREFIX = re.compile(r"^(อำเภอ|อ\.|อ\s|amphoe\s|amphur\s|district\s)", re.IGNORECASE)
_TAMBON_PREFIX = re.compile(r"^(ตำบล|ต\.|ต\s|tambon\s|subdistrict\s)", re.IGNORECASE)


def _name_key(text: str) -> str:
    return re.sub(r"[\s.\-]", "", text).lower()


@lru_cache(maxsize=1)
def _amphoe_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for row in amphoe_table().itertuples():
        for name in (row.amphoe_code, row.name_th, row.name_en):
            index[_name_key(name)] = row.amphoe_code
    # "Mueang Khon Kaen" is often written "Mueang" or "เมือง"
    index[_name_key("เมือง")] = "4001"
    index[_name_key("Mueang")] = "4001"
    for legacy, current in LEGACY_AMPHOE_CODES.items():
        index[legacy] = current
    return index


def parse_amphoe(value: object) -> str | None:
    """DOPA amphoe code from a code (4001, 40-01, TH4001), a Thai or English name with or
    without อ./อำเภอ; the legacy code 4026 becomes 4029 (Wiang Kao)."""
    text = clean_code(value)
    if text is None:
        return None
    text = _AMPHOE_PREFIX.sub("", text).strip()
    text = re.sub(r"^TH(?=\d{4}$)", "", text, flags=re.IGNORECASE)
    code = _amphoe_index().get(_name_key(text))
    if code is None:
        raise CellError("unknown_amphoe", value=value)
    return code


@lru_cache(maxsize=1)
def _tambon_index() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    by_code: dict[str, str] = {}
    by_name: dict[tuple[str, str], str] = {}
    for row in tambon_table().itertuples():
        by_code[row.tambon_code] = row.amphoe_code
        for name in (row.name_th, row.name_en):
            by_name[(row.amphoe_code, _name_key(name))] = row.tambon_code
    return by_code, by_name


def parse_tambon(value: object, amphoe_code: str | None) -> str | None:
    """DOPA tambon code from a 6-digit code or a name (with or without ต./ตำบล), resolved
    within the row's amphoe. A code is returned as given even when it belongs to another
    amphoe: that is a warning for the quality checks (:func:`tambon_amphoe_mismatch`), not a
    reason to lose the row."""
    text = clean_code(value)
    if text is None:
        return None
    text = _TAMBON_PREFIX.sub("", text).strip()
    text = re.sub(r"^TH(?=\d{6}$)", "", text, flags=re.IGNORECASE)
    by_code, by_name = _tambon_index()
    if re.fullmatch(r"\d{6}", text):
        if text[:4] in LEGACY_AMPHOE_CODES:
            text = LEGACY_AMPHOE_CODES[text[:4]] + text[4:]
        if text not in by_code:
            raise CellError("unknown_tambon", value=value)
        return text
    if amphoe_code is not None:
        code = by_name.get((amphoe_code, _name_key(text)))
        if code is not None:
            return code
    raise CellError("unknown_tambon_in_amphoe", value=value, amphoe=amphoe_code or "")


def tambon_amphoe_mismatch(tambon_code: str | None, amphoe_code: str | None) -> bool:
    if tambon_code is None or amphoe_code is None:
        return False
    return _tambon_index()[0].get(tambon_code) != amphoe_code


@lru_cache(maxsize=1)
def _agency_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for row in agency_table().itertuples():
        for name in (row.agency_code, row.name_th, row.name_en):
            index[_name_key(name)] = row.agency_code
    return index


def parse_agency(value: object) -> str | None:
    text = clean_code(value)
    if text is None:
        return None
    code = _agency_index().get(_name_key(text))
    if code is None:
        raise CellError("unknown_agency", value=value)
    return code
