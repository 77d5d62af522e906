"""Display tables: small frames shaped for people (on screen and in downloads). Pure.

Groups with fewer than :data:`MIN_GROUP` households never show a share ("suppressed"); groups
under :data:`SMALL_GROUP` are flagged, because one household moves their share by 5 points or
more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from dashboard.store.privacy import MIN_GROUP, SMALL_GROUP
from domain.i18n import t
from domain.thai_dates import format_datetime
from domain.thai_text import sort_key

HASH_SHOWN = 12  # hex digits of a file's SHA-256 on screen: enough to tell files apart
IMPORT_HISTORY_COLUMNS = ("import_id", "imported_at", "dataset", "rows_read", "rows_accepted",
                          "rows_rejected", "rows_inserted", "rows_updated", "warnings",
                          "imported_by", "file_name", "file_sha256")
"""The import history's columns: which import, when and of what, then its counts (in view at
1,280 px), then who, the file and its hash."""


def group_note(n: int, lang: str, hidden: bool = False) -> str:
    if n < MIN_GROUP:
        return t("table.suppressed", lang, n=MIN_GROUP)
    if hidden:  # shown groups' figures would give a smaller hidden group away
        return t("table.secondary", lang)
    if n < SMALL_GROUP:
        return t("table.small_group", lang, n=SMALL_GROUP)
    return ""


def comparison_table(frame: pd.DataFrame, by: str, names: Mapping[str, str],
                     level_name: str, lang: str) -> pd.DataFrame:
    """One row per group: name, surveyed, share at the target at baseline and now (percent),
    change in points, climbed, fell back, note. Suppressed groups show no figure but n.
    Built from numpy columns: pandas' assign, sort and per-column casts took 2 ms on 26 rows."""
    assessed = frame["assessed"].to_numpy()
    # suppressed groups go last, by name; the rest keep their order
    hidden_all = with_secondary(assessed < MIN_GROUP, assessed)
    order = suppressed_last([names.get(c, c) for c in frame[by].tolist()], hidden_all)
    assessed = assessed[order]
    hidden = hidden_all[order]

    def masked(column: str, scale: int = 1) -> pd.arrays.FloatingArray:
        return shown_floats(frame[column].to_numpy()[order] * scale, hidden)

    baseline = t("table.share_baseline", lang, level=level_name)
    now, change = t("table.share_now", lang, level=level_name), t("table.change_points", lang)
    # the share now and its change first: beside the chart on a 1,280 px page they fit next
    # to the names; the baseline (also in the chart) and the counts after them
    out = pd.DataFrame({
        t(f"table.{by}", lang): [names.get(c, c) for c in frame[by].to_numpy()[order].tolist()],
        now: masked("share_now", 100).round(1),
        change: masked("change_points").round(1),
        baseline: masked("share_baseline", 100).round(1),
        t("table.surveyed", lang): assessed.astype(int),
        t("table.climbed", lang): masked("climbed").astype("Int64"),
        t("table.fell_back", lang): masked("fell_back").astype("Int64"),
        t("table.note", lang): [group_note(int(n), lang, bool(h)) for n, h
                                in zip(assessed.tolist(), hidden.tolist(), strict=True)],
    }, index=frame.index.take(order))
    out.attrs["decimals"] = {now: 1, change: 1, baseline: 1}  # "5.0", never "5"
    return out


def with_secondary(hidden: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``hidden`` plus, when exactly one group is hidden and others are shown, the smallest
    shown group (secondary suppression): the page's total minus the shown groups would
    otherwise give the one hidden group's figure away. See docs/suppression.md."""
    hidden = np.asarray(hidden, dtype=bool).copy()
    if hidden.sum() == 1 and (~hidden).sum() >= 1:
        shown = np.flatnonzero(~hidden)
        hidden[shown[np.argsort(np.asarray(sizes)[shown], kind="stable")[0]]] = True
    return hidden


def suppressed_last(names: list[str], hidden: np.ndarray) -> np.ndarray:
    """Positions that keep the shown groups in their order and put the suppressed ones after
    them in a block of their own, by name: never where their hidden value would sort them,
    which would let a reader place it between its neighbours."""
    shown = np.flatnonzero(~hidden)
    held = sorted(np.flatnonzero(hidden).tolist(), key=lambda i: (sort_key(names[i]), i))
    return np.concatenate([shown, np.asarray(held, dtype=int)]).astype(int)


def shown_floats(values: np.ndarray, hidden: np.ndarray) -> pd.arrays.FloatingArray:
    """``values`` as a nullable "Float64" array, empty where ``hidden`` (or NaN): what
    ``Series.where(~hidden).astype("Float64")`` gives, without the Series steps (a tenth of
    a millisecond each on a few rows)."""
    values = np.where(hidden, np.nan, values)
    return pd.arrays.FloatingArray(values, np.isnan(values))


def transition_table(frame: pd.DataFrame, names: Mapping[int, str], lang: str) -> pd.DataFrame:
    """Baseline level (rows) by latest level (columns), counts of households, with totals
    (added up directly: pandas' pivot_table takes ten times as long for these 16 cells)."""
    levels = sorted(names)
    position = {level: i for i, level in enumerate(levels)}
    grid = np.zeros((len(levels), len(levels)), dtype="int64")
    for baseline, latest, households in zip(frame["baseline_level"], frame["level"],
                                            frame["households"], strict=True):
        if baseline in position and latest in position:
            grid[position[baseline], position[latest]] += int(households)
    total = t("table.total", lang)
    body = np.vstack([np.hstack([grid, grid.sum(axis=1, keepdims=True)]),
                      np.append(grid.sum(axis=0), grid.sum())])
    table = pd.DataFrame(body, columns=[names[level] for level in levels] + [total])
    table.insert(0, t("table.baseline_vs_latest", lang), [names[level] for level in levels]
                 + [total])
    return table


def for_display(frame: pd.DataFrame, decimals: Mapping[str, int] | None = None) -> pd.DataFrame:
    """Empty cells (suppressed figures) shown as a dash instead of "None" on screen, and
    whole-number columns with thousands separators (186,588); the columns in ``decimals``
    written with that many decimals. Written column by column in plain Python: the
    frame-wide ``where`` took three times as long on a 26-row table."""
    decimals = decimals or {}
    out: dict[str, Any] = {}
    for column, dtype in frame.dtypes.items():
        cells = frame[column].to_numpy(dtype=object)
        missing = pd.isna(cells)
        if pd.api.types.is_integer_dtype(dtype):
            out[column] = ["–" if gap else f"{int(v):,}" for v, gap in zip(cells, missing,
                                                                         strict=True)]
        elif column in decimals:
            digits = decimals[column]
            out[column] = ["–" if gap else v if isinstance(v, str) else f"{v:,.{digits}f}"
                           for v, gap in zip(cells, missing, strict=True)]
        else:
            kept = cells.copy()  # an object column's cells may be the frame's own
            kept[missing] = "–"
            out[column] = pd.Series(kept, index=frame.index, dtype=object)
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def grid(frame: pd.DataFrame, rows: int | None = None) -> pd.DataFrame:
    """The first ``rows`` of a frame (all of them without ``rows``), numbered from 0, for
    ``st.dataframe``: a sorted frame's own row labels mean nothing to a reader."""
    shown = frame if rows is None else frame.head(rows)
    return shown.reset_index(drop=True)


def history_table(history: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The import history for the screen: times as dates are written everywhere (พ.ศ. in
    Thai) to the minute, and each file's SHA-256 cut to its first :data:`HASH_SHOWN` digits
    so the counts after it stay in view (the full hash is in the store and the log)."""
    out = history[list(IMPORT_HISTORY_COLUMNS)].copy()
    out["imported_at"] = [None if pd.isna(v) else format_datetime(pd.Timestamp(v).to_pydatetime(),
                                                                   lang)
                          for v in out["imported_at"]]
    out["file_sha256"] = [None if pd.isna(v) else str(v)[:HASH_SHOWN] + "…"
                          for v in out["file_sha256"]]
    return out
