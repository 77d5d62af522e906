"""Briefing slides: what presenter mode shows, and the same slides as PowerPoint and PDF.

One set of slides serves the projector (``pages/presenter.py``), the PowerPoint deck and the PDF,
so what a presenter shows is what the deputy governor's staff download:

- :func:`collect` gathers the aggregates through a reader of the pages' own typed queries (the
  page's :class:`dashboard.store.Snapshot`, which keeps them, or a
  :class:`dashboard.store.Direct` on a connection): for one slide while it is projected, for
  every slide for an export. Only counts and shares are kept: the caseload
  check's rows (officials by name, households by id) are dropped, their number kept.
- :func:`build_slide` and :func:`build_slides` turn them into :class:`Slide` objects: a
  title, KPI cards, one figure from the pages' own figure builders, a table, sentences. Every
  slide is captioned with the filters in force and the data date (พ.ศ.) by the renderers.
- :func:`projector` restyles a figure for the back of a hall: large type, thick lines.
- :func:`chart_images` renders the figures to PNG with kaleido and Debian's Chromium (no
  internet: plotly.js comes from the plotly package, MathJax is off, fonts from ``fonts.conf``).
- :func:`build_deck` (python-pptx) and :func:`build_pdf` (fpdf2 with HarfBuzz shaping) lay the
  slides out on the same 16:9 grid (:func:`arrange`, in inches).

Thai text: PowerPoint runs carry the complex-script font (``<a:cs typeface="Sarabun"/>``) and
``lang="th-TH"``; the PDF embeds Sarabun from ``dashboard/static/`` so tone marks sit right and
the text is real, extractable text. No Streamlit here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from dashboard.briefing.images import RENDERER, chart_browser
from dashboard.queries import climb as q_climb
from dashboard.queries import coverage as q_coverage
from dashboard.queries import followup as q_followup
from dashboard.queries import geo as q_geo
from dashboard.queries import outcomes, overview
from dashboard.queries.forecast import Forecast, ladder_forecast
from dashboard.queries.overview import OverviewKpis
from dashboard.store import Reader
from dashboard.store.privacy import MIN_GROUP, SMALL_GROUP
from dashboard.views import charts, coverage, funnel, geo
from dashboard.views import followup as followup_views
from dashboard.views import forecast as forecast_views
from dashboard.views import maps as map_charts
from domain.definitions import Definitions
from domain.filters import Filters
from domain.i18n import format_number, format_percent, t
from domain.reference import amphoe_table, tambon_table
from domain.thai_dates import BE_OFFSET, format_date, format_quarter

LOG = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "dashboard" / "static"
FONTS_CONF = ROOT / "fonts.conf"
FONT = "Sarabun"
FONT_FILES = {"": STATIC / "Sarabun-Regular.ttf", "B": STATIC / "Sarabun-Bold.ttf"}
INK = "#111111"  # near-black on white: the highest contrast a projector keeps
MUTED = "#4A5560"
ACCENT = "#0072B2"
CARD = "#F2F5F8"
HEADER_FILL = "#1F2933"
PROJECTOR_FONT = 22  # px: readable from the back of a hall at 1920 x 1080
TILE_TYPE_GROWTH = 1.4
"""The tile map's names on a slide are this much larger, against the hexagons, than on the
page (13 px in a 700-px map): 16 px in the map of a 1,280 × 800 projector, 22 px at full
HD, and, measured in Chromium, still inside their hexagons in Thai and English (in regular
weight: "Ubolratana" in bold did not fit)."""
RECENCY_ROWS = 12  # amphoe on the coverage slide, least recently visited first: 26 rows
# would need type too small to read from the back of a hall
THAI = re.compile(r"[\u0E00-\u0E7F]")
NUMBER = re.compile(r"^[\d,.\-–%+ ]+$")

# --- the figures behind the slides (aggregates only) -------------------------------------------


@dataclass(frozen=True)
class BriefingData:
    """What the slides show; a field a collection was not asked for is ``None``."""

    filters: Filters
    kpis: OverviewKpis
    trend: pd.DataFrame | None = None  # target_trend
    places: pd.DataFrame | None = None  # map_place_values of the whole province (place
    # filters lifted)
    bands: pd.DataFrame | None = None  # recency_bands by place (amphoe, or its tambon)
    caseload: q_coverage.CaseloadCheck | None = None  # counts only: its frames keep their rows,
    # no columns
    league: pd.DataFrame | None = None  # agency_league at target 2
    moves: pd.DataFrame | None = None  # transitions
    funnel: pd.DataFrame | None = None  # process_funnel by place
    tambon: pd.DataFrame | None = None  # place_summary by tambon of the chosen amphoe
    province: OverviewKpis | None = None  # the province's KPIs, beside the chosen amphoe's
    followup: pd.DataFrame | None = None  # cases_by_quarter
    forecast: Forecast | None = None  # ladder_forecast
    climb: pd.DataFrame | None = None  # climb_after_help


NEEDS: dict[str, tuple[str, ...]] = {
    "cover": (), "empty": (), "sources": (), "headline": (), "trend": ("trend",),
    "map": ("places",), "amphoe": ("places", "tambon", "province"),
    "coverage": ("bands", "caseload"), "agencies": ("league",), "transitions": ("moves",),
    "funnel": ("funnel",), "followup": ("followup",), "forecast": ("forecast",),
    "climb": ("climb",)}
"""The figures each slide shows besides the filters' KPIs, which every slide has (they tell
whether there is anything to show)."""


def slide_keys(data: BriefingData) -> list[str]:
    """The slides in order: cover, headline KPIs, the three-target trend against the plan, the
    forecast against the plan, the amphoe map, the chosen amphoe (with an amphoe filter),
    coverage, the agency league, transitions, what is followed by a climb, follow-up cases by
    quarter, and the sources last; with no household in the filters, a slide that says so
    between the cover and the sources."""
    if data.kpis.households == 0:
        return ["cover", "empty", "sources"]
    return ["cover", "headline", "trend", "forecast", "map",
            *(("amphoe",) if data.filters.amphoe else ()),
            "funnel", "coverage", "agencies", "transitions", "climb", "followup", "sources"]


def collect(data_source: Reader, filters: Filters, definitions: Definitions,
            keys: Sequence[str] | None = None, today: dt.date | None = None,
            cases: str = "") -> BriefingData:
    """The figures of the slides ``keys`` (every slide when ``None``), for ``filters``,
    through the pages' own queries; the map and the province comparison lift the place
    filters (the map shows every amphoe, the chosen one outlined). Projecting one slide asks
    only for its own figures; an export asks for all of them. ``today`` and ``cases`` (the
    cases' version) date and key the follow-up slide's figures."""
    read = data_source.read
    kpis = read(overview.overview_kpis, filters, definitions)
    data = BriefingData(filters=filters, kpis=kpis)
    needs = {need for key in (slide_keys(data) if keys is None else keys)
             for need in NEEDS[key]}
    level = definitions.targets[1].level
    province = dataclasses.replace(filters, amphoe=None, tambon=None)
    found: dict[str, Any] = {}
    if "trend" in needs:
        found["trend"] = read(overview.target_trend, filters, definitions)
    if "places" in needs:
        found["places"] = read(q_geo.map_place_values, province, definitions)
    if "bands" in needs:
        found["bands"] = read(q_coverage.recency_bands, filters, definitions,
                              by=filters.place_column)
    if "caseload" in needs:
        found["caseload"] = read(q_coverage.caseload_counts, filters)
    if "league" in needs:
        found["league"] = read(q_coverage.agency_league, filters, definitions, level=level)
    if "moves" in needs:
        found["moves"] = read(outcomes.transitions, filters)
    if "funnel" in needs:
        found["funnel"] = read(overview.process_funnel, filters, definitions)
    if "tambon" in needs and filters.amphoe:
        found["tambon"] = read(overview.place_summary, dataclasses.replace(filters, tambon=None),
                               definitions, level=level, by="tambon_code")
    if "followup" in needs:
        found["followup"] = read(q_followup.cases_by_quarter, filters,
                                 today or dt.date.today(), cases)
    if "forecast" in needs:
        found["forecast"] = read(ladder_forecast, filters, definitions)
    if "climb" in needs:
        found["climb"] = read(q_climb.climb_after_help, filters, definitions)
    if "province" in needs and filters.amphoe:
        found["province"] = read(overview.overview_kpis, province, definitions)
    return dataclasses.replace(data, **found)


# --- slides ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Slide:
    key: str  # cover, headline, trend, map, amphoe, coverage, agencies, transitions, sources
    title: str
    kpis: tuple[Kpi, ...] = ()
    figure: go.Figure | None = None
    table: pd.DataFrame | None = None  # already formatted for display (strings)
    points: tuple[str, ...] = ()


@dataclass(frozen=True)
class Meta:
    """What every slide says around its content: the filters in force and the data date."""

    lang: str
    filters_text: str
    as_of: dt.date | None
    produced: dt.date

    @property
    def caption(self) -> str:
        return f"{self.filters_text} · {t('app.data_as_of', self.lang, date=self.date)}"

    @property
    def date(self) -> str:
        return format_date(self.as_of, self.lang)

    def footer(self) -> str:
        return t("presenter.footer", self.lang, date=t("presenter.produced", self.lang,
                                                        date=format_date(self.produced,
                                                                         self.lang)))

    def file_stem(self, amphoe: str | None = None) -> str:
        day = self.as_of or self.produced
        stem = f"kusiao_briefing_{day.year + BE_OFFSET}-{day.month:02d}-{day.day:02d}"
        return f"{stem}_{amphoe}" if amphoe else stem


def _names(table: pd.DataFrame, code: str, lang: str) -> dict[str, str]:
    return dict(zip(table[code], table["name_th" if lang == "th" else "name_en"], strict=True))


def source_lines(definitions: Definitions, lang: str, demo: bool) -> tuple[str, ...]:
    """The last slide: sources and attribution (the Definitions page's), the definitions in
    one line, and the privacy rule; the synthetic-data notice only while demo data is loaded."""
    keys = ("programme", "jpt", "tpmap", "codes", "font", *(("demo",) if demo else ()))
    return (*(t(f"definitions.source_{k}", lang) for k in keys),
            t("presenter.definitions_note", lang, line=f"{definitions.income_line:,.0f}",
              days=definitions.visited_within_days),
            t("presenter.privacy_note", lang, min=MIN_GROUP))


def _delta(now: float | None, base: float | None, lang: str) -> str:
    if now is None or base is None:
        return ""
    return t("kpi.vs_baseline", lang, points=f"{(now - base) * 100:+.1f}")


def _headline(data: BriefingData, definitions: Definitions, lang: str) -> Slide:
    k, days = data.kpis, definitions.visited_within_days
    names = definitions.level_names(lang)
    per_official = k.paired / k.officials if k.officials else None
    return Slide("headline", t("presenter.slide_headline", lang), kpis=(
        Kpi(t("kpi.households", lang), format_number(k.households),
            t("kpi.assessed", lang, n=format_number(k.assessed))),
        Kpi(t("kpi.paired", lang), format_percent(k.paired_share),
            t("kpi.of_households", lang, n=format_number(k.paired))),
        Kpi(t("kpi.officials", lang), format_number(k.officials),
            t("kpi.per_official", lang, n=format_number(per_official, 2))),
        Kpi(t("kpi.visited", lang, days=days), format_percent(k.visited_share),
            t("kpi.of_households", lang, n=format_number(k.visited_recently))),
        *(Kpi(t("kpi.at_target", lang, n=tg.level, name=names[tg.level]),
              format_percent(k.share_at_least(tg.level)),
              _delta(k.share_at_least(tg.level), k.baseline_share_at_least(tg.level), lang))
          for tg in definitions.targets),
    ))


def _trend(data: BriefingData, definitions: Definitions, lang: str) -> Slide:
    names = definitions.level_names(lang)
    year = int(data.trend["q_idx"].max()) // 10 if len(data.trend) else None
    cards = []
    for tg in definitions.targets:
        plan = definitions.plan.get(tg.key, {}).get(year) if year else None
        note = (t("presenter.plan_for", lang, year=year, share=f"{plan:.1%}") if plan is not None
                else t("presenter.no_plan", lang, year=year or "–"))
        cards.append(Kpi(t("kpi.at_target", lang, n=tg.level, name=names[tg.level]),
                         format_percent(data.kpis.share_at_least(tg.level)), note))
    figure = charts.target_trend_chart(data.trend, definitions.targets, definitions.plan, lang)
    return Slide("trend", t("presenter.slide_trend", lang), kpis=tuple(cards), figure=figure,
                 points=(t("overview.trend_note", lang),))


def _map(data: BriefingData, definitions: Definitions, lang: str) -> Slide:
    names = definitions.level_names(lang)
    indicator = f"share_{definitions.targets[1].level}"
    label = map_charts.indicator_label(indicator, lang, names, definitions.visited_within_days)
    colouring = geo.colour_places(data.places, geo.tile_layout(), indicator,
                                  definitions.income_line, "amphoe_code")
    places = _names(amphoe_table(), "amphoe_code", lang)
    values = colouring.frame.set_index("amphoe_code")[colouring.column]
    lagging = ", ".join(
        t("presenter.lagging_place", lang, name=places[code],
          value=geo.format_value(float(values[code]), "share"))
        for code in colouring.lagging)
    points = [t("presenter.lagging", lang, n=len(colouring.lagging), places=lagging)
              ] if colouring.lagging else []
    points.append(t("presenter.map_note", lang, min=MIN_GROUP))
    if data.filters.amphoe:
        points.append(t("presenter.map_selected", lang, name=places[data.filters.amphoe]))
    figure = map_charts.tile_map_figure(colouring, places, label, lang, data.filters.amphoe)
    return Slide("map", t("presenter.slide_map", lang, indicator=label), figure=figure,
                 points=tuple(points))


def _amphoe(data: BriefingData, definitions: Definitions, lang: str) -> Slide:
    code = data.filters.amphoe
    target = definitions.targets[1]
    name = definitions.level_names(lang)[target.level]
    k, p = data.kpis, data.province
    ranked = data.places[data.places["assessed"] >= MIN_GROUP].sort_values(
        [f"share_{target.level}", "amphoe_code"], ascending=[False, True], ignore_index=True)
    position = ranked.index[ranked["amphoe_code"] == code]
    rank = (t("presenter.rank", lang, rank=int(position[0]) + 1, n=len(ranked)) if len(position)
            else t("presenter.rank_none", lang, min=MIN_GROUP))

    def versus(label: str, now: float | None, whole: float | None) -> Kpi:
        return Kpi(label, format_percent(now),
                   t("presenter.province_value", lang, value=format_percent(whole)))

    figure = charts.place_ranking_chart(data.tambon, _names(tambon_table(), "tambon_code", lang),
                                        name, lang, by="tambon_code")
    places = _names(amphoe_table(), "amphoe_code", lang)
    return Slide("amphoe", t("presenter.slide_amphoe", lang, name=places[code]), kpis=(
        Kpi(t("kpi.households", lang), format_number(k.households),
            t("kpi.assessed", lang, n=format_number(k.assessed))),
        versus(t("kpi.paired", lang), k.paired_share, p.paired_share),
        versus(t("kpi.visited", lang, days=definitions.visited_within_days), k.visited_share,
               p.visited_share),
        versus(t("kpi.at_target", lang, n=target.level, name=name),
               k.share_at_least(target.level), p.share_at_least(target.level)),
    ), figure=figure, points=(
        f"{t('kpi.at_target', lang, n=target.level, name=name)}: {rank}",
        t("presenter.tambon_ranking", lang, name=name)))


def _coverage(data: BriefingData, definitions: Definitions, lang: str) -> Slide:
    k, check, days = data.kpis, data.caseload, definitions.visited_within_days
    place = data.filters.place_column  # the chosen amphoe's tambon, as on the pages
    places = _names(tambon_table() if data.filters.amphoe else amphoe_table(), place, lang)
    return Slide("coverage", t("presenter.slide_coverage", lang), kpis=(
        Kpi(t("coverage.kpi_paired", lang), format_percent(k.paired_share),
            t("coverage.kpi_of", lang, n=format_number(k.households))),
        Kpi(t("coverage.kpi_officials", lang), format_number(k.officials)),
        Kpi(t("coverage.kpi_off", lang), format_number(check.officials_off),
            t("coverage.kpi_off_of", lang, n=format_number(check.officials_checked))),
        Kpi(t("coverage.kpi_unpaired", lang), format_number(len(check.unpaired))),
    ), figure=coverage.recency_chart(
        coverage.small_groups_last(data.bands, place, places, lang).head(RECENCY_ROWS),
        place, places, days, lang),
        points=(coverage.coverage_sentence(data.bands, check, places, days, lang),
                *((t("presenter.recency_rows", lang, n=RECENCY_ROWS, of=len(data.bands)),)
                  if len(data.bands) > RECENCY_ROWS else ())))


def _agencies(data: BriefingData, definitions: Definitions, lang: str) -> Slide:
    names = coverage.short_agency_names(lang)
    level = definitions.level_names(lang)[definitions.targets[1].level]
    table = coverage.for_screen(coverage.league_table(data.league, names, level, lang))
    table = table.drop(columns=t("agencies.col_per_official", lang))  # room for the rest
    note, points = t("table.note", lang), [coverage.agencies_sentence(data.league, names, lang)]
    if table[note].astype(bool).any():  # the notes in short: a slide has no room for sentences
        table[note] = table[note].replace({
            t("table.suppressed", lang, n=MIN_GROUP): f"n < {MIN_GROUP}",
            t("table.small_group", lang, n=SMALL_GROUP): f"n < {SMALL_GROUP}"})
        points.append(t("presenter.league_note", lang, min=MIN_GROUP, small=SMALL_GROUP))
    else:
        table = table.drop(columns=note)
    return Slide("agencies", t("presenter.slide_agencies", lang), table=table,
                 points=tuple(points))


def _transitions(data: BriefingData, definitions: Definitions, lang: str) -> Slide:
    moves = data.moves
    climbed = int(moves.loc[moves["level"] > moves["baseline_level"], "households"].sum())
    fell = int(moves.loc[moves["level"] < moves["baseline_level"], "households"].sum())
    same = int(moves["households"].sum()) - climbed - fell
    return Slide("transitions", t("presenter.slide_transitions", lang), kpis=(
        Kpi(t("outcomes.climbed", lang), format_number(climbed)),
        Kpi(t("outcomes.same", lang), format_number(same)),
        Kpi(t("outcomes.fell_back", lang), format_number(fell)),
    ), figure=charts.transition_sankey(moves, definitions.level_names(lang), lang))


def _funnel(data: BriefingData, definitions: Definitions, lang: str) -> Slide:
    frame = data.funnel
    totals = funnel.funnel_totals(frame)
    return Slide("funnel", t("presenter.slide_funnel", lang), kpis=(
        Kpi(t("funnel.step_screened", lang), format_number(totals[0])),
        Kpi(t("funnel.step_followed_up", lang), format_number(totals[-1]),
            format_percent(totals[-1] / totals[0] if totals[0] else None)),
    ), figure=funnel.funnel_chart(frame, lang, height=420),
        points=(funnel.funnel_sentence(frame, lang),))


def _followup(data: BriefingData, definitions: Definitions, lang: str) -> Slide:
    frame = data.followup
    title = t("presenter.slide_followup", lang)
    if frame.empty:
        return Slide("followup", title, points=(t("presenter.followup_none", lang),))
    return Slide("followup", title, kpis=(
        Kpi(t("followup.quarter_opened", lang), format_number(int(frame["opened"].sum()))),
        Kpi(t("followup.quarter_resolved", lang), format_number(int(frame["resolved"].sum()))),
        Kpi(t("presenter.followup_overdue_now", lang),
            format_number(int(frame["overdue"].iloc[-1]))),
    ), figure=followup_views.cases_quarter_chart(frame, lang))


def _forecast(data: BriefingData, definitions: Definitions, lang: str) -> Slide:
    """The three targets' forecast for the first plan year ahead against the plan, with the
    verdict, the method's back-test error and the amphoe on track, at risk and off track."""
    found = data.forecast
    year = forecast_views.first_year(found)
    if year is None:
        return Slide("forecast", t("presenter.slide_forecast_none", lang), points=(
            t("forecast.no_data", lang) if found.as_of is None else
            t("forecast.no_years", lang, quarter=format_quarter(found.as_of, lang)),))
    whole = forecast_views.whole_rows(found, year)
    horizon = max(definitions.forecast.backtest_horizons)
    error = found.error_pp(horizon)
    counts = forecast_views.status_counts(found)
    names = definitions.level_names(lang)
    cards = tuple(
        Kpi(t("kpi.at_target", lang, n=tg.level, name=names[tg.level]),
            format_percent(whole.loc[tg.level, "point"]),
            t("presenter.forecast_card", lang,
              status=forecast_views.status_word(whole.loc[tg.level, "status"], lang),
              plan=format_percent(whole.loc[tg.level, "plan"], 0),
              low=format_percent(whole.loc[tg.level, "low"], 0),
              high=format_percent(whole.loc[tg.level, "high"], 0)))
        for tg in definitions.targets)
    error_text = (t("forecast.error_item", lang, h=horizon, pp=f"{error:.1f}")
                  if error is not None else t("forecast.error_none", lang))
    return Slide("forecast", t("presenter.slide_forecast", lang, year=year), kpis=cards,
                 figure=forecast_views.forecast_chart(found, definitions, lang),
                 points=(t("presenter.forecast_points", lang, on=counts["on_track"],
                           risk=counts["at_risk"], off=counts["off_track"],
                           method=t(f"forecast.method_{found.method}", lang),
                           error=error_text),
                         t("presenter.forecast_legend", lang,
                           interval=round(definitions.forecast.interval * 100))))


CLIMB_COLUMNS = ("col_group", "col_households", "col_share", "col_comparable", "col_difference",
                 "col_per_climber")
"""The climb table's columns a slide has room for."""


def _climb(data: BriefingData, definitions: Definitions, lang: str) -> Slide:
    """What is followed by a climb, by type of help: helped against comparable households,
    with the warning that it is an association, not proof of cause."""
    title = t("climb.title", lang)
    caution = t("climb.caution", lang)
    if data.climb.empty:
        return Slide("climb", title, points=(caution, t("climb.no_data", lang)))
    table = forecast_views.climb_table(data.climb, "type", {}, lang)
    # the slide's font has no ⚠: a small group is marked in words
    under = t("climb.suppressed", lang, min=SMALL_GROUP)
    group = t("climb.col_group", lang)
    table[group] = table[group].str.replace(t("climb.small", lang, small=SMALL_GROUP),
                                            f"({under})", regex=False)
    return Slide("climb", title, table=table[[t(f"climb.{c}", lang) for c in CLIMB_COLUMNS]],
                 points=(caution, t("presenter.climb_note", lang,
                                    q=definitions.climb.within_quarters, min=MIN_GROUP,
                                    small=SMALL_GROUP, under=under)))


_SLIDES: dict[str, Callable[[BriefingData, Definitions, str], Slide]] = {
    "headline": _headline, "trend": _trend, "map": _map, "amphoe": _amphoe,
    "coverage": _coverage, "agencies": _agencies, "transitions": _transitions,
    "funnel": _funnel, "followup": _followup, "forecast": _forecast, "climb": _climb}


def build_slide(key: str, data: BriefingData, definitions: Definitions, meta: Meta,
                sources: Sequence[str]) -> Slide:
    """The slide ``key`` of :func:`slide_keys` from ``data`` (collected for it)."""
    lang = meta.lang
    if key == "cover":
        stale = definitions.days_stale(meta.as_of, meta.produced)
        warning = () if stale is None else (
            "⚠ " + t("overview.stale", lang, date=meta.date, days=format_number(stale),
                     limit=definitions.stale_after_days),)
        return Slide("cover", t("presenter.programme", lang), points=(
            t("presenter.subtitle", lang), t("presenter.scope", lang, filters=meta.filters_text),
            t("app.data_as_of", lang, date=meta.date), *warning, t("presenter.secretariat", lang),
            t("presenter.produced", lang, date=format_date(meta.produced, lang))))
    if key == "sources":
        return Slide("sources", t("presenter.slide_sources", lang), points=tuple(sources))
    if key == "empty":
        return Slide("empty", t("presenter.slide_empty", lang),
                     points=(t("presenter.empty_note", lang),))
    missing = [need for need in NEEDS[key] if getattr(data, need) is None]
    if missing:
        raise ValueError(f"the {key} slide needs {', '.join(missing)}: collect it for this slide")
    return _SLIDES[key](data, definitions, lang)


def build_slides(data: BriefingData, definitions: Definitions, meta: Meta,
                 sources: Sequence[str]) -> list[Slide]:
    """Every slide of :func:`slide_keys`, for an export (``data`` collected for all)."""
    return [build_slide(key, data, definitions, meta, sources) for key in slide_keys(data)]


# --- figures for a projector -------------------------------------------------------------------


def slide_figure(key: str, data: BriefingData, definitions: Definitions, meta: Meta,
                 sources: Sequence[str], height: int,
                 font_size: int = PROJECTOR_FONT) -> go.Figure:
    """Slide ``key``'s figure as the projector shows it, ``height`` pixels high in type of
    ``font_size`` (the slide is built once for the same inputs)."""
    figure = build_slide(key, data, definitions, meta, sources).figure
    assert figure is not None, f"the {key} slide has no figure"
    return projector(figure, height, font_size)


def projector(fig: go.Figure, height: int, font_size: int = PROJECTOR_FONT,
              width: int | None = None) -> go.Figure:
    """A copy of ``fig`` for a projector or a slide: type of ``font_size`` px (axes, legend,
    hover, annotations, and labels on marks scaled from the pages' 15 px), near-black ink,
    lines 1.6 and markers 1.4 times thicker. Labels inside the tile map's hexagons scale with
    the figure's height instead (the hexagons do); a bar chart with many rows gets every row's
    name in the largest type that fits. ``fig`` itself is left as it was."""
    spec = fig.to_plotly_json()  # a deep copy, restyled as plain dicts
    layout = spec["layout"]
    if layout.get("template") == pio.templates[pio.templates.default].to_plotly_json():
        del layout["template"]  # go.Figure puts the default back, without checking it anew
    small, growth = font_size - 2, height / (layout.get("height") or height)
    _update(layout, {"height": height, "width": width, "paper_bgcolor": "white",
                     "font": {"size": font_size, "color": INK},
                     "legend": {"font": {"size": small}, "title": {"font": {"size": small}}},
                     "hoverlabel": {"font": {"size": font_size}}})
    # every x and y axis, as update_xaxes and update_yaxes reach them
    y_axes = ["yaxis", *(name for name in layout if re.fullmatch(r"yaxis\d+", name))]
    x_axes = ["xaxis", *(name for name in layout if re.fullmatch(r"xaxis\d+", name))]
    for name in x_axes + y_axes:
        _update(layout.setdefault(name, {}), {
            "tickfont": {"size": small, "color": INK}, "automargin": True,
            "title": {"font": {"size": font_size, "color": INK}}})
    for annotation in layout.get("annotations", ()):
        _update(annotation, {"font": {"size": small}})
        if annotation.get("yref") == "paper" and (annotation.get("y") or 0) >= 1:  # a header
            annotation["yshift"] = font_size // 2  # clear of the marks at the very top
            margin = layout.setdefault("margin", {})
            margin["t"] = max(margin.get("t") or 0, font_size * 2.6)
    rows: set[Any] = set()
    for trace in spec["data"]:
        textfont, line, marker = (trace.get(key, {}) for key in ("textfont", "line", "marker"))
        size = textfont.get("size")
        kind = trace["type"]
        in_tiles = kind == "scatter" and marker.get("symbol") == "hexagon"
        if size:
            grown = growth * TILE_TYPE_GROWTH if in_tiles else font_size / 15
            textfont["size"] = round(size * grown)
        if in_tiles and trace.get("text") is not None:  # names in regular weight: bold
            trace["text"] = [re.sub("</?b>", "", v) for v in trace["text"]]  # is too wide
        if kind == "scatter" and "lines" in (trace.get("mode") or "") and not trace.get("fill"):
            trace["line"] = {**line, "width": (line.get("width") or 2) * 1.6}
            if marker.get("size"):
                marker["size"] = marker["size"] * 1.4
        if kind == "bar" and trace.get("orientation") == "h":
            rows.update(trace.get("y") or ())
    if len(rows) > 12:  # plotly would skip every other name
        fits = int((height - 140) / len(rows) * 0.8)
        for name in y_axes:
            _update(layout[name], {"tickmode": "linear", "dtick": 1,
                                   "tickfont": {"size": max(10, min(small, fits))}})
    out = charts.from_spec(spec)
    for trace in out.data:
        if trace.type == "sankey":
            _drop_empty_nodes(trace)
    return out


def _update(target: dict[str, Any], changes: Mapping[str, Any]) -> None:
    """Change ``target`` (a figure's plain dict) in place as plotly's ``update`` would: dicts
    merged into dicts, ``None`` removes a value."""
    for key, value in changes.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping):
            _update(target.setdefault(key, {}), value)
        else:
            target[key] = value


def _drop_empty_nodes(trace: go.Sankey) -> None:
    """Keep only the nodes a link touches. With fixed node positions, the plotly.js that
    kaleido uses (3.x) draws the nodes after an unused one in the wrong place (a level nobody
    was at on one side: the right-hand "crisis" node landed bottom left)."""
    used = sorted({*trace.link.source, *trace.link.target})
    if len(used) == len(trace.node.label or ()):
        return
    index = {old: new for new, old in enumerate(used)}
    trace.update(
        node={name: [values[i] for i in used] for name in ("label", "color", "x", "y")
              if (values := getattr(trace.node, name)) is not None and not isinstance(values, str)},
        link={"source": [index[i] for i in trace.link.source],
              "target": [index[i] for i in trace.link.target]})


# --- layout: one 16:9 grid for the deck and the PDF (inches from the top-left) ----------------


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float


SLIDE_W, SLIDE_H = 13.333, 7.5
TITLE = Box(0.5, 0.32, 12.333, 0.72)
CAPTION = Box(0.5, 1.02, 12.333, 0.38)
BODY = Box(0.5, 1.55, 12.333, 5.35)
FOOTER = Box(0.5, 7.04, 12.333, 0.3)
SIDE = 3.7  # width of the KPI / text column beside a figure
POINT_SIZE = 15  # pt: the sentences on a slide
TABLE_POINT_SIZE = 13  # above a table, which needs the room
LINE = 1.5  # line height in type sizes, exact in both files: Sarabun's own (1.3 by its hhea
# metrics, 1.85 by its Windows ones) would make PowerPoint and the PDF wrap differently, and
# Thai lines touch below about 1.3
GAP = 0.3
PX_PER_INCH = 120  # chart images: the projector's 22 px type reads as 13 pt on the slide
IMAGE_SCALE = 1.5


@dataclass(frozen=True)
class Arrangement:
    kpis: tuple[Box, ...] = ()
    points: Box | None = None
    figure: Box | None = None
    table: Box | None = None


def band_height(points: Sequence[str], width: float, size: float = POINT_SIZE) -> float:
    """Inches that ``points`` take as lines of ``size`` pt across ``width`` inches (a Thai
    letter is about half its type size wide, a line :data:`LINE` times its size high); 0 for
    none."""
    if not points:
        return 0.0
    per_line = width * 72 / (size * 0.5)
    lines = sum(max(1, math.ceil(len(p) / per_line)) for p in points)
    return lines * size * LINE / 72 + 0.1


def side_columns(count: int) -> int:
    """KPI cards a row in the column beside a figure: two from four cards on, so that the
    cards keep room for large figures."""
    return 2 if count >= 4 else 1


def kpi_rows(count: int) -> list[int]:
    """KPI cards a row: up to four (the headline's 4 + 3)."""
    rows = []
    while count > 0:
        rows.append(min(count, 4))
        count -= rows[-1]
    return rows


def arrange(slide: Slide) -> Arrangement:
    """Where each part of ``slide`` goes: beside a figure, KPIs in a column on the left under a
    band of sentences, or sentences alone in that column; a table under its sentences; KPIs
    without a figure in rows of up to four cards; text alone fills the body."""
    body = BODY
    if slide.figure is not None and slide.kpis:
        band = band_height(slide.points, body.w)
        top, height = body.y + band, body.h - band
        across = side_columns(len(slide.kpis))
        rows = math.ceil(len(slide.kpis) / across)
        step = min(1.35 if across == 1 else 2.2, height / rows)
        width = (SIDE - 0.14 * (across - 1)) / across
        kpis = tuple(Box(body.x + (i % across) * (width + 0.14), top + (i // across) * step,
                         width, step - 0.14) for i in range(len(slide.kpis)))
        return Arrangement(kpis, Box(body.x, body.y, body.w, band) if band else None,
                           Box(body.x + SIDE + GAP, top, body.w - SIDE - GAP, height))
    if slide.figure is not None:
        if not slide.points:
            return Arrangement(figure=body)
        return Arrangement(points=Box(body.x, body.y, SIDE, body.h),
                           figure=Box(body.x + SIDE + GAP, body.y, body.w - SIDE - GAP, body.h))
    if slide.table is not None:
        top = band_height(slide.points, body.w, TABLE_POINT_SIZE)
        return Arrangement(points=Box(body.x, body.y, body.w, top) if top else None,
                           table=Box(body.x, body.y + top, body.w, body.h - top))
    if slide.kpis:
        rows = kpi_rows(len(slide.kpis))
        height = min(2.1, (body.h - GAP * (len(rows) - 1)) / len(rows))
        boxes = []
        for r, n in enumerate(rows):
            width = (body.w - GAP * (n - 1)) / n
            boxes += [Box(body.x + i * (width + GAP), body.y + r * (height + GAP), width, height)
                      for i in range(n)]
        used = len(rows) * (height + GAP)
        return Arrangement(tuple(boxes), Box(body.x, body.y + used, body.w, body.h - used)
                           if slide.points else None)
    return Arrangement(points=body)


# --- chart images (kaleido + Chromium: :mod:`dashboard.briefing.images`) ----------------------


def chart_images(slides: Sequence[Slide]) -> dict[int, bytes]:
    """PNG of each slide's figure (by slide index), sized to its place on the slide at the
    projector's scale; empty when there is no Chromium. A figure that fails twice is left out
    (its slide then says so), with the figures after it, and the failure logged."""
    if chart_browser() is None:
        return {}
    images: dict[int, bytes] = {}
    for index, slide in enumerate(slides):
        box = arrange(slide).figure
        if slide.figure is None or box is None:
            continue
        width, height = round(box.w * PX_PER_INCH), round(box.h * PX_PER_INCH)
        figure = projector(slide.figure, height, width=width)
        for attempt in (1, 2):  # a failed picture closes its browser: the retry starts one
            try:
                images[index] = RENDERER.render(figure, width, height, IMAGE_SCALE)
                break
            except Exception:  # a chart must not cost the whole deck
                LOG.warning("chart image of slide %s failed (attempt %d)", slide.key, attempt,
                            exc_info=attempt == 2)
        else:  # two fresh browsers failed: the rest would too, each after a long wait
            break
    return images


# --- drawing: one routine, two canvases (PowerPoint, PDF) ---------------------------------------

Line = tuple[str, float, bool, str]  # text, size (pt), bold, colour


def _kpi_lines(kpi: Kpi, box: Box) -> list[Line]:
    """A KPI card's label, figure and note; the figure as large as the card lets it be (a
    line takes :data:`LINE` times its type size; a digit about 0.6 of it in width)."""
    label_lines = 2 if len(kpi.label) * 13 * 0.5 > box.w * 72 else 1  # a narrow card wraps
    free = box.h * 72 - 10 - (13 * label_lines + (11 if kpi.note else 0)) * LINE
    big = max(16.0, min(40.0, free / LINE, box.w * 72 / (len(kpi.value) * 0.62 + 0.5)))
    return [(kpi.label, 13, False, MUTED), (kpi.value, round(big), True, INK),
            *([(kpi.note, 11, False, MUTED)] if kpi.note else [])]


def _point_lines(slide: Slide) -> list[Line]:
    size = (18 if slide.key in ("sources", "empty") else
            TABLE_POINT_SIZE if slide.table is not None else POINT_SIZE)
    return [(f"• {p}" if slide.key == "sources" else p, size, False, INK) for p in slide.points]


def _cells(table: pd.DataFrame) -> list[list[str]]:
    """The header and the rows of a display table, as text."""
    return [[str(c) for c in table.columns],
            *[[str(v) for v in row] for row in table.itertuples(index=False)]]


def _column_widths(cells: list[list[str]], width: float) -> list[float]:
    """Column widths (inches) in proportion to their longest text, the first (names) wider."""
    weights = [max(len(cells[0][c]) * 0.7, *(len(r[c]) * 1.1 for r in cells[1:]), 8)
               for c in range(len(cells[0]))]
    weights[0] *= 1.3
    return [width * w / sum(weights) for w in weights]


TABLE_LINE, TABLE_PAD = 1.3, 0.03  # table rows: line height (type sizes), padding (inches)
ROW_FLOOR = 1.85  # a table row is never lower than this many type sizes in LibreOffice (it
# keeps Sarabun's Windows line metrics there, whatever the line spacing): size for it


def _table_metrics(rows: int, height: float) -> tuple[float, float]:
    """Row height (inches) and type size (pt) for ``rows`` rows (the header counted twice: its
    names wrap) in ``height`` inches: up to 13 pt, down to 9 pt."""
    row_h = min(0.42, height / (rows + 1))
    return row_h, max(9.0, min(13.0, (row_h - 2 * TABLE_PAD) * 72 / ROW_FLOOR))


def _numeric(cells: list[list[str]], column: int) -> bool:
    return column > 0 and all(NUMBER.match(r[column]) for r in cells[1:] if r[column])


class _Canvas:
    """What the drawing routine needs from a file format."""

    def page(self) -> None: ...
    def rect(self, box: Box, fill: str, rounded: bool = False) -> None: ...
    def text(self, box: Box, lines: Sequence[Line], align: str = "left") -> None: ...
    def image(self, box: Box, png: bytes) -> None: ...
    def table(self, box: Box, cells: list[list[str]]) -> None: ...


def _draw(canvas: _Canvas, slides: Sequence[Slide], meta: Meta,
          images: Mapping[int, bytes]) -> None:
    for index, slide in enumerate(slides):
        canvas.page()
        if slide.key == "cover":
            canvas.rect(Box(0, 0, SLIDE_W, 0.35), ACCENT)
            subtitle, *rest = slide.points
            canvas.text(Box(0.9, 1.9, 11.5, 1.3), [(slide.title, 40, True, INK)])
            canvas.text(Box(0.9, 3.2, 11.5, 0.8), [(subtitle, 28, False, ACCENT)])
            canvas.text(Box(0.9, 4.2, 11.5, 2.6), [(p, 18, False, MUTED) for p in rest])
            continue
        canvas.rect(Box(0, 0, SLIDE_W, 0.14), ACCENT)
        canvas.text(TITLE, [(slide.title, 28, True, INK)])
        canvas.text(CAPTION, [(meta.caption, 14, False, MUTED)])
        where = arrange(slide)
        for kpi, box in zip(slide.kpis, where.kpis, strict=True):
            canvas.rect(box, CARD, rounded=True)
            canvas.text(box, _kpi_lines(kpi, box))
        if where.points:
            canvas.text(where.points, _point_lines(slide))
        if where.figure:
            box = where.figure
            if index in images:
                canvas.image(box, images[index])
            else:
                canvas.rect(box, CARD)
                canvas.text(Box(box.x + 0.3, box.y + box.h / 2 - 0.3, box.w - 0.6, 0.8),
                            [(t("presenter.chart_missing", meta.lang), 16, False, MUTED)],
                            "center")
        if where.table and slide.table is not None:
            canvas.table(where.table, _cells(slide.table))
        canvas.text(FOOTER, [(meta.footer(), 11, False, MUTED)])
        canvas.text(FOOTER, [(t("presenter.page_of", meta.lang, n=index + 1, total=len(slides)),
                              11, False, MUTED)], "right")


def _lang_tag(text: str) -> str:
    return "th-TH" if THAI.search(text) else "en-US"


class _Deck(_Canvas):
    """python-pptx: every run in Sarabun for Latin and complex script (Thai), with its
    language, and 1.2 line spacing (Thai lines touch at 1.0)."""

    def __init__(self, meta: Meta) -> None:
        from pptx import Presentation
        from pptx.util import Inches

        self.deck = Presentation()
        self.deck.slide_width, self.deck.slide_height = Inches(SLIDE_W), Inches(SLIDE_H)
        properties = self.deck.core_properties
        properties.title = t("presenter.programme", meta.lang)
        properties.subject = meta.caption
        properties.language = "th-TH" if meta.lang == "th" else "en-US"
        self.slide: Any = None

    def page(self) -> None:
        self.slide = self.deck.slides.add_slide(self.deck.slide_layouts[6])  # blank

    @staticmethod
    def _run(run: Any, text: str, size: float, bold: bool, colour: str) -> None:
        from pptx.dml.color import RGBColor
        from pptx.oxml.ns import qn
        from pptx.oxml.xmlchemy import OxmlElement
        from pptx.util import Pt

        run.text = text
        run.font.name = FONT
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.color.rgb = RGBColor.from_string(colour.lstrip("#"))
        props = run._r.get_or_add_rPr()
        props.set("lang", _lang_tag(text))
        cs = OxmlElement("a:cs")  # font.name sets only the Latin face
        cs.set("typeface", FONT)
        props.find(qn("a:latin")).addnext(cs)

    def _lines(self, frame: Any, lines: Sequence[Line], align: str, line: float = LINE,
               margin: float = 0.06) -> None:
        from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
        from pptx.util import Inches, Pt

        frame.word_wrap = True
        frame.vertical_anchor = MSO_ANCHOR.TOP
        for side in ("left", "right"):
            setattr(frame, f"margin_{side}", Inches(0.06))
        for side in ("top", "bottom"):
            setattr(frame, f"margin_{side}", Inches(margin))
        for i, (text, size, bold, colour) in enumerate(lines):
            paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            paragraph.alignment = {"left": PP_ALIGN.LEFT, "center": PP_ALIGN.CENTER,
                                   "right": PP_ALIGN.RIGHT}[align]
            paragraph.line_spacing = Pt(size * line)  # exact: the same in every viewer
            self._run(paragraph.add_run(), text, size, bold, colour)

    def rect(self, box: Box, fill: str, rounded: bool = False) -> None:
        from pptx.dml.color import RGBColor
        from pptx.enum.shapes import MSO_SHAPE
        from pptx.util import Inches

        shape = self.slide.shapes.add_shape(
            MSO_SHAPE.ROUNDED_RECTANGLE if rounded else MSO_SHAPE.RECTANGLE,
            Inches(box.x), Inches(box.y), Inches(box.w), Inches(box.h))
        shape.fill.solid()
        shape.fill.fore_color.rgb = RGBColor.from_string(fill.lstrip("#"))
        shape.line.fill.background()
        shape.shadow.inherit = False
        if rounded:
            shape.adjustments[0] = 0.08

    def text(self, box: Box, lines: Sequence[Line], align: str = "left") -> None:
        from pptx.util import Inches

        shape = self.slide.shapes.add_textbox(Inches(box.x), Inches(box.y), Inches(box.w),
                                              Inches(box.h))
        self._lines(shape.text_frame, lines, align)

    def image(self, box: Box, png: bytes) -> None:
        from pptx.util import Inches

        self.slide.shapes.add_picture(io.BytesIO(png), Inches(box.x), Inches(box.y),
                                      Inches(box.w), Inches(box.h))

    def table(self, box: Box, cells: list[list[str]]) -> None:
        from pptx.dml.color import RGBColor
        from pptx.util import Inches

        rows, cols = len(cells), len(cells[0])
        row_h, size = _table_metrics(rows, box.h)
        grid = self.slide.shapes.add_table(rows, cols, Inches(box.x), Inches(box.y),
                                           Inches(box.w), Inches(row_h * rows)).table
        for i, width in enumerate(_column_widths(cells, box.w)):
            grid.columns[i].width = Inches(width)
        for r, values in enumerate(cells):
            grid.rows[r].height = Inches(row_h)
            for c, value in enumerate(values):
                cell = grid.cell(r, c)
                cell.fill.solid()
                fill = HEADER_FILL if r == 0 else CARD if r % 2 == 0 else "#FFFFFF"
                cell.fill.fore_color.rgb = RGBColor.from_string(fill.lstrip("#"))
                self._lines(cell.text_frame, [(value, size, r == 0, "#FFFFFF" if r == 0 else INK)],
                            "right" if r and _numeric(cells, c) else "left", TABLE_LINE,
                            TABLE_PAD)

    def output(self) -> bytes:
        out = io.BytesIO()
        self.deck.save(out)
        return out.getvalue()


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


class _Pdf(_Canvas):
    """fpdf2 with Sarabun embedded and HarfBuzz shaping (tone marks and vowels placed right)."""

    def __init__(self, meta: Meta) -> None:
        from fpdf import FPDF

        pdf = sarabun_pdf(FPDF(orientation="L", unit="in", format=(SLIDE_H, SLIDE_W)),
                          t("presenter.programme", meta.lang), meta.lang)
        pdf.set_auto_page_break(False)
        pdf.set_margins(0, 0, 0)
        pdf.c_margin = 0.04
        pdf.set_subject(meta.caption)
        self.pdf = pdf

    def page(self) -> None:
        self.pdf.add_page()

    def rect(self, box: Box, fill: str, rounded: bool = False) -> None:
        self.pdf.set_fill_color(*_rgb(fill))
        self.pdf.rect(box.x, box.y, box.w, box.h, style="F", round_corners=rounded,
                      corner_radius=0.12)

    def text(self, box: Box, lines: Sequence[Line], align: str = "left") -> None:
        pdf, y = self.pdf, box.y + 0.06
        for text, size, bold, colour in lines:
            pdf.set_font(FONT, "B" if bold else "", size)
            pdf.set_text_color(*_rgb(colour))
            pdf.set_xy(box.x + 0.06, y)
            pdf.multi_cell(box.w - 0.12, size * LINE / 72, text, align=align[0].upper())
            y = pdf.get_y()

    def image(self, box: Box, png: bytes) -> None:
        self.pdf.image(io.BytesIO(png), box.x, box.y, box.w, box.h)

    def table(self, box: Box, cells: list[list[str]]) -> None:
        from fpdf.fonts import FontFace

        pdf, rows = self.pdf, len(cells)
        row_h, size = _table_metrics(rows, box.h)
        pdf.set_font(FONT, "", size)
        pdf.set_text_color(*_rgb(INK))
        pdf.set_fill_color(*_rgb("#FFFFFF"))  # the rows between the shaded ones
        pdf.set_left_margin(box.x)
        pdf.set_xy(box.x, box.y)
        aligns = ["RIGHT" if _numeric(cells, c) else "LEFT" for c in range(len(cells[0]))]
        with pdf.table(width=box.w, col_widths=_column_widths(cells, box.w), text_align=aligns,
                       line_height=max(size * TABLE_LINE / 72, row_h - 2 * TABLE_PAD),
                       borders_layout="NONE",
                       headings_style=FontFace(emphasis="BOLD", color=_rgb("#FFFFFF"),
                                               fill_color=_rgb(HEADER_FILL)),
                       cell_fill_color=_rgb(CARD), cell_fill_mode="ROWS",
                       padding=(TABLE_PAD, 0.06), v_align="MIDDLE") as grid:
            for values in cells:
                row = grid.row()
                for value in values:
                    row.cell(value)
        pdf.set_left_margin(0)

    def output(self) -> bytes:
        return complete_to_unicode(bytes(self.pdf.output()), self.pdf)


def sarabun_pdf(pdf: Any, title: str, lang: str) -> Any:
    """An fpdf2 document with Sarabun (regular and bold) embedded and HarfBuzz shaping on,
    so Thai tone marks and vowels sit where they belong."""
    for style, path in FONT_FILES.items():
        pdf.add_font(FONT, style, str(path))
    pdf.set_text_shaping(True)
    pdf.set_title(title)
    pdf.set_lang("th" if lang == "th" else "en")
    pdf.set_creator("Ku Siao Dashboard")
    return pdf


def complete_to_unicode(data: bytes, pdf: Any) -> bytes:
    """Map the glyphs HarfBuzz adds without a character of their own to nothing.

    Thai SARA AM (ำ) is drawn as two glyphs, NIKHAHIT and SARA AA; fpdf2 maps the character to
    the first and leaves the second out of the font's ToUnicode table, so extracting or copying
    "อำเภอ" gave "อำ\\x03เภอ". Mapping those glyph codes to an empty string gives "อำเภอ"."""
    from pypdf import PdfReader, PdfWriter

    unmapped = {font.name: sorted(code for glyph, code in font.subset.items()
                                  if glyph is not None and not glyph.unicode)
                for font in pdf.fonts.values() if hasattr(font, "subset")}
    if not any(unmapped.values()):
        return data
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    done: set[int] = set()
    for page in writer.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            codes = unmapped.get(str(font["/BaseFont"]).split("+", 1)[-1])
            cmap = font.get("/ToUnicode")
            if not codes or cmap is None or cmap.idnum in done:
                continue
            extra = (f"{len(codes)} beginbfchar\n" + "".join(f"<{c:04X}> <>\n" for c in codes)
                     + "endbfchar\n").encode()
            stream = cmap.get_object()
            stream.set_data(stream.get_data().replace(b"endcmap", extra + b"endcmap", 1))
            done.add(cmap.idnum)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def build_deck(slides: Sequence[Slide], meta: Meta, images: Mapping[int, bytes]) -> bytes:
    """The slides as a PowerPoint deck (16:9). A figure without its image (no Chromium) gets a
    note in its place; every other part (KPIs, tables, sentences, captions) is there."""
    deck = _Deck(meta)
    _draw(deck, slides, meta, images)
    return deck.output()


def build_pdf(slides: Sequence[Slide], meta: Meta, images: Mapping[int, bytes]) -> bytes:
    """The same slides as :func:`build_deck`, as a PDF with Sarabun embedded."""
    pdf = _Pdf(meta)
    _draw(pdf, slides, meta, images)
    return pdf.output()
