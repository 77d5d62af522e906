"""Turn a raw frame into a canonical frame plus a list of row-level issues.

Errors reject the row (and so the import, which is all-or-nothing); warnings keep the row and are
recorded for the data-quality checks. Each issue names the file row as the officer sees it in
Excel (header = row 1), the column as written in the file, the value and the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from loaders.contracts import Column, Dataset
from loaders.normalise import (
    CellError,
    clean_text,
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


def _unique_key(value: object) -> object:
    """Hashable key for memoising a normaliser over repeated raw values."""
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return (type(value).__name__, value)


def _normalise_column(
    values: pd.Series, col: Column, header: str, rows: pd.Series, issues: list[Issue]
) -> list[Any]:
    parser = _PARSERS.get(col.kind)
    if col.kind == "enum":
        def parser(v: object, _c: Column = col) -> Any:
            return parse_choice(v, _c.choices)
    assert parser is not None, col.kind
    memo: dict[object, tuple[Any, CellError | None]] = {}
    out: list[Any] = []
    for value, row in zip(values.tolist(), rows.tolist(), strict=True):
        key = _unique_key(value)
        if key not in memo:
            try:
                memo[key] = (parser(value), None)
            except CellError as err:
                memo[key] = (None, err)
        result, err = memo[key]
        if err is not None:
            issues.append(Issue(row, header, _display(value), err.reason_key, params=err.params))
        elif result is not None and (col.minimum is not None or col.maximum is not None):
            number = float(result)
            if (col.minimum is not None and number < col.minimum) or (
                col.maximum is not None and number > col.maximum
            ):
                issues.append(Issue(row, header, _display(value), "out_of_range",
                                    params={"min": col.minimum, "max": col.maximum}))
                result = None
        out.append(result)
    return out


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
        empty = out[col.name].isna() & raw[header].map(lambda v: clean_text(v) is None)
        for row in out.loc[empty, "_row"]:
            issues.append(Issue(int(row), header, "", "required"))
    issues.extend(_check_key_duplicates(out, dataset, header_of))
    issues.extend(_check_rules(out, dataset, header_of))
    return out, issues


def _normalise_tambon(
    values: pd.Series, out: pd.DataFrame, header: str, issues: list[Issue]
) -> list[Any]:
    result: list[Any] = []
    amphoes = out["amphoe_code"].tolist() if "amphoe_code" in out else [None] * len(values)
    for value, amphoe, row in zip(values.tolist(), amphoes, out["_row"].tolist(), strict=True):
        if amphoe is None or (isinstance(amphoe, float) and pd.isna(amphoe)):
            # without a valid amphoe a tambon name cannot be resolved; the amphoe cell has
            # its own issue (or the dataset has no amphoe), so do not report a second one
            amphoe = None
            if clean_text(value) is not None and not str(clean_text(value)).isdigit():
                result.append(None)
                continue
        try:
            code = parse_tambon(value, amphoe)
        except CellError as err:
            issues.append(Issue(row, header, _display(value), err.reason_key, params=err.params))
            code = None
        if code is not None and amphoe is not None and tambon_amphoe_mismatch(code, amphoe):
            issues.append(Issue(row, header, _display(value), "tambon_not_in_amphoe",
                                severity="warning", params={"amphoe": amphoe}))
        result.append(code)
    return result


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
