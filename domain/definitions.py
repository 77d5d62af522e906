"""Load and check the definitions file (``data/definitions.toml``).

Every threshold the product applies comes from here. A malformed file raises
:class:`DefinitionsError` naming the key, so a typo never silently changes a figure.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.forecast import METHODS
from domain.i18n import t
from domain.thai_dates import fiscal_year_be

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = ROOT / "data" / "definitions.toml"
TARGET_KEYS = ("survive", "sufficient", "sustainable")
TARGET_LEVELS = (1, 2, 3)
"""The ladder's levels, one target each, in order (the definitions file must keep them)."""
INCOME_SOURCES = ("main", "secondary", "remittance", "welfare", "own_food")
"""Income by source, as named in the definitions file (columns ``income_<source>``)."""
PLACEHOLDER = re.compile(r"\{(\w+)\}")


class DefinitionsError(ValueError):
    def __init__(self, path: Path, key: str, problem: str) -> None:
        super().__init__(f"{path.name}: [{key}] {problem}")
        self.path = path
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Target:
    key: str
    level: int
    name_th: str
    name_en: str
    jpt_must_pass: tuple[int, ...]
    jpt_pass_or_not_applicable: tuple[int, ...]
    income_at_least_line: bool = False
    requires_savings: bool = False
    informal_debt_at_most_baht: float | None = None
    min_income_sources: int | None = None
    income_sources_counted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dimension:
    key: str
    name_th: str
    name_en: str
    jpt: tuple[int, ...]


@dataclass(frozen=True)
class Indicator:
    key: str
    name_th: str
    name_en: str
    numerator_th: str
    numerator_en: str
    denominator_th: str
    denominator_en: str
    unit: str


INDICATOR_TEXT_FIELDS = ("name_th", "name_en", "numerator_th", "numerator_en",
                         "denominator_th", "denominator_en", "unit")


@dataclass(frozen=True)
class QualityRules:
    outlier_robust_z: float = 5.0
    jump_factor: float = 4.0
    min_jump_baht: float = 20_000
    missed_rounds_in_a_row: int = 3


FOLLOWUP_REASONS = ("action_overdue", "fell_back", "no_buddy", "need_unhelped",
                    "no_recent_visit", "missed_rounds")
"""The reasons a household needs action, in the order they are listed (most urgent first)."""


@dataclass(frozen=True)
class FollowupRules:
    """When a household needs action (the Follow-up page), and how urgent each reason is."""

    no_visit_after_days: int = 90
    need_unhelped_after_days: int = 60
    weights: tuple[tuple[str, int], ...] = (
        ("action_overdue", 5), ("fell_back", 4), ("no_buddy", 3), ("need_unhelped", 2),
        ("no_recent_visit", 2), ("missed_rounds", 1))

    def weight(self, reason: str) -> int:
        return dict(self.weights)[reason]


def _followup_rules(data: dict[str, Any], path: Path) -> FollowupRules:
    table = _get(data, "followup", dict, path, "", default={})
    days = {}
    for key in ("no_visit_after_days", "need_unhelped_after_days"):
        days[key] = _get(table, key, int, path, "followup",
                         default=getattr(FollowupRules, key))
        if not 1 <= days[key] <= 3650:
            raise DefinitionsError(path, f"followup.{key}", "must be 1 to 3,650 days")
    given = _get(table, "weights", dict, path, "followup", default={})
    unknown = [k for k in given if k not in FOLLOWUP_REASONS]
    if unknown:
        raise DefinitionsError(path, f"followup.weights.{unknown[0]}",
                               f"is not one of {', '.join(FOLLOWUP_REASONS)}")
    defaults = dict(FollowupRules.weights)
    weights = []
    for reason in FOLLOWUP_REASONS:
        weight = _get(given, reason, int, path, "followup.weights", default=defaults[reason])
        if not 1 <= weight <= 100:
            raise DefinitionsError(path, f"followup.weights.{reason}", "must be 1 to 100")
        weights.append((reason, weight))
    return FollowupRules(weights=tuple(weights), **days)


@dataclass(frozen=True)
class ForecastRules:
    """How the ladder is projected and judged against the plan (docs/forecast.md)."""

    method: str = "linear"  # or "transitions"; chosen by the back-test
    window_quarters: int = 4
    shrink_households: float = 40.0
    interval: float = 0.80
    resamples: int = 200
    seed: int = 2562
    backtest_horizons: tuple[int, ...] = (2, 4)
    margin_pp: float = 0.0


@dataclass(frozen=True)
class ClimbRules:
    """What is followed by a climb (docs/forecast.md): the window after help, and the income
    bands that make households comparable (fractions of the income line)."""

    within_quarters: int = 2
    income_band_edges: tuple[float, ...] = (0.5, 1.0)


def _number(table: dict[str, Any], key: str, path: Path, where: str, default: float,
            low: float, high: float) -> float:
    value = float(_get(table, key, (int, float), path, where, default=default))
    if not low <= value <= high:
        raise DefinitionsError(path, f"{where}.{key}", f"must be from {low:g} to {high:g}")
    return value


def _forecast_rules(data: dict[str, Any], path: Path) -> ForecastRules:
    table = _get(data, "forecast", dict, path, "", default={})
    method = _get(table, "method", str, path, "forecast", default=ForecastRules.method)
    if method not in METHODS:
        raise DefinitionsError(path, "forecast.method", f"must be one of {', '.join(METHODS)}")
    horizons = _get(table, "backtest_horizons", list, path, "forecast",
                    default=list(ForecastRules.backtest_horizons))
    if not horizons or any(isinstance(h, bool) or not isinstance(h, int) or not 1 <= h <= 8
                           for h in horizons):
        raise DefinitionsError(path, "forecast.backtest_horizons",
                               "must list quarters ahead, 1 to 8")
    return ForecastRules(
        method=method,
        window_quarters=int(_number(table, "window_quarters", path, "forecast", 4, 1, 12)),
        shrink_households=_number(table, "shrink_households", path, "forecast", 40, 0, 10_000),
        interval=_number(table, "interval", path, "forecast", 0.8, 0.5, 0.99),
        resamples=int(_number(table, "resamples", path, "forecast", 200, 20, 5_000)),
        seed=int(_number(table, "seed", path, "forecast", 2562, 0, 2**31)),
        backtest_horizons=tuple(horizons),
        margin_pp=_number(table, "on_track_margin_pp", path, "forecast", 0, 0, 50),
    )


def _climb_rules(data: dict[str, Any], path: Path) -> ClimbRules:
    table = _get(data, "climb", dict, path, "", default={})
    edges = _get(table, "income_band_edges", list, path, "climb",
                 default=list(ClimbRules.income_band_edges))
    if any(isinstance(e, bool) or not isinstance(e, int | float) or e <= 0 for e in edges) \
            or list(edges) != sorted(set(edges)):
        raise DefinitionsError(path, "climb.income_band_edges",
                               "must be rising positive fractions of the income line")
    return ClimbRules(
        within_quarters=int(_number(table, "within_quarters", path, "climb", 2, 1, 8)),
        income_band_edges=tuple(float(e) for e in edges),
    )


@dataclass(frozen=True)
class DateRules:
    """The dates an import accepts for the programme's events (visits, pairings, enrolment)."""

    programme_start: dt.date = dt.date(2019, 9, 27)
    future_tolerance_days: int = 1

    def last_accepted(self, today: dt.date) -> dt.date:
        return today + dt.timedelta(days=self.future_tolerance_days)


def _date_rules(data: dict[str, Any], path: Path) -> DateRules:
    table = _get(data, "dates", dict, path, "", default={})
    start = _get(table, "programme_start", dt.date, path, "dates",
                 default=DateRules.programme_start)
    if isinstance(start, dt.datetime):
        raise DefinitionsError(path, "dates.programme_start", "must be a date, not a time")
    days = _get(table, "future_tolerance_days", int, path, "dates",
                default=DateRules.future_tolerance_days)
    if not 0 <= days <= 31:
        raise DefinitionsError(path, "dates.future_tolerance_days", "must be 0 to 31 days")
    return DateRules(programme_start=start, future_tolerance_days=days)


@dataclass(frozen=True)
class Definitions:
    income_line: float
    income_line_source: str
    visited_within_days: int
    targets: tuple[Target, ...]  # in ladder order
    plan: dict[str, dict[int, float]]  # target key -> fiscal year (BE) -> share
    dimensions: tuple[Dimension, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    quality: QualityRules = QualityRules()
    dates: DateRules = DateRules()
    income_line_source_en: str = ""
    stale_after_days: int | None = None  # warn when the data are older than this; None: never
    followup: FollowupRules = FollowupRules()
    forecast: ForecastRules = ForecastRules()
    climb: ClimbRules = ClimbRules()

    def target(self, key: str) -> Target:
        return next(t for t in self.targets if t.key == key)

    def indicator(self, key: str) -> Indicator:
        return next(i for i in self.indicators if i.key == key)

    def plan_in_force(self, key: str, day: dt.date | None) -> tuple[int, float] | None:
        """The plan year that applies on ``day`` for target ``key``: the fiscal year (BE) that
        ``day`` falls in, or, past the plan's last year, that last year (its share still
        stands). ``None`` before the plan's first year, with no plan, or with no date."""
        years = self.plan.get(key, {})
        if day is None or not years:
            return None
        fiscal_year = fiscal_year_be(day)
        known = [year for year in years if year <= fiscal_year]
        return (max(known), years[max(known)]) if known else None

    def days_stale(self, as_of: dt.date | None, today: dt.date) -> int | None:
        """How many days before ``today`` the data end, when that is more than the file's
        ``freshness.warn_after_days``; ``None`` when fresh enough, with no data or no limit."""
        if as_of is None or self.stale_after_days is None:
            return None
        days = (today - as_of).days
        return days if days > self.stale_after_days else None

    def income_source(self, lang: str) -> str:
        """The income line's source in ``lang`` (the Thai one where no English is given)."""
        return self.income_line_source_en if lang == "en" and self.income_line_source_en \
            else self.income_line_source

    def fill(self, text: str, lang: str) -> str:
        """``text`` with the file's own values put in place of ``{visited_within_days}``,
        ``{income_line}`` and ``{stale_after_days}``: a definition names the value in force,
        not the key that holds it."""
        values = {"visited_within_days": f"{self.visited_within_days:,}",
                  "income_line": f"{self.income_line:,.0f}",
                  "stale_after_days": f"{self.stale_after_days or 0:,}"}
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)

    def level_names(self, lang: str) -> dict[int, str]:
        """Each level's name in ``lang``: 0 (in crisis, below the first target), then each
        target's."""
        return {0: t("level.crisis", lang)} | {
            target.level: target.name_th if lang == "th" else target.name_en
            for target in self.targets}


def definitions_path() -> Path:
    """The file in force: ``KUSIAO_DEFINITIONS`` if set, else the project's own."""
    return Path(os.environ.get("KUSIAO_DEFINITIONS", DEFAULT_PATH))


def _get(table: dict[str, Any], key: str, kind: type | tuple[type, ...], path: Path,
         where: str, default: Any = ...) -> Any:
    if key not in table:
        if default is not ...:
            return default
        raise DefinitionsError(path, f"{where}.{key}", "is missing")
    value = table[key]
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise DefinitionsError(path, f"{where}.{key}", f"must be a number, not {value!r}")
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise DefinitionsError(path, f"{where}.{key}", f"must be {names}, not {value!r}")
    return value


def _indicators(table: dict[str, Any], key: str, path: Path, where: str) -> tuple[int, ...]:
    values = _get(table, key, list, path, where, default=[])
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 31:
            raise DefinitionsError(path, f"{where}.{key}",
                                   f"must list จปฐ. indicators 1-31, found {v!r}")
    return tuple(values)


def load_definitions(path: Path | None = None) -> Definitions:
    path = path or definitions_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DefinitionsError(path, "file", "not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionsError(path, "file", f"is not valid TOML: {exc}") from exc
    line_table = _get(data, "income_line", dict, path, "")
    line = float(_get(line_table, "baht_per_person_per_year", (int, float), path, "income_line"))
    if line <= 0:
        raise DefinitionsError(path, "income_line.baht_per_person_per_year", "must be positive")
    recency = _get(data, "recency", dict, path, "")
    days = _get(recency, "visited_within_days", int, path, "recency")
    targets_table = _get(data, "targets", dict, path, "")
    targets = []
    for key in TARGET_KEYS:
        where = f"targets.{key}"
        t = _get(targets_table, key, dict, path, "targets")
        debt = _get(t, "informal_debt_at_most_baht", (int, float), path, where, default=None)
        sources = _get(t, "min_income_sources", int, path, where, default=None)
        counted = tuple(_get(t, "income_sources_counted", list, path, where,
                             default=list(INCOME_SOURCES)))
        unknown = [c for c in counted if c not in INCOME_SOURCES]
        if unknown:
            raise DefinitionsError(path, f"{where}.income_sources_counted",
                                   f"unknown source {unknown[0]!r}; one of "
                                   f"{', '.join(INCOME_SOURCES)}")
        targets.append(Target(
            key=key,
            level=_get(t, "level", int, path, where),
            name_th=_get(t, "name_th", str, path, where),
            name_en=_get(t, "name_en", str, path, where),
            jpt_must_pass=_indicators(t, "jpt_must_pass", path, where),
            jpt_pass_or_not_applicable=_indicators(t, "jpt_pass_or_not_applicable", path, where),
            income_at_least_line=_get(t, "income_at_least_line", bool, path, where, default=False),
            requires_savings=_get(t, "requires_savings", bool, path, where, default=False),
            informal_debt_at_most_baht=None if debt is None else float(debt),
            min_income_sources=sources,
            income_sources_counted=counted,
        ))
    levels = [t.level for t in targets]
    if tuple(levels) != TARGET_LEVELS:
        raise DefinitionsError(path, "targets",
                               f"levels must be 1, 2, 3 in ladder order, got {levels}")
    plan_table = _get(data, "plan", dict, path, "", default={})
    plan: dict[str, dict[int, float]] = {}
    for key, years in plan_table.items():
        if key not in TARGET_KEYS:
            raise DefinitionsError(path, f"plan.{key}", f"is not one of {', '.join(TARGET_KEYS)}")
        plan[key] = {}
        for year, share in years.items():
            if not str(year).isdigit() or not 2500 <= int(year) <= 2700:
                raise DefinitionsError(path, f"plan.{key}.{year}", "must be a BE fiscal year")
            if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
                raise DefinitionsError(path, f"plan.{key}.{year}", "must be a share from 0 to 1")
            plan[key][int(year)] = float(share)
    dims_table = _get(data, "dimensions", dict, path, "")
    dimensions = []
    for key in dims_table:
        d = _get(dims_table, key, dict, path, "dimensions")
        dimensions.append(Dimension(
            key=key,
            name_th=_get(d, "name_th", str, path, f"dimensions.{key}"),
            name_en=_get(d, "name_en", str, path, f"dimensions.{key}"),
            jpt=_indicators(d, "jpt", path, f"dimensions.{key}"),
        ))
    indicators_table = _get(data, "indicators", dict, path, "")
    indicators = []
    for key in indicators_table:
        ind = _get(indicators_table, key, dict, path, "indicators")
        indicators.append(Indicator(key=key, **{
            f: _get(ind, f, str, path, f"indicators.{key}") for f in INDICATOR_TEXT_FIELDS}))
    quality_table = _get(data, "quality", dict, path, "", default={})
    quality = QualityRules(
        outlier_robust_z=float(_get(quality_table, "outlier_robust_z", (int, float), path,
                                    "quality", default=5.0)),
        jump_factor=float(_get(quality_table, "jump_factor", (int, float), path, "quality",
                               default=4.0)),
        min_jump_baht=float(_get(quality_table, "min_jump_baht", (int, float), path,
                                 "quality", default=20_000)),
        missed_rounds_in_a_row=_get(quality_table, "missed_rounds_in_a_row", int, path,
                                    "quality", default=3),
    )
    freshness = _get(data, "freshness", dict, path, "", default={})
    stale = _get(freshness, "warn_after_days", int, path, "freshness", default=None)
    if stale is not None and stale <= 0:
        raise DefinitionsError(path, "freshness.warn_after_days", "must be positive")
    return Definitions(
        income_line_source_en=_get(line_table, "source_en", str, path, "income_line",
                                   default=""),
        stale_after_days=stale,
        quality=quality,
        dates=_date_rules(data, path),
        followup=_followup_rules(data, path),
        forecast=_forecast_rules(data, path),
        climb=_climb_rules(data, path),
        income_line=line,
        income_line_source=_get(line_table, "source", str, path, "income_line", default=""),
        visited_within_days=days,
        targets=tuple(targets),
        plan=plan,
        dimensions=tuple(dimensions),
        indicators=tuple(indicators),
    )
