"""Turn raw rows into canonical, typed rows plus a list of issues.

Errors reject the row (and so the import, which is all-or-nothing); warnings keep the row and are
recorded for the data-quality checks. Each issue names the file row as the officer sees it in
Excel (header = row 1), the column as written in the file, the value and the reason.

A file is checked a chunk of rows at a time (:class:`ChunkValidator`: every rule within a row,
vectorised over the distinct values of each column), so memory does not grow with the file; the
checks that need the whole file (repeated keys, references, shared citizen IDs) run in SQL over
the staged rows (:func:`file_issues`). A small upload and a national file go through the same
rules.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from loaders.contracts import REFERENCES, Column, Dataset
from loaders.headers import HeaderMapping
from loaders.limits import UPLOAD_LIMITS, Limits
from loaders.normalise import (
    BE_OFFSET,
    FIRST_DATE,
    LAST_DATE,
    CellError,
    clean_text,
    has_two_digit_year,
    is_blank,
    parse_agency,
    parse_amphoe,
    parse_bool,
    parse_choice,
    parse_citizen_id,
    parse_date,
    parse_house_code,
    parse_id,
    parse_int,
    parse_jpt,
    parse_number,
    parse_phone,
    parse_tambon,
    tambon_amphoe_mismatch,
)
from loaders.store import HOUSE_CODE_KEY

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    row: int | None  # file row number (header = 1); None for a whole-file issue
    column: str | None  # the header as written in the file (or the canonical name)
    value: str
    reason_key: str
    severity: Severity = "error"
    params: dict[str, Any] = field(default_factory=dict)


_PARSERS: dict[str, Callable[[object], Any]] = {
    "id": parse_id,
    "text": clean_text,
    "int": parse_int,
    "float": parse_number,
    "money": parse_number,
    "date": parse_date,
    "bool": parse_bool,
    "jpt": parse_jpt,
    "amphoe": parse_amphoe,
    "agency": parse_agency,
    "citizen_id": parse_citizen_id,
    "house_code": parse_house_code,
    "phone": parse_phone,
}


def _display(value: object) -> str:
    text = clean_text(value)
    return "" if text is None else text[:80]


def _parser(col: Column) -> Callable[[object], Any]:
    if col.kind == "enum":
        def parse_enum(value: object, _c: Column = col) -> Any:
            return parse_choice(value, _c.choices)
        return parse_enum
    return _PARSERS[col.kind]


# Cells that need no normalising at all, recognised in bulk (vectorised) for the large
# columns of big files; every other cell goes through the cell parser.
# no space of any kind, nothing invisible, no digit but ASCII ones (NFC is checked apart)
_WORD = r"(?:[^\p{Z}\p{Cc}\p{Cf}\p{N}]|[0-9])+"
_PLAIN = {
    "id": r"[A-Za-z0-9][A-Za-z0-9_./\-]*",
    "int": r"-?[0-9]{1,9}",
    "float": r"-?[0-9]{1,12}(\.[0-9]+)?",
    "money": r"-?[0-9]{1,12}(\.[0-9]+)?",
    "date": r"(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}",
    # text already clean: words with single spaces between them, not a lone dash
    "text": rf"{_WORD}( {_WORD})*",
    "citizen_id": r"[0-9]{13}",  # and the check digit, verified in bulk
    "house_code": r"[0-9]{11}",
    "phone": r"0[0-9]{8,9}",
}
_DASHES = ["-", "–", "—"]


ARROW_TYPES: dict[str, pa.DataType] = {
    "int": pa.int64(),
    "float": pa.float64(),
    "money": pa.float64(),
    "date": pa.date32(),
    "bool": pa.bool_(),
    "jpt": pa.bool_(),
}
CACHE_LIMIT = 50_000  # distinct raw values remembered per column across chunks

RawColumn = pa.Array | pd.Series
"""A column as read: Arrow (Parquet, CSV text) or pandas objects (Excel cells of mixed types)."""


def arrow_type(col: Column) -> pa.DataType:
    return ARROW_TYPES.get(col.kind, pa.string())


def staged_schema(dataset: Dataset) -> pa.Schema:
    """The normalised rows of a dataset as Arrow: ``_row`` (the file row) and every column."""
    return pa.schema([pa.field("_row", pa.int64())]
                     + [pa.field(c.name, arrow_type(c)) for c in dataset.columns])


def _as_arrow(values: RawColumn) -> RawColumn:
    """Arrow for anything Arrow can hold; pandas object columns (Excel) stay as they are."""
    if isinstance(values, pd.Series):
        if values.dtype == object:
            return values
        values = pa.array(values, from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.dictionary_decode() if pa.types.is_dictionary(values.type) else values


def _factorize(values: RawColumn) -> tuple[np.ndarray, RawColumn]:
    """Codes (row -> distinct value) and the distinct raw values; a null is one of them.
    Each distinct value is then parsed once (a file of 10 million visits has a few thousand
    distinct dates) and the results are spread back by position."""
    if isinstance(values, pa.Array):
        encoded = pc.dictionary_encode(values)
        dictionary = encoded.dictionary
        codes = encoded.indices.fill_null(len(dictionary)).to_numpy(zero_copy_only=False)
        return codes.astype(np.intp), pa.concat_arrays([dictionary,
                                                        pa.nulls(1, dictionary.type)])
    if values.dropna().map(type).nunique() > 1:
        # an Excel column mixing text, numbers and dates: factorising alone would take
        # 1 == 1.0 == True, so each cell is keyed by its type as well
        keys = values.map(lambda v: (type(v).__name__, v if _hashable(v) else repr(v)))
        codes, key_uniques = pd.factorize(keys, use_na_sentinel=False)
        return codes.astype(np.intp), pd.Series([k[1] for k in key_uniques], dtype=object)
    codes, unique_values = pd.factorize(values, use_na_sentinel=False)
    return codes.astype(np.intp), pd.Series(list(unique_values), dtype=object)


def _value_at(uniques: RawColumn, index: int) -> Any:
    return uniques[index].as_py() if isinstance(uniques, pa.Array) else uniques.iloc[index]


def _cache_key(value: object) -> Any:
    return (type(value).__name__, value if _hashable(value) else repr(value))


def _plain(uniques: pa.Array, col: Column) -> tuple[pa.Array, np.ndarray] | None:
    """In big text columns, values already in canonical form (plain ids, plain numbers, ISO
    dates) are recognised and converted in bulk: (converted, done mask) or ``None``."""
    pattern = _PLAIN.get(col.kind)
    if (pattern is None or len(uniques) <= 1000 or not isinstance(uniques, pa.Array)
            or not (pa.types.is_string(uniques.type) or pa.types.is_large_string(uniques.type))):
        return None
    plain = pc.fill_null(pc.match_substring_regex(uniques, f"^(?:{pattern})$"), False)
    if col.kind == "text":
        plain = pc.and_(plain, pc.invert(pc.is_in(uniques, pa.array(_DASHES, uniques.type))))
        plain = pc.fill_null(pc.and_(plain, _nfc(uniques)), False)
    text = pc.if_else(plain, uniques, pa.scalar(None, uniques.type))
    if col.kind == "citizen_id":
        converted = pc.if_else(_checksum_ok(text), text, pa.scalar(None, text.type))
        converted = converted.cast(pa.string())
    elif col.kind not in ARROW_TYPES:
        converted = text.cast(pa.string())
    elif col.kind == "date":
        stamps = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
        # strptime rolls an impossible date over (2021-02-29 -> 03-01): keep only round trips,
        # and dates before 1990 get their "out of range" from the cell parser too
        same = pc.and_(pc.equal(pc.strftime(stamps, format="%Y-%m-%d"), text.cast(pa.string())),
                       pc.greater_equal(text.cast(pa.string()), "1990-01-01"))
        converted = pc.if_else(same, stamps, pa.scalar(None, stamps.type)).cast(pa.date32())
    else:
        converted = text.cast(arrow_type(col))
    done = converted.is_valid().to_numpy(zero_copy_only=False)
    return converted, done


def _nfc(values: pa.Array) -> pa.Array:
    """Whether each text is already in Unicode NFC (Thai tone marks typed before a lower
    vowel are not: two spellings of one name)."""
    return pc.equal(values, pc.utf8_normalize(values, form="NFC"))


def _checksum_ok(text: pa.Array) -> pa.Array:
    """Whether each 13-digit citizen ID has the right check digit (the rule of
    :func:`loaders.normalise.citizen_id_check_digit`, on all of them at once)."""
    valid = text.is_valid().to_numpy(zero_copy_only=False)
    ok = np.zeros(len(text), dtype=bool)
    if valid.any():
        present = text.filter(pa.array(valid)).to_numpy(zero_copy_only=False)
        digits = np.array(present, dtype="S13").view(np.uint8).reshape(-1, 13).astype(np.int64)
        digits -= ord("0")
        check = (11 - (digits[:, :12] * np.arange(13, 1, -1)).sum(axis=1) % 11) % 10
        ok[valid] = check == digits[:, 12]
    return pa.array(ok)


def _parse_uniques(uniques: RawColumn, col: Column,
                   cache: dict[Any, tuple[Any, CellError | None]]
                   ) -> tuple[pa.Array, dict[int, CellError]]:
    """Parse each distinct raw value once; returns the parsed values as a typed Arrow array
    (null where empty or refused) and the errors by position."""
    target = arrow_type(col)
    errors: dict[int, CellError] = {}
    bulk = _plain(uniques, col)
    if bulk is None:
        result = pa.nulls(len(uniques), target)
        unparsed = np.arange(len(uniques))
    else:
        result, done = bulk
        unparsed = np.flatnonzero(~done)
    raw = (uniques.take(pa.array(unparsed)).to_pylist() if isinstance(uniques, pa.Array)
           else uniques.iloc[unparsed].tolist())
    parser = _parser(col)
    parsed: list[Any] = []
    for index, value in zip(unparsed.tolist(), raw, strict=True):
        key = _cache_key(value)
        hit = cache.get(key)
        if hit is None:
            try:
                hit = (_in_range(parser(value), col), None)
            except CellError as err:
                hit = (None, err)
            if len(cache) < CACHE_LIMIT:
                cache[key] = hit
        if hit[1] is not None:
            errors[index] = hit[1]
        parsed.append(hit[0])
    if len(unparsed):
        mask = np.zeros(len(uniques), dtype=bool)
        mask[unparsed] = True
        result = pc.replace_with_mask(result, pa.array(mask), pa.array(parsed, type=target))
    if bulk is not None and (col.minimum is not None or col.maximum is not None):
        numbers = result.cast(pa.float64()).to_numpy(zero_copy_only=False)
        outside = _outside(numbers, col)
        for index in np.flatnonzero(outside):
            errors[int(index)] = CellError("out_of_range", min=col.minimum, max=col.maximum)
        if outside.any():
            result = pc.if_else(pa.array(outside), pa.scalar(None, target), result)
    return result, errors


def _outside(numbers: np.ndarray, col: Column) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return ~np.isnan(numbers) & (
            (numbers < (col.minimum if col.minimum is not None else -np.inf))
            | (numbers > (col.maximum if col.maximum is not None else np.inf)))


def _in_range(value: Any, col: Column) -> Any:
    if value is None or (col.minimum is None and col.maximum is None):
        return value
    number = float(value)
    if (col.minimum is not None and number < col.minimum) or (
            col.maximum is not None and number > col.maximum):
        raise CellError("out_of_range", min=col.minimum, max=col.maximum)
    return value


def _typed_numbers(values: RawColumn, col: Column, header: str, rows: np.ndarray,
                   issues: list[Issue]) -> pa.Array | None:
    """A numeric column read from Parquet or Excel needs no parsing: check it in bulk and
    report only the offending rows. ``None`` when the column is not typed numbers."""
    if col.kind not in ("int", "float", "money"):
        return None
    if isinstance(values, pa.Array):
        if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
            return None
        numbers = values.cast(pa.float64()).to_numpy(zero_copy_only=False).copy()
    elif (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)):
        numbers = values.astype("float64").to_numpy(copy=True)
    else:
        return None
    present = ~np.isnan(numbers)
    fraction = present & (numbers % 1 != 0) if col.kind == "int" else np.zeros_like(present)
    outside = ~fraction & _outside(numbers, col)
    for position in np.flatnonzero(fraction | outside):
        value = _value_at(values, int(position))
        reason = "not_a_whole_number" if fraction[position] else "out_of_range"
        params = ({"value": value} if fraction[position]
                  else {"min": col.minimum, "max": col.maximum})
        issues.append(Issue(int(rows[position]), header, _display(value), reason, params=params))
    numbers[fraction | outside] = np.nan
    return pa.array(numbers, from_pandas=True).cast(arrow_type(col))


def _normalise_column(values: RawColumn, col: Column, header: str, rows: np.ndarray,
                      issues: list[Issue], cache: dict[Any, Any]) -> pa.Array:
    """Normalise one column; errors become issues naming every row that holds the bad value."""
    typed = _typed_numbers(values, col, header, rows, issues)
    if typed is not None:
        return typed
    if _already_canonical(values, col):
        return values.cast(arrow_type(col))
    codes, uniques = _factorize(values)
    result, errors = _parse_uniques(uniques, col, cache)
    _spread_errors(codes, uniques, errors, header, rows, issues)
    return result.take(pa.array(codes))


def _already_canonical(values: RawColumn, col: Column) -> bool:
    """Whole columns the cell parsers would return unchanged, recognised without parsing: typed
    flags, typed dates within the accepted range (a BE year typed as a date is not), and text
    columns in which every value is already clean."""
    if not isinstance(values, pa.Array):
        return False
    if col.kind in ("bool", "jpt"):
        return pa.types.is_boolean(values.type)
    if col.kind == "date" and pa.types.is_date32(values.type):
        low, high = (v.as_py() for v in pc.min_max(values).values())
        return low is None or (low >= FIRST_DATE and high <= LAST_DATE)
    if col.kind in ("id", "text", "house_code", "phone") and (
            pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        # text the cell parser would return unchanged (nulls are left to the required check)
        plain = pc.match_substring_regex(values, f"^(?:{_PLAIN[col.kind]})$")
        if col.kind == "text":
            plain = pc.and_(plain, pc.invert(pc.is_in(values, pa.array(_DASHES, values.type))))
            plain = pc.and_(plain, _nfc(values))
        return pc.all(plain).as_py() is not False
    return False


def _spread_errors(codes: np.ndarray, uniques: RawColumn, errors: dict[int, CellError],
                   header: str, rows: np.ndarray, issues: list[Issue]) -> None:
    if not errors:
        return
    for position in np.flatnonzero(np.isin(codes, list(errors))):
        code = int(codes[position])
        err = errors[code]
        issues.append(Issue(int(rows[position]), header, _display(_value_at(uniques, code)),
                            err.reason_key, params=err.params))


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _column(raw: pa.Table | pd.DataFrame, header: str) -> RawColumn:
    if isinstance(raw, pa.Table):
        return _as_arrow(raw.column(raw.column_names.index(header)))
    return _as_arrow(raw[header].reset_index(drop=True))


@dataclass(frozen=True)
class CheckRules:
    """What a file's cells are held to beyond their kind: the limits, and the dates the
    programme's events may have (``first_date`` to ``last_date``; an Excel file's own save date
    plus the tolerance, when the file says it)."""

    first_date: dt.date
    last_date: dt.date
    tolerance: dt.timedelta = dt.timedelta(days=1)
    saved_on: dt.date | None = None
    limits: Limits = UPLOAD_LIMITS

    def text_limit(self, col: Column) -> int | None:
        if col.kind == "id":
            return self.limits.id_chars
        if col.kind == "text":
            return self.limits.long_text_chars if col.long_text else self.limits.text_chars
        return None


def _be(day: dt.date) -> str:
    return f"{day.day}/{day.month}/{day.year + BE_OFFSET}"


def masked_code(code: str) -> str:
    """A house code or citizen ID as a report shows it: its last four digits."""
    return "•" * max(len(str(code)) - 4, 0) + str(code)[-4:]


class HouseCodes:
    """Households by house code: the store's and those of the files imported with this one
    (``relations``: SQL relations with ``house_code`` and ``household_id``), read once, when a
    row first needs one. A household not among them gets an ID derived from its code with
    the store's key (:data:`HOUSE_CODE_KEY`), in a households file only."""

    def __init__(self, con: Any, relations: list[str], derive: bool) -> None:
        self._con, self._relations, self.derive = con, relations, derive
        self._known: dict[str, str] | None = None
        self._key: bytes | None = None

    def known(self) -> dict[str, str]:
        if self._known is None:
            sql = " UNION ALL ".join(
                f"SELECT house_code, household_id FROM {relation} "
                "WHERE house_code IS NOT NULL AND household_id IS NOT NULL"
                for relation in self._relations)
            self._known = {str(code): str(hid) for code, hid in _query(self._con, sql)}
        return self._known

    def derived(self, code: str) -> str:
        if self._key is None:
            rows = _query(self._con, f"SELECT value FROM meta WHERE key = '{HOUSE_CODE_KEY}'")
            if not rows or not rows[0][0]:
                raise RuntimeError("the store has no house-code key: open it once to add one")
            self._key = str(rows[0][0]).encode()
        digest = hmac.new(self._key, code.encode(), hashlib.sha256).digest()
        return "HC" + base64.b32encode(digest).decode()[:10]


class ChunkValidator:
    """The row-level rules, applied to a file one chunk of rows at a time. Distinct values
    already parsed in an earlier chunk are not parsed again."""

    def __init__(self, headers: HeaderMapping, dataset: Dataset,
                 rules: CheckRules | None = None,
                 house_codes: HouseCodes | None = None) -> None:
        self.dataset = dataset
        self.rules = rules
        self.header_of = {canonical: header for header, canonical in headers.mapping.items()}
        self.schema = staged_schema(dataset)
        self._caches: dict[str, dict[Any, Any]] = {c.name: {} for c in dataset.columns}
        self.house_codes = house_codes if "house_code" in self.header_of else None

    def normalise(self, raw: pa.Table | pd.DataFrame, first_row: int
                  ) -> tuple[pa.Table, list[Issue]]:
        """Typed rows (:func:`staged_schema`, ``_row`` = file row) and the chunk's issues.
        Arrow rows are numbered from ``first_row``; a pandas chunk's index is its file rows."""
        issues: list[Issue] = []
        n = raw.num_rows if isinstance(raw, pa.Table) else len(raw)
        rows = (np.arange(first_row, first_row + n, dtype=np.int64) if isinstance(raw, pa.Table)
                else np.asarray(raw.index, dtype=np.int64))
        out: dict[str, pa.Array] = {"_row": pa.array(rows)}
        for col in self.dataset.columns:
            header = self.header_of.get(col.name)
            if header is None:
                out[col.name] = pa.nulls(n, arrow_type(col))
            elif col.kind != "tambon":  # a tambon needs the row's amphoe: resolved below
                values = _column(raw, header)
                out[col.name] = self._limited(
                    values, _normalise_column(values, col, header, rows, issues,
                                              self._caches[col.name]), col, rows, issues)
        for col in self.dataset.columns:
            if col.kind == "tambon" and col.name in self.header_of:
                out[col.name] = self._tambon(_column(raw, self.header_of[col.name]),
                                             out.get("amphoe_code"), col, rows, issues)
        named = set()
        if self.house_codes is not None:
            out["household_id"], named = self._by_house_code(raw, out, rows, issues)
        for col in self.dataset.columns:
            if col.required and col.name in self.header_of:
                issues.extend(i for i in _required(_column(raw, self.header_of[col.name]),
                                                   out[col.name], self.header_of[col.name], rows)
                              if i.row not in named)
        table = pa.table([out[f.name] for f in self.schema], schema=self.schema)
        issues.extend(_check_rules(table, self.dataset, self.header_of))
        return table, issues

    def _by_house_code(self, raw: pa.Table | pd.DataFrame, out: dict[str, pa.Array],
                       rows: np.ndarray, issues: list[Issue]) -> tuple[pa.Array, set[int]]:
        """Household IDs, for the rows that give none, from their house codes: the household
        of that code, or (a households file) a new ID derived from it. Returns the IDs and the
        rows whose house code has an issue of its own."""
        assert self.house_codes is not None
        header = self.header_of["house_code"]
        ids, codes = out["household_id"], out["house_code"]
        named: set[int] = set()
        if "household_id" not in self.header_of:  # the house code is the key: it is needed
            required = _required(_column(raw, header), codes, header, rows)
            issues.extend(required)
            named |= {i.row for i in required if i.row is not None}
        need = pc.and_(pc.is_null(ids), pc.invert(pc.is_null(codes)))
        positions = np.flatnonzero(need.to_numpy(zero_copy_only=False))
        if not len(positions):
            return ids, named
        known = self.house_codes.known()
        filled = ids.to_pylist()
        for position in positions.tolist():
            code = str(codes[position].as_py())
            found = known.get(code)
            if found is None and self.house_codes.derive:
                found = self.house_codes.derived(code)
            if found is None:
                row = int(rows[position])
                issues.append(Issue(row, header, masked_code(code), "house_code_unknown"))
                named.add(row)
            filled[position] = found
        return pa.array(filled, type=pa.string()), named

    def _limited(self, values: RawColumn, parsed: pa.Array, col: Column, rows: np.ndarray,
                 issues: list[Issue]) -> pa.Array:
        """The rules' limits on a normalised column: text too long, dates outside the
        programme's; an offending cell becomes an error and its value null."""
        if self.rules is None:
            return parsed
        header = self.header_of[col.name]
        limit = self.rules.text_limit(col)
        if limit is not None:
            lengths = pc.utf8_length(parsed)
            bad = pc.fill_null(pc.greater(lengths, limit), False)
            if pc.any(bad).as_py():
                for position in np.flatnonzero(bad.to_numpy(zero_copy_only=False)):
                    text = str(parsed[int(position)].as_py())
                    issues.append(Issue(int(rows[position]), header, text[:60] + "…",
                                        "too_long", params={"n": len(text), "max": limit}))
                return pc.if_else(bad, pa.scalar(None, parsed.type), parsed)
        if col.window is not None and pa.types.is_date32(parsed.type):
            return self._dated(values, parsed, col, header, rows, issues)
        return parsed

    def _dated(self, values: RawColumn, parsed: pa.Array, col: Column, header: str,
               rows: np.ndarray, issues: list[Issue]) -> pa.Array:
        rules = self.rules
        assert rules is not None
        first = rules.first_date if col.window == "programme" else FIRST_DATE
        last = rules.last_date
        if rules.saved_on is not None:
            last = min(last, rules.saved_on + rules.tolerance)
        bad = pc.fill_null(pc.or_(pc.less(parsed, pa.scalar(first, pa.date32())),
                                  pc.greater(parsed, pa.scalar(last, pa.date32()))), False)
        if not pc.any(bad).as_py():
            return parsed
        for position in np.flatnonzero(bad.to_numpy(zero_copy_only=False)):
            day = parsed[int(position)].as_py()
            raw = _value_at(values, int(position))
            params: dict[str, Any] = {"date": day.isoformat(), "date_be": _be(day),
                                      "start": first.isoformat(), "start_be": _be(first),
                                      "last": last.isoformat(), "last_be": _be(last)}
            if has_two_digit_year(raw):
                reason = "date_two_digit_year"
            elif day < first:
                reason = "date_before_programme"
            elif rules.saved_on is not None and day > rules.saved_on + rules.tolerance:
                reason = "date_after_saved"
                params |= {"saved": rules.saved_on.isoformat(), "saved_be": _be(rules.saved_on)}
            else:
                reason = "date_in_future"
            issues.append(Issue(int(rows[position]), header, _display(raw), reason,
                                params=params))
        return pc.if_else(bad, pa.scalar(None, parsed.type), parsed)

    def _tambon(self, values: RawColumn, amphoes: pa.Array | None, col: Column,
                rows: np.ndarray, issues: list[Issue]) -> pa.Array:
        """Tambon codes, resolved within each row's amphoe: each distinct (value, amphoe) pair
        once."""
        header = self.header_of[col.name]
        t_codes, t_uniques = _factorize(values)
        if amphoes is None:
            amphoes = pa.nulls(len(t_codes), pa.string())
        a_codes, a_uniques = _factorize(amphoes)
        pair_codes, codes = np.unique(t_codes * len(a_uniques) + a_codes, return_inverse=True)
        cache = self._caches[col.name]
        resolved: list[Any] = []
        problems: dict[int, Issue] = {}
        for index, pair in enumerate(pair_codes.tolist()):
            value = _value_at(t_uniques, pair // len(a_uniques))
            amphoe = _value_at(a_uniques, pair % len(a_uniques))
            key = (_cache_key(value), amphoe)
            if key not in cache:
                cache[key] = _resolve_tambon(value, amphoe, header)
            code, problem = cache[key]
            resolved.append(code)
            if problem is not None:
                problems[index] = problem
        codes = codes.reshape(-1)
        for position in np.flatnonzero(np.isin(codes, list(problems))):
            template = problems[int(codes[position])]
            issues.append(Issue(int(rows[position]), template.column, template.value,
                                template.reason_key, template.severity, template.params))
        return pa.array(resolved, type=pa.string()).take(pa.array(codes))


def _resolve_tambon(value: object, amphoe: str | None, header: str
                    ) -> tuple[str | None, Issue | None]:
    if amphoe is None and clean_text(value) is not None and not str(clean_text(value)).isdigit():
        # without a valid amphoe a tambon name cannot be resolved; the amphoe cell has
        # its own issue (or the dataset has no amphoe): do not report a second one
        return None, None
    code = problem = None
    try:
        code = parse_tambon(value, amphoe)
    except CellError as err:
        problem = Issue(0, header, _display(value), err.reason_key, params=err.params)
    if code is not None and amphoe is not None and tambon_amphoe_mismatch(code, amphoe):
        problem = Issue(0, header, _display(value), "tambon_not_in_amphoe",
                        severity="warning", params={"amphoe": amphoe})
    return code, problem


def _required(values: RawColumn, parsed: pa.Array, header: str,
              rows: np.ndarray) -> list[Issue]:
    """A cell that failed to parse already has an issue; report only genuinely empty ones."""
    missing = np.flatnonzero(parsed.is_null().to_numpy(zero_copy_only=False))
    if not len(missing):
        return []
    subset = (values.take(pa.array(missing)) if isinstance(values, pa.Array)
              else values.iloc[missing].reset_index(drop=True))
    codes, uniques = _factorize(subset)
    blank = np.array([is_blank(_value_at(uniques, i)) for i in range(len(uniques))], dtype=bool)
    return [Issue(int(rows[position]), header, "", "required")
            for position in missing[blank[codes]]]


def _check_rules(table: pa.Table, dataset: Dataset, header_of: dict[str, str]) -> list[Issue]:
    """Rules between columns of one row."""
    issues: list[Issue] = []
    if dataset.name == "pairings" and "end_date" in header_of:
        end, start = table.column("end_date"), table.column("start_date")
        bad = pc.fill_null(pc.less(end, start), False).to_numpy(zero_copy_only=False)
        rows = table.column("_row").to_numpy()
        for position in np.flatnonzero(bad):
            issues.append(Issue(int(rows[position]), header_of["end_date"],
                                str(end[int(position)].as_py()), "end_before_start"))
    return issues


# --- whole-file checks, in SQL on the staged rows ------------------------------------------


def _query(con: Any, sql: str) -> list[tuple[Any, ...]]:
    """All rows of ``sql`` on a DB-API connection (DuckDB's or psycopg's)."""
    return con.execute(sql).fetchall()


def file_issues(con: Any, staged: str, dataset: Dataset, header_of: dict[str, str],
                known: dict[str, list[str]]) -> list[Issue]:
    """Checks that need the whole file (and the store): keys repeated within the file,
    references to rows neither in the store nor in the files imported with it, citizen IDs
    shared within the file or with another household in the store.

    ``staged`` is a SQL relation over the file's normalised rows; ``known`` maps a referenced
    table to the relations that hold its keys (the store's table and the files of the batch).
    The SQL is the same on every engine of :mod:`loaders.store` (``con`` is the engine's
    DB-API connection).
    """
    issues: list[Issue] = []
    key = list(dataset.key)
    if all(k in header_of for k in key):
        cols = ", ".join(f's."{k}"' for k in key)
        present = " AND ".join(f'"{k}" IS NOT NULL' for k in key)
        names = ", ".join(f'"{k}"' for k in key)
        rows = _query(con, f"""
            WITH dup AS (SELECT {names}, min(_row) AS first_row
                         FROM {staged} AS d WHERE {present}
                         GROUP BY {names} HAVING count(*) > 1)
            SELECT s._row, dup.first_row, {cols} FROM {staged} s
            JOIN dup USING ({", ".join(f'"{k}"' for k in key)})
            WHERE s._row <> dup.first_row ORDER BY s._row""")
        for row, first, *values in rows:
            issues.append(Issue(int(row), header_of[key[0]], " / ".join(map(str, values)),
                                "duplicate_key", params={"first_row": int(first)}))
    for column, table, ref_column in REFERENCES.get(dataset.name, ()):
        if column not in header_of:
            continue
        sources = " UNION ALL ".join(f'SELECT "{ref_column}" AS k FROM {relation}'
                                     for relation in known.get(table, [f'"{table}"']))
        rows = _query(con, f"""
            SELECT s._row, s."{column}" FROM {staged} s
            WHERE s."{column}" IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM ({sources}) r WHERE r.k = s."{column}")
            ORDER BY s._row""")
        for row, value in rows:
            issues.append(Issue(int(row), header_of[column], str(value), "unknown_reference",
                                params={"table": table}))
    if dataset.name == "households" and "head_citizen_id" in header_of:
        issues.extend(_citizen_id_issues(con, staged, header_of["head_citizen_id"]))
    if dataset.name == "households" and "house_code" in header_of:
        issues.extend(_house_code_issues(con, staged, header_of["house_code"],
                                         keyed="household_id" not in header_of))
    return issues


def _house_code_issues(con: Any, staged: str, header: str, keyed: bool) -> list[Issue]:
    """Errors: a house code twice in the file (when it is the key, or for two different
    households), and a house code the store holds for another household."""
    issues: list[Issue] = []
    rows = _query(con, f"""
        WITH twice AS (SELECT house_code, min(_row) AS first_row FROM {staged} AS d
                       WHERE house_code IS NOT NULL GROUP BY house_code HAVING count(*) > 1)
        SELECT s._row, twice.first_row, s.house_code, s.household_id, f.household_id
        FROM {staged} s JOIN twice USING (house_code)
        JOIN {staged} f ON f._row = twice.first_row
        WHERE s._row <> twice.first_row ORDER BY s._row""")
    for row, first, code, household, first_household in rows:
        if keyed or household != first_household:
            issues.append(Issue(int(row), header, masked_code(code), "duplicate_house_code",
                                params={"first_row": int(first)}))
    rows = _query(con, f"""
        SELECT s._row, s.house_code, h.household_id FROM {staged} s
        JOIN household h ON h.house_code = s.house_code
        WHERE h.household_id <> s.household_id
          AND NOT EXISTS (SELECT 1 FROM {staged} f WHERE f.household_id = h.household_id)
        ORDER BY s._row""")
    for row, code, other in rows:
        issues.append(Issue(int(row), header, masked_code(code), "house_code_other_household",
                            params={"household": other}))
    return issues


def _citizen_id_issues(con: Any, staged: str, header: str) -> list[Issue]:
    """Warnings, not errors: a head of household shared within the file, or with another
    household already in the store."""
    issues: list[Issue] = []
    rows = _query(con, f"""
        WITH shared AS (SELECT head_citizen_id, array_agg(_row ORDER BY _row) AS all_rows
                        FROM {staged} AS d WHERE head_citizen_id IS NOT NULL
                        GROUP BY head_citizen_id HAVING count(*) > 1)
        SELECT s._row, s.head_citizen_id, shared.all_rows FROM {staged} s
        JOIN shared USING (head_citizen_id) ORDER BY s._row""")
    for row, value, all_rows in rows:
        others = [r for r in all_rows if r != row]
        issues.append(Issue(int(row), header, masked_code(value), "duplicate_citizen_id",
                            severity="warning", params={"rows": ", ".join(map(str, others))}))
    rows = _query(con, f"""
        SELECT s._row, s.head_citizen_id, h.household_id FROM {staged} s
        JOIN household h ON h.head_citizen_id = s.head_citizen_id
        WHERE h.household_id IS DISTINCT FROM s.household_id
          AND NOT EXISTS (SELECT 1 FROM {staged} f WHERE f.household_id = h.household_id)
        ORDER BY s._row, h.household_id""")
    for row, value, other in rows:
        issues.append(Issue(int(row), header, masked_code(value), "citizen_id_in_store",
                            severity="warning", params={"household": other}))
    return issues
