"""The dashboard in Chromium: every page, the language switch, filters from a link and from
clicks, the household profile, the presenter's PowerPoint download, the import page with a
good and a bad file, and the roles.

One server (role officer) and one browser serve the session; each test has its own tab and
so its own Streamlit session. The import tests write to the server's store: they run last
(``writes_officer_store``).
Screenshots land in artifacts/screenshots/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from dashboard.store.privacy import mask_name
from dashboard.ui import presenter, window
from dashboard.ui.registry import PAGES, PageSpec
from domain.filters import KEY_AGENCY, KEY_AMPHOE, KEY_LANG, PARAM_AGENCY, PARAM_AMPHOE
from domain.i18n import t
from domain.reference import amphoe_table
from loaders.contracts import HOUSEHOLDS
from loaders.headers import map_headers
from loaders.readers import read_bytes
from tests.conftest import ROOT
from tests.e2e.conftest import Tab, unavailable
from tests.factories import synthetic_citizen_id
from tests.loaders.test_importer import THAI_HEADERS, thai_csv, thai_household_rows

try:
    from playwright.sync_api import expect
except ImportError:
    unavailable("playwright is not installed: pip install -r requirements-dev.txt")

# Playwright's 5 s default is too short for a rerun on a busy 2-core machine
expect.set_options(timeout=20_000)

EXCEPTION = '[data-testid="stException"]'
ERROR_BOX = '[data-testid="stAlertContentError"]'
METRIC = '[data-testid="stMetric"]'
GRID = '[data-testid="stDataFrame"]'
HOUSEHOLDS_GRID = f".st-key-households_table {GRID}"
UPLOADER = '[data-testid="stFileUploaderDropzoneInput"]'
MAIN_CONTENT = ", ".join([METRIC, ".js-plotly-plot", GRID, '[data-testid="stDeckGlJsonChart"]',
                          '[data-testid="stTable"]'])
GRID_ROW_PX = 35  # st.dataframe's row (and header) height
GRID_CHECKBOX_X = 16  # the selection checkbox column, from the grid's left edge
AMPHOE = "4005"  # the amphoe the link and the map click choose
# The presenter is a slide deck without the page header: its cover holds only the programme's
# name, so it is opened at slide 2, the first with figures, headed by that slide's own title.
SLIDE_DECKS = {"present": "?slide=2"}

# The centre (in page pixels) of the point of a plotly chart whose customdata[0] is `code`
# (the first point with customdata when `code` is null), with its row: a real mouse click
# there selects it as a user's would.
POINT_JS = """(gd, code) => {
  const area = gd.querySelector('.nsewdrag').getBoundingClientRect();
  for (const trace of gd._fullData) {
    const rows = trace.customdata;
    if (!rows) continue;
    for (let i = 0; i < rows.length; i++) {
      if (code !== null && String(rows[i][0]) !== code) continue;
      const xa = gd._fullLayout[trace.xaxis.replace('x', 'xaxis')];
      const ya = gd._fullLayout[trace.yaxis.replace('y', 'yaxis')];
      return {x: area.left + xa.d2p(trace.x[i]), y: area.top + ya.d2p(trace.y[i]),
              customdata: Array.from(rows[i], String), label: String(trace.y[i]),
              text: trace.text ? String(trace.text[i]) : ''};
    }
  }
  return null;
}"""
# every data row of a grid (st.dataframe draws on a canvas; its accessible table mirrors the
# rows on screen)
ROWS_JS = """grid => [...grid.querySelectorAll('[role="row"]')]
  .map(row => [...row.querySelectorAll('[role="gridcell"]')].map(cell => cell.innerText))
  .filter(cells => cells.length)"""


def th(key: str, **params: Any) -> str:
    return t(key, "th", **params)


def spec_at(url_path: str) -> PageSpec:
    return next(spec for spec in PAGES if spec.url_path == url_path)


def path_of(spec: PageSpec) -> str:
    return "/" if spec.default else f"/{spec.url_path}"


def go_to(tab: Tab, url_path: str, lang: str = "th") -> None:
    """Switch page with the sidebar link, as a user does (the session and filters stay)."""
    spec = spec_at(url_path)
    tab.page.locator(f'[data-testid="stSidebarNav"] a[href="{tab.url(path_of(spec))}"]').click()
    expect(tab.page.locator("h1")).to_have_text(t(spec.title_key, lang))
    tab.wait_for_script()


def as_int(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


def metric_value(tab: Tab, label: str) -> int:
    label_el = tab.page.locator('[data-testid="stMetricLabel"]').get_by_text(label, exact=True)
    card = tab.page.locator(METRIC).filter(has=label_el)
    expect(card).to_have_count(1)
    return as_int(card.locator('[data-testid="stMetricValue"]').inner_text())


def widget_input(tab: Tab, key: str) -> Any:
    return tab.page.locator(f".st-key-{key} input")


def url_param(name: str, value: str) -> re.Pattern[str]:
    return re.compile(rf"[?&]{name}={re.escape(value)}(&|$)")


def grid_rows(grid: Any) -> list[list[str]]:
    grid.locator('[role="gridcell"]').first.wait_for(state="attached")  # drawn just after
    return grid.evaluate(ROWS_JS)


def click_point(tab: Tab, chart_key: str, code: str | None = None) -> dict[str, Any]:
    point = tab.chart(chart_key, POINT_JS, code)
    assert point is not None, f"no point {code!r} in chart {chart_key}"
    tab.page.mouse.click(point["x"], point["y"])
    return point


def amphoe_name(code: str) -> str:
    names = amphoe_table().set_index("amphoe_code")["name_th"]
    return str(names[code])


# -- every page ----------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [s for s in PAGES if not s.admin],  # admins': tests/test_access
                         ids=lambda spec: spec.url_path)
def test_page_renders_in_thai(tab: Tab, spec: PageSpec) -> None:
    deck = SLIDE_DECKS.get(spec.url_path)
    tab.open(path_of(spec) + (deck or ""))
    heading = tab.page.locator("h1").first
    if deck:  # presenter mode: no menu, the slide's own title
        expect(tab.page).to_have_url(url_param("present", "1"))
        expect(tab.page.locator('[data-testid="stSidebar"]')).to_be_hidden()
        expect(heading).not_to_be_empty()
    else:
        current = tab.page.locator('[data-testid="stSidebarNav"] a[aria-current="page"]')
        expect(current).to_contain_text(th(spec.title_key))
        expect(heading).to_have_text(th(spec.title_key))
    expect(tab.page.locator(MAIN_CONTENT).first).to_be_visible()
    expect(tab.page.locator(EXCEPTION)).to_have_count(0)
    expect(tab.page.locator(ERROR_BOX)).to_have_count(0)
    tab.screenshot(f"{spec.url_path}_th")
    tab.assert_clean()


def test_language_switch_shows_english(tab: Tab) -> None:
    tab.open("/")
    # a section the user opened stays open when its title changes language
    box = tab.page.locator(".st-key-overview_download_box details")
    box.locator("summary").click()
    expect(box).to_have_attribute("open", "")
    tab.page.locator(f".st-key-{KEY_LANG}").get_by_text("English", exact=True).click()
    expect(tab.page.locator("h1")).to_have_text(t("page.overview", "en"))
    expect(tab.page).to_have_url(url_param("lang", "en"))
    tab.wait_for_script()
    expect(box.locator("summary")).to_contain_text(t("download.title", "en"))
    expect(box).to_have_attribute("open", "")
    expect(tab.page.locator('[data-testid="stSidebar"] h2')).to_have_text(
        t("filters.title", "en"))
    expect(widget_input(tab, KEY_AMPHOE)).to_have_value(t("filters.all_amphoe", "en"))
    assert metric_value(tab, t("kpi.households", "en")) > 0
    tab.screenshot("overview_en")
    go_to(tab, "outcomes", "en")  # the language stays on another page
    expect(tab.page).to_have_url(url_param("lang", "en"))
    expect(tab.page.locator(EXCEPTION)).to_have_count(0)
    tab.assert_clean()


def open_sections(tab: Tab, sections: dict[str, str]) -> None:
    """Open each section (its expander's key: something drawn inside it) and see them all
    open and drawn. On a loaded machine a click on a title was seen lost once (both sections
    found closed after the runs; cause not found): a section found closed is clicked again,
    at most twice, as a user would."""
    for _attempt in range(3):
        for key, inside in sections.items():
            details = tab.page.locator(f".st-key-{key} details")
            tab.wait_for_script()
            if details.get_attribute("open") is None:
                details.locator("summary").click()
            try:
                expect(tab.page.locator(inside)).to_be_visible(timeout=15_000)
            except AssertionError:
                continue
        tab.wait_for_script()
        if all(tab.page.locator(inside).is_visible() for inside in sections.values()):
            return
    raise AssertionError(f"sections not open and drawn: {sorted(sections)}")


def test_outcomes_forecast_and_climbs_in_thai_and_english(tab: Tab) -> None:
    for lang in ("th", "en"):
        tab.open(f"/outcomes?lang={lang}")
        for key, title in (("outcomes_forecast_box", "forecast.title"),
                           ("outcomes_climb_box", "climb.title")):
            expect(tab.page.locator(f".st-key-{key} summary")).to_contain_text(t(title, lang))
        open_sections(tab, {  # each section is computed when it is opened
            "outcomes_forecast_box": ".st-key-outcomes_forecast_amphoe",
            "outcomes_climb_box": ".st-key-outcomes_climb_table"})
        expect(tab.page.locator(".st-key-outcomes_forecast .js-plotly-plot")).to_be_visible()
        expect(tab.page.locator(EXCEPTION)).to_have_count(0)
        tab.screenshot(f"outcomes_forecast_{lang}")
        # one section at a time, each one click away; the language of the labels follows
        picker = tab.page.locator(".st-key-outcomes_section")
        for section, chart in (("income", "outcomes_income"), ("gaps", "outcomes_gaps"),
                               ("compare", "outcomes_compare"),
                               ("transitions", "outcomes_sankey")):
            picker.get_by_role("radio", name=t(f"outcomes.tab_{section}", lang),
                               exact=True).click()
            tab.wait_for_script()
            expect(tab.page.locator(f".st-key-{chart} .js-plotly-plot")).to_be_visible()
            # the trend's, the forecast's and the climbs' (both open), and the section's own
            expect(tab.page.locator(".js-plotly-plot")).to_have_count(
                5 if section == "income" else 4)
        expect(tab.page.locator(EXCEPTION)).to_have_count(0)
    tab.assert_clean()


# -- filters -------------------------------------------------------------------------------


def test_amphoe_in_the_url_filters_the_kpis(tab: Tab) -> None:
    tab.open("/")
    everyone = metric_value(tab, th("kpi.households"))
    tab.open(f"/?{PARAM_AMPHOE}={AMPHOE}")
    expect(widget_input(tab, KEY_AMPHOE)).to_have_value(amphoe_name(AMPHOE))
    expect(tab.page).to_have_url(url_param(PARAM_AMPHOE, AMPHOE))
    assert 0 < metric_value(tab, th("kpi.households")) < everyone
    tab.assert_clean()


def test_map_click_filters_every_page_and_a_second_click_clears(tab: Tab) -> None:
    tab.open("/")
    everyone = metric_value(tab, th("kpi.households"))
    go_to(tab, "map")
    point = click_point(tab, "map_amphoe_tiles", AMPHOE)
    assert amphoe_name(AMPHOE) in point["text"]  # the hexagon clicked is the one named
    expect(tab.page).to_have_url(url_param(PARAM_AMPHOE, AMPHOE))
    expect(widget_input(tab, KEY_AMPHOE)).to_have_value(amphoe_name(AMPHOE))
    tab.wait_for_script()

    go_to(tab, "overview")
    expect(tab.page).to_have_url(url_param(PARAM_AMPHOE, AMPHOE))
    assert 0 < metric_value(tab, th("kpi.households")) < everyone

    go_to(tab, "map")
    click_point(tab, "map_amphoe_tiles", AMPHOE)
    expect(widget_input(tab, KEY_AMPHOE)).to_have_value(th("filters.all_amphoe"))
    expect(tab.page).not_to_have_url(re.compile(rf"[?&]{PARAM_AMPHOE}="))

    # the forecast verdict: words on the tiles and in the legend, the year judged under it
    tab.page.locator(".st-key-map_indicator").click()
    tab.page.get_by_role("option", name=th("map.ind_forecast_status")).click()
    tab.wait_for_script()
    expect(tab.page.get_by_text(th("map.class_not_judged"))).to_be_visible()
    expect(tab.page.locator(".st-key-map_amphoe_tiles text",
                            has_text=th("forecast.status.at_risk")).first).to_be_attached()
    expect(tab.page.get_by_text(re.compile(re.escape(th("map.forecast_note", year="YEAR",
                                                        min=5)).replace("YEAR", r"\d{4}")))
           ).to_be_visible()
    tab.assert_clean()


def test_agency_dot_click_narrows_the_agencies_page(tab: Tab) -> None:
    tab.open("/agencies")
    everyone = metric_value(tab, th("agencies.kpi_households"))
    point = click_point(tab, "agencies_chart")
    code, households = point["customdata"][0], as_int(point["customdata"][1])
    expect(widget_input(tab, "agencies_pick")).to_have_value(point["label"])
    expect(tab.page.get_by_text(th("agencies.selected", name=point["label"]),
                                exact=True)).to_be_visible()
    tab.wait_for_script()
    assert metric_value(tab, th("agencies.kpi_households")) == households < everyone

    tab.page.get_by_role("button", name=th("agencies.apply")).click()
    expect(tab.page).to_have_url(url_param(PARAM_AGENCY, code))
    expect(widget_input(tab, KEY_AGENCY)).not_to_have_value(th("filters.all_agencies"))
    tab.wait_for_script()
    expect(tab.page.locator(EXCEPTION)).to_have_count(0)
    tab.assert_clean()


# -- households ----------------------------------------------------------------------------


def first_household(tab: Tab) -> list[str]:
    tab.open("/households")
    grid = tab.page.locator(HOUSEHOLDS_GRID)
    expect(grid).to_be_visible()
    return grid_rows(grid)[0]


def test_selecting_a_household_row_opens_its_profile(tab: Tab) -> None:
    household_id = first_household(tab)[0]
    expect(tab.page.get_by_text(th("households.pick"))).to_be_visible()
    expect(tab.page.locator(METRIC)).to_have_count(0)

    box = tab.page.locator(HOUSEHOLDS_GRID).bounding_box()
    tab.page.mouse.click(box["x"] + GRID_CHECKBOX_X, box["y"] + 1.5 * GRID_ROW_PX)
    expect(tab.page).to_have_url(url_param("household", household_id))
    expect(widget_input(tab, "household")).to_have_value(household_id)
    tab.wait_for_script()
    main = tab.page.locator('[data-testid="stMain"]')
    expect(main.locator('[data-testid="stMarkdownContainer"]').filter(
        has_text=household_id).first).to_be_visible()
    expect(main.locator(METRIC).first).to_be_visible()
    expect(main.locator(".js-plotly-plot").first).to_be_visible()
    expect(tab.page.locator(EXCEPTION)).to_have_count(0)
    tab.screenshot("households_profile_th")
    tab.assert_clean()


def test_analyst_sees_masked_names_and_no_import(analyst_tab: Tab) -> None:
    household_id, head_name = first_household(analyst_tab)[:2]
    raw = read_bytes((ROOT / "data" / "demo" / "households.csv").read_bytes(), "households.csv")
    demo = raw.frame.rename(columns=map_headers(list(raw.frame.columns), HOUSEHOLDS).mapping)
    full_name = demo.set_index("household_id").loc[household_id, "head_name"]
    assert head_name == mask_name(full_name) != full_name

    analyst_tab.open("/import")
    expect(analyst_tab.page.get_by_text(th("import.officer_only"))).to_be_visible()
    expect(analyst_tab.page.locator(UPLOADER)).to_have_count(0)
    analyst_tab.assert_clean()


# -- presenter mode ------------------------------------------------------------------------


def test_the_presenter_downloads_every_slide_while_it_shows_one(tab: Tab) -> None:
    """The projector collects only the shown slide's figures; the PowerPoint download, made
    when it is clicked, collects the whole briefing for the filters in force."""
    tab.open(f"/present?slide=3&{PARAM_AMPHOE}={AMPHOE}")
    expect(tab.page.locator("h1").first).to_have_text(th("presenter.slide_trend"))
    # the run after the window's size is reported draws the button anew: a click on the first
    # run's button may reach the server after that run has dropped its file (nothing comes)
    fitted_to_window(tab)
    tab.page.get_by_role("button", name=re.compile(re.escape(th("presenter.export")))).click()
    button = tab.page.locator(".st-key-present_pptx button")
    expect(button).to_be_visible()
    with tab.page.expect_download(timeout=120_000) as download:
        button.click()
    assert download.value.suggested_filename.endswith(f"_{AMPHOE}.pptx")
    deck = Presentation(download.value.path())
    texts = ["\n".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)
             for slide in deck.slides]
    assert len(texts) == 13  # cover, headline, trend, forecast, map, the amphoe, the four
    # processes, coverage, agencies, transitions, what is followed by a climb, follow-up, sources
    assert th("climb.caution") in texts[10]
    assert th("presenter.slide_amphoe", name=amphoe_name(AMPHOE)) in texts[5]
    assert th("presenter.slide_funnel") in texts[6]
    assert th("presenter.slide_transitions") in texts[9]
    assert th("presenter.slide_followup") in texts[11]
    assert sum(1 for slide in deck.slides for shape in slide.shapes
               if shape.shape_type == MSO_SHAPE_TYPE.PICTURE) >= 4  # the charts as pictures
    tab.assert_clean()


# Each slide element that is not the bar of controls, if it ends below the bar's top or past
# the window's right edge; each KPI figure cut short (shown ending in "…"); the root font size
# and the height of the slide's chart.
FIT_JS = """() => {
  const bar = document.querySelector('.st-key-present_bar').getBoundingClientRect();
  const outside = [];
  for (const el of document.querySelectorAll(
      '[data-testid="stMainBlockContainer"] [data-testid="stElementContainer"]')) {
    if (el.closest('.st-key-present_bar, .st-key-present_clicker')) continue;
    const r = el.getBoundingClientRect();
    if (r.height > 0 && (r.bottom > bar.top + 1 || r.right > window.innerWidth + 1))
      outside.push(`${el.innerText.slice(0, 40)} ${Math.round(r.bottom)} ${Math.round(r.right)}`);
  }
  const cut = [...document.querySelectorAll(
      '[data-testid="stMetricValue"], [data-testid="stMetricValue"] *')]
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent);
  return {outside, cut, font: getComputedStyle(document.documentElement).fontSize};
}"""
CHART_HEIGHT_JS = """h => {
  const gd = document.querySelector('.js-plotly-plot');
  return !!gd && !!gd._fullLayout && [h].flat().some(x => Math.abs(gd._fullLayout.height - x) < 2);
}"""


def fitted_to_window(tab: Tab) -> None:
    """Wait until the slide's chart is drawn to the window's size, which the browser reports
    after the page's first run (that run draws it for a full-HD window), and that run ends."""
    viewport = tab.page.viewport_size
    assert viewport is not None
    scale = window.slide_scale((viewport["width"], viewport["height"]))
    heights = [round(h * scale) for h in (presenter.FIGURE_HEIGHT, presenter.FIGURE_HEIGHT - 100)]
    tab.page.wait_for_function(CHART_HEIGHT_JS, arg=heights)
    tab.wait_for_script()


def test_a_slide_fits_the_projectors_window_and_follows_its_size(tab: Tab) -> None:
    """A slide is drawn for 1,920 × 1,080 and scaled to the window: on a 1,280 × 800 or a
    1,024 × 768 projector nothing reaches under the bar of controls or past the edge and no KPI
    figure is cut short ("100.0%" was, beside a chart); the chart follows the size the browser
    reports as the window changes."""
    tab.page.set_viewport_size({"width": 1280, "height": 800})
    tab.open(f"/present?slide=8&{PARAM_AMPHOE}={AMPHOE}")  # the coverage slide: KPIs, chart
    expect(tab.page.locator("h1").first).to_have_text(th("presenter.slide_coverage"))
    full = 700  # the chart's height on a full-HD slide beside a sentence (pages/presenter.py)
    for width, height in ((1280, 800), (1024, 768), (1920, 1080)):
        tab.page.set_viewport_size({"width": width, "height": height})
        scale = window.slide_scale((width, height))
        tab.page.wait_for_function(CHART_HEIGHT_JS, arg=round(full * scale))
        tab.wait_for_script()
        fit = tab.page.evaluate(FIT_JS)
        assert fit["outside"] == fit["cut"] == [], (width, fit)
        root = min(16, width / 120, height / 67.5)  # presenter.css
        assert float(fit["font"].removesuffix("px")) == pytest.approx(root, abs=0.001)
        assert "100.0%" in tab.page.locator(METRIC).first.inner_text()  # all paired
        if width == 1280:
            tab.screenshot("presenter_1280x800")
    # the forecast slide: two lines of sentences over its cards and chart
    tab.open(f"/present?slide=4&{PARAM_AMPHOE}={AMPHOE}")
    title = re.escape(th("presenter.slide_forecast", year="YEAR")).replace("YEAR", r"\d{4}")
    expect(tab.page.locator("h1").first).to_have_text(re.compile(title))
    for width, height in ((1280, 800), (1920, 1080)):
        tab.page.set_viewport_size({"width": width, "height": height})
        tab.page.wait_for_function(CHART_HEIGHT_JS,
                                   arg=round(full * window.slide_scale((width, height))))
        tab.wait_for_script()
        fit = tab.page.evaluate(FIT_JS)
        assert fit["outside"] == fit["cut"] == [], ("forecast", width, fit)
    tab.assert_clean()


# -- import (writes to the store: run last) ------------------------------------------------


def households_csv(prefix: str, first_citizen: int, wrong_checksum_at: int | None = None
                   ) -> tuple[bytes, list[str]]:
    """The importer tests' Thai households file with IDs that cannot clash with the demo's."""
    rows = thai_household_rows()
    for i, row in enumerate(rows):
        row[0], row[2] = f"{prefix}{i + 1}", synthetic_citizen_id(first_citizen + i)
    if wrong_checksum_at is not None:
        cid = str(rows[wrong_checksum_at][2])
        rows[wrong_checksum_at][2] = cid[:-1] + str((int(cid[-1]) + 1) % 10)
    return thai_csv(rows, "utf-8"), [str(row[0]) for row in rows]


def history(tab: Tab) -> list[list[str]]:
    header = tab.page.locator('th[role="columnheader"]', has_text=th("import.col_file_sha256"))
    return grid_rows(tab.page.locator(GRID).filter(has=header))


def upload(tab: Tab, name: str, data: bytes) -> None:
    tab.page.locator(UPLOADER).set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}])
    expect(tab.page.locator(METRIC).filter(has_text=th("import.rows_read"))).to_be_visible()
    tab.wait_for_script()


def open_import(tab: Tab) -> list[list[str]]:
    """The Import page; the history before anything is done."""
    tab.open("/import")
    return history(tab)


def save_import(tab: Tab, rows: int, who: str | None = None) -> None:
    """Click the checked file's save button, typing who imports first if given. The name is
    typed once the file is in: a file chosen in the instant before the run the name starts is
    dropped by Streamlit's uploader (its input saw the file, no upload was made, the file is
    not listed: 4 of 112 tries of a file chosen just after the name's Enter), so the name
    comes after the file, and the click waits for the run that enables the button."""
    button = tab.page.get_by_role("button", name=th("import.commit", n=str(rows)))
    if who is not None:
        box = tab.page.get_by_label(th("import.who"))
        box.fill(who)
        box.press("Enter")
    expect(button).to_be_enabled()
    button.click()


@pytest.mark.writes_officer_store
def test_import_saves_a_good_file_and_refuses_a_bad_one(tab: Tab) -> None:
    before = open_import(tab)

    good, _ = households_csv("E2E-", 900_001)
    upload(tab, "e2e_households_good.csv", good)
    save_import(tab, 3, "ทดสอบ เบราว์เซอร์")
    new_id = max(int(row[0]) for row in before) + 1
    expect(tab.page.locator('[data-testid="stAlertContentSuccess"]')).to_contain_text(
        th("report.committed", import_id=new_id, inserted=3, updated=0))
    tab.wait_for_script()
    after = history(tab)
    assert len(after) == len(before) + 1
    assert after[0][0] == str(new_id)
    assert {"ทดสอบ เบราว์เซอร์", "e2e_households_good.csv"} <= set(after[0])

    bad_row, citizen_id_header = 1, THAI_HEADERS[2]
    bad, ids = households_csv("E2E-BAD-", 900_011, wrong_checksum_at=bad_row)
    upload(tab, "e2e_households_bad.csv", bad)
    expect(tab.page.locator(ERROR_BOX)).to_contain_text(th("report.refused"))
    reason = tab.page.locator('th[role="columnheader"]', has_text=th("report.reason"))
    issues = grid_rows(tab.page.locator(GRID).filter(has=reason))
    file_row = str(bad_row + 2)  # row 1 holds the headers
    assert [row[:2] for row in issues if row[3] == th("report.error")] == [
        [file_row, citizen_id_header]]
    expect(tab.page.get_by_role("button", name=th("import.commit", n="2"))).to_have_count(0)
    csv_button = tab.page.locator(".st-key-import_rejected_csv button")
    expect(csv_button).to_have_text(re.compile(re.escape(th("download.csv"))))
    expect(tab.page.locator(".st-key-import_rejected_xlsx button")).to_have_text(
        re.compile(re.escape(th("download.xlsx"))))
    with tab.page.expect_download() as download:
        csv_button.click()
    rejected = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert ids[bad_row] in rejected and "_reason" in rejected
    assert not {ids[0], ids[2]} & set(re.findall(r"E2E-BAD-\d+", rejected))
    assert history(tab) == after  # nothing saved
    tab.screenshot("import_refused_th")
    tab.assert_clean()


def office_export(first: int) -> bytes:
    """A Chum Phae office's export: headers the matching can only guess at (the house code
    and the head's name), households known by their house codes, not by programme IDs."""
    lines = ["เลขที่บ้านตามทะเบียนราษฎร์,ผู้แทนครัวเรือน,เลขประจำตัวประชาชน,อำเภอ,ตำบล,สมาชิก"]
    for n in range(first, first + 3):
        lines.append(f"4005999{n:04d},นาง ส่งออก {n},{synthetic_citizen_id(950_000 + n)},"
                     f"ชุมแพ,ชุมแพ,{n % 5 + 1}")
    return "\n".join(lines).encode("utf-8")


def choose(tab: Tab, key: str, option: str) -> None:
    """Pick an option of a Streamlit selectbox as a user does: open it, type, click it."""
    box = tab.page.locator(f".st-key-{key}").get_by_role("combobox")
    box.click()
    box.fill(option)  # the selectbox filters its options as one types
    tab.page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option)


@pytest.mark.writes_officer_store
def test_an_officer_maps_two_headers_saves_the_mapping_and_the_next_file_uses_it(
        tab: Tab) -> None:
    import hashlib

    from dashboard.ui.imports import column_label

    before = open_import(tab)
    first = office_export(1)
    upload(tab, "chum_phae_export_1.csv", first)
    expect(tab.page.locator('[data-testid="stAlertContentWarning"]')).to_contain_text(
        th("import.mapping_suggested", n=1))  # the house code is only a guess
    expect(tab.page.locator(ERROR_BOX)).to_contain_text(th("report.refused"))
    tag = hashlib.sha256(first).hexdigest()[:12]
    choose(tab, f"import_map_{tag}_0", column_label("house_code", HOUSEHOLDS, "th"))
    choose(tab, f"import_map_{tag}_1", column_label("head_name", HOUSEHOLDS, "th"))
    tab.page.get_by_label(th("import.mapping_name")).fill("อ.ชุมแพ ส่งออกจาก จปฐ.")
    tab.page.get_by_role("button", name=th("import.mapping_save")).click()
    expect(tab.page.locator('[data-testid="stAlertContentSuccess"]')).to_contain_text(
        th("import.mapping_saved", name="อ.ชุมแพ ส่งออกจาก จปฐ."))
    applied = th("import.mapping_saved_applied", name="อ.ชุมแพ ส่งออกจาก จปฐ.")
    expect(tab.page.locator('[data-testid="stAlertContentInfo"]')).to_contain_text(applied)
    save_import(tab, 3, "ทดสอบ การจับคู่")
    expect(tab.page.locator('[data-testid="stAlertContentSuccess"]')).to_contain_text(
        th("report.committed", import_id=int(before[0][0]) + 1, inserted=3, updated=0))
    tab.wait_for_script()

    upload(tab, "chum_phae_export_2.csv", office_export(4))  # next month: the same headers
    expect(tab.page.locator('[data-testid="stAlertContentInfo"]')).to_contain_text(applied)
    expect(tab.page.locator(ERROR_BOX)).to_have_count(0)
    save_import(tab, 3)  # the name typed for the first file is kept
    expect(tab.page.locator('[data-testid="stAlertContentSuccess"]')).to_contain_text(
        th("report.committed", import_id=int(before[0][0]) + 2, inserted=3, updated=0))
    tab.wait_for_script()
    after = history(tab)
    assert [row[0] for row in after[:2]] == [str(int(before[0][0]) + 2),
                                              str(int(before[0][0]) + 1)]
    assert {"chum_phae_export_2.csv", "ทดสอบ การจับคู่"} <= set(after[0])
    tab.screenshot("import_mapping_saved_th")
    tab.assert_clean()
