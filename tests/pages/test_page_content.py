"""Every page shows what the golden record says it showed, for a grid of filters, languages
and roles (``tests/golden/page_content.json.gz``, made by ``python -m tests.page_content
--write``).

A case is a page, a set of URL filters, a language and a role. Each filter set is shown on
every page; the language and role rotate with the filter set (set ``i``: language ``i % 2``,
role ``i % 3``), so over the 12 sets every page is seen in each language with each role twice.
The presenter case records every slide, moving with the Next button. Streamlit's caches are
shared between cases (only the first case starts empty): a page must show the same whatever
ran before it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, STORE_DIR_ENV, STORE_URL_ENV
from tests.page_content import (
    GOLDEN,
    WRITE_ENV,
    describe_difference,
    page_content,
    read_golden,
    write_golden,
)

APP = ROOT / "dashboard" / "app.py"
PAGES_DIR = ROOT / "pages"
TIMEOUT = 90
ROLE_ENV = "KUSIAO_ROLE"  # dashboard/privacy.py
# settings that change what pages show: the record is of the defaults (dashboard/geo.py,
# dashboard/definitions.py)
UNSET_ENV = ("KUSIAO_BOUNDARIES_AMPHOE", "KUSIAO_BOUNDARIES_TAMBON", "KUSIAO_DEFINITIONS")
PAGES = ("overview.py", "map.py", "coverage.py", "outcomes.py", "households.py", "followup.py",
         "agencies.py", "data_quality.py", "data_import.py", "definitions.py", "presenter.py")
DEFAULT_PAGE = "overview.py"
PRESENTER = "presenter.py"
SECTIONS = {"outcomes.py": ("outcomes_section", ("transitions", "income", "gaps", "compare")),
            "coverage.py": ("coverage_section", ("caseload", "recency"))}
"""Pages that show one section at a time, by their picker's key and every section's code: the
record is of each section in turn, so what a section shows is checked whether or not it is
the one a page opens on."""
OPENED = {"agencies.py": "agencies_recency_box"}
"""Sections that are read and drawn only while open, recorded open."""
LANGUAGES = ("th", "en")
ROLES = ("viewer", "analyst", "officer")

FILTER_SETS: tuple[tuple[str, dict[str, str]], ...] = (
    ("none", {}),
    ("amphoe", {"amphoe": "4005"}),
    ("tambon", {"amphoe": "4005", "tambon": "400501"}),
    ("agency", {"agency": "CDD"}),
    ("quarter", {"q": "25643"}),
    ("levels", {"level": "2,3"}),
    ("amphoe_agency", {"amphoe": "4005", "agency": "CDD"}),
    ("level0", {"level": "0"}),
    ("amphoe4001_level1", {"amphoe": "4001", "level": "1"}),
    ("amphoe_early_quarter", {"amphoe": "4005", "q": "25632"}),
    # a household's profile (masked for the analyst), under agency, levels and quarter
    ("agency_levels_quarter_household", {"agency": "DOPA", "level": "1,2", "q": "25652",
                                         "household": "KK-4005-0007"}),
    # no household at all in the filters, and an officer's unmasked profile
    ("empty_household", {"amphoe": "4011", "agency": "POLICE", "level": "3",
                         "household": "KK-4001-0001"}),
)


class Case(NamedTuple):
    page: str
    filters: str
    query: dict[str, str]
    lang: str
    role: str

    @property
    def id(self) -> str:
        return f"{self.page.removesuffix('.py')}-{self.filters}-{self.lang}-{self.role}"


CASES = tuple(
    Case(page, name, query, LANGUAGES[i % len(LANGUAGES)], ROLES[i % len(ROLES)])
    for i, (name, query) in enumerate(FILTER_SETS) for page in PAGES
)
WRITING = bool(os.environ.get(WRITE_ENV))
RECORDED: dict[str, Any] = {}


def test_the_cases_cover_every_page_in_both_languages_with_every_role() -> None:
    # the administrators' page shows the audit log, which every case before it adds to: it
    # has tests of its own (tests/pages/test_access.py)
    assert {p.name for p in PAGES_DIR.glob("*.py")} == {*PAGES, "admin.py"}
    for page in PAGES:
        seen = {(c.lang, c.role) for c in CASES if c.page == page}
        assert seen == {(lang, role) for lang in LANGUAGES for role in ROLES}, page
        assert {c.filters for c in CASES if c.page == page} == {n for n, _ in FILTER_SETS}


SESSIONS: dict[str, AppTest] = {}
"""By filter set: the session its default page was opened in. The set's other pages (but the
presenter's, which opens from the link) are opened in it, each with the link's parameters:
an AppTest and a run of the default page less for each (half the cost of a case)."""


def run_case(case: Case) -> Any:
    """The page's record; for the presenter, every slide's, moving with the Next button."""
    query = dict(case.query)
    if case.lang != "th":
        query["lang"] = case.lang
    if case.page == PRESENTER:
        query["present"] = "1"  # opens the presenter straight away, on its first slide
    at = SESSIONS.get(case.filters) if case.page not in (DEFAULT_PAGE, PRESENTER) else None
    if at is None:
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.query_params = query
        at.run()
        assert not at.exception, at.exception
        if case.page != PRESENTER:
            SESSIONS[case.filters] = at
    if case.page not in (DEFAULT_PAGE, PRESENTER):
        at.query_params = query
        if case.page in OPENED:
            at.session_state[OPENED[case.page]] = True
        at.switch_page(f"../pages/{case.page}").run()
        assert not at.exception, at.exception
    if case.page in SECTIONS:
        key, codes = SECTIONS[case.page]
        if not any(w.key == key for w in at.get("button_group")):
            return page_content(at)  # a page with nothing to show stops before its sections
        picker = at.segmented_control(key=key)
        assert picker.value == codes[0] and len(picker.options) == len(codes)
        sections = {codes[0]: page_content(at)}  # the section the page opens on, then the rest
        for code in codes[1:]:
            at.segmented_control(key=key).set_value(code).run()
            assert not at.exception, at.exception
            sections[code] = page_content(at)
        at.segmented_control(key=key).set_value(codes[0]).run()
        return {"sections": sections}
    if case.page != PRESENTER:
        return page_content(at)
    slides = [page_content(at)]
    while not at.button(key="present_next").disabled:
        at.button(key="present_next").click().run()
        assert not at.exception, at.exception
        slides.append(page_content(at))
    return {"slides": slides}


@pytest.fixture(scope="module")
def golden() -> Any:
    if WRITING:
        yield None
        missing = [c.id for c in CASES if c.id not in RECORDED]
        assert not missing, f"not written: {len(missing)} cases missing, e.g. {missing[:3]}"
        write_golden({c.id: RECORDED[c.id] for c in CASES})
        return
    assert GOLDEN.exists(), f"no {GOLDEN.name}: run python -m tests.page_content --write"
    yield read_golden()


def clear_caches() -> None:
    """What ``use_store`` clears: Streamlit's caches and the store's door (if loaded: it
    closes the store and forgets every kept result)."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    door = sys.modules.get("dashboard.store")
    if door is not None:
        door.close()


@pytest.fixture(scope="module")
def shared_store(demo_store_dir: Path) -> Iterator[Path]:
    """The app pointed at the demo store as ``use_store`` does, but with the caches emptied
    once for the module, not for every case: 121 cases each starting cold take half as long
    again, and a case then also checks that what the cases before it left in the caches
    changes nothing it shows.

    The record is of the default settings, on a machine where the presenter finds a browser
    for its chart images (without one it warns): any executable found as ``BROWSER_PATH``
    will do, it is not started unless a slide file is downloaded."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(STORE_URL_ENV, f"duckdb://{demo_store_dir / 'store.duckdb'}")
        patch.setenv(STORE_DIR_ENV, str(demo_store_dir))
        for name in UNSET_ENV:
            patch.delenv(name, raising=False)
        patch.setenv("BROWSER_PATH", sys.executable)
        clear_caches()
        yield demo_store_dir
    clear_caches()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_page_shows_the_golden_content(case: Case, golden: Any, shared_store: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ROLE_ENV, case.role)
    record = run_case(case)
    if WRITING:
        RECORDED[case.id] = record
        return
    assert case.id in golden, f"{case.id}: not in {GOLDEN.name}; record it with " \
                              "python -m tests.page_content --write"
    difference = describe_difference(record, golden[case.id])
    if difference:
        pytest.fail(f"{case.id}: {difference}", pytrace=False)
