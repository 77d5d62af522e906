"""Data-quality checks: what in the data could mislead, before it does.

The checks run once per import (and when the ``[quality]`` thresholds change) into derived
tables (:mod:`loaders.derived_quality`); :func:`quality_report` only filters and counts them,
so the page stays quick at a million households. Thresholds come from ``[quality]`` in the
definitions file.

Checks: duplicate citizen IDs, possible duplicate households (same house code), tambon codes
outside their amphoe, income outliers (modified z-score of log income, median/MAD), implausible
jumps between consecutive visits, missed follow-up rounds in a row, and visits by someone other
than the buddy paired with the household on the visit date.

What the filters mean: they choose the households (place, agency and level as of the selected
quarter, as on every page), and the selected quarter's as-of date limits the visits looked at.
A finding itself does not change with the filters: a duplicate is shared with any household in
the programme, and an income outlier is judged against the whole programme's distribution of
income per member (every visit in the data), not the filtered subset's, so choosing an amphoe
never turns a visit into an outlier or back. Income jumps and visits by someone other than the
buddy are about single visits and hold as of their visit date; missed rounds and completeness
count up to the latest round recorded anywhere in the programme by the as-of date.
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


def shown_rows(rows: pd.DataFrame, viewer: Viewer, amphoe: Mapping[str, str],
               labels: Mapping[str, str]) -> pd.DataFrame:
    """A check's rows as this viewer may see them (:func:`protect`), amphoe codes as names and
    columns under ``labels``. Raises :class:`NotAllowedError` for a viewer without rows."""
    return named_table(protect(rows, viewer), "amphoe_code", amphoe, labels)
