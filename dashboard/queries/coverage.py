"""Coverage and the buddies' follow-through: who looks after whom, how recently, and how well.

Queries (Ibis, run in the engine; only small frames come back):

- :func:`coverage_matrix`: households and officials per amphoe × agency, with both margins.
- :func:`caseload_check`: officials who do not have exactly two households now, and
  households without a buddy now.
- :func:`recency_bands`: households by days since their last visit, per amphoe or agency.
- :func:`agency_league`: the agencies side by side (officials, households, visits per
  household per quarter, share that climbed, share at a target, officials overdue).
- :func:`overdue_officials`: officials with a household overdue for a visit, longest first.

"Now" is the as-of date of the selected fiscal quarter, as on the Overview: a pairing is current
when it started on or before that date and has not ended before it. A household's agency is its
current buddy's agency; a household without a buddy has the agency :data:`NO_BUDDY`. The
figures add up to the Overview's: the matrix total is its households, the paired ones its
"paired", the distinct officials its "officials", and the first two recency bands its "visited
recently".

What the pages show of them is in :mod:`dashboard.views.coverage`.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd
from ibis import _
from ibis.backends import BaseBackend

from domain.definitions import TARGET_LEVELS, Definitions
from domain.filters import Filters, apply_place_agency
from domain.reference import agency_table

NO_BUDDY = "(none)"
"""The agency of a household without a current buddy (not a valid agency code)."""
BANDS = ("b1", "b2", "b3", "b4", "never")
"""Visit recency bands, from the most recent; see :func:`recency_edges`."""
CASELOAD = 2  # households per official, by the programme's design


def _status(con: BaseBackend, filters: Filters, *also: ibis.Deferred) -> ibis.Table:
    from dashboard.queries.status import status

    return status(con, filters, *also)


def selected_as_of(con: BaseBackend, filters: Filters) -> tuple[int | None, dt.date | None]:
    """The selected fiscal quarter (the latest when none is chosen) and its as-of date."""
    return _quarter_span(con, filters)[:2]


def quarters_up_to(con: BaseBackend, filters: Filters) -> int:
    """Fiscal quarters from the first visit's quarter to the selected one, both included."""
    return _quarter_span(con, filters)[2]


def _quarter_span(con: BaseBackend, filters: Filters,
                  ) -> tuple[int | None, dt.date | None, int]:
    """The selected quarter, its as-of date and the quarters of the calendar up to it, read
    once per filter and data version by a page's queries (several ask)."""
    calendar = con.table("quarter_calendar").select("q_idx", "as_of").execute()
    if calendar.empty:
        return None, None, 0
    quarters = calendar["q_idx"].to_numpy()
    quarter = filters.quarter if filters.quarter is not None else int(quarters.max())
    found = np.flatnonzero(quarters == quarter)
    as_of = pd.Timestamp(calendar["as_of"].to_numpy()[found[0]]).date() if len(found) else None
    return quarter, as_of, int((quarters <= quarter).sum())


# --- queries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageMatrix:
    """Households and distinct officials per place × agency (long form) and on both margins;
    the places are amphoe, or the chosen amphoe's tambon.
    Margins count officials once each, so they are not the sums of the cells when an official
    looks after households in two amphoe."""

    cells: pd.DataFrame  # <place>, agency_code, households, officials
    by_place: pd.DataFrame  # <place>, households, paired, officials
    by_agency: pd.DataFrame  # agency_code, households, officials
    households: int
    paired: int
    officials: int
    place: str = "amphoe_code"  # the rows: amphoe, or the chosen amphoe's tambon


@dataclass(frozen=True)
class CoverageCounts:
    """The one read the matrix and both recency charts come from (:func:`coverage_counts`):
    the counts per place × agency, per agency and per place (amphoe, or the chosen amphoe's
    tambon)."""

    cells: pd.DataFrame
    by_agency: pd.DataFrame
    by_place: pd.DataFrame
    place: str = "amphoe_code"  # the places: amphoe, or the chosen amphoe's tambon


def coverage_counts(con: BaseBackend, filters: Filters,
                    definitions: Definitions) -> CoverageCounts:
    """Households, officials, paired households and households per recency band (the
    ``definitions``' window) per amphoe × agency and on both margins: the Coverage page reads
    this once and makes its matrix (:func:`matrix_of`) and recency bands (:func:`bands_of`)
    from it."""
    return CoverageCounts(*_coverage_frames(con, filters, definitions),
                          place=filters.place_column)


def coverage_matrix(con: BaseBackend, filters: Filters,
                    definitions: Definitions) -> CoverageMatrix:
    """The cells and both margins (:func:`matrix_of` of :func:`coverage_counts`)."""
    return matrix_of(coverage_counts(con, filters, definitions))


def matrix_of(counts: CoverageCounts) -> CoverageMatrix:
    """The coverage matrix from the counts."""
    cells, by_agency, by_place = counts.cells, counts.by_agency, counts.by_place
    place = counts.place
    return CoverageMatrix(
        cells=cells[[place, "agency_code", "households", "officials"]],
        by_place=by_place[[place, "paired", "households", "officials"]],
        place=place,
        by_agency=by_agency[["agency_code", "households", "officials"]],
        households=int(by_agency["households"].sum()),
        paired=int(by_agency["paired"].sum()),
        officials=int(by_agency["officials"].sum()),
    )


_MEASURES = ("households", "officials", "paired", *BANDS)


def _coverage_frames(con: BaseBackend, filters: Filters, definitions: Definitions,
                     ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The counts of :func:`_coverage_counts` per amphoe × agency, per agency and per amphoe,
    each ordered by its codes. An official belongs to one agency, so within an amphoe no
    official is in two cells, and the amphoe margin adds up its cells (here, in numpy: a
    group-by in the engine costs it more than the adding up costs numpy). Across amphoe an
    official may be in two cells, so without a place filter the engine counts the agency
    margin's officials anew; within one amphoe (or tambon) the margin is the cells."""
    cells, agencies = _coverage_counts(con, filters, definitions.visited_within_days)
    cells = cells.execute()
    place = filters.place_column
    by_agency = cells.drop(columns=place) if agencies is None else agencies.execute()
    return cells, by_agency, _added_up(cells, place, _MEASURES)


def _added_up(frame: pd.DataFrame, by: str, columns: Sequence[str]) -> pd.DataFrame:
    """``columns`` summed over each run of equal ``by`` values in ``frame`` (which is
    ordered by ``by``), as pandas' ``groupby(by, as_index=False).sum()`` gives them."""
    codes = frame[by].array
    keys = np.asarray(codes, dtype=object)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else keys[:0]
    sums = {c: (np.add.reduceat(frame[c].to_numpy(), starts) if len(starts)
                else frame[c].to_numpy()[:0]) for c in columns}
    return pd.DataFrame({by: codes.take(starts.astype(np.intp)), **sums})


def _coverage_counts(con: BaseBackend, filters: Filters, window: int,
                     ) -> tuple[ibis.Table, ibis.Table | None]:
    """Households, distinct officials, paired households and households per visit-recency
    band (:func:`recency_edges` of ``window``) per amphoe × agency and, without a place
    filter, per agency (``None`` with one: the cells are the agencies then)."""
    first, second, third = recency_edges(window)
    table = _status(con, filters)
    agency = table.agency_code.fill_null(NO_BUDDY).name("agency_code")
    days = table.days_since_visit
    counts = {
        "households": _.count(),
        "officials": _.official_id.nunique(),
        "paired": _.paired.sum(),
        "b1": (days <= first).fill_null(False).sum(),
        "b2": ((days > first) & (days <= second)).fill_null(False).sum(),
        "b3": ((days > second) & (days <= third)).fill_null(False).sum(),
        "b4": (days > third).fill_null(False).sum(),
        "never": days.isnull().sum(),
    }
    place = filters.place_column
    # the counts come out in the order of _MEASURES, after the groups' keys
    cells = table.group_by([place, agency]).aggregate(**counts).order_by([place, "agency_code"])
    if filters.tambon:  # one place: its cells are the agencies
        return cells, None
    agencies = table.group_by(agency).aggregate(**counts).order_by("agency_code")
    return cells, agencies


@dataclass(frozen=True)
class CaseloadCheck:
    """Officials by their number of current households, and the exceptions behind the counts.

    The officials checked are those who look after a household in the filter now, plus, when
    no tambon or level filter is set (an official has neither), every official of the filtered
    amphoe and agency in the official table, so that officials whose pairings all ended (a
    transfer) or who are not paired yet count as having 0. An official's caseload is all their
    current households, also those outside the filter."""

    distribution: dict[int, int]  # current households -> officials
    officials: pd.DataFrame  # caseload != 2: official_id, official_name, agency_code,
    # amphoe_code, households, household_ids, reason (none_ended | none_never | under | over)
    unpaired: pd.DataFrame  # household_id, amphoe_code, tambon_code, previous_official_id,
    # previous_agency_code, buddy_ended, days_without_buddy, last_visit_date, days_since_visit
    as_of: dt.date | None

    @property
    def officials_checked(self) -> int:
        return sum(self.distribution.values())

    @property
    def officials_off(self) -> int:
        return _officials_off(self.distribution)


def _officials_off(distribution: dict[int, int]) -> int:
    return sum(n for load, n in distribution.items() if load != CASELOAD)


def _distribution(counts: pd.DataFrame) -> dict[int, int]:
    """Officials by caseload, the lowest first, from a read's households/officials part."""
    return dict(sorted(zip(counts["households"].to_numpy().tolist(),
                           counts["officials"].to_numpy().tolist(), strict=True)))


def caseload_check(con: BaseBackend, filters: Filters) -> CaseloadCheck:
    """The officials' caseloads in the quarter (``official_quarter``, built at import): the
    distribution and the exceptions with their details; and the households without a buddy
    (``unpaired_quarter``)."""
    quarter, as_of = selected_as_of(con, filters)
    counts, exceptions, unpaired = (
        part.execute() for part in _caseloads(con, filters, quarter, as_of))
    return CaseloadCheck(distribution=_distribution(counts), officials=exceptions,
                         unpaired=unpaired, as_of=as_of)


_EXCEPTION_COLUMNS = ("official_id", "official_name", "agency_code", "amphoe_code",
                      "households", "household_ids", "reason")
_UNPAIRED_COLUMNS = ("household_id", "amphoe_code", "tambon_code", "previous_official_id",
                     "previous_agency_code", "buddy_ended", "days_without_buddy",
                     "last_visit_date", "days_since_visit")


def caseload_counts(con: BaseBackend, filters: Filters) -> CaseloadCheck:
    """:func:`caseload_check` as numbers only (the Presenter's slide and the briefing): the
    distribution, and frames with a row for each exception and each household without a
    buddy but no columns: two small reads instead of every detail row."""
    quarter, as_of = selected_as_of(con, filters)
    counts, unpaired = (part.execute() for part in _caseload_counts(con, filters, quarter))
    distribution = _distribution(counts)
    return CaseloadCheck(distribution=distribution,
                         officials=_no_columns(_officials_off(distribution)),
                         unpaired=_no_columns(int(unpaired["unpaired"].sum())), as_of=as_of)


def _no_columns(rows: int) -> pd.DataFrame:
    return pd.DataFrame(index=pd.RangeIndex(rows))


def _caseload_counts(con: BaseBackend, filters: Filters, quarter: int | None,
                     ) -> tuple[ibis.Table, ibis.Table]:
    """The officials checked by their caseload (households, officials) and the households
    in the filter without a buddy now (unpaired)."""
    counts = _loads(con, filters, quarter).group_by("households").aggregate(
        officials=_.count())
    unpaired = _status(con, filters, ~_.paired).aggregate(unpaired=_.count())
    return (counts.mutate(households=_.households.cast("int64")).order_by("households"),
            unpaired)


def _loads(con: BaseBackend, filters: Filters, quarter: int | None) -> ibis.Table:
    """The officials checked (see :class:`CaseloadCheck`) with their caseload in the
    quarter."""
    loads = con.table("official_quarter")
    loads = loads.filter(loads.q_idx == quarter)
    if (filters.amphoe or filters.tambon or filters.agency or filters.levels
            or filters.within_amphoe or filters.within_agency):
        scope = _status(con, filters, _.paired).select("official_id").distinct()
        if not filters.tambon and not filters.levels:
            home = apply_place_agency(loads, dataclasses.replace(filters, tambon=None))
            scope = scope.union(home.select("official_id"), distinct=True)
        loads = loads.semi_join(scope, "official_id")
    return loads


def _caseloads(con: BaseBackend, filters: Filters, quarter: int | None,
               as_of: dt.date | None) -> tuple[ibis.Table, ibis.Table, ibis.Table]:
    """The officials checked by their caseload (households, officials), the exceptions with
    their details, and the households in the filter without a buddy now with their last
    buddy."""
    loads = _loads(con, filters, quarter)
    counts = loads.group_by("households").aggregate(officials=_.count())
    names = con.table("official").select("official_id", official_name=_.name)
    off = loads.filter(loads.households != CASELOAD).join(names, "official_id")
    off = off.mutate(reason=ibis.cases(
        (_.households > CASELOAD, "over"), (_.households > 0, "under"),
        (_.paired_before, "none_ended"), else_="none_never"))
    wide = {"households": _.households.cast("int64")}  # stored as int32
    return (
        counts.mutate(**wide).order_by(ibis.desc("households")),
        off.mutate(**wide).select(*_EXCEPTION_COLUMNS).order_by(
            [ibis.desc("households"), "official_id"]),
        _unpaired(con, filters, as_of).order_by(
            [ibis.desc("days_without_buddy"), "household_id"]),
    )


def _unpaired(con: BaseBackend, filters: Filters, as_of: dt.date | None) -> ibis.Table:
    """Households in the filter without a buddy now, with their last buddy (if any), from
    ``unpaired_quarter`` (built at import)."""
    households = _status(con, filters, ~_.paired).select(
        "household_id", "q_idx", "amphoe_code", "tambon_code", "last_visit_date",
        "days_since_visit")
    details = con.table("unpaired_quarter")
    out = households.left_join(details, ["household_id", "q_idx"]).drop("household_id_right",
                                                                       "q_idx_right")
    since = out.buddy_ended.fill_null(out.enrolled_on)
    out = out.mutate(days_without_buddy=ibis.literal(as_of).delta(since, unit="day"))
    return out.select(*_UNPAIRED_COLUMNS)


def recency_edges(days: int) -> tuple[int, int, int]:
    """Band edges in days: a third of the recency window, the window, twice the window
    (30, 90, 180 for the default 90), so the first two bands are the Overview's "visited
    recently"."""
    return max(days // 3, 1), days, days * 2


def recency_bands(con: BaseBackend, filters: Filters, definitions: Definitions,
                  by: str = "amphoe_code") -> pd.DataFrame:
    """Per amphoe or agency (of the current buddy; :data:`NO_BUDDY` for none): households
    by days since their last visit as of the selected quarter's as-of date. Columns: ``by``,
    households, b1 (≤ e1 days), b2 (e1 < d ≤ e2), b3 (e2 < d ≤ e3), b4 (> e3), never,
    recent (b1 + b2), not_recent_share; the least recently visited group first."""
    return bands_of(coverage_counts(con, filters, definitions), by)


def bands_of(counts: CoverageCounts, by: str = "amphoe_code") -> pd.DataFrame:
    """:func:`recency_bands` from the counts."""
    if by not in (counts.place, "agency_code"):
        raise ValueError(f"cannot group by {by!r} (the places here are {counts.place})")
    groups = counts.by_agency if by == "agency_code" else counts.by_place  # ordered by code
    counts = {c: groups[c].to_numpy() for c in ("households", *BANDS)}
    recent = counts["b1"] + counts["b2"]
    share = 1 - recent / counts["households"]
    order = np.lexsort((np.arange(len(share)), -share))  # least recently visited first
    return pd.DataFrame({by: groups[by].array.take(order),
                         **{c: values[order] for c, values in counts.items()},
                         "recent": recent[order], "not_recent_share": share[order]})


def _overdue_households(con: BaseBackend, filters: Filters,
                        definitions: Definitions) -> ibis.Table:
    """Paired households in the filter with the days they are overdue (> 0) or not (≤ 0).

    The clock runs from the later of the household's last visit (by anyone) and the start of
    its current pairing: a buddy who took a household over is given one recency window to
    visit it. A household never visited runs from the pairing's start."""
    _quarter, as_of = selected_as_of(con, filters)
    joined = _status(con, filters, _.paired).select(
        "household_id", "official_id", "last_visit_date", "pairing_start")
    last = joined.last_visit_date
    clock = ibis.cases((last.isnull() | (joined.pairing_start > last), joined.pairing_start),
                       else_=last)
    return joined.mutate(days_overdue=ibis.literal(as_of).delta(clock, unit="day")
                         - definitions.visited_within_days)


def overdue_officials(con: BaseBackend, filters: Filters,
                      definitions: Definitions) -> pd.DataFrame:
    """Officials with at least one household in the filter overdue for a visit, longest
    first. Columns: official_id, official_name, agency_code, amphoe_code (the official's),
    households (theirs in the filter), overdue_households, overdue_household_ids,
    oldest_visit (the earliest last visit among the overdue ones; empty = never visited),
    days_overdue (the most overdue household: days beyond the recency window)."""
    return _overdue_list(con, filters, definitions).execute()


_LEAGUE_GROUPS = ("agency_code", "officials", "households", "assessed", "climbed", "at_1",
                  "at_2", "at_3", "visits", "visited")
_OVERDUE_COLUMNS = ("official_id", "official_name", "agency_code", "amphoe_code", "households",
                    "overdue_households", "overdue_household_ids", "oldest_visit",
                    "days_overdue")


def _overdue_list(con: BaseBackend, filters: Filters, definitions: Definitions) -> ibis.Table:
    return _overdue_officials(con, filters, definitions).order_by(
        [ibis.desc("days_overdue"), "official_id"])


def _league_expr(con: BaseBackend, filters: Filters, definitions: Definitions,
                 with_list: bool) -> tuple[ibis.Table, ibis.Table]:
    """Per agency: the paired households' counts, with those at each level of the ladder or
    above (``at_1`` … ``at_3``, so that the read does not depend on the target); and the
    officials with a household overdue, longest overdue first, when ``with_list``, or else
    their number per agency. The list can be long at a million households, and the league
    alone needs only the numbers."""
    paired = _status(con, filters, _.paired)
    groups = paired.group_by("agency_code").aggregate(
        officials=_.official_id.nunique(),
        households=_.count(),
        assessed=_.level.notnull().sum(),
        climbed=(_.level > _.baseline_level).fill_null(False).sum(),
        **{f"at_{level}": (_.level >= level).fill_null(False).sum()
           for level in TARGET_LEVELS},
        visits=_.visits_to_date.cast("int64").sum(),
        # a boolean summed, not cast: PostgreSQL cannot cast a boolean to bigint
        visited=(_.days_since_visit <= definitions.visited_within_days).fill_null(False).sum(),
    )
    late = _overdue_officials(con, filters, definitions)
    if with_list:
        late = late.order_by([ibis.desc("days_overdue"), "official_id", "agency_code"])
    else:
        late = late.group_by("agency_code").aggregate(
            officials_overdue=_.count()).order_by("agency_code")
    return groups.select(*_LEAGUE_GROUPS).order_by("agency_code"), late


def _overdue_officials(con: BaseBackend, filters: Filters,
                       definitions: Definitions) -> ibis.Table:
    table = _overdue_households(con, filters, definitions)
    overdue = table.days_overdue > 0
    per_official = table.group_by("official_id").aggregate(
        households=_.count(),
        overdue_households=overdue.sum(),
        overdue_household_ids=table.household_id.group_concat(
            "; ", where=overdue, order_by=table.household_id),
        oldest_visit=table.last_visit_date.min(where=overdue),
        days_overdue=table.days_overdue.max(),
    ).filter(_.overdue_households > 0)
    official = con.table("official").select("official_id", "agency_code", "amphoe_code",
                                            official_name=_.name)
    return per_official.join(official, "official_id").select(*_OVERDUE_COLUMNS)


def league_and_overdue(con: BaseBackend, filters: Filters, definitions: Definitions,
                       level: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`agency_league` and :func:`overdue_officials` for the same filters, from one
    read: the Agencies page shows both, and the league counts its overdue officials from the
    list (an official is in one agency)."""
    groups, overdue = (part.execute() for part in _league_expr(con, filters, definitions, True))
    late = collections.Counter(overdue["agency_code"].tolist())
    return _league_frame(con, filters, groups, late, level), overdue


def agency_league(con: BaseBackend, filters: Filters, definitions: Definitions,
                  level: int = 2) -> pd.DataFrame:
    """One row per agency (all 15, or the filtered one), by the current buddy's agency.

    Columns: agency_code, officials, households, assessed (surveyed by the as-of date),
    visits (recorded up to the as-of date to the households the agency looks after now, by
    whoever made them: numerator and denominator are the same households), quarters (from
    the first visit's quarter to the selected one), visits_per_household_quarter = visits /
    (households × quarters), climbed (level now above the baseline level), climbed_share =
    climbed / assessed, at_level (``level`` or above), level_share = at_level / assessed,
    officials_overdue, as_of (the selected quarter's)."""
    groups, late = (part.execute() for part in _league_expr(con, filters, definitions, False))
    return _league_frame(con, filters, groups, dict(zip(
        late["agency_code"].tolist(), late["officials_overdue"].tolist(), strict=True)), level)


def _league_frame(con: BaseBackend, filters: Filters, groups: pd.DataFrame,
                  late: Mapping[str, int], level: int) -> pd.DataFrame:
    """The league's rows from the counts per agency and the officials overdue per agency."""
    if level not in TARGET_LEVELS:
        raise ValueError(f"no level {level!r} on the ladder {TARGET_LEVELS}")
    _quarter, as_of = selected_as_of(con, filters)
    codes = [filters.agency] if filters.agency else [
        code for code in agency_table()["agency_code"]
        if not filters.within_agency or code in filters.within_agency]
    found = {code: i for i, code in enumerate(groups["agency_code"].tolist())}
    rows = np.array([found.get(code, len(found)) for code in codes], dtype=np.intp)

    def aligned(column: str) -> np.ndarray:  # 0 for an agency without paired households
        values = np.nan_to_num(groups[column].to_numpy(dtype="float64"))
        return np.append(values, 0.0)[rows].astype("int64")

    counts = {c: aligned(c) for c in ("officials", "households", "assessed", "climbed",
                                      "visited")}
    counts["at_level"], counts["visits"] = aligned(f"at_{level}"), aligned("visits")
    quarters = quarters_up_to(con, filters)
    exposure, assessed = counts["households"] * quarters, counts["assessed"]
    return pd.DataFrame({  # made at once: assigning one column at a time cost 1-2 ms
        "agency_code": codes, **counts,
        "officials_overdue": np.array([late.get(code, 0) for code in codes], dtype="int64"),
        "quarters": np.full(len(codes), quarters, dtype="int64"),
        "as_of": np.array([as_of] * len(codes), dtype=object),
        "visits_per_household_quarter": _ratio(counts["visits"], exposure),
        "climbed_share": _ratio(counts["climbed"], assessed),
        "visited_share": _ratio(counts["visited"], counts["households"]),
        "overdue_per_100": _ratio(
            np.array([late.get(code, 0) for code in codes], dtype="float64") * 100,
            counts["households"]),
        "level_share": _ratio(counts["at_level"], assessed),
    })


def _ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part / whole``, NaN where ``whole`` is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(whole > 0, part / whole, np.nan)


# --- display tables (pure; translated headers; what is shown is what is downloaded) ------------


# --- sentences for the deputy governor ---------------------------------------------------------


# --- figures (plotly; pure) --------------------------------------------------------------------


