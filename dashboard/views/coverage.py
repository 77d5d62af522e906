"""What the Coverage and Agencies pages show of the coverage queries: display tables
(translated headers, dates in พ.ศ.), the sentences for the deputy governor, and the figures
(plotly) of the matrix, the recency bands and the agencies' league. Pure functions of the
results of :mod:`dashboard.queries.coverage`; no Streamlit here.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.queries.coverage import BANDS, NO_BUDDY, CaseloadCheck, CoverageMatrix, recency_edges
from dashboard.store.privacy import NotAllowedError, Viewer, protect
from dashboard.views.charts import (
    BASE_LAYOUT,
    BASE_XAXIS,
    BASE_YAXIS,
    LEVEL_COLOURS,
    NEUTRAL,
    figure,
)
from dashboard.views.tables import (
    MIN_GROUP,
    for_display,
    group_note,
    shown_floats,
    suppressed_last,
    with_secondary,
)
from domain.i18n import format_number, format_percent, t
from domain.reference import agency_table
from domain.thai_dates import format_date


@dataclass(frozen=True)
class LeagueSummary:
    """The league's rows added up (one agency, or all): what the KPI cards show. Rates are
    None for fewer than :data:`MIN_GROUP` households (or surveyed households)."""

    officials: int
    households: int
    assessed: int
    officials_overdue: int
    quarters: int
    visits_per_household_quarter: float | None
    climbed_share: float | None
    level_share: float | None
    as_of: dt.date | None


def league_summary(league: pd.DataFrame) -> LeagueSummary:
    total = league[["officials", "households", "assessed", "visits", "climbed", "at_level",
                    "officials_overdue"]].sum()
    quarters = int(league["quarters"].max()) if len(league) else 0
    households, assessed = int(total["households"]), int(total["assessed"])
    enough, surveyed = households >= MIN_GROUP, assessed >= MIN_GROUP
    return LeagueSummary(
        officials=int(total["officials"]), households=households, assessed=assessed,
        officials_overdue=int(total["officials_overdue"]), quarters=quarters,
        visits_per_household_quarter=(total["visits"] / (households * quarters)
                                      if enough and quarters else None),
        climbed_share=total["climbed"] / assessed if surveyed else None,
        level_share=total["at_level"] / assessed if surveyed else None,
        as_of=league["as_of"].iloc[0] if len(league) else None,
    )


def protected(frame: pd.DataFrame, viewer: Viewer) -> pd.DataFrame | None:
    """The rows this viewer may see (personal columns masked), or None for a viewer who may
    see no rows at all."""
    try:
        return protect(frame, viewer)
    except NotAllowedError:
        return None


def short_agency_names(lang: str) -> dict[str, str]:
    """Agency names without the province and the word "office", for charts and tables on a
    projector ("สำนักงานพัฒนาชุมชนจังหวัดขอนแก่น" -> "พัฒนาชุมชน", "Khon Kaen Provincial
    Police" -> "Police")."""
    table = agency_table()
    if lang == "th":
        names = [re.sub(r"^สำนักงาน(?=\S)", "", n.replace("จังหวัดขอนแก่น", ""))
                 for n in table["name_th"]]
    else:
        names = [re.sub(r" Office$", "", re.sub(r"^(Khon Kaen )?Provincial (Office of )?", "", n))
                 for n in table["name_en"]]
    return {code: re.sub(r"\s+", " ", name).strip()
            for code, name in zip(table["agency_code"], names, strict=True)}


def for_screen(frame: pd.DataFrame) -> pd.DataFrame:
    """The same table for the screen: each number column in ``frame.attrs["decimals"]``
    written with that many decimals, and "–" for a suppressed figure (the browser would show
    "None"). The frame itself, numbers and blanks, is what is downloaded."""
    return for_display(frame, frame.attrs.get("decimals", {}))


def _agency_label(code: object, names: Mapping[str, str], lang: str) -> str:
    if code == NO_BUDDY:
        return t("coverage.no_buddy", lang)
    return names.get(str(code), str(code))


def matrix_columns(matrix: CoverageMatrix, agency_order: Sequence[str],
                   measure: str) -> list[str]:
    """The agency columns of the matrix: every agency in ``agency_order`` (so a gap shows as
    0), and "no buddy" when households are counted and some have none."""
    columns = list(agency_order)
    if measure == "households" and (matrix.by_agency["agency_code"] == NO_BUDDY).any():
        columns.append(NO_BUDDY)
    return columns


def matrix_table(matrix: CoverageMatrix, measure: str, place_names: Mapping[str, str],
                 agency_order: Sequence[str], lang: str,
                 agency_labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Places (rows: amphoe, or the chosen amphoe's tambon, in DOPA order) × agency (columns:
    ``agency_labels`` of the codes, the codes without them) of ``measure`` (households or
    officials), with a total column and a total row taken from the margins."""
    if measure not in ("households", "officials"):
        raise ValueError(f"unknown measure {measure!r}")
    columns = matrix_columns(matrix, agency_order, measure)
    places = list(matrix.by_place[matrix.place])
    row_of = {code: i for i, code in enumerate(places)}
    column_of = {code: j for j, code in enumerate(columns)}
    body = np.zeros((len(places), len(columns)), dtype="int64")  # filled directly: pandas'
    for place, agency, n in zip(matrix.cells[matrix.place], matrix.cells["agency_code"],
                                matrix.cells[measure], strict=True):  # pivot is 5x slower
        if place in row_of and agency in column_of:
            body[row_of[place], column_of[agency]] += int(n)
    sides = matrix.by_place[measure].to_numpy(dtype="int64")
    margin = matrix.by_agency.set_index("agency_code")[measure].reindex(columns).fillna(0)
    bottom = np.append(margin.to_numpy(dtype="int64"), getattr(matrix, measure))
    total = t("table.total", lang)
    labels = [t("coverage.no_buddy", lang) if c == NO_BUDDY else (agency_labels or {}).get(c, c)
              for c in columns]
    grid = pd.DataFrame(np.vstack([np.column_stack([body, sides]), bottom]),
                        columns=[*labels, total])
    grid.insert(0, t(f"table.{matrix.place}", lang),
                [place_names.get(c, c) for c in places] + [total])
    return grid


def _official_columns(rows: pd.DataFrame, amphoe_names: Mapping[str, str],
                      agency_names: Mapping[str, str], lang: str) -> dict[str, object]:
    """Who the official is: ID, name (as :func:`protect` left it), agency, amphoe."""
    return {
        t("coverage.col_official_id", lang): rows["official_id"],
        t("coverage.col_official_name", lang): rows["official_name"],
        t("table.agency_code", lang): _names(rows["agency_code"], agency_names),
        t("table.amphoe_code", lang): _names(rows["amphoe_code"], amphoe_names),
    }


def caseload_table(officials: pd.DataFrame, amphoe_names: Mapping[str, str],
                   agency_names: Mapping[str, str], lang: str) -> pd.DataFrame:
    """Officials without exactly two households (rows already through :func:`protect`)."""
    who = _official_columns(officials, amphoe_names, agency_names, lang)
    official_id = t("coverage.col_official_id", lang)
    name = t("coverage.col_official_name", lang)
    # the key columns first (who, how many, why), so they fit in the half-width column at
    # 1,280 px; where (agency, amphoe) and the IDs after them
    return pd.DataFrame({
        name: who[name],
        t("coverage.col_caseload", lang): officials["households"].astype("int64"),
        t("coverage.col_reason", lang): [t(f"coverage.reason_{r}", lang)
                                         for r in officials["reason"]],
        **{k: v for k, v in who.items() if k not in (official_id, name)},
        official_id: who[official_id],
        t("coverage.col_household_ids", lang): officials["household_ids"].fillna(""),
    })


def _dates(values: pd.Series, lang: str) -> list[str]:
    """Each value as a date in ``lang`` ("" where none), each distinct date written once:
    a list of 65,000 officials at a million households holds a few hundred dates."""
    values = values.astype(object)
    labels = {v: format_date(pd.Timestamp(v).date(), lang) for v in values.dropna().unique()}
    return values.map(labels).fillna("").tolist()


def _names(codes: pd.Series, names: Mapping[str, str]) -> list[object]:
    """Each code's name, or the code where it has none (the codes read out at once: one by
    one, an Arrow column costs a microsecond or more each)."""
    return [names.get(c, c) for c in codes.tolist()]


def unpaired_table(unpaired: pd.DataFrame, amphoe_names: Mapping[str, str],
                   tambon_names: Mapping[str, str], lang: str) -> pd.DataFrame:
    """Households without a buddy now, longest without first (rows already protected)."""
    agencies = short_agency_names(lang)
    return pd.DataFrame({
        t("coverage.col_household_id", lang): unpaired["household_id"],
        t("table.amphoe_code", lang): [amphoe_names.get(c, c) for c in unpaired["amphoe_code"]],
        t("coverage.col_tambon", lang): [tambon_names.get(c, c) for c in unpaired["tambon_code"]],
        t("coverage.col_previous_buddy", lang): unpaired["previous_official_id"].fillna(""),
        t("coverage.col_previous_agency", lang): [
            "" if pd.isna(c) else agencies.get(c, c) for c in unpaired["previous_agency_code"]],
        t("coverage.col_buddy_ended", lang): _dates(unpaired["buddy_ended"], lang),
        t("coverage.col_days_without", lang): unpaired["days_without_buddy"].astype("Int64"),
        t("coverage.col_last_visit", lang): _dates(unpaired["last_visit_date"], lang),
    })


def band_labels(days: int, lang: str) -> dict[str, str]:
    first, second, third = recency_edges(days)
    return {
        "b1": t("coverage.band_within", lang, days=first),
        "b2": t("coverage.band_between", lang, low=first + 1, high=second),
        "b3": t("coverage.band_between", lang, low=second + 1, high=third),
        "b4": t("coverage.band_over", lang, days=third),
        "never": t("coverage.band_never", lang),
    }


def small_groups_last(frame: pd.DataFrame, by: str, names: Mapping[str, str],
                      lang: str) -> pd.DataFrame:
    """``frame`` with its groups under :data:`MIN_GROUP` households moved after the others,
    in a block of their own by name: placed by their hidden share, they would give it away."""
    labels = [_agency_label(c, names, lang) for c in frame[by].tolist()]
    return frame.take(suppressed_last(labels, frame["households"].to_numpy() < MIN_GROUP))


def recency_table(frame: pd.DataFrame, by: str, names: Mapping[str, str], days: int,
                  lang: str) -> pd.DataFrame:
    """Households per recency band (counts) and the share not visited within ``days``
    (suppressed under :data:`MIN_GROUP` households); least recently visited first, the
    suppressed groups after the others by name."""
    frame = small_groups_last(frame, by, names, lang)
    labels = band_labels(days, lang)
    households = frame["households"].to_numpy()
    hidden = with_secondary(households < MIN_GROUP, households)
    share = t("coverage.col_not_recent", lang, days=days)
    out = pd.DataFrame({
        t(f"table.{by}", lang): [_agency_label(c, names, lang) for c in frame[by].tolist()],
        t("coverage.col_households", lang): households.astype("int64"),
        **{labels[b]: frame[b].to_numpy().astype("int64") for b in BANDS},
        share: shown_floats(frame["not_recent_share"].to_numpy() * 100, hidden).round(1),
        t("table.note", lang): [group_note(int(n), lang, bool(h)) for n, h
                                in zip(households.tolist(), hidden.tolist(), strict=True)],
    }, index=frame.index)
    out.attrs["decimals"] = {share: 1}
    return out


MEASURES = ("need", "overdue_per_100", "visited_share", "climbed_share")
"""What the league ranks agencies by; :data:`MEASURE_WORSE_HIGH` says which way is worse."""
MEASURE_WORSE_HIGH = {"need": True, "overdue_per_100": True, "visited_share": False,
                      "climbed_share": False}
NEED_PARTS = ("overdue_per_100", "visited_share", "climbed_share")


def with_need(league: pd.DataFrame) -> pd.DataFrame:
    """The league with ``need``: the mean of three parts, each scaled 0 (the best agency) to 1
    (the worst) among the agencies with at least :data:`MIN_GROUP` households and surveyed
    households: officials overdue per 100 households (more is worse), the share of households
    visited within the recency window, and the share that climbed at least one level (less is
    worse). NaN for the smaller agencies; 0 for a part on which all agencies are equal. See
    docs/agencies.md."""
    out = league.copy()
    ranked = ((out["households"] >= MIN_GROUP) & (out["assessed"] >= MIN_GROUP)).to_numpy()
    parts = []
    for part in NEED_PARTS:
        values = out[part].to_numpy(dtype="float64")
        badness = values if MEASURE_WORSE_HIGH[part] else -values
        known = ranked & ~np.isnan(badness)
        low = badness[known].min() if known.any() else 0.0
        span = (badness[known].max() - low) if known.any() else 0.0
        scaled = np.zeros_like(badness) if span == 0 else (badness - low) / span
        parts.append(np.where(known, scaled, np.nan))
    stacked = np.vstack(parts) if parts else np.empty((0, len(out)))
    known_parts = (~np.isnan(stacked)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(known_parts > 0, np.nansum(stacked, axis=0) / known_parts, np.nan)
    out["need"] = np.where(ranked, mean, np.nan)
    return out


def league_order(league: pd.DataFrame, measure: str) -> np.ndarray:
    """Positions of the league's rows, worst by ``measure`` first, then by code; agencies
    under :data:`MIN_GROUP` households (or without the measure) after them, by code."""
    values = league[measure].to_numpy(dtype="float64")
    small = (league["households"].to_numpy() < MIN_GROUP) | np.isnan(values)
    sign = -1.0 if MEASURE_WORSE_HIGH[measure] else 1.0
    keys = list(zip(small.tolist(), np.where(small, 0.0, sign * values).tolist(),
                    league["agency_code"].tolist(), strict=True))
    return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.intp)


def measure_text(value: float, measure: str) -> str:
    if measure == "need":
        return f"{value:.2f}"
    if measure == "overdue_per_100":
        return f"{value:.1f}"
    return f"{value * 100:.1f}%"


def league_table(league: pd.DataFrame, names: Mapping[str, str], level_name: str,
                 lang: str, measure: str = "need") -> pd.DataFrame:
    """The agencies ranked by ``measure``, the one most in need of a push first; groups of
    fewer than :data:`MIN_GROUP` households last, by code, and without their rates."""
    league = league if "need" in league else with_need(league)
    order = league_order(league, measure)

    def column(name: str) -> np.ndarray:
        return league[name].to_numpy()[order]

    households, officials = column("households"), column("officials")
    hidden = with_secondary((households < MIN_GROUP) | (column("assessed") < MIN_GROUP),
                            column("assessed"))

    def masked(values: np.ndarray, digits: int) -> pd.arrays.FloatingArray:
        return shown_floats(values, hidden).round(digits)

    # households per official, none without officials (and no division by zero)
    per_official = shown_floats(households / np.maximum(officials, 1), officials <= 0)
    ratio, need = t("agencies.col_per_official", lang), t("agencies.col_need", lang)
    climbed, visited = t("agencies.col_climbed", lang), t("agencies.col_visited", lang)
    per_100 = t("agencies.col_overdue_per_100", lang)
    level = t("agencies.col_level", lang, level=level_name)
    out = pd.DataFrame({
        t("table.agency_code", lang): [names.get(c, c) for c in column("agency_code").tolist()],
        # the need and its three parts first: they fit beside the names at 1,280 px
        need: masked(column("need"), 2),
        per_100: masked(column("overdue_per_100"), 1),
        visited: masked(column("visited_share") * 100, 1),
        climbed: masked(column("climbed_share") * 100, 1),
        t("agencies.col_overdue", lang): column("officials_overdue").astype("int64"),
        level: masked(column("level_share") * 100, 1),
        t("agencies.col_officials", lang): officials.astype("int64"),
        t("coverage.col_households", lang): households.astype("int64"),
        ratio: per_official.round(2),
        t("table.note", lang): [group_note(int(n), lang, bool(h)) for n, h
                                in zip(households.tolist(), hidden.tolist(), strict=True)],
    }, index=league.index.take(order))
    out.attrs["decimals"] = {ratio: 2, need: 2, per_100: 1, visited: 1, climbed: 1, level: 1}
    return out


def overdue_table(overdue: pd.DataFrame, amphoe_names: Mapping[str, str],
                  agency_names: Mapping[str, str], lang: str) -> pd.DataFrame:
    """Officials overdue for a visit, longest first (rows already through :func:`protect`)."""
    return pd.DataFrame({
        **_official_columns(overdue, amphoe_names, agency_names, lang),
        t("agencies.col_days_overdue", lang): overdue["days_overdue"].astype("int64"),
        t("agencies.col_overdue_households", lang): overdue["overdue_households"].astype(
            "int64"),
        t("coverage.col_household_ids", lang): overdue["overdue_household_ids"].fillna(""),
        t("agencies.col_oldest_visit", lang): [
            d or t("coverage.band_never", lang) for d in _dates(overdue["oldest_visit"], lang)],
    })


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts of plain Python values: reading a few rows this way
    costs a tenth of what ``itertuples`` and a sorted frame cost."""
    return [dict(zip(columns, values, strict=True))
            for values in zip(*(frame[c].tolist() for c in columns), strict=True)]


def _worst(rows: list[dict[str, Any]], value: str, size: str, n: int,
           ascending: bool) -> list[dict[str, Any]]:
    """The ``n`` groups of at least :data:`MIN_GROUP` (by ``size``) with the worst ``value``,
    worst first; on a tie the larger group first, then in their order (as pandas' sort)."""
    shown = [row for row in rows if row[size] >= MIN_GROUP and not pd.isna(row[value])]
    shown.sort(key=lambda row: (row[value] if ascending else -row[value], -row[size]))
    return shown[:n]


def coverage_sentence(bands: pd.DataFrame, check: CaseloadCheck,
                      place_names: Mapping[str, str], days: int, lang: str) -> str:
    """The places to push on visits (amphoe, or tambon when ``bands`` are by tambon), and
    the caseload in one line."""
    by = "tambon_code" if "tambon_code" in bands else "amphoe_code"
    rows = _records(bands, (by, "not_recent_share", "households", "recent"))
    worst = [r for r in _worst(rows, "not_recent_share", "households", 3, ascending=False)
             if r["not_recent_share"] > 0]
    parts = []
    if worst:
        places = ", ".join(
            t("coverage.sentence_place", lang,
              name=place_names.get(r[by], r[by]),
              share=f"{r['not_recent_share']:.1%}",
              n=format_number(int(r["households"] - r["recent"])),
              of=format_number(int(r["households"])))
            for r in worst)
        parts.append(t("coverage.sentence_recency" if by == "amphoe_code"
                       else "coverage.sentence_recency_tambon", lang, n=len(worst), days=days,
                       places=places))
    else:
        parts.append(t("coverage.sentence_all_recent", lang, days=days))
    parts.append(t("coverage.sentence_caseload", lang,
                   unpaired=format_number(len(check.unpaired)),
                   officials=format_number(check.officials_off),
                   checked=format_number(check.officials_checked)))
    return " ".join(parts)


def agencies_sentence(league: pd.DataFrame, names: Mapping[str, str], lang: str,
                      measure: str = "need", count: int = 3) -> str:
    """The ``count`` agencies most in need of a push by ``measure``, named with their figures
    on every part of the composite; one agency's own figures when only one is shown."""
    league = league if "need" in league else with_need(league)
    order = [i for i in league_order(league, measure).tolist()
             if league["households"].iloc[i] >= MIN_GROUP
             and not pd.isna(league[measure].iloc[i])]
    if not order:
        return t("agencies.sentence_none", lang, min=MIN_GROUP)

    def figures(i: int) -> str:
        row = league.iloc[i]
        return t("agencies.sentence_figures", lang,
                 name=names.get(row["agency_code"], row["agency_code"]),
                 overdue=format_number(int(row["officials_overdue"])),
                 per_100=f"{row['overdue_per_100']:.1f}",
                 visited=format_percent(row["visited_share"]),
                 climbed=format_percent(None if pd.isna(row["climbed_share"])
                                        else row["climbed_share"]))

    if len(league) == 1:  # one agency (the shared filter): its figures, not a ranking
        return figures(order[0])
    worst = order[:count]
    return t("agencies.sentence", lang, n=len(worst),
             measure=t(f"agencies.measure_{measure}", lang),
             agencies="; ".join(figures(i) for i in worst))


BAND_COLOURS = {"b1": LEVEL_COLOURS[3], "b2": "#8CCFB8", "b3": LEVEL_COLOURS[1],
                "b4": LEVEL_COLOURS[0], "never": NEUTRAL}


HEAT_SCALE = [[0.0, "#f7fbff"], [0.25, "#c6dbef"], [0.6, "#4292c6"], [1.0, "#08306b"]]


def matrix_height(amphoe: int) -> int:
    """Pixels of the matrix heatmap for ``amphoe`` rows; the table beside it takes the same."""
    return max(420, 24 * amphoe + 160)


def matrix_chart(matrix: CoverageMatrix, measure: str, place_names: Mapping[str, str],
                 agency_names: Mapping[str, str], agency_order: Sequence[str],
                 lang: str) -> go.Figure:
    """Heatmap of amphoe (rows) × agency (columns) with the totals as bars on both margins:
    agencies on top, amphoe on the right."""
    table = matrix_table(matrix, measure, place_names, agency_order, lang)
    total = t("table.total", lang)
    body = table.iloc[:-1].set_index(table.columns[0])
    codes = matrix_columns(matrix, agency_order, measure)
    x = [_agency_label(c, {}, lang) for c in codes]
    full = [_agency_label(c, agency_names, lang) for c in codes]
    y = list(body.index)
    z = body[x].to_numpy()
    # households without a buddy: the same cells, in the colour that asks for action
    alarm = [[v if c == NO_BUDDY and v else None for c, v in zip(codes, row, strict=True)]
             for row in z]
    axes = _matrix_axes()
    axes["yaxis3"] |= {"autorange": "reversed"}
    axes["yaxis"] |= {"showticklabels": False, "showgrid": False}
    axes["xaxis4"] |= {"showticklabels": False, "showgrid": False}
    short = short_agency_names(lang)  # codes (CDD, DOPA) say nothing to most readers
    axes["xaxis3"] |= {"side": "bottom", "tickangle": -60, "tickmode": "array", "tickvals": x,
                       "ticktext": [short.get(c, label) for c, label in zip(codes, x, strict=True)]}
    traces: list[dict[str, object]] = [{
        "type": "heatmap", "z": z, "x": x, "y": y, "colorscale": HEAT_SCALE, "showscale": False,
        "xgap": 1, "ygap": 1, "text": [[f"{v:,}" if v else "" for v in row] for row in z],
        "texttemplate": "%{text}", "customdata": [full] * len(y),
        "hovertemplate": "%{y} · %{customdata}: %{z:,}<extra></extra>",
        "xaxis": "x3", "yaxis": "y3"}]
    if NO_BUDDY in codes:
        traces.append({
            "type": "heatmap", "z": alarm, "x": x, "y": y,
            "colorscale": [[0, LEVEL_COLOURS[0]], [1, LEVEL_COLOURS[0]]], "showscale": False,
            "xgap": 1, "ygap": 1, "texttemplate": "%{z:,}", "hoverongaps": False,
            "hovertemplate": "%{y} · %{x}: %{z:,}<extra></extra>", "xaxis": "x3", "yaxis": "y3"})
    tops = table.iloc[-1][x].to_numpy()
    traces.append({
        "type": "bar", "x": x, "y": tops, "marker": {"color": NEUTRAL}, "customdata": full,
        "text": [f"{v:,}" for v in tops], "textposition": "outside", "cliponaxis": False,
        "hovertemplate": "%{customdata}: %{y:,}<extra>" + total + "</extra>",
        "xaxis": "x", "yaxis": "y"})
    sides = body[total].to_numpy()
    traces.append({
        "type": "bar", "y": y, "x": sides, "orientation": "h", "marker": {"color": NEUTRAL},
        "text": [f"{v:,}" for v in sides], "textposition": "outside", "cliponaxis": False,
        "hovertemplate": "%{y}: %{x:,}<extra>" + total + "</extra>",
        "xaxis": "x4", "yaxis": "y4"})
    return figure(traces, height=matrix_height(len(y)), showlegend=False,
                  margin={"l": 10, "r": 40, "t": 10, "b": 10}, **axes)


@functools.cache
def _matrix_grid() -> dict[str, dict[str, object]]:
    """The axes of the matrix's 2 × 2 grid (bars on top and right, shared with the heatmap),
    as plotly's subplot maker lays them out: made once, as making them takes 12 ms."""
    grid = make_subplots(rows=2, cols=2, shared_xaxes=True, shared_yaxes=True,
                         column_widths=[0.86, 0.14], row_heights=[0.12, 0.88],
                         horizontal_spacing=0.01, vertical_spacing=0.01)
    return {name: dict(axis) for name, axis in grid.to_plotly_json()["layout"].items()
            if name.startswith(("xaxis", "yaxis"))}


def _matrix_axes() -> dict[str, dict[str, object]]:
    """A fresh copy of the grid's axes in the house style."""
    return {name: {**(BASE_XAXIS if name.startswith("x") else BASE_YAXIS), **axis}
            for name, axis in copy.deepcopy(_matrix_grid()).items()}


def recency_chart(frame: pd.DataFrame, by: str, names: Mapping[str, str], days: int,
                  lang: str) -> go.Figure:
    """Stacked bars: each group's households by days since the last visit, the least recently
    visited group on top. Shares (100% bars) when every group has at least
    :data:`MIN_GROUP` households; otherwise counts, so that no small group shows a share.
    Groups under :data:`MIN_GROUP` households sit at the bottom, by name."""
    frame = small_groups_last(frame, by, names, lang)
    households = frame["households"].to_numpy()[::-1]  # the frame's last group at the bottom
    as_share = bool(len(households)) and bool((households >= MIN_GROUP).all())
    y = [_agency_label(c, names, lang) for c in frame[by].tolist()[::-1]]
    labels = band_labels(days, lang)
    traces = []
    for band in BANDS:
        counts = frame[band].to_numpy()[::-1]
        value = "%{x:.1%} (%{customdata:,})" if as_share else "%{x:,}"
        x = counts / households if as_share else counts
        traces.append({
            "type": "bar", "y": y, "x": x, "orientation": "h", "name": labels[band],
            "marker": {"color": BAND_COLOURS[band]}, "customdata": counts,
            # each band's share written in its segment where it has room (a tenth of the bar)
            "text": ([f"{v:.1%}" if v >= 0.1 else "" for v in x.tolist()] if as_share
                     else None),
            "textposition": "inside", "insidetextanchor": "middle",
            "hovertemplate": "%{y}: " + value + "<extra>" + labels[band] + "</extra>"})
    xaxis = ({"tickformat": ".0%", "range": [0, 1],
              "title": {"text": t("chart.share_households", lang)}} if as_share
             else {"title": {"text": t("chart.households", lang)}})
    return figure(traces, height=max(320, 24 * len(households) + 110), xaxis=xaxis,
                  barmode="stack", legend={**BASE_LAYOUT["legend"], "traceorder": "normal"})


def league_chart(league: pd.DataFrame, names: Mapping[str, str], picked: str | None,
                 lang: str, measure: str = "need", flagged: int = 3) -> go.Figure:
    """Dots: each agency's ``measure``, the one most in need of a push on top; the ``flagged``
    worst drawn in the warning colour. A dot plot, not bars, so the axis may start near the
    values without misleading. Groups under :data:`MIN_GROUP` households are left out.
    Clicking a dot selects its agency (``customdata[0]`` is the code)."""
    league = league if "need" in league else with_need(league)
    order = [i for i in league_order(league, measure).tolist()
             if league["households"].iloc[i] >= MIN_GROUP
             and not pd.isna(league[measure].iloc[i])]
    worst = set(order[:flagged]) if len(order) > 1 else set()
    shown = list(reversed(order))  # drawn bottom up: the worst ends on top
    values = league[measure].to_numpy(dtype="float64")[shown]
    codes = league["agency_code"].to_numpy()[shown]
    households = league["households"].to_numpy()[shown]
    colours = [(LEVEL_COLOURS[0] if i in worst else LEVEL_COLOURS[2])
               if picked in (None, c) else "#b8c4ce"
               for i, c in zip(shown, codes.tolist(), strict=True)]
    share = measure in ("visited_share", "climbed_share")
    low = float(values.min()) if len(values) else 0.0
    high = float(values.max()) if len(values) else 1.0
    pad = max((high - low) * 0.12, 0.02 if share else 0.1)
    return figure(
        [{"type": "scatter", "x": values,
          "y": [names.get(c, c) for c in codes.tolist()], "mode": "markers+text",
          "marker": {"color": colours, "size": 16, "line": {"color": "white", "width": 1}},
          "text": [measure_text(v, measure) for v in values.tolist()],
          "textposition": "middle right", "cliponaxis": False,
          "customdata": np.column_stack([codes, households]),
          "hovertemplate": "%{y}: %{text} (n=%{customdata[1]})<extra></extra>"}],
        height=max(320, 30 * len(shown) + 110),
        margin={**BASE_LAYOUT["margin"], "b": 40},
        xaxis={"range": [low - pad, high + 2.5 * pad], "zeroline": False,
               "tickformat": ".0%" if share else None,
               "title": {"text": t(f"agencies.measure_{measure}", lang)}, "showgrid": True,
               "gridcolor": "#eeeeee"},
        yaxis={"automargin": True, "showgrid": False})
