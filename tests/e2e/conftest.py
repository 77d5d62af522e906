"""Browser tests: a real dashboard server and a real Chromium, shared by the whole session.

Everything under ``tests/e2e/`` is marked ``e2e``: ``python -m pytest`` runs it (CI does),
``python -m pytest -m "not e2e"`` leaves it out. Chromium is Debian's headless build,
``/usr/bin/chromium-headless-shell``, driven by Playwright (its own browser download does not
work here); where it is missing the tests are skipped, except under CI (``CI`` set), where
they fail: CI must run them.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from dashboard.store.privacy import ROLE_ENV
from dashboard.views.geo import AMPHOE_BOUNDARIES_ENV, TAMBON_BOUNDARIES_ENV
from loaders.store import STORE_DIR_ENV, STORE_URL_ENV
from tests.conftest import ROOT

HERE = Path(__file__).resolve().parent
# Debian's headless build of the same Chromium (package chromium-headless-shell: Blink and V8
# as in /usr/bin/chromium, without the desktop browser around them), which Playwright itself
# runs for headless tests: the browser tests alone used 180-184 s of CPU against 191-197 s
# with the full browser (two runs each, every process counted, docs/performance.md).
CHROMIUM = Path("/usr/bin/chromium-headless-shell")
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic"]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"  # git-ignored: something to look at
SCREENSHOTS_ENV = "KUSIAO_SCREENSHOTS"  # set (to anything) to take them: they cost the suite
# a second or more each and assert nothing
VIEWPORT = {"width": 1600, "height": 2400}
# set by the frontend when a script run has finished (states: initial -> running -> notRunning)
SCRIPT_DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
SCRIPT_DONE_JS = f"() => document.querySelector({json.dumps(SCRIPT_DONE)}) !== null"
EXPECT_TIMEOUT_MS = 30_000
PICTURE_SETTLE_MS = 600  # charts draw just after the run ends: a screenshot should show them
FIRST_RUN_TIMEOUT_MS = 60_000  # the first page load builds the store from data/demo (~3 s)
HEALTH_TIMEOUT_S = 60
STOP_TIMEOUT_S = 10
PR_SET_PDEATHSIG = 1  # prctl(2)
# Settings of the developer's shell that would point the server at another store (the import
# test writes to it), another definitions file or boundary files: the tests use the defaults.
NOT_INHERITED = (STORE_URL_ENV, STORE_DIR_ENV, ROLE_ENV, "KUSIAO_DEFINITIONS",
                 AMPHOE_BOUNDARIES_ENV, TAMBON_BOUNDARIES_ENV)
# Streamlit's frontend does not know the app's base path: opened at a deep URL such as
# /outcomes it first asks /outcomes/_stcore/health and /outcomes/_stcore/host-config, gets a
# 404 for each (logged to the console by the browser), and then finds the server at the root.
# Exactly those two are expected; any other console error fails a test.
BASE_PATH_PROBE = re.compile(r"/[^/?#]+/_stcore/(?:health|host-config)")
SERVER_LOGS: list[Path] = []  # the running servers' logs, shown beside a failed test
LOG_TAIL_CHARS = 4000
OPEN_TABS: list[Tab] = []  # the open tabs: what each showed is shown beside a failed test
FAILURES = ROOT / "artifacts" / "failures"  # git-ignored: a failed browser test's screenshots
PAGE_TEXT_CHARS = 3000
DEMO_TABS = {"tab", "analyst_tab"}  # the fixtures of tabs on the demo dashboards (below)
EVENTS_SHOWN = 60


# first, before xdist reads the groups: with tests/e2e named on the command line this conftest
# is loaded before xdist's worker plugin, and its hook ran after xdist's (the groups were lost)
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)
            # the tests on the demo dashboards (the officer's and the analyst's servers) run
            # in one worker, where those servers and a Chromium are made once; the others
            # (their own servers) a file to a worker
            on_demo = DEMO_TABS & set(getattr(item, "fixturenames", ()))
            item.add_marker(pytest.mark.xdist_group(
                "browser-demo" if on_demo else f"browser-{item.path.stem}"))
    # the tests that import into the officer's store run after every other test on it, so
    # that those see the demo data as built
    items.sort(key=lambda item: item.get_closest_marker("writes_officer_store") is not None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[None]:
    """A failed browser test shows the end of each running server's log: a page that waits
    for ever in the browser has often said why on the server."""
    report = yield
    if report.failed and HERE in item.path.parents:
        for log in SERVER_LOGS:
            if log.exists():
                report.sections.append((f"server log {log.name}",
                                        log.read_text(errors="replace")[-LOG_TAIL_CHARS:]))
        for i, tab in enumerate(OPEN_TABS):
            report.sections.append((f"tab {i}", tab.what_it_shows(f"{item.name}_{i}")))
    return report


def wait_for_script_done(page: Any, timeout_ms: int = FIRST_RUN_TIMEOUT_MS) -> None:
    """Wait until the page's script run has finished, looking at every frame the page draws.
    Playwright's own waits look again after 20, 50, 100 and 100 ms and then every 500 ms, so
    a run that ended just after a look was seen up to half a second late: the same 48 page
    loads (8 pages, 3 rounds, in turn) took 24.9 s waited for so and 17.1 s so."""
    page.wait_for_function(SCRIPT_DONE_JS, polling="raf", timeout=timeout_ms)


def unavailable(reason: str) -> None:
    """Skip locally; fail under CI, which must run the browser tests."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the browser tests must run here)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(base: str) -> bool:
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with no_proxy.open(f"{base}/_stcore/health", timeout=2) as response:
            return response.read().strip() == b"ok"
    except OSError:
        return False


def die_with_parent() -> None:
    """Run in the server's process before it starts: on Linux, have the kernel send it SIGTERM
    when pytest dies, even killed outright (no fixture teardown runs then)."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server's process group; kill it if it does not go in time."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def dashboard_server(store_dir: Path, role: str | None, store_url: str | None = None,
                     port: int | None = None, options: tuple[str, ...] = ()) -> Iterator[str]:
    """``python -m streamlit run dashboard/app.py`` on a free local port with its own store
    (an empty folder is built from data/demo on the first page load); yields the base URL and
    always stops the server. ``options`` are more of Streamlit's command-line settings."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env[STORE_DIR_ENV] = str(store_dir)
    if store_url is not None:
        env[STORE_URL_ENV] = store_url
    if role is not None:
        env[ROLE_ENV] = role
    log_path = store_dir.parent / f"{store_dir.name}_server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/app.py",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true", *options],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=die_with_parent)
    SERVER_LOGS.append(log_path)
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while not healthy(base):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the dashboard did not become healthy at {base} "
                            f"(exit code {process.poll()}):\n{log_path.read_text()[-3000:]}",
                            pytrace=False)
            time.sleep(0.2)
        yield base
    finally:
        stop(process)
        SERVER_LOGS.remove(log_path)


@pytest.fixture(scope="session")
def officer_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard as the CDD data officer runs it (role ``officer``: the Import page works
    and personal data show), first started on an empty store as on a fresh machine. The import
    tests write to its store (marked ``writes_officer_store``): they run last."""
    with dashboard_server(tmp_path_factory.mktemp("e2e_officer") / "store", "officer") as base:
        yield base


@pytest.fixture(scope="session")
def analyst_server(tmp_path_factory: pytest.TempPathFactory, demo_store_dir: Path
                   ) -> Iterator[str]:
    """A second server with the default role (``KUSIAO_ROLE`` not set: analyst), on a copy of
    the demo store the AppTest tests build anyway (DuckDB lets one process hold a store)."""
    store_dir = tmp_path_factory.mktemp("e2e_analyst") / "store"
    shutil.copytree(demo_store_dir, store_dir)
    with dashboard_server(store_dir, None, f"duckdb://{store_dir / 'store.duckdb'}") as base:
        yield base


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found: install Debian's headless Chromium "
                    "(apt-get install chromium-headless-shell) to run the browser tests")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("playwright is not installed: pip install -r requirements-dev.txt")
    # a check waits as long as an action does (30 s, below), not Playwright's 5 s: on a loaded
    # machine a section computed on opening can take longer than 5 s to appear
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def is_local(url: str) -> bool:
    if url.startswith("data:"):
        return True
    return urlsplit(url.removeprefix("blob:")).hostname == "127.0.0.1"


class Tab:
    """One browser tab on one dashboard, watching the console and every request."""

    def __init__(self, page: Any, base: str) -> None:
        self.page, self.base = page, base
        self.console_errors: list[str] = []
        self.outside_requests: list[str] = []
        self.closed = False
        # what happened to the tab since the test opened its page: navigations, the
        # connection to the server opened and closed, the console (shown if a test fails)
        self.events: list[str] = []
        self._started = time.monotonic()
        page.on("crash", lambda _page: setattr(self, "closed", True))
        page.on("console", self._console)
        page.on("framenavigated", lambda frame: None if frame.parent_frame else self._event(
            f"navigated to {frame.url.removeprefix(base)}"))
        page.on("websocket", self._websocket)
        page.on("pageerror", lambda exc: self.console_errors.append(f"uncaught: {exc}"))
        page.on("request", lambda request: None if is_local(request.url)
                else self.outside_requests.append(request.url))

    def _event(self, what: str) -> None:
        self.events.append(f"{time.monotonic() - self._started:7.2f} s {what}")

    def _websocket(self, socket: Any) -> None:
        self._event("connection opened")
        socket.on("close", lambda _socket: self._event("connection closed"))

    def _console(self, message: Any) -> None:
        self._event(f"console {message.type}: {message.text[:200]}")
        if message.type != "error":
            return
        url = message.location.get("url", "")
        if ("404" in message.text and url.startswith(self.base)
                and BASE_PATH_PROBE.fullmatch(url.removeprefix(self.base))):
            return
        self.console_errors.append(f"{message.text} ({url})")

    def url(self, path: str) -> str:
        return self.base + path

    def what_it_shows(self, name: str) -> str:
        """The tab's address, whether a run was going on, and the text of the page (its
        screenshot saved under artifacts/failures/): what a failed test saw."""
        if self.closed or self.page.is_closed():
            return "closed"
        try:
            running = self.page.evaluate(SCRIPT_DONE_JS) is False
            text = self.page.locator("body").inner_text(timeout=2_000)
            FAILURES.mkdir(parents=True, exist_ok=True)
            picture = FAILURES / (re.sub(r"[^\w.-]+", "_", name)[:120] + ".png")
            self.page.screenshot(path=picture, timeout=5_000)
        except Exception as exc:  # a report of a failure must not fail itself
            return f"{self.page.url}: not read ({exc})"
        return (f"{self.page.url}{' (a run going on)' if running else ''}; screenshot "
                f"{picture.relative_to(ROOT)}\n" + "\n".join(self.events[-EVENTS_SHOWN:])
                + f"\n{text[-PAGE_TEXT_CHARS:]}")

    def open(self, path: str) -> None:
        self._event(f"open {path}")
        self.page.goto(self.url(path))
        self.wait_for_script()

    def wait_for_script(self) -> None:
        """Wait until the script run has finished: its elements are in the page. Charts and
        grids draw just after; read them through something that waits (``expect``,
        ``grid_rows``). After a click, first wait for its visible effect: the old "finished"
        state may still show."""
        wait_for_script_done(self.page)

    def chart(self, key: str, js: str, arg: Any = None) -> Any:
        """``js`` (a function of the plotly chart in the element keyed ``key``, and ``arg``)
        once the chart is drawn and the function gives something: plotly draws just after
        the run ends, and again when the run after it (a window size reported) redraws it,
        so the chart's state is read on a frame where it is whole, not whenever the
        element exists. ``None`` if it gives nothing within the timeout."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        ready = f"""([selector, arg]) => {{
          const gd = document.querySelector(selector);
          if (!gd || !gd._fullLayout || !gd._fullData || !gd.querySelector('.main-svg'))
            return null;
          const value = ({js})(gd, arg);
          return value === null || value === undefined ? null : {{value}};
        }}"""
        selector = f".st-key-{key} .js-plotly-plot"
        try:
            handle = self.page.wait_for_function(ready, arg=[selector, arg], polling="raf")
        except PlaywrightTimeout:
            return None
        return handle.json_value()["value"]

    def assert_clean(self) -> None:
        """No console error (besides the base-path probes) and nothing fetched from outside."""
        assert not self.console_errors, self.console_errors
        assert not self.outside_requests, self.outside_requests

    def screenshot(self, name: str) -> None:
        """A full-page PNG under artifacts/screenshots/ when ``KUSIAO_SCREENSHOTS`` is set: to
        look at, not an assertion. The main area scrolls inside the window, so the window is
        made as tall as its content first."""
        if not os.environ.get(SCREENSHOTS_ENV):
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        height = self.page.locator('[data-testid="stMain"]').evaluate("e => e.scrollHeight")
        taller = height > VIEWPORT["height"]
        if taller:
            self.page.set_viewport_size({"width": VIEWPORT["width"], "height": min(height, 12_000)})
        self.page.wait_for_timeout(PICTURE_SETTLE_MS)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=path, full_page=True)
        if taller:
            self.page.set_viewport_size(VIEWPORT)


def new_tab(chromium: Any, base: str) -> Iterator[Tab]:
    context = chromium.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    tab = Tab(context.new_page(), base)
    OPEN_TABS.append(tab)
    try:
        yield tab
    finally:
        OPEN_TABS.remove(tab)
        context.close()


class TabKeeper:
    """One browser tab per dashboard server, handed to test after test. Each test opens its
    page with :meth:`Tab.open`, a new Streamlit session with nothing kept from the last test
    (these servers have no sign-in, so no cookie matters); the tab's renderer and the
    frontend's compiled scripts are kept, which halves a page load's CPU time (2.2 s against
    4.6 s in a new context, measured on the demo store)."""

    def __init__(self, chromium: Any, base: str) -> None:
        self.chromium, self.base = chromium, base
        self._tabs: Iterator[Tab] | None = None
        self._tab: Tab | None = None

    def tab(self) -> Tab:
        if self._tab is None or self._tab.closed or self._tab.page.is_closed():
            self.close()  # a crashed or closed tab is replaced, not reused
            self._tabs = new_tab(self.chromium, self.base)
            self._tab = next(self._tabs)
        tab = self._tab
        tab.console_errors.clear()
        tab.events.append("-- a new test --")
        tab.outside_requests.clear()
        tab.page.set_viewport_size(VIEWPORT)
        return tab

    def close(self) -> None:
        if self._tabs is not None:
            self._tabs.close()
        self._tabs = self._tab = None


@pytest.fixture(scope="session")
def officer_tabs(chromium: Any, officer_server: str) -> Iterator[TabKeeper]:
    keeper = TabKeeper(chromium, officer_server)
    yield keeper
    keeper.close()


@pytest.fixture(scope="session")
def analyst_tabs(chromium: Any, analyst_server: str) -> Iterator[TabKeeper]:
    keeper = TabKeeper(chromium, analyst_server)
    yield keeper
    keeper.close()


@pytest.fixture
def tab(officer_tabs: TabKeeper) -> Tab:
    """The tab on the officer's dashboard; each test starts by opening its page."""
    return officer_tabs.tab()


@pytest.fixture
def analyst_tab(analyst_tabs: TabKeeper) -> Tab:
    return analyst_tabs.tab()
