"""Looking ahead: the share at each target forecast to the end of each plan fiscal year, for
the filtered whole and each amphoe, with an interval, the on-track verdict and the method's
back-test error. No Streamlit.

The engine only counts: households by their levels over the window's quarters, moves between
levels per quarter, households per level per quarter (small frames, the same on DuckDB and
PostgreSQL). The projection, the resampling and the back-test are :mod:`domain.forecast`'s,
in numpy. The households are those in the filters as of the selected quarter (as every page);
the forecast looks ahead from that quarter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd
from ibis import _
from ibis.backends import BaseBackend

from dashboard.queries.status import by_place_only, population, selected_quarter
from dashboard.store.privacy import MIN_GROUP
from domain import forecast as model
from domain.definitions import Definitions
from domain.filters import Filters, apply_place_agency
from domain.forecast import LEVELS, Patterns

WHOLE = ""
"""The ``amphoe_code`` of the rows for the filtered whole (the province with no filter)."""


@dataclass(frozen=True)
class Forecast:
    as_of: int | None  # the quarter looked ahead from (index, e.g. 25654)
    method: str  # "transitions" or "linear"
    # per amphoe (WHOLE first) x target level x plan year ahead: fiscal_year, quarter,
    # quarters_ahead, point, low, high (0-1), plan (0-1 or NaN), status, households,
    # beyond_backtest
    table: pd.DataFrame
    # the whole, per quarter from the as-of one to the last plan year's end, per target:
    # q_idx, level, point, low, high
    path: pd.DataFrame
    # the whole's observed shares per quarter up to the as-of one: q_idx, share_1..3
    history: pd.DataFrame
    # the back-test: method, horizon, scope ("whole"/"amphoe"), error_pp (mean absolute, in
    # percentage points), forecasts (how many were compared)
    errors: pd.DataFrame

    def error_pp(self, horizon: int, scope: str = "whole", method: str | None = None
                 ) -> float | None:
        rows = self.errors[(self.errors["method"] == (method or self.method))
                           & (self.errors["horizon"] == horizon)
                           & (self.errors["scope"] == scope)]
        if rows.empty or pd.isna(rows["error_pp"].iloc[0]):
            return None
        return float(rows["error_pp"].iloc[0])

    def status_by_amphoe(self) -> pd.DataFrame:
        """Per amphoe (not the whole): its worst verdict over the targets at the first plan
        year ahead (``status``; "" when too small to judge) and its households."""
        if self.table.empty:
            return pd.DataFrame(columns=["amphoe_code", "status", "households"])
        rows = self.table[(self.table["amphoe_code"] != WHOLE)
                          & (self.table["fiscal_year"] == self.table["fiscal_year"].min())]
        return rows.groupby("amphoe_code", as_index=False).agg(
            status=("status", lambda s: model.worst([v for v in s if v])),
            households=("households", "first"))


def population_levels(con: BaseBackend, filters: Filters, *also: ibis.Deferred
                      ) -> ibis.Table:
    """``status_quarter`` of the households in the filters, with a level, and the rows that
    meet the conditions ``also``."""
    table = con.table("status_quarter")
    if by_place_only(filters):  # the same households at every quarter: no join needed
        return apply_place_agency(table, filters, _.level.notnull(), *also)
    table = table.filter(_.level.notnull(), *also)
    return table.semi_join(population(con, filters), "household_id")


def _quarters(con: BaseBackend, quarter: Any) -> list[int]:
    frame = con.table("quarter_calendar").filter(_.q_idx <= quarter).select("q_idx").execute()
    return sorted(int(q) for q in frame["q_idx"])


def level_counts(con: BaseBackend, filters: Filters) -> pd.DataFrame:
    """Households at each level per amphoe and quarter, up to the selected one:
    amphoe_code, q_idx, level, households."""
    quarter = selected_quarter(con, filters)
    table = population_levels(con, filters, _.q_idx <= quarter)
    return table.group_by(["amphoe_code", "q_idx", "level"]).aggregate(
        households=_.count()).order_by(["amphoe_code", "q_idx", "level"]).execute()


def level_moves(con: BaseBackend, filters: Filters) -> pd.DataFrame:
    """Moves between levels from one quarter to the next, per amphoe and the quarter moved
    into, up to the selected one: amphoe_code, q_idx, from_level, to_level, households
    (``status_quarter.level_before`` is the level at the quarter before, kept at import)."""
    quarter = selected_quarter(con, filters)
    rows = population_levels(con, filters, _.q_idx <= quarter, _.level_before.notnull())
    return rows.group_by(["amphoe_code", "q_idx", rows.level_before.name("from_level"),
                          rows.level.name("to_level")]).aggregate(
        households=_.count()).order_by(["amphoe_code", "q_idx", "from_level",
                                        "to_level"]).execute()


def window_patterns(con: BaseBackend, filters: Filters, quarters: list[int]) -> pd.DataFrame:
    """Households by amphoe and their level at each of ``quarters`` (l0, l1, ...; -1 where
    not yet assessed): amphoe_code, l0..lN, households. At most 5^(N+1) rows per amphoe.
    ``quarters``: the selected quarter and up to ``window_quarters`` before it, as
    :func:`ladder_forecast` asks; filters by amphoe alone read ``level_pattern``, kept at
    import."""
    columns = [f"l{i}" for i in range(len(quarters))]
    if by_place_only(filters) and not filters.tambon:
        kept = apply_place_agency(con.table("level_pattern"), filters, _.q_idx == quarters[-1])
        # the stored window's last len(quarters) columns: the earlier ones lie before the
        # data (-1 for every household), when the selected quarter is one of the first
        stored = [c for c in kept.columns if c.startswith("l")][-len(quarters):]
        return kept.group_by(["amphoe_code", *[kept[c].name(n) for c, n in zip(
            stored, columns, strict=True)]]).aggregate(
            households=_.households.sum()).order_by(["amphoe_code", *columns]).execute()
    table = population_levels(con, filters, _.q_idx.isin(quarters))
    wide = table.group_by(["household_id", "amphoe_code"]).aggregate(**{
        f"l{i}": (table.q_idx == q).ifelse(table.level, ibis.null()).max()
        for i, q in enumerate(quarters)})
    return wide.group_by("amphoe_code", *(wide[c].fill_null(-1).cast("int32").name(c)
                                          for c in columns)).aggregate(
        households=_.count()).order_by(["amphoe_code", *columns]).execute()


def _grid(counts: pd.DataFrame, moves: pd.DataFrame, quarters: list[int],
          groups: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(Q, G, L, L) moves into each quarter and (Q, G, L) households per level."""
    q_at = {q: i for i, q in enumerate(quarters)}
    g_at = {g: i for i, g in enumerate(groups)}
    # a move into a quarter with no household counted (the first one selected, say) has
    # no place in the grid
    counts = counts[counts["q_idx"].isin(q_at) & counts["amphoe_code"].isin(g_at)]
    moves = moves[moves["q_idx"].isin(q_at) & moves["amphoe_code"].isin(g_at)]
    history = np.zeros((len(quarters), len(groups), LEVELS))
    np.add.at(history, (counts["q_idx"].map(q_at).to_numpy(dtype=np.int64),
                        counts["amphoe_code"].map(g_at).to_numpy(dtype=np.int64),
                        counts["level"].to_numpy(dtype=np.int64)),
              counts["households"].to_numpy(dtype=float))
    grid = np.zeros((len(quarters), len(groups), LEVELS, LEVELS))
    np.add.at(grid, (moves["q_idx"].map(q_at).to_numpy(dtype=np.int64),  # empty too
                     moves["amphoe_code"].map(g_at).to_numpy(dtype=np.int64),
                     moves["from_level"].to_numpy(dtype=np.int64),
                     moves["to_level"].to_numpy(dtype=np.int64)),
              moves["households"].to_numpy(dtype=float))
    return grid, history


def backtest(counts: pd.DataFrame, moves: pd.DataFrame, definitions: Definitions
             ) -> pd.DataFrame:
    """Both methods' mean absolute error, in percentage points, forecasting h quarters ahead
    from every quarter with a full window behind it: for the whole, and over the amphoe
    with at least ``MIN_GROUP`` households (each amphoe, target and quarter one forecast)."""
    rules = definitions.forecast
    quarters = sorted(int(q) for q in counts["q_idx"].unique())
    groups = sorted(counts["amphoe_code"].unique())
    rows = []
    if quarters:
        grid, history = _grid(counts, moves, quarters, groups)
        big = np.concatenate([[True], history.sum(axis=-1).min(axis=0) >= MIN_GROUP])
        found = model.backtest_errors(grid, history, rules.window_quarters,
                                      rules.shrink_households, rules.backtest_horizons)
        for (method, h), errors in found.items():
            for scope, part in (("whole", errors[:, :1]), ("amphoe", errors[:, 1:][:, big[1:]])):
                valid = part[~np.isnan(part)]
                rows.append({"method": method, "horizon": h, "scope": scope,
                             "error_pp": float(valid.mean()) if valid.size else np.nan,
                             "forecasts": int(valid.size)})
    return pd.DataFrame(rows, columns=["method", "horizon", "scope", "error_pp", "forecasts"])


def _patterns(frame: pd.DataFrame, width: int) -> Patterns:
    groups = tuple(sorted(frame["amphoe_code"].unique()))
    g_at = {g: i for i, g in enumerate(groups)}
    return Patterns(
        levels=frame[[f"l{i}" for i in range(width)]].to_numpy(dtype=int),
        group=frame["amphoe_code"].map(g_at).to_numpy(dtype=int),
        households=frame["households"].to_numpy(dtype=float),
        groups=groups)


def ladder_forecast(con: BaseBackend, filters: Filters, definitions: Definitions) -> Forecast:
    """The forecast of the share at each target at the end of every plan year after the
    selected quarter, for the whole and each amphoe, by the definitions' method, with its
    interval, plan, verdict and the back-test's errors."""
    rules = definitions.forecast
    counts = level_counts(con, filters)
    moves = level_moves(con, filters)
    errors = backtest(counts, moves, definitions)
    quarter = selected_quarter(con, filters)
    empty = pd.DataFrame(columns=["amphoe_code", "level", "fiscal_year", "quarter",
                                  "quarters_ahead", "point", "low", "high", "plan", "status",
                                  "households", "beyond_backtest"])
    history = _history(counts)
    if quarter is None or counts.empty:
        return Forecast(None, rules.method, empty, pd.DataFrame(), history, errors)
    quarter = int(quarter)
    years = sorted({y for plan in definitions.plan.values() for y in plan
                    if model.year_end_quarter(y) > quarter})
    if not years:
        return Forecast(quarter, rules.method, empty, pd.DataFrame(), history, errors)
    steps = model.quarters_between(quarter, model.year_end_quarter(years[-1]))
    window = _quarters(con, quarter)[-(rules.window_quarters + 1):]
    patterns = _patterns(window_patterns(con, filters, window), len(window))
    projection = model.project(patterns, rules.method, rules.shrink_households, steps,
                               rules.interval, rules.resamples, rules.seed)
    start = patterns.levels[:, -1] >= 0
    sizes = np.bincount(patterns.group[start], weights=patterns.households[start],
                        minlength=len(patterns.groups))
    scopes = [WHOLE, *patterns.groups]
    households = [int(sizes.sum()), *[int(s) for s in sizes]]
    # the back-test's error for each plan year, for the whole and over the amphoe: worked out
    # once, not for each amphoe and target (that took most of the forecast's time)
    slacks = {(year, part): method_error(errors, rules.method, model.quarters_between(
        quarter, model.year_end_quarter(year)), part) for year in years
        for part in ("whole", "amphoe")}
    rows = []
    for g, scope in enumerate(scopes):
        for target in definitions.targets:
            k = target.level - 1
            for year in years:
                ahead = model.quarters_between(quarter, model.year_end_quarter(year))
                point = float(projection.point[ahead, g, k])
                low, high = float(projection.low[ahead, g, k]), float(projection.high[ahead, g, k])
                planned = definitions.plan.get(target.key, {}).get(year)
                slack = slacks[year, "whole" if scope == WHOLE else "amphoe"]
                judged = planned is not None and households[g] >= MIN_GROUP
                rows.append({
                    "amphoe_code": scope, "level": target.level, "fiscal_year": year,
                    "quarter": model.year_end_quarter(year), "quarters_ahead": ahead,
                    "point": point, "low": low, "high": high,
                    "plan": np.nan if planned is None else planned,
                    "status": model.track_status(low - slack, high + slack, planned,
                                                 rules.margin_pp)
                    if judged and slack is not None else "",
                    "households": households[g],
                    # further ahead than the back-test could check: the error is not known
                    "beyond_backtest": ahead > max(rules.backtest_horizons)})
    path = pd.DataFrame([
        {"q_idx": model.quarter_at(model.quarter_ordinal(quarter) + step), "level": level,
         "point": float(projection.point[step, 0, level - 1]),
         "low": float(projection.low[step, 0, level - 1]),
         "high": float(projection.high[step, 0, level - 1])}
        for step in range(steps + 1) for level in model.TARGET_LEVELS])
    return Forecast(quarter, rules.method, pd.DataFrame(rows), path, history, errors)


def method_error(errors: pd.DataFrame, method: str, ahead: int, scope: str) -> float | None:
    """How far the method erred, as a share, forecasting ``ahead`` quarters in the back-test
    (the nearest horizon at or beyond it; past the longest, that one's error grown in
    proportion): the verdict widens the interval by it, so that a forecast is not called on
    track by an interval that knows nothing of the method's own error. ``None``: the
    back-test had nothing to compare, and no verdict is given."""
    rows = errors[(errors["method"] == method) & (errors["scope"] == scope)
                  & errors["error_pp"].notna()].sort_values("horizon")
    if rows.empty:
        return None
    at_or_beyond = rows[rows["horizon"] >= ahead]
    if not at_or_beyond.empty:
        return float(at_or_beyond["error_pp"].iloc[0]) / 100
    longest = rows.iloc[-1]
    return float(longest["error_pp"]) / 100 * ahead / int(longest["horizon"])


def _history(counts: pd.DataFrame) -> pd.DataFrame:
    if counts.empty:
        return pd.DataFrame(columns=["q_idx", "share_1", "share_2", "share_3"])
    whole = counts.pivot_table(index="q_idx", columns="level", values="households",
                               aggfunc="sum", fill_value=0).reindex(columns=range(LEVELS),
                                                                    fill_value=0)
    shares = model.at_least(whole.to_numpy(dtype=float)
                            / whole.to_numpy(dtype=float).sum(axis=1, keepdims=True))
    return pd.DataFrame({"q_idx": whole.index.astype(int),
                         **{f"share_{k}": shares[:, k - 1] for k in model.TARGET_LEVELS}})
