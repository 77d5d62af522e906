"""Turn a raw frame into a canonical frame plus a list of row-level issues.

Errors reject the row (and so the import, which is all-or-nothing); warnings keep the row and are
recorded for the data-quality checks. Each issue names the file row as the officer sees it in
Excel (header = row 1), the column as written in the file, the value and the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from loaders.contracts import Column, Dataset
from loaders.normalise import (
    CellError,
    clean_text,
    is_blank,
    parse_agency,
    parse_amphoe,
    parse_bool,
    parse_choice,
    parse_citizen_id,
    parse_date,
    parse_house_code,
    parse_int,
    parse_jpt,
    parse_number,
    parse_phone,
    parse_tambon,
    tambon_amphoe_mismatch,
)
from loaders.readers import HeaderMapping

Severity = Literal["error", "warning"]
FIRST_DATA_ROW = 2  # row 1 holds the headers in every spreadsheet the teams send


@dataclass(frozen=True)
class Issue:
    row: int | None  # file row number (header = 1); None for a whole-file issue
    column: str | None  # the header as written in the file (or the canonical name)
    value: str
    reason_key: str
    severity: Severity = "error"
    params: dict[str, Any] = field(default_factory=dict)


_PARSERS: dict[str, Callable[[object], Any]] = {
    "id": clean_text,
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
_PLAIN = {
    "id": r"[A-Za-z0-9][A-Za-z0-9_./\-]*",
    "int": r"-?[0-9]{1,9}",
    "float": r"-?[0-9]{1,12}(\.[0-9]+)?",
    "money": r"-?[0-9]{1,12}(\.[0-9]+)?",
    "date": r"(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}",
}


def _parse_uniques(uniques: pd.Series, col: Column) -> tuple[list[Any], dict[int, CellError]]:
    """Parse each distinct raw value once; in big columns, values already in canonical form
    (plain ids, plain numbers, ISO dates) are recognised and converted in bulk."""
    parsed: list[Any] = [None] * len(uniques)
    errors: dict[int, CellError] = {}
    unparsed = np.ones(len(uniques), dtype=bool)
    pattern = _PLAIN.get(col.kind)
    if pattern is not None and len(uniques) > 1000:
        text = uniques.where(uniques.map(lambda v: isinstance(v, str)))
        plain = text.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
        chunk = text[plain]
        if col.kind == "id":
            values: list[Any] = chunk.tolist()
        elif col.kind == "date":
            stamps = pd.to_datetime(chunk, format="%Y-%m-%d", errors="coerce")
            values = [None if pd.isna(v) else v.date() for v in stamps]
        else:
            numbers = pd.to_numeric(chunk)
            values = numbers.astype(int if col.kind == "int" else float).tolist()
        for index, value in zip(np.flatnonzero(plain), values, strict=True):
            parsed[index] = value
            unparsed[index] = value is None  # an impossible ISO date goes to the cell parser
    parser = _parser(col)
    for index in np.flatnonzero(unparsed):
        try:
            parsed[index] = parser(uniques.iloc[index])
        except CellError as err:
            errors[int(index)] = err
            parsed[index] = None
    return parsed, errors


def _typed_numbers(values: pd.Series, col: Column, header: str, rows: pd.Series,
                   issues: list[Issue]) -> Any | None:
    """A numeric column read from Parquet or Excel needs no parsing: check it in bulk and
    report only the offending rows. ``None`` when the column is not typed numbers."""
    if not (col.kind in ("int", "float", "money")
            and pd.api.types.is_numeric_dtype(values)
            and not pd.api.types.is_bool_dtype(values)):
        return None
    numbers = values.astype("float64").to_numpy(copy=True)
    present = ~np.isnan(numbers)
    fraction = present & (numbers % 1 != 0) if col.kind == "int" else np.zeros_like(present)
    outside = present & ~fraction & (
        (numbers < (col.minimum if col.minimum is not None else -np.inf))
        | (numbers > (col.maximum if col.maximum is not None else np.inf)))
    row_numbers = rows.to_numpy()
    for position in np.flatnonzero(fraction | outside):
        reason = "not_a_whole_number" if fraction[position] else "out_of_range"
        params = ({"value": values.iloc[position]} if fraction[position]
                  else {"min": col.minimum, "max": col.maximum})
        issues.append(Issue(int(row_numbers[position]), header, _display(values.iloc[position]),
                            reason, params=params))
    numbers[fraction | outside] = np.nan
    if col.kind == "int":
        missing = np.isnan(numbers)
        return pd.arrays.IntegerArray(np.where(missing, 0, numbers).astype("int64"), missing)
    return pd.array(numbers, dtype="Float64")


def _normalise_column(
    values: pd.Series, col: Column, header: str, rows: pd.Series, issues: list[Issue]
) -> Any:
    """Normalise one column. Each distinct raw value is parsed once (a file of 10 million
    visits has a few thousand distinct dates) and the results are spread back by position;
    errors become issues naming every row that holds the bad value."""
    typed = _typed_numbers(values, col, header, rows, issues)
    if typed is not None:
        return typed
    if values.dtype == object and values.dropna().map(type).nunique() > 1:
        # an Excel column mixing text, numbers and dates: factorising alone would take
        # 1 == 1.0 == True, so each cell is keyed by its type as well
        keys = values.map(lambda v: (type(v).__name__, v if _hashable(v) else repr(v)))
        codes, key_uniques = pd.factorize(keys, use_na_sentinel=False)
        uniques = pd.Series([k[1] for k in key_uniques], dtype=object)
    else:
        codes, unique_values = pd.factorize(values, use_na_sentinel=False)
        uniques = pd.Series(list(unique_values), dtype=object)
    result, errors = _parse_uniques(uniques, col)
    if col.minimum is not None or col.maximum is not None:
        for index, value in enumerate(result):
            if value is None or index in errors:
                continue
            number = float(value)
            if (col.minimum is not None and number < col.minimum) or (
                    col.maximum is not None and number > col.maximum):
                errors[index] = CellError("out_of_range", min=col.minimum, max=col.maximum)
                result[index] = None
    if errors:
        row_numbers = rows.to_numpy()
        for position in np.flatnonzero(np.isin(codes, list(errors))):
            err = errors[int(codes[position])]
            issues.append(Issue(int(row_numbers[position]), header,
                                _display(values.iloc[position]), err.reason_key,
                                params=err.params))
    return _as_array(result, col.kind).take(codes)


def _as_array(values: list[Any], kind: str) -> Any:
    """The parsed distinct values as a typed array (so spreading them back over ten million
    rows is one vectorised take, not ten million Python objects)."""
    if kind == "int":
        return pd.array(values, dtype="Int64")
    if kind in ("float", "money"):
        return pd.array(values, dtype="Float64")
    if kind in ("bool", "jpt"):
        return pd.array(values, dtype="boolean")
    if kind == "date":
        return pd.array(pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[s]"))
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _blank(values: pd.Series) -> pd.Series:
    """Vectorised :func:`loaders.normalise.is_blank` (empty, spaces, or a lone dash)."""
    if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
        return values.isna()  # a typed column (Parquet, Excel numbers) is blank only when null
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    blank = np.array([is_blank(value) for value in uniques], dtype=bool)
    return pd.Series(blank[codes], index=values.index)


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def normalise_frame(
    raw: pd.DataFrame, headers: HeaderMapping, dataset: Dataset
) -> tuple[pd.DataFrame, list[Issue]]:
    """Canonical frame (all contract columns, file order kept, ``_row`` = file row) and issues."""
    issues: list[Issue] = []
    rows = pd.Series(range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(raw)), index=raw.index)
    header_of = {canonical: header for header, canonical in headers.mapping.items()}
    out = pd.DataFrame(index=raw.index)
    out["_row"] = rows
    for col in dataset.columns:
        header = header_of.get(col.name)
        if header is None:
            out[col.name] = None
            continue
        if col.kind == "tambon":
            continue  # needs the row's amphoe: resolved below
        out[col.name] = _normalise_column(raw[header], col, header, rows, issues)
    for col in dataset.columns:
        if col.kind == "tambon" and col.name in header_of:
            out[col.name] = _normalise_tambon(raw[header_of[col.name]], out, header_of[col.name],
                                              issues)
    for col in dataset.columns:
        if not col.required or col.name not in header_of:
            continue
        header = header_of[col.name]
        # a cell that failed to parse already has an issue; report only genuinely empty ones
        empty = out[col.name].isna() & _blank(raw[header])
        for row in out.loc[empty, "_row"]:
            issues.append(Issue(int(row), header, "", "required"))
    issues.extend(_check_key_duplicates(out, dataset, header_of))
    issues.extend(_check_rules(out, dataset, header_of))
    return out, issues


def _normalise_tambon(
    values: pd.Series, out: pd.DataFrame, header: str, issues: list[Issue]
) -> list[Any]:
    """Tambon codes, resolved within each row's amphoe: each distinct (value, amphoe) pair once."""
    amphoes = (out["amphoe_code"] if "amphoe_code" in out
               else pd.Series([None] * len(values), index=values.index))
    pairs = pd.Series(list(zip(values.astype(object).where(values.notna(), None),
                               amphoes.astype(object).where(amphoes.notna(), None),
                               strict=True)), index=values.index)
    codes, uniques = pd.factorize(pairs, use_na_sentinel=False)
    resolved: list[Any] = []
    problems: dict[int, Issue] = {}
    for index, (value, amphoe) in enumerate(uniques):
        code = None
        if amphoe is None and clean_text(value) is not None and not str(
                clean_text(value)).isdigit():
            # without a valid amphoe a tambon name cannot be resolved; the amphoe cell has
            # its own issue (or the dataset has no amphoe): do not report a second one
            resolved.append(None)
            continue
        try:
            code = parse_tambon(value, amphoe)
        except CellError as err:
            problems[index] = Issue(0, header, _display(value), err.reason_key,
                                    params=err.params)
        if code is not None and amphoe is not None and tambon_amphoe_mismatch(code, amphoe):
            problems[index] = Issue(0, header, _display(value), "tambon_not_in_amphoe",
                                    severity="warning", params={"amphoe": amphoe})
        resolved.append(code)
    if problems:
        row_numbers = out["_row"].to_numpy()
        for position in np.flatnonzero(np.isin(codes, list(problems))):
            template = problems[int(codes[position])]
            issues.append(Issue(int(row_numbers[position]), template.column, template.value,
                                template.reason_key, template.severity, template.params))
    return _as_array(resolved, "tambon").take(codes)


def _check_key_duplicates(
    out: pd.DataFrame, dataset: Dataset, header_of: dict[str, str]
) -> Iterable[Issue]:
    key = list(dataset.key)
    if not all(k in header_of for k in key):
        return
    complete = out.dropna(subset=key)
    first_row = complete.groupby(key, sort=False, dropna=True)["_row"].transform("min")
    dupes = complete[complete["_row"] != first_row]
    for row, first, *values in zip(dupes["_row"], first_row[dupes.index],
                                   *(dupes[k] for k in key), strict=True):
        yield Issue(int(row), header_of[key[0]], " / ".join(map(str, values)), "duplicate_key",
                    params={"first_row": int(first)})


def _check_rules(
    out: pd.DataFrame, dataset: Dataset, header_of: dict[str, str]
) -> Iterable[Issue]:
    """Rules between columns of one row, and duplicates that are warnings, not errors."""
    if dataset.name == "pairings" and "end_date" in header_of:
        bad = out["end_date"].notna() & out["start_date"].notna() & (
            pd.to_datetime(out["end_date"]) < pd.to_datetime(out["start_date"]))
        for row, value in zip(out.loc[bad, "_row"], out.loc[bad, "end_date"], strict=True):
            yield Issue(int(row), header_of["end_date"], str(value), "end_before_start")
    if dataset.name == "households" and "head_citizen_id" in header_of:
        ids = out["head_citizen_id"]
        shared = ids.notna() & ids.duplicated(keep=False)
        for row, value in zip(out.loc[shared, "_row"], ids[shared], strict=True):
            others = out.loc[shared & (ids == value) & (out["_row"] != row), "_row"].tolist()
            yield Issue(int(row), header_of["head_citizen_id"], "•" * 9 + str(value)[-4:],
                        "duplicate_citizen_id", severity="warning",
                        params={"rows": ", ".join(map(str, others))})
