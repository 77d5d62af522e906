"""Thai fiscal quarters as Ibis expressions, for the derived tables."""

from __future__ import annotations

import ibis


def quarter_of(date_col: ibis.expr.types.DateValue) -> ibis.expr.types.IntegerValue:
    """Fiscal quarter index (BE fiscal year * 10 + quarter) of a date column."""
    month = date_col.month()
    fiscal_year = date_col.year() + 543 + (month >= 10).cast("int32")
    quarter = ((month + 2) % 12) // 3 + 1
    return (fiscal_year * 10 + quarter).cast("int32")


def ordinal(q_idx: ibis.Value) -> ibis.Value:
    """Quarter index (25634) -> a count of quarters (domain.forecast.quarter_ordinal)."""
    return (q_idx // 10) * 4 + q_idx % 10 - 1
