"""What the deputy governor reads first, in Chromium at a laptop's 1,280 × 800 and at
1,600 × 1,000, in Thai and English: the gap to plan on the target cards and the amphoe to
push above the fold, the agencies flagged by the stated measure, hidden groups in their own
block, no unfilled placeholder, the household table's key columns in view, names not codes,
and search finding a name the table shows."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from dashboard.views.coverage import short_agency_names
from dashboard.views.maps import TILE_RADIUS
from domain.i18n import t
from domain.thai_text import sort_key
from tests.e2e.conftest import Tab
from tests.e2e.test_browser import GRID, HOUSEHOLDS_GRID, ROWS_JS, grid_rows, widget_input

try:
    from playwright.sync_api import expect
except ImportError:  # the browser tests' module says why
    pytest.skip("playwright is not installed", allow_module_level=True)

expect.set_options(timeout=20_000)

SIZES = [pytest.param({"width": 1280, "height": 800}, id="1280x800"),
         pytest.param({"width": 1600, "height": 1000}, id="1600x1000")]
LANGS = ["th", "en"]
UNFILLED = re.compile(r"\[[a-z_]+\]|\{[a-z_]+\}")
# every KPI card's label and note that is cut short (ends in "…" or overflows its box)
CUT_JS = """() => [...document.querySelectorAll(
    '[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] *,'
    + ' [data-testid="stMetricDelta"], [data-testid="stMetricDelta"] *')]
  .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"""
# a plotly chart's first trace, as the browser drew it
TRACE_JS = """gd => ({y: Array.from(gd._fullData[0].y, String),
                     x: Array.from(gd._fullData[0].x, v => Number.isFinite(v) ? v : null)})"""


def open_at(tab: Tab, size: dict[str, int], path: str, lang: str) -> None:
    tab.page.set_viewport_size(size)
    tab.open(path + ("&" if "?" in path else "?") + "lang=en" if lang == "en" else path)


def at_each_size(tab: Tab, path: str, lang: str) -> Iterator[dict[str, int]]:
    """Open ``path`` at the first of :data:`SIZES`, then resize the window to each of the
    others (as a user widens it): one page load checked at every size."""
    for index, param in enumerate(SIZES):
        size = param.values[0]
        if index == 0:
            open_at(tab, size, path, lang)
        else:
            tab.page.set_viewport_size(size)
            tab.wait_for_script()  # a resize may rerun what follows the window's size
        yield size


def main_text(tab: Tab) -> str:
    return tab.page.locator('[data-testid="stMain"]').inner_text()


@pytest.mark.parametrize("lang", LANGS)
def test_the_gap_to_plan_and_the_amphoe_to_push_are_above_the_fold(tab: Tab, lang: str
                                                                    ) -> None:
    for size in at_each_size(tab, "/", lang):
        check_the_first_screen(tab, size, lang)
    tab.assert_clean()


def check_the_first_screen(tab: Tab, size: dict[str, int], lang: str) -> None:
    for level, points in ((1, "-4.0"), (2, "-10.3"), (3, "-4.8")):
        card = tab.page.locator(f".st-key-overview_target_{level}")
        delta = card.locator('[data-testid="stMetricDelta"]')
        expect(delta).to_contain_text(points)
        expect(delta).to_contain_text("จุด จากแผน" if lang == "th" else "pts vs plan")
        box = card.bounding_box()
        assert box["y"] + box["height"] <= size["height"], (level, box)
    push = tab.page.locator(".st-key-overview_push")
    expect(push).to_contain_text(t("overview.push_title", lang))
    expect(push.locator("li")).to_have_count(3)
    box = push.bounding_box()
    assert box["y"] + box["height"] <= size["height"], box
    assert tab.page.evaluate(CUT_JS) == []  # and no KPI label or note is cut short
    tab.screenshot(f"first_screen_overview_{lang}_{size['width']}")


def test_the_agencies_flagged_are_the_worst_by_the_stated_measure(tab: Tab) -> None:
    for _size in at_each_size(tab, "/agencies", "th"):
        check_the_agencies_flagged(tab)
    tab.assert_clean()


def check_the_agencies_flagged(tab: Tab) -> None:
    names = short_agency_names("th")
    sentence = tab.page.locator('[data-testid="stAlertContentInfo"]').first
    expect(sentence).to_contain_text(t("agencies.measure_need", "th"))
    text = sentence.inner_text()
    # on the demo data: Livestock, Cooperative and Employment need a push most; NFE and
    # Commerce (the best results, no overdue official) are not named
    order = [text.index(names[c]) for c in ("LIVESTOCK", "COOP", "EMPLOY")]
    assert order == sorted(order)
    assert names["NFE"] not in text and names["COMMERCE"] not in text
    dots = tab.chart("agencies_chart", TRACE_JS)
    assert dots["y"][-1] == names["LIVESTOCK"]  # the worst on top


def test_hidden_tambon_sit_in_their_own_block_by_name(tab: Tab) -> None:
    open_at(tab, SIZES[0].values[0], "/?amphoe=4005", "th")
    bars = tab.chart("overview_ranking", TRACE_JS)
    hidden = [y for y, x in zip(bars["y"], bars["x"], strict=True) if x is None]
    shown = [x for x in bars["x"] if x is not None]
    assert hidden, "ชุมแพ has tambon with fewer than 5 surveyed households"
    # drawn bottom up: the hidden block first (at the bottom), then the shown ones, lowest
    # first; the block reads top-down in Thai dictionary order (ไชยสอ under ช, before น)
    assert bars["y"][: len(hidden)] == hidden
    assert list(reversed(hidden)) == sorted(hidden, key=sort_key)
    assert shown == sorted(shown)
    tab.assert_clean()


@pytest.mark.parametrize("lang", LANGS)
def test_the_definitions_page_shows_values_not_keys(tab: Tab, lang: str) -> None:
    open_at(tab, SIZES[1].values[0], "/definitions", lang)
    main = tab.page.locator('[data-testid="stMain"]')
    expect(main.locator('[data-testid="stTable"]').first).to_be_visible()  # drawn after the run
    expect(main).to_contain_text("ไม่เกิน 90 วัน" if lang == "th" else "at most 90 days")
    expect(main).to_contain_text("38,000 บาทต่อคนต่อปี" if lang == "th"
                                 else "38,000 baht per person per year")
    text = main_text(tab)
    assert not UNFILLED.findall(text)
    if lang == "en":
        assert "กรมการพัฒนาชุมชน" not in text
    tab.assert_clean()


def test_the_household_tables_key_columns_are_in_view(tab: Tab) -> None:
    for size in at_each_size(tab, "/households", "en"):
        grid = tab.page.locator(HOUSEHOLDS_GRID)
        expect(grid).to_be_visible()
        grid_rows(grid)  # drawn just after the run
        box = grid.bounding_box()
        assert box["x"] + box["width"] <= size["width"]
        headers = grid.evaluate(
            "g => [...g.querySelectorAll('[role=\"columnheader\"]')].map(h => h.innerText)")
        for key in ("days_since_visit", "agency_code", "unmet_needs"):
            assert t(f"hh_col.{key}", "en") in headers, (size, headers)
    tab.assert_clean()


def search_for(tab: Tab, text: str) -> None:
    box = widget_input(tab, "households_search")
    box.fill(text)
    box.press("Enter")


def rows_once_all_named(tab: Tab, name: str) -> list[list[str]]:
    """The table's rows, once the search's rerun has drawn them: every row of that name
    (the table before it also showed the name, in its first row)."""
    tab.page.wait_for_function(
        f"name => {{ const grid = document.querySelector({HOUSEHOLDS_GRID!r});"
        " if (!grid) return false;"
        f" const rows = ({ROWS_JS})(grid);"
        " return rows.length > 0 && rows.every(row => row[1] === name); }", arg=name)
    tab.wait_for_script()
    return grid_rows(tab.page.locator(HOUSEHOLDS_GRID))


def test_search_finds_a_name_the_table_shows(analyst_tab: Tab) -> None:
    open_at(analyst_tab, SIZES[0].values[0], "/households", "th")
    grid = analyst_tab.page.locator(HOUSEHOLDS_GRID)
    household_id, shown_name = grid_rows(grid)[0][:2]  # masked for an analyst: "สมชาย ท."
    search_for(analyst_tab, shown_name)
    found = rows_once_all_named(analyst_tab, shown_name)
    assert household_id in [row[0] for row in found]
    assert all(row[1] == shown_name for row in found)
    search_for(analyst_tab, "zzqq")
    expect(analyst_tab.page.locator('[data-testid="stAlertContentInfo"]').filter(
        has_text="zzqq")).to_have_count(1)
    analyst_tab.assert_clean()


def test_the_tile_map_writes_shares_with_one_decimal(tab: Tab) -> None:
    open_at(tab, SIZES[0].values[0], "/map", "th")
    tiles = tab.page.locator(".st-key-map_amphoe_tiles g.textpoint text")
    expect(tiles).to_have_count(26)
    values = [text for text in tiles.all_text_contents() if "%" in text]
    assert len(values) >= 20, values  # the map opens on a share: most amphoe show one
    assert all(re.search(r"\d\.\d%$", text) for text in values), values
    tab.assert_clean()


def test_the_coverage_page_cuts_no_kpi_and_names_agencies_not_codes(tab: Tab) -> None:
    for size in at_each_size(tab, "/coverage", "th"):
        expect(tab.page.locator('[data-testid="stMetricDelta"]').first).to_be_visible()
        assert tab.page.evaluate(CUT_JS) == [], size
        grid = tab.page.locator(GRID).first
        expect(grid).to_be_visible()
        grid_rows(grid)  # drawn just after the run
        headers = grid.evaluate(
            "g => [...g.querySelectorAll('[role=\"columnheader\"]')].map(h => h.innerText)")
        assert not {"CDD", "DOPA", "AGRI", "LIVESTOCK"} & set(headers), headers
        assert short_agency_names("th")["CDD"] in headers
        # the key columns first, in view at 1,280 px: the amphoe and its total
        assert headers[:2] == [t("table.amphoe_code", "th"), t("table.total", "th")], headers
    tab.assert_clean()


@pytest.mark.parametrize("path", ["/quality", "/households"])
def test_an_empty_table_says_so_in_thai(tab: Tab, path: str) -> None:
    """With filters no household matches, a table with no rows is a line in the user's
    language, not a grid that writes "empty" across itself."""
    open_at(tab, SIZES[0].values[0], path + "?amphoe=4011&agency=POLICE&level=3", "th")
    main = tab.page.locator('[data-testid="stMain"]')
    expect(main.locator("h1")).to_be_visible()
    if path == "/quality":
        expect(main.get_by_text(t("table.no_rows", "th"), exact=True)).to_have_count(2)
    else:
        expect(main).to_contain_text(t("households.count", "th", n="0"))
    expect(main.locator(GRID)).to_have_count(0)
    tab.assert_clean()


def test_the_transition_tables_total_is_in_view(tab: Tab) -> None:
    open_at(tab, SIZES[0].values[0], "/outcomes", "th")
    box = tab.page.locator(".st-key-outcomes_transitions")
    table = box.locator("table")
    expect(table).to_be_visible()
    total = table.locator("th", has_text=t("table.total", "th")).first
    expect(total).to_be_visible()
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth + 1")
    assert box.evaluate("b => b.scrollWidth <= b.clientWidth + 1")
    right = box.bounding_box()["x"] + box.bounding_box()["width"]
    assert total.bounding_box()["x"] + total.bounding_box()["width"] <= right + 1
    tab.assert_clean()


# The presenter's tile map: each label's font size; each label line whose middle reaches
# outside its hexagon; each hexagon with a corner outside the plot area (clipped)
TILES_JS = """(gd, radius) => {
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const area = gd.querySelector('.nsewdrag').getBoundingClientRect();
  const texts = [...gd.querySelectorAll('g.textpoint text')];
  if (!xa || !ya || !area.width || texts.length !== 26
      || texts.some(el => !el.getBoundingClientRect().width)) return null;  // not laid out
  const trace = gd._fullData.find(t => t.customdata && t.mode === 'markers+text');
  const corners = (x, y) => [...Array(6).keys()].map(i => {
    const a = Math.PI / 180 * (90 + 60 * i);
    return [area.left + xa.d2p(x + radius * Math.cos(a)),
            area.top + ya.d2p(y + radius * Math.sin(a))];
  });
  const inside = (poly, p) => poly.every((a, i) => {
    const b = poly[(i + 1) % poly.length];
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) <= 0;
  });  // the corners run counter-clockwise in the data, clockwise on screen (y down)
  const sizes = [], outside = [], clipped = [];
  texts.forEach((el, i) => {
    sizes.push(parseFloat(getComputedStyle(el).fontSize));
    const poly = corners(trace.x[i], trace.y[i]);
    const lines = el.querySelectorAll('tspan.line');
    for (const line of lines.length ? lines : [el]) {
      const r = line.getBoundingClientRect(), middle = (r.top + r.bottom) / 2;
      if (!inside(poly, [r.left, middle]) || !inside(poly, [r.right, middle]))
        outside.push(`${line.textContent} ${Math.round(r.width)} px`);
    }
    if (poly.some(([x, y]) => x < area.left - 0.5 || x > area.right + 0.5
                              || y < area.top - 0.5 || y > area.bottom + 0.5))
      clipped.push(el.textContent);
  });
  return {sizes, outside, clipped};
}"""


@pytest.mark.parametrize("lang", LANGS)
def test_the_presenters_map_labels_fit_their_hexagons_at_1280(tab: Tab, lang: str) -> None:
    open_at(tab, SIZES[0].values[0], "/present?slide=5", lang)  # cover, kpis, trend, forecast
    expect(tab.page.locator("h1").first).to_contain_text(
        t("presenter.slide_map", lang, indicator="").strip())
    chart = tab.page.locator(".st-key-present_map .js-plotly-plot")
    expect(chart.locator("g.textpoint text")).to_have_count(26)
    tab.wait_for_script()  # the window's size reported: the chart drawn to fit it
    fit = tab.chart("present_map", TILES_JS, TILE_RADIUS)
    assert fit is not None, "the map's 26 labels were never all laid out"
    assert min(fit["sizes"]) >= 16, fit["sizes"]
    assert fit["outside"] == fit["clipped"] == [], fit
    tab.screenshot(f"presenter_map_{lang}_1280x800")
    tab.assert_clean()
