"""Safe downloads: CSV (UTF-8 with BOM, so Excel reads Thai) and XLSX.

Every page's download goes through :func:`to_csv_bytes` / :func:`to_xlsx_bytes`. Text cells
that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return, or a width variant of one that a spreadsheet may fold to it: fullwidth
``＝ ＋ － ＠``, small ``﹦ ﹢ ﹣ ﹫``) are prefixed with an apostrophe; numbers stay numbers.
"""

from __future__ import annotations

import io
import unicodedata

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    if isinstance(value, str) and value and (
            value.startswith(FORMULA_PREFIXES)
            or unicodedata.normalize("NFKC", value[0]).startswith(FORMULA_PREFIXES)):
        return "'" + value
    return value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with formula-like text cells (and headers) neutralised; the input is untouched."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise_cell)
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    return neutralise(frame).to_csv(index=False).encode("utf-8-sig")


def to_xlsx_bytes(frame: pd.DataFrame, sheet_name: str = "data") -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        neutralise(frame).to_excel(writer, index=False, sheet_name=sheet_name[:31])
    return buffer.getvalue()
