"""Looking ahead on the ladder: quarterly transition rates between levels 0-3, shrunk toward
the whole's, projected forward; a plain linear trend of each share as the baseline; intervals
from resampling households; the on-track rule. Pure numpy on small aggregated inputs (see
docs/forecast.md): nothing here reads the store, so both engines give the same figures.

Arrays are named by their axes: ``B`` bootstrap replicates (or none), ``T`` quarters of the
window (``window + 1`` points, oldest first), ``G`` groups (amphoe), ``L`` levels (4),
``S`` quarters ahead (0 = the as-of quarter). Shares "at target k" are shares at level k or
above, of the households assessed at that quarter; fractions 0-1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVELS = 4
TARGET_LEVELS = (1, 2, 3)
TRANSITIONS = "transitions"
LINEAR = "linear"
METHODS = (TRANSITIONS, LINEAR)
STATUSES = ("on_track", "at_risk", "off_track")
"""The on-track rule's verdicts, best first (an amphoe's overall verdict is its worst)."""


def quarter_ordinal(q_idx: int) -> int:
    """Fiscal quarter index (25634) -> a count of quarters, so that differences are quarters."""
    fiscal_year, quarter = divmod(int(q_idx), 10)
    return fiscal_year * 4 + quarter - 1


def quarter_at(ordinal: int) -> int:
    """:func:`quarter_ordinal` backwards."""
    fiscal_year, rest = divmod(int(ordinal), 4)
    return fiscal_year * 10 + rest + 1


def quarters_between(first: int, last: int) -> int:
    """Quarters from quarter index ``first`` to ``last`` (2 for 25634 -> 25642)."""
    return quarter_ordinal(last) - quarter_ordinal(first)


def year_end_quarter(fiscal_year: int) -> int:
    """The last quarter of a fiscal year (BE): 2566 -> 25664."""
    return fiscal_year * 10 + 4


@dataclass(frozen=True)
class Patterns:
    """Households grouped by their level at each quarter of the window: ``levels`` (n, T),
    -1 where not yet assessed; ``group`` (n,) an index into ``groups``; ``households`` (n,)."""

    levels: np.ndarray
    group: np.ndarray
    households: np.ndarray
    groups: tuple[str, ...]


def transition_counts(levels: np.ndarray) -> np.ndarray:
    """Per pattern (n, T), its moves from one quarter to the next as a (n, L*L) count
    (index ``from * L + to``); a quarter with no level on either side is not a move."""
    out = np.zeros((len(levels), LEVELS * LEVELS))
    for t in range(levels.shape[1] - 1):
        a, b = levels[:, t], levels[:, t + 1]
        known = (a >= 0) & (b >= 0)
        np.add.at(out, (np.flatnonzero(known), a[known] * LEVELS + b[known]), 1)
    return out


def level_onehot(levels: np.ndarray) -> np.ndarray:
    """(n, T) levels -> (n, T*L) one-hot (all zero where not assessed)."""
    n, width = levels.shape
    out = np.zeros((n, width, LEVELS))
    rows, cols = np.nonzero(levels >= 0)
    out[rows, cols, levels[rows, cols]] = 1
    return out.reshape(n, width * LEVELS)


def rate_matrices(counts: np.ndarray, shrink: float) -> np.ndarray:
    """(..., G, L, L) move counts -> each group's quarterly transition rates, shrunk toward the
    whole's: row ``i`` of group g is ``(C_g[i] + k * P[i]) / (n_g[i] + k)``, where ``P`` is the
    whole's rate and ``n_g[i]`` the group's household-quarters seen at level i, so the group's
    own rates weigh ``n / (n + k)``. A level nobody was seen at keeps its households."""
    whole = counts.sum(axis=-3)
    totals = whole.sum(axis=-1, keepdims=True)
    eye = np.broadcast_to(np.eye(LEVELS), whole.shape)
    whole_rate = np.where(totals > 0, whole / np.where(totals > 0, totals, 1), eye)
    own = counts.sum(axis=-1, keepdims=True)
    return (counts + shrink * whole_rate[..., None, :, :]) / (own + shrink)


def at_least(dist: np.ndarray) -> np.ndarray:
    """(..., L) level distribution -> (..., 3) shares at each target or above."""
    tail = np.cumsum(dist[..., ::-1], axis=-1)[..., ::-1]
    return tail[..., 1:]


def transition_paths(counts: np.ndarray, start: np.ndarray, shrink: float,
                     steps: int) -> np.ndarray:
    """Shares at each target, ``steps`` quarters ahead, from move counts (..., G, L, L) and
    the households at each level at the start (..., G, L). Returns (..., S, G+1, 3): index 0
    of G+1 is the whole (the groups' projections weighted by their households)."""
    rates = rate_matrices(counts, shrink)
    sizes = start.sum(axis=-1, keepdims=True)
    dist = start / np.where(sizes > 0, sizes, 1)
    out = []
    for step in range(steps + 1):
        if step:
            dist = np.einsum("...gi,...gij->...gj", dist, rates)
        whole = (dist * sizes).sum(axis=-2) / np.maximum(sizes.sum(axis=-2), 1)
        out.append(np.concatenate([whole[..., None, :], dist], axis=-2))
    return at_least(np.stack(out, axis=-3))


def linear_paths(history: np.ndarray, steps: int) -> np.ndarray:
    """The baseline: each share's least-squares line over the window's quarters, carried on
    ``steps`` quarters past the last (clipped to 0-1). ``history``: households at each level
    (..., T, G, L). Returns (..., S, G+1, 3), the whole first."""
    whole = history.sum(axis=-2, keepdims=True)
    counts = np.concatenate([whole, history], axis=-2)
    sizes = counts.sum(axis=-1, keepdims=True)
    shares = at_least(counts / np.where(sizes > 0, sizes, 1))  # (..., T, G+1, 3)
    seen = np.broadcast_to(sizes > 0, shares.shape)
    width = history.shape[-3]
    x = np.arange(width, dtype=float).reshape((width, 1, 1))
    w = seen.astype(float)
    n = w.sum(axis=-3)
    mx = (w * x).sum(axis=-3) / np.maximum(n, 1)
    my = (w * shares).sum(axis=-3) / np.maximum(n, 1)
    sxx = (w * (x - mx[..., None, :, :]) ** 2).sum(axis=-3)
    sxy = (w * (x - mx[..., None, :, :]) * (shares - my[..., None, :, :])).sum(axis=-3)
    slope = np.where(sxx > 0, sxy / np.where(sxx > 0, sxx, 1), 0.0)
    ahead = np.arange(steps + 1, dtype=float).reshape((steps + 1, 1, 1)) + width - 1
    path = my[..., None, :, :] + slope[..., None, :, :] * (ahead - mx[..., None, :, :])
    return np.clip(path, 0.0, 1.0)


def paths(method: str, moves: np.ndarray, history: np.ndarray, shrink: float,
          steps: int) -> np.ndarray:
    """The shares ahead by ``method`` (:data:`TRANSITIONS` or :data:`LINEAR`)."""
    if method == LINEAR:
        return linear_paths(history, steps)
    return transition_paths(moves, history[..., -1, :, :], shrink, steps)


def pattern_inputs(patterns: Patterns, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Move counts (..., G, L, L) and households at each level (..., T, G, L) of the patterns,
    each counted ``weights`` (..., n) times."""
    groups = len(patterns.groups)
    width = patterns.levels.shape[1]
    moves_each = transition_counts(patterns.levels)
    levels_each = level_onehot(patterns.levels)
    lead = weights.shape[:-1]
    moves = np.zeros((*lead, groups, LEVELS * LEVELS))
    history = np.zeros((*lead, groups, width * LEVELS))
    for g in range(groups):
        rows = np.flatnonzero(patterns.group == g)
        moves[..., g, :] = weights[..., rows] @ moves_each[rows]
        history[..., g, :] = weights[..., rows] @ levels_each[rows]
    history = history.reshape((*lead, groups, width, LEVELS))
    return (moves.reshape((*lead, groups, LEVELS, LEVELS)),
            np.moveaxis(history, -2, -3))


def resample(patterns: Patterns, resamples: int, seed: int) -> np.ndarray:
    """(B, n) household counts: each group's households drawn with replacement (the whole
    household, with its path through every quarter of the window, so the quarters' dependence
    stays in the interval)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((resamples, len(patterns.households)))
    for g in range(len(patterns.groups)):
        rows = np.flatnonzero(patterns.group == g)
        total = int(patterns.households[rows].sum())
        if total:
            out[:, rows] = rng.multinomial(total, patterns.households[rows] / total,
                                           size=resamples)
    return out


@dataclass(frozen=True)
class Projection:
    """Shares at each target ahead (S, G+1, 3), the whole first: the estimate and the
    interval's ends."""

    point: np.ndarray
    low: np.ndarray
    high: np.ndarray


def project(patterns: Patterns, method: str, shrink: float, steps: int, interval: float,
            resamples: int, seed: int) -> Projection:
    """The estimate from the households as seen, and its interval from ``resamples``
    resamples of households (the central ``interval`` of them)."""
    moves, history = pattern_inputs(patterns, patterns.households.astype(float))
    point = paths(method, moves, history, shrink, steps)
    weights = resample(patterns, resamples, seed)
    moves_b, history_b = pattern_inputs(patterns, weights)
    draws = paths(method, moves_b, history_b, shrink, steps)
    tail = (1 - interval) / 2
    low, high = np.quantile(draws, [tail, 1 - tail], axis=0)
    return Projection(point=point, low=np.minimum(low, point), high=np.maximum(high, point))


def track_status(low: float, high: float, planned: float, margin_pp: float) -> str:
    """The on-track rule (docs/forecast.md): on track when the interval's lower end reaches
    the plan less ``margin_pp`` points, off track when its upper end falls short of it, at
    risk in between."""
    bar = planned - margin_pp / 100
    if low >= bar:
        return "on_track"
    if high < bar:
        return "off_track"
    return "at_risk"


def worst(statuses: list[str]) -> str:
    return max(statuses, key=STATUSES.index) if statuses else ""


def backtest_errors(moves: np.ndarray, history: np.ndarray, window: int, shrink: float,
                    horizons: tuple[int, ...]) -> dict[tuple[str, int], np.ndarray]:
    """Forecast from every quarter with a full window behind it and ``h`` quarters after it,
    and compare. ``moves`` (Q, G, L, L): moves into each quarter (none into the first);
    ``history`` (Q, G, L): households at each level per quarter, oldest first. Returns, per
    (method, h), the absolute errors in percentage points (origins, G+1, 3), the whole first;
    NaN where a group had no households to compare."""
    out: dict[tuple[str, int], np.ndarray] = {}
    quarters = history.shape[0]
    for h in horizons:
        for method in METHODS:
            errors = []
            for origin in range(window, quarters - h):
                seen = moves[origin - window + 1: origin + 1].sum(axis=0)
                past = history[origin - window: origin + 1]
                ahead = paths(method, seen, past, shrink, h)[h]
                actual_counts = history[origin + h]
                counts = np.concatenate([actual_counts.sum(axis=0)[None], actual_counts])
                sizes = counts.sum(axis=-1, keepdims=True)
                actual = at_least(counts / np.where(sizes > 0, sizes, 1))
                error = np.abs(ahead - actual) * 100
                errors.append(np.where(sizes > 0, error, np.nan))
            out[(method, h)] = (np.stack(errors) if errors
                                else np.full((0, history.shape[1] + 1, 3), np.nan))
    return out
