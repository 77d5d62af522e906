"""Presenter mode and the briefing exports (PowerPoint, PDF) on the tiny programme.

The tiny programme (tests/factories.py) names its household heads "นาง ทดสอบ H<n>" with citizen
IDs starting 09999, and its officials "นาย หนึ่ง", "นาย สอง", "นาง สาม": none of these, masked
or not, nor a household or official id, may appear anywhere in presenter mode or in the files.

Chart images need Chromium (kaleido): those tests skip where /usr/bin/chromium is missing,
unless the environment variable CI is set (then they fail).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from google.protobuf.message import Message
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.oxml.ns import qn
from pypdf import PdfReader
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from dashboard import store as store_access
from dashboard.briefing import images
from dashboard.briefing import slides as briefing
from dashboard.queries import status
from dashboard.queries.climb import climb_after_help
from dashboard.queries.forecast import ladder_forecast
from dashboard.store import Direct, Snapshot
from dashboard.store.privacy import Viewer
from dashboard.ui import PageContext, filters_summary, window
from dashboard.views import forecast as forecast_views
from domain.definitions import load_definitions
from domain.filters import Filters
from domain.i18n import format_number, format_percent, t
from loaders.store import Store
from tests.pages.test_app import copy_of, run_app

CHROMIUM = Path("/usr/bin/chromium")
PROGRAMME = "คู่เสี่ยว เกี่ยวก้อย แก้จน คนขอนแก่น"
PERSONAL = re.compile(
    r"ทดสอบ [A-Z]|นาย หนึ่ง|หนึ่ง…|นาย สอง|สอง…|นาง สาม|สาม…|09999|0-xxxx|\b[HO]\d\b|•••")
"""Head names (masked: "ทดสอบ H."), official names (masked: "หนึ่ง…"), citizen IDs (masked:
"0-xxxx-..."), household and official ids, hidden free text."""
SLIDES = ["cover", "headline", "trend", "forecast", "map", "funnel", "coverage", "agencies",
          "transitions", "climb", "followup", "sources"]


def needs_chromium() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("chart images need Chromium: apt-get install chromium")
        pytest.skip("chart images need Chromium (/usr/bin/chromium): apt-get install chromium")


# --- presenter mode through the app ------------------------------------------------------------


def _strings(value: object) -> Iterator[str]:
    """Every text in a protobuf message or a JSON value (plotly specs, decks), recursively;
    plotly's base64 number arrays (``bdata``) are numbers, not text, and are skipped."""
    if isinstance(value, Message):
        for _field, item in value.ListFields():
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "bdata":
                yield str(key)
                yield from _strings(item)
    elif isinstance(value, list | tuple) or type(value).__name__.startswith("Repeated"):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            yield value
        else:
            yield from _strings(parsed) if isinstance(parsed, dict | list) else [value]


def all_text(at: AppTest) -> str:
    """The text of every element the app sent (main area and sidebar)."""

    def walk(node: object) -> Iterator[object]:
        children = getattr(node, "children", None)
        if children:
            for child in children.values():
                yield from walk(child)
        else:
            yield node

    texts = []
    for element in walk(at._tree):
        texts += _strings(getattr(element, "proto", None))
        value = getattr(element, "value", None) if hasattr(element, "proto") else None
        if isinstance(value, pd.DataFrame):  # tables travel as Arrow bytes
            texts.append(value.reset_index().to_csv())
    return "\n".join(texts)


def visit_every_slide(at: AppTest) -> tuple[list[str], int, int]:
    """Titles of all slides, moving with the Next button, and the plotly charts and tables
    seen on the way; the text of every slide is checked for personal data."""
    titles, charts, tables = [], 0, 0
    while True:
        titles.append(at.title[0].value)
        charts += len(at.get("plotly_chart"))
        tables += len(at.table)
        text = all_text(at)
        assert not PERSONAL.search(text), PERSONAL.search(text)
        assert not at.get("dataframe"), "presenter mode shows no row-level table"
        if at.button(key="present_next").disabled:
            return titles, charts, tables
        at.button(key="present_next").click().run()
        assert not at.exception, at.exception


def test_presenter_mode_shows_no_personal_data_even_to_an_officer(
        tmp_path: Path, tiny_template: Path, use_store, monkeypatch) -> None:
    monkeypatch.setenv("KUSIAO_ROLE", "officer")
    use_store(copy_of(tiny_template, tmp_path))
    at = run_app({"present": "1"})
    titles, charts, tables = visit_every_slide(at)
    assert titles[0] == PROGRAMME
    assert titles[-1] == t("presenter.slide_sources")
    assert len(titles) == len(SLIDES)
    assert (charts, tables) == (6, 2)  # trend, forecast, map, funnel, coverage, transitions;
    # the league, the climb


def test_the_same_check_finds_names_on_a_page_that_shows_them(
        tmp_path: Path, tiny_template: Path, use_store, monkeypatch) -> None:
    """The Coverage page shows an officer the officials' names: the check is live, and
    presenter mode (above) is what keeps them off the screen."""
    monkeypatch.setenv("KUSIAO_ROLE", "officer")
    use_store(copy_of(tiny_template, tmp_path))
    at = run_app()
    at.switch_page("../pages/coverage.py").run()
    assert PERSONAL.search(all_text(at))


def test_a_link_with_an_amphoe_adds_its_slide_after_the_map(
        tmp_path: Path, tiny_template: Path, use_store, monkeypatch) -> None:
    monkeypatch.setattr(briefing, "chart_browser", lambda: None)  # a machine without Chromium
    use_store(copy_of(tiny_template, tmp_path))
    at = run_app({"present": "1", "amphoe": "4005", "slide": str(SLIDES.index("map") + 1)})
    at.button(key="present_next").click().run()  # the default role, analyst
    assert at.title[0].value == "อำเภอชุมแพ"
    assert "ชุมแพ" in at.caption[0].value, "the filter in force"
    assert at.metric[0].label == t("kpi.households")
    assert at.metric[0].value == "2"  # H7 and H8
    assert len(at.get("plotly_chart")) == 1  # its tambon
    assert not PERSONAL.search(all_text(at))
    assert at.query_params["amphoe"] == "4005"
    # the downloads say plainly that chart pictures need Chromium
    assert [w.value for w in at.warning] == [t("presenter.no_browser")]
    assert [b.label for b in at.get("download_button")] == [t("presenter.export_pptx"),
                                                           t("presenter.export_pdf")]


def test_the_files_are_made_on_click_once_for_both_and_follow_the_data_of_that_moment(
        tmp_path: Path, tiny_template: Path, use_store, monkeypatch) -> None:
    """The PowerPoint and the PDF are written when clicked, outside the page's run: two quick
    clicks draw the charts once and both get their file, and a file made after another
    session changed the data shows the new data (not the page's older results)."""
    monkeypatch.setattr(briefing, "chart_browser", lambda: None)
    drawn: list[int] = []
    draw = briefing.chart_images

    def slow_drawing(slides: list) -> dict[int, bytes]:
        drawn.append(len(slides))
        time.sleep(0.3)  # Chromium takes seconds: long enough for a second click
        return draw(slides)

    monkeypatch.setattr(briefing, "chart_images", slow_drawing)
    made: dict[str, object] = {}
    add_deferred = MediaFileManager.add_deferred

    def keep(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        made[str(file_name).rsplit(".", 1)[-1]] = data_callable
        return add_deferred(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", keep)
    use_store(copy_of(tiny_template, tmp_path))
    run_app({"present": "1", "amphoe": "4005", "slide": "3"})
    assert set(made) == {"pptx", "pdf"}
    files: dict[str, bytes] = {}
    clicks = [threading.Thread(target=lambda kind=kind: files.update({kind: made[kind]()}))
              for kind in ("pptx", "pdf")]
    for click in clicks:
        click.start()
        time.sleep(0.05)
    for click in clicks:
        click.join()
    assert drawn == [13]  # once, for both
    assert len(Presentation(io.BytesIO(files["pptx"])).slides) == 13
    assert len(PdfReader(io.BytesIO(files["pdf"])).pages) == 13
    for _ in range(2):  # another session takes back the assistance, then the visits
        assert store_access.undo_last_import(Viewer("officer"), "another session") is not None
    deck = Presentation(io.BytesIO(made["pptx"]()))
    assert drawn == [13, 3]
    assert t("presenter.slide_empty") in slide_texts(deck)[1]


@pytest.mark.parametrize("lang", ["th", "en"])
def test_the_forecast_and_climb_slides_show_the_plan_verdicts_error_and_caution(
        demo_store_dir: Path, use_store, lang: str) -> None:
    """The forecast slide: each target's forecast for the first plan year ahead with its
    verdict and plan, the amphoe on track, at risk and off track (as many as the Outcomes
    table judges) and the back-test error; the climb slide: the warning first, small groups
    hidden, the same table as Outcomes' in the columns a slide has room for."""
    use_store(demo_store_dir)
    definitions = load_definitions()
    con = store_access.store().con
    found = ladder_forecast(con, Filters(), definitions)
    year = forecast_views.first_year(found)
    at = run_app({"present": "1", "lang": lang, "slide": str(SLIDES.index("forecast") + 1)})
    assert at.title[0].value == t("presenter.slide_forecast", lang, year=year)
    whole = forecast_views.whole_rows(found, year)
    cards = {m.label: (m.value, m.delta) for m in at.metric}
    names = definitions.level_names(lang)
    for target in definitions.targets:
        value, note = cards[t("kpi.at_target", lang, n=target.level, name=names[target.level])]
        row = whole.loc[target.level]
        assert value == format_percent(row["point"])
        assert forecast_views.status_word(row["status"], lang) in note
        assert format_percent(row["plan"], 0) in note
    counts = forecast_views.status_counts(found)
    error = found.error_pp(max(definitions.forecast.backtest_horizons))
    text = at.markdown[0].value
    assert t("presenter.forecast_points", lang, on=counts["on_track"], risk=counts["at_risk"],
             off=counts["off_track"], method=t(f"forecast.method_{found.method}", lang),
             error=t("forecast.error_item", lang, h=4, pp=f"{error:.1f}")) in text
    assert len(at.get("plotly_chart")) == 1

    at.button(key="present_next").click().run()  # the map, then on to the climb slide
    while at.title[0].value != t("climb.title", lang):
        at.button(key="present_next").click().run()
    assert not at.exception, at.exception
    assert t("climb.caution", lang) in at.markdown[0].value
    table = at.table[0].value
    groups = climb_after_help(con, Filters(), definitions)
    shown = groups[(groups["kind"] == "type") & (groups["households"] >= 5)]
    assert len(table) == len(groups[groups["kind"] == "type"])
    assert t("climb.col_difference", lang) in table.columns
    assert set(table[t("climb.col_households", lang)]) >= {format_number(n)
                                                            for n in shown["households"]}


def test_slides_move_with_the_buttons_and_keep_their_place_in_the_url(
        tmp_path: Path, tiny_template: Path, use_store) -> None:
    use_store(copy_of(tiny_template, tmp_path))
    at = run_app({"present": "1", "slide": "3", "amphoe": "4001", "lang": "en"})
    assert at.title[0].value == t("presenter.slide_trend", "en")
    assert at.query_params["slide"] == "3"
    at.button(key="present_next").click().run()
    assert at.session_state["present_slide"] == 3
    assert at.query_params["slide"] == "4"
    at.button(key="present_previous").click().run()
    at.button(key="present_previous").click().run()
    assert at.title[0].value == t("presenter.slide_headline", "en")
    at.button(key="present_first").click().run()
    assert at.title[0].value == t("presenter.programme", "en")
    assert at.button(key="present_previous").disabled
    assert {b.proto.shortcut for b in at.button} >= {"left", "right", "pageup", "pagedown",
                                                     "home"}
    # the way out: a link (st.switch_page would drop the sidebar's widget state) to the
    # default page, keeping the filters and dropping the presenter's own parameters
    link = at.get("page_link")[0].proto
    assert link.label == t("presenter.exit", "en")
    assert link.help == t("page.overview_help", "en")
    assert sorted(link.query_string.split("&")) == ["amphoe=4001", "lang=en"]


def test_the_charts_follow_the_window_the_browser_reports(
        tmp_path: Path, tiny_template: Path, use_store) -> None:
    """A slide is drawn for 1,920 × 1,080 and scaled to the window (the type and cards by the
    CSS, the charts here): until the browser has reported its window, and for any window at
    least that big, the chart is the full slide's; in a 1,280 × 800 window, about two-thirds
    of it. Whatever the session holds for the window, the slide is drawn."""
    use_store(copy_of(tiny_template, tmp_path))
    at = run_app({"present": "1", "slide": "3"})  # the trend: KPIs beside a chart

    def chart() -> tuple[int, int]:
        layout = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]
        return layout["height"], layout["font"]["size"]

    full, font = chart()
    assert font == briefing.PROJECTOR_FONT and full >= 600
    for state, expected in (({"size": [1280, 800]}, (round(full * 0.65), 14)),
                            ({"size": [2560, 1440]}, (full, font)),
                            ({"size": [1024, 768]}, (round(full * 0.5), 11)),
                            ({"size": [200, 110]}, (round(full * 0.3), 7)),  # the smallest
                            ({"size": ["wide", 800]}, (full, font)),  # not a size
                            ({"size": [True, True]}, (full, font)),
                            ("a size", (full, font))):
        at.session_state["present_window"] = state
        at.run()
        assert not at.exception, (state, at.exception)
        assert chart() == expected, state


def test_the_slide_scale_is_the_windows_share_of_a_full_hd_slide_in_steps() -> None:
    assert window.slide_scale(None) == 1
    assert window.slide_scale((1920, 1080)) == 1
    assert window.slide_scale((3840, 2160)) == 1  # never larger than drawn
    assert window.slide_scale((1280, 800)) == pytest.approx(0.65)  # the width: 0.667, down
    assert window.slide_scale((1920, 900)) == pytest.approx(0.8)  # the height: 0.833, down
    assert window.slide_scale((1600, 1000)) == pytest.approx(0.8)
    assert window.slide_scale((100, 100)) == pytest.approx(window.SMALLEST_SCALE)


# --- the files ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_con(tmp_path_factory: pytest.TempPathFactory, tiny_template: Path) -> Iterator[object]:
    """One copy of the tiny programme for the file tests of this module (read only)."""
    folder = copy_of(tiny_template, tmp_path_factory.mktemp("presenter_files"))
    store = Store.open(f"duckdb://{folder / 'store.duckdb'}", store_dir=folder)
    yield store.con
    store.close()


@functools.cache
def _slides(con: object, filters: Filters, lang: str) -> tuple[tuple, briefing.Meta]:
    definitions = load_definitions()
    ctx = PageContext(lang=lang, filters=filters, choices=status.choices(con),
                      data=Snapshot("test"), definitions=definitions, as_of=status.data_as_of(con),
                      viewer=Viewer("analyst", presenter=True))
    meta = briefing.Meta(lang, filters_summary(ctx), ctx.as_of, dt.date(2026, 11, 29))
    data = briefing.collect(Direct(con), filters, definitions)
    return tuple(briefing.build_slides(data, definitions, meta, briefing.source_lines(
        definitions, lang, demo=False))), meta


def make_slides(con: object, filters: Filters, lang: str = "th") -> tuple[list, briefing.Meta]:
    """The slides the presenter page builds, with its caption (ui.filters_summary); built once
    per connection, filters and language."""
    slides, meta = _slides(con, filters, lang)
    return list(slides), meta


def slide_texts(deck: Presentation) -> list[str]:
    return ["\n".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)
            + "\n".join(cell.text for shape in slide.shapes if shape.has_table
                        for row in shape.table.rows for cell in row.cells)
            for slide in deck.slides]


def test_the_deck_has_every_slide_in_thai_with_sarabun_for_thai_script(tiny_con) -> None:
    slides, meta = make_slides(tiny_con, Filters())
    assert [s.key for s in slides] == SLIDES
    deck = Presentation(io.BytesIO(briefing.build_deck(slides, meta, images={})))
    assert len(deck.slides) == len(SLIDES)
    texts = slide_texts(deck)
    for slide, text in zip(slides, texts, strict=True):
        assert slide.title in text
        assert meta.caption in text or slide.key == "cover"
        assert not PERSONAL.search(text), PERSONAL.search(text)
    assert "ข้อมูล ณ วันที่ 30 ก.ย. 2563" in texts[0]  # the data date, in พ.ศ.
    assert t("definitions.source_codes") in texts[-1]
    assert "8" in texts[SLIDES.index("headline")] and "62.5%" in texts[SLIDES.index("headline")]
    runs = [run for slide in deck.slides for shape in slide.shapes if shape.has_text_frame
            for p in shape.text_frame.paragraphs for run in p.runs]
    thai = [r for r in runs if re.search(r"[\u0E00-\u0E7F]", r.text)]
    assert thai and all(r._r.rPr.get("lang") == "th-TH" for r in thai)
    assert all(r._r.rPr.find(qn("a:cs")).get("typeface") == "Sarabun" for r in thai)
    assert all(r.font.name == "Sarabun" for r in runs)


def test_without_chromium_there_are_no_chart_images_and_the_deck_says_why(
        tiny_con, monkeypatch) -> None:
    monkeypatch.setattr(briefing, "chart_browser", lambda: None)
    slides, meta = make_slides(tiny_con, Filters())
    assert briefing.chart_images(slides) == {}
    deck = Presentation(io.BytesIO(briefing.build_deck(slides, meta, images={})))
    texts = slide_texts(deck)
    assert [k for k, text in zip(SLIDES, texts, strict=True)
            if t("presenter.chart_missing") in text] == ["trend", "forecast", "map", "funnel",
                                                         "coverage", "transitions"]


def test_the_agency_league_is_a_real_table(tiny_con) -> None:
    slides, meta = make_slides(tiny_con, Filters())
    deck = Presentation(io.BytesIO(briefing.build_deck(slides, meta, images={})))
    league = deck.slides[SLIDES.index("agencies")]
    table = next(shape.table for shape in league.shapes if shape.has_table)
    names = [row.cells[0].text for row in table.rows]
    assert names[0] == t("table.agency_code") and len(names) == 16  # header + 15 agencies
    assert "พัฒนาชุมชน" in names


def pdf_lines(data: bytes) -> list[list[str]]:
    return [page.extract_text().splitlines() for page in PdfReader(io.BytesIO(data)).pages]


def test_thai_in_the_pdf_is_real_text_in_sarabun(tiny_con) -> None:
    slides, meta = make_slides(tiny_con, Filters())
    data = briefing.build_pdf(slides, meta, images={})
    pages = pdf_lines(data)
    assert len(pages) == len(SLIDES)
    assert pages[0][0] == PROGRAMME  # tone marks and vowels intact
    for slide, lines in zip(slides[1:], pages[1:], strict=True):
        assert lines[0] == slide.title
        assert lines[1] == meta.caption  # "ทุกอำเภอ": SARA AM extracts as one character
    fonts = {str(font.get_object()["/BaseFont"]) for page in PdfReader(io.BytesIO(data)).pages
             for font in page["/Resources"]["/Font"].values()}
    assert fonts and all("Sarabun" in name for name in fonts)
    assert not PERSONAL.search("\n".join("\n".join(p) for p in pages))


def test_sara_am_and_stacked_marks_extract_exactly() -> None:
    """fpdf2 leaves the second glyph of SARA AM out of ToUnicode ("อำ\\x03"); the fix maps it."""
    words = "น้ำ ที่นี่ กำลัง ค่ำ อำเภอ"
    meta = briefing.Meta("th", words, None, dt.date(2026, 11, 29))
    data = briefing.build_pdf([briefing.Slide("sources", words)], meta, images={})
    assert pdf_lines(data)[0][:2] == [words, f"{words} · ข้อมูล ณ วันที่ –"]


def test_an_export_with_a_filter_captions_every_slide_with_it(tiny_con) -> None:
    slides, meta = make_slides(tiny_con, Filters(amphoe="4005"))
    assert [s.key for s in slides] == [*SLIDES[:5], "amphoe", *SLIDES[5:]]
    assert "ชุมแพ" in meta.caption
    deck = Presentation(io.BytesIO(briefing.build_deck(slides, meta, images={})))
    texts = slide_texts(deck)
    assert all(meta.caption in text for text in texts[1:])
    assert "อำเภอชุมแพ" in texts[SLIDES.index("map") + 1]
    pages = pdf_lines(briefing.build_pdf(slides, meta, images={}))
    assert all(lines[1] == meta.caption for lines in pages[1:])
    assert meta.file_stem("4005") == "kusiao_briefing_2563-09-30_4005"


@pytest.mark.parametrize("amphoe", [None, "4005"])
def test_a_projected_slide_asks_only_for_its_own_figures_and_equals_the_exported_one(
        tiny_con, amphoe: str | None) -> None:
    """The projector collects the shown slide's figures (a filter change runs its queries, not
    the whole briefing's); the slide is the same as the one the export builds from all."""
    filters = Filters(amphoe=amphoe)
    slides, meta = make_slides(tiny_con, filters)
    definitions = load_definitions()
    sources = briefing.source_lines(definitions, "th", demo=False)
    asked: list[str] = []

    class Noting(Direct):
        def read(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
            asked.append(query.__name__)
            return super().read(query, *args, **kwargs)

    run = Noting(tiny_con)
    everything = briefing.collect(run, filters, definitions)
    assert len(asked) == (13 if amphoe else 11)
    keys = briefing.slide_keys(everything)
    assert keys == [s.key for s in slides]
    expected = {"cover": set(), "headline": set(), "sources": set(),
                "trend": {"target_trend"}, "map": {"map_place_values"},
                "amphoe": {"map_place_values", "place_summary", "overview_kpis"},
                "coverage": {"recency_bands", "caseload_counts"},
                "agencies": {"agency_league"}, "transitions": {"transitions"},
                "forecast": {"ladder_forecast"}, "climb": {"climb_after_help"},
                "funnel": {"process_funnel"}, "followup": {"cases_by_quarter"}}
    for key, slide in zip(keys, slides, strict=True):
        asked.clear()
        data = briefing.collect(run, filters, definitions, [key])
        assert asked[0] == "overview_kpis"  # every slide: is there anything to show?
        assert set(asked[1:]) == expected[key], key
        alone = briefing.build_slide(key, data, definitions, meta, sources)
        assert (alone.title, alone.kpis, alone.points) == (slide.title, slide.kpis,
                                                           slide.points), key
        assert (alone.figure is None) == (slide.figure is None), key
        if slide.figure is not None:
            assert alone.figure.to_json() == slide.figure.to_json(), key
        if slide.table is not None:
            pd.testing.assert_frame_equal(alone.table, slide.table)
    with pytest.raises(ValueError, match="coverage slide needs bands, caseload"):
        briefing.build_slide("coverage", briefing.collect(run, filters, definitions, ["map"]),
                             definitions, meta, sources)


def test_the_english_deck_marks_its_runs_english(tiny_con) -> None:
    slides, meta = make_slides(tiny_con, Filters(), lang="en")
    deck = Presentation(io.BytesIO(briefing.build_deck(slides, meta, images={})))
    assert t("presenter.programme", "en") in slide_texts(deck)[0]
    langs = {r._r.rPr.get("lang") for s in deck.slides for sh in s.shapes if sh.has_text_frame
             for p in sh.text_frame.paragraphs for r in p.runs}
    assert "en-US" in langs


def test_projector_style_leaves_the_page_figure_alone(tiny_con) -> None:
    slides, _meta = make_slides(tiny_con, Filters())
    trend = slides[SLIDES.index("trend")].figure
    before = trend.to_json()
    big = briefing.projector(trend, 700)
    assert trend.to_json() == before
    assert big.layout.font.size == briefing.PROJECTOR_FONT and big.layout.height == 700
    assert big.data[0].line.width > trend.data[0].line.width


# --- chart images (Chromium) ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tiny_con) -> tuple[list, briefing.Meta, dict[int, bytes]]:
    """The tiny programme's slides and their chart images, rendered once (kaleido starts one
    Chromium for the process)."""
    needs_chromium()
    slides, meta = make_slides(tiny_con, Filters())
    return slides, meta, briefing.chart_images(slides)


def test_a_picture_that_takes_too_long_closes_its_browser_and_the_next_starts_afresh(
        tiny_con) -> None:
    """A Chromium that hangs costs one picture's wait, not every later export: the renderer
    gives up after its timeout, closes that browser and starts a new one for the next."""
    needs_chromium()
    slides, _meta = make_slides(tiny_con, Filters())
    figure = next(s.figure for s in slides if s.figure is not None)
    renderer = images.ChartRenderer(timeout_s=0.05)  # less than any browser takes to start
    try:
        with pytest.raises(TimeoutError):
            renderer.render(figure, 600, 400, 1.0)
        renderer.timeout_s = images.RENDER_TIMEOUT_S
        picture = renderer.render(figure, 600, 400, 1.0)
        assert picture.startswith(b"\x89PNG")
        assert renderer.render(figure, 300, 200, 1.0).startswith(b"\x89PNG")  # kept open
    finally:
        renderer.close()


def test_every_chart_becomes_a_picture_on_its_slide(rendered) -> None:
    slides, meta, images = rendered
    charted = [i for i, s in enumerate(slides) if s.figure is not None]
    assert sorted(images) == charted == [SLIDES.index(k) for k in
                                         ("trend", "forecast", "map", "funnel", "coverage",
                                          "transitions")]
    assert all(png.startswith(b"\x89PNG") for png in images.values())
    deck = Presentation(io.BytesIO(briefing.build_deck(slides, meta, images)))
    pictures = [sum(shape.shape_type == MSO_SHAPE_TYPE.PICTURE for shape in slide.shapes)
                for slide in deck.slides]
    assert pictures == [1 if i in charted else 0 for i in range(len(slides))]
    texts = slide_texts(deck)
    assert not any(t("presenter.chart_missing") in text for text in texts)
    reader = PdfReader(io.BytesIO(briefing.build_pdf(slides, meta, images)))
    assert [len(page.images) for page in reader.pages] == pictures


def test_the_climb_slide_hides_groups_under_5_and_marks_those_under_20_in_words() -> None:
    """The slide's font (Sarabun) has no ⚠ or ◇: small groups are marked in words, and the
    warning comes first."""
    frame = pd.DataFrame({
        "kind": ["type"] * 3, "group": ["occupation", "health", "housing"],
        "households": [40, 12, 3], "climbed": [20, 3, 1], "share": [0.5, 0.25, 1 / 3],
        "comparable_share": [0.3, 0.2, 0.5], "difference_pp": [20.0, 5.0, -16.7],
        "comparable_households": [200, 90, 10], "value_baht": [400000.0, 60000.0, 9000.0],
        "baht_per_climber": [20000.0, 20000.0, 9000.0]})
    data = briefing.BriefingData(Filters(), kpis=None, climb=frame)  # type: ignore[arg-type]
    definitions = load_definitions()
    for lang in ("th", "en"):
        meta = briefing.Meta(lang, "", None, dt.date(2026, 11, 29))
        slide = briefing.build_slide("climb", data, definitions, meta, ())
        assert slide.points[0] == t("climb.caution", lang)
        table = slide.table
        groups = list(table[t("climb.col_group", lang)])
        assert groups[1].endswith(f"({t('climb.suppressed', lang, min=20)})")
        hidden = table.iloc[2]
        assert hidden.iloc[1] == t("climb.suppressed", lang, min=5)
        assert set(hidden.iloc[2:]) == {""}  # no share, no difference, no baht
        text = "\n".join([*slide.points, *map(str, table.to_numpy().ravel())])
        assert "⚠" not in text and "◇" not in text
