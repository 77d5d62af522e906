"""What the Data quality page shows of a quality report: a table of counts with place or
agency names, and the rows behind a check as protected for the viewer and named for people.
The checks and what the filters mean are described in :mod:`dashboard.queries.quality`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from dashboard.store.privacy import Viewer, protect


def named_table(frame: pd.DataFrame, column: str, names: Mapping[str, str],
                labels: Mapping[str, str], columns: tuple[str, ...] | None = None,
                missing: str | None = None) -> pd.DataFrame:
    """``frame`` for the screen: the codes in ``column`` as names (``missing`` where there is
    no code), only ``columns`` (all when None) and the columns under ``labels``."""
    out = frame if columns is None else frame[list(columns)]
    named = out[column].map(names)
    out = out.assign(**{column: named if missing is None else named.fillna(missing)})
    return out.rename(columns=labels)


def percent_points(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``frame`` with the share in ``column`` (0-1) as percent (0-100), for a grid that writes
    it with one decimal and a % sign (its own "percent" format gives up to two decimals)."""
    return frame.assign(**{column: frame[column] * 100})


def shown_rows(rows: pd.DataFrame, viewer: Viewer, amphoe: Mapping[str, str],
               labels: Mapping[str, str]) -> pd.DataFrame:
    """A check's rows as this viewer may see them (:func:`protect`), amphoe codes as names and
    columns under ``labels``. Raises :class:`NotAllowedError` for a viewer without rows."""
    return named_table(protect(rows, viewer), "amphoe_code", amphoe, labels)
