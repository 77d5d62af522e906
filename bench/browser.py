"""What a user waits for, measured from Chromium through real Streamlit servers.

The pieces :mod:`bench.run` and :mod:`bench.compare` share:

- :class:`Server`: ``streamlit run`` of a script in a checkout, on a free loopback port, with a
  store of its own, started through a small wrapper that logs each script run's time (the
  server's script time, which only a real server shows).
- :func:`measure`: a filter change as a user makes it (an amphoe's name typed into the
  sidebar's amphoe box, Enter), timed in the page from the key press to the run seen finished
  and to the page drawn, with the server's script time and CPU time; the median over the names
  given.
- :func:`settle`: wait until no server uses the CPU, so work one leaves behind does not land on
  the next one's figure.
- :func:`traced_change` and :func:`breakdown`: one filter change under Chromium's tracing, and
  the main thread's busy time split into plotly.js, the other chart libraries, Streamlit's own
  frontend, garbage collection, and style, layout and paint.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'

# The server, started through this: Streamlit's script runner timed, each run a line of JSON
# (wall-clock start, seconds) in the file named by the first argument; then ``streamlit run``.
# A measuring harness only: the dashboard itself never touches Streamlit's insides.
_LAUNCH = r"""
import json, sys, time
from streamlit.runtime.scriptrunner import script_runner as _sr
_log = open(sys.argv[1], "a", buffering=1)
_run = _sr.ScriptRunner._run_script
def _timed(self, rerun_data):
    wall, started = time.time(), time.perf_counter()
    try:
        return _run(self, rerun_data)
    finally:
        _log.write(json.dumps({"start": wall, "s": time.perf_counter() - started}) + "\n")
_sr.ScriptRunner._run_script = _timed
from streamlit.web import cli
sys.argv = ["streamlit", "run", *sys.argv[2:]]
sys.exit(cli.main())
"""

# In the page: when the script run the key press starts reaches the browser as finished, and
# the last change to the main area's DOM (the charts and tables drawn)
WATCH_JS = """() => {
  for (const o of window.__kusiaoWatchers || []) o.disconnect();  // the last change's
  const t = window.__kusiao = {start: null, running: null, done: null, last: null};
  document.addEventListener('keydown', e => {
    if (e.key === 'Enter' && t.start === null) t.start = t.last = performance.now();
  }, {capture: true, once: true});
  const app = document.querySelector('[data-testid="stApp"]');
  const state = new MutationObserver(records => {  // each state change, even two in a batch
    for (const r of records) {
      if (t.start === null || r.attributeName !== 'data-test-script-state') continue;
      if (r.oldValue === 'notRunning' && t.running === null) t.running = performance.now();
      if (r.oldValue === 'running' && t.running !== null && t.done === null)
        t.done = performance.now();
    }
  });
  state.observe(app, {attributes: true, attributeOldValue: true});
  const main = new MutationObserver(() => {
    if (t.start === null) return;
    t.last = performance.now();
    // a run so quick that the page never showed it running (the one-metric floor): its
    // first change of the main area, with the app not running, is the run seen finished
    if (t.running === null && app.getAttribute('data-test-script-state') === 'notRunning')
      t.running = t.done = t.last;
  });
  main.observe(document.querySelector('[data-testid="stMain"]'),
               {subtree: true, childList: true, attributes: true, characterData: true});
  window.__kusiaoWatchers = [state, main];
}"""


def median(values: list[float]) -> float | None:
    """The median to a tenth, or ``None`` for no values (a page that failed every round)."""
    return round(statistics.median(values), 1) if values else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_s(pid: int) -> float:
    """The process's CPU time (user + system, all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


class Server:
    """One Streamlit server of a checkout's script, with its store and script-time log."""

    def __init__(self, name: str, folder: Path, work: Path, script: str = "dashboard/app.py",
                 env: dict[str, str] | None = None) -> None:
        self.name, self.folder = name, folder.resolve()
        self.runs_log = work / f"runs-{name}.jsonl"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        if env is None:
            store_dir = work / f"store-{name}"
            store_dir.mkdir(parents=True, exist_ok=True)
            env = dict(os.environ) | {
                "KUSIAO_STORE_DIR": str(store_dir),
                "KUSIAO_STORE_URL": f"duckdb://{store_dir / 'kusiao.duckdb'}",
                "KUSIAO_ROLE": "officer"}  # every page shows its full content
        env = env | {"PYTHONPATH": str(self.folder)}
        self.log_path = work / f"server-{name}.log"
        self.output = open(self.log_path, "wb")  # noqa: SIM115 - kept open while it runs
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCH, str(self.runs_log), script,
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=self.folder, env=env, stdout=self.output, stderr=subprocess.STDOUT,
            start_new_session=True)

    def wait_healthy(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} server exited ({self.process.returncode})")
            with contextlib.suppress(OSError), urllib.request.urlopen(
                    f"{self.base}/_stcore/health", timeout=5) as r:
                if r.read() == b"ok":
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} server not healthy after {timeout_s} s")

    def cpu_s(self) -> float:
        return cpu_s(self.process.pid)

    def script_runs(self, since: float, until: float) -> list[float]:
        """Seconds of each script run that started between two wall-clock times."""
        if not self.runs_log.exists():
            return []
        runs = []
        for line in self.runs_log.read_text().splitlines():
            with contextlib.suppress(ValueError):
                run = json.loads(line)
                if since <= run["start"] <= until:
                    runs.append(run["s"])
        return runs

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, 15)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=30)
        self.output.close()


def settle(servers: list[Server], quiet_s: float = 0.3, limit_s: float = 15.0) -> float:
    """Wait until no server uses the CPU (under 20 ms in ``quiet_s``); the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        before = [s.cpu_s() for s in servers]
        time.sleep(quiet_s)
        if all(s.cpu_s() - b < 0.02 for s, b in zip(servers, before, strict=True)):
            break
    return round(time.monotonic() - started, 2)


def type_amphoe(page: Any, name: str) -> None:
    """Type an amphoe's name into the sidebar's amphoe box, and start watching the page: the
    next Enter is the key press a filter change is timed from."""
    box = page.locator(".st-key-f_amphoe input")
    box.click()
    box.fill(name)
    page.wait_for_timeout(300)  # the list filtered to the name
    page.evaluate(WATCH_JS)


def _press_and_watch(page: Any) -> dict[str, float]:
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.__kusiao.done !== null", timeout=120_000)
    page.wait_for_function("() => performance.now() - window.__kusiao.last > 300",
                           timeout=120_000, polling=50)
    return page.evaluate("() => window.__kusiao")


def open_page(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(DONE, timeout=600_000)
    page.wait_for_timeout(1500)


def measure(page: Any, server: Server, path: str, names: tuple[str, ...]) -> dict[str, Any]:
    """The filter change to each of ``names`` on one page of one server, after opening the
    page afresh (no amphoe chosen): the medians of run seen, drawn, the server's script time
    (every run the change started) and its CPU time. A failure is reported, not raised: this
    is a measurement, and the other pages are still measured."""
    try:
        open_page(page, f"{server.base}/{path}")
        ran, drawn, script, cpu = [], [], [], []
        for name in names:
            type_amphoe(page, name)
            since, cpu_before = time.time(), server.cpu_s()
            seen = _press_and_watch(page)
            cpu.append(server.cpu_s() - cpu_before)
            script.append(sum(server.script_runs(since, time.time())))
            ran.append(seen["done"] - seen["start"])
            drawn.append(max(seen["last"], seen["done"]) - seen["start"])
        exceptions = page.locator('[data-testid="stException"]').count()
        return {"run_seen_ms": round(statistics.median(ran)),
                "drawn_ms": round(statistics.median(drawn)),
                "script_ms": round(statistics.median(script) * 1000, 1),
                "server_cpu_ms": round(statistics.median(cpu) * 1000),
                "each": {"run_seen_ms": [round(x) for x in ran],
                         "drawn_ms": [round(x) for x in drawn]},
                **({"exceptions_shown": exceptions} if exceptions else {})}
    except Exception as exc:  # a measurement, not a test: report what went wrong
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}


# --- where the browser's time goes ---------------------------------------------------------

TRACE_CATEGORIES = ["toplevel", "devtools.timeline", "disabled-by-default-devtools.timeline",
                    "v8.execute", "disabled-by-default-v8.cpu_profiler"]
"""Chromium's trace categories: the main thread's tasks, the rendering steps (style, layout,
paint) and JavaScript's calls, and the V8 sampling profiler (which script each moment of
JavaScript ran in)."""

_LIBRARIES = (("PlotlyChart", "plotly"), ("DeckGl", "deck.gl"), ("ArrowVegaLite", "vega"),
              ("/embed.", "vega"), ("vega", "vega"))
"""Streamlit's frontend loads each chart library in a chunk of its own; the chunk's file
name says whose code a JavaScript sample ran."""

_RENDERING = {"UpdateLayoutTree": "style and layout", "RecalculateStyles": "style and layout",
              "Layout": "style and layout", "PrePaint": "paint", "Paint": "paint",
              "Layerize": "paint", "UpdateLayer": "paint", "CompositeLayers": "paint",
              "Commit": "paint", "HitTest": "style and layout"}
_JAVASCRIPT = {"FunctionCall", "EvaluateScript", "RunMicrotasks", "v8.run", "V8.Execute",
               "v8.callFunction", "TimerFire", "FireAnimationFrame", "EventDispatch"}


def _owner(urls: list[str]) -> str:
    for url in urls:
        for marker, library in _LIBRARIES:
            if marker in url:
                return library
    return "streamlit frontend" if any(urls) else "other script"


def _union(spans: list[tuple[float, float]], since: float) -> float:
    """The time, in µs, that a set of (start, end) spans covers after ``since``, each moment
    once however many spans hold it (nested tasks, a paint per layer)."""
    covered, until = 0.0, since
    for start, end in sorted(spans):
        if end > until:
            covered += end - max(start, until)
            until = end
    return covered


def _outside(start: float, end: float, holes: list[tuple[float, float]]) -> float:
    """The length of (start, end] outside every hole."""
    length = end - start
    for a, b in holes:
        length -= max(0.0, min(end, b) - max(start, a))
    return max(length, 0.0)


def breakdown(trace: dict[str, Any] | list[dict[str, Any]]) -> dict[str, float]:
    """The measured page's main-thread busy time in a trace, from the key press (the first
    ``keydown`` dispatched; its thread is the page's) to the trace's end, in ms, split by
    what did the work.

    ``busy`` is the time covered by the thread's top-level tasks. JavaScript is split by the
    V8 sampler: each sample's time (since the sample before) goes to the chart library whose
    chunk is on its stack (plotly, deck.gl, vega), else to Streamlit's frontend; the
    collector's samples are ``garbage collection``. Style and layout, and paint, are
    Chromium's rendering steps outside any JavaScript call, each moment counted once (a
    layout forced from inside a script counts with that script's owner). ``other`` is what
    is left of ``busy`` (parsing, messages, the browser's own work). V8's interrupt callbacks
    (the profiler's start; absent from a trace without the profiler) are left out of
    ``busy`` and of the samples, and reported as ``profiler overhead (left out)``."""
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    renderers = {(e["pid"], e["tid"]) for e in events
                 if e.get("ph") == "M" and e.get("name") == "thread_name"
                 and e.get("args", {}).get("name") == "CrRendererMain"}
    presses = sorted((e["ts"], (e["pid"], e["tid"])) for e in events
                     if e.get("name") == "EventDispatch"
                     and e.get("args", {}).get("data", {}).get("type") == "keydown")
    since, main = (presses[0][0], {presses[0][1]}) if presses else (0, renderers)
    thread = [e for e in events if (e.get("pid"), e.get("tid")) in main
              and e.get("ph") == "X" and "dur" in e and e["ts"] + e["dur"] > since]
    out: dict[str, float] = defaultdict(float)
    if not thread:
        return {}
    overhead = [(e["ts"], e["ts"] + e["dur"]) for e in thread
                if e["name"] == "V8.InvokeApiInterruptCallbacks"]
    out["profiler overhead (left out)"] = _union(overhead, since) / 1000
    tasks = [(e["ts"], e["ts"] + e["dur"]) for e in thread
             if e["name"] in ("RunTask", "ThreadControllerImpl::RunTask")]
    out["busy"] = (_union(tasks, since) - _union(overhead, since)) / 1000
    scripts = [(e["ts"], e["ts"] + e["dur"]) for e in thread if e["name"] in _JAVASCRIPT]
    rendering: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for e in thread:
        kind = _RENDERING.get(e["name"])
        if kind and not any(a <= e["ts"] < b for a, b in scripts):
            rendering[kind].append((e["ts"], e["ts"] + e["dur"]))
    for kind, spans in rendering.items():
        out[kind] = _union(spans, since) / 1000
    # the sampling profiler: a profile per thread, begun by a "Profile" event on that thread
    # (its start time); its nodes and samples arrive in chunks from the profiler's own thread,
    # each sample's time a delta from the one before
    clock = {(e.get("pid"), e.get("id")): float(e["args"]["data"]["startTime"])
             for e in events if e.get("name") == "Profile"
             and (e.get("pid"), e.get("tid")) in main}
    before = dict(clock)  # each profile's last sample so far: its start, at first
    nodes: dict[tuple[Any, int], dict[str, Any]] = {}
    samples: list[tuple[float, Any, int]] = []
    for e in sorted((e for e in events if e.get("name") == "ProfileChunk"),
                    key=lambda e: e["ts"]):
        key = (e.get("pid"), e.get("id"))
        if key not in clock:
            continue
        data = e.get("args", {}).get("data", {})
        profile = data.get("cpuProfile", {})
        for node in profile.get("nodes", []):
            nodes[(key, node["id"])] = node
        for sample, delta in zip(profile.get("samples", []), data.get("timeDeltas", []),
                                 strict=False):
            clock[key] += delta
            samples.append((clock[key], key, sample))
    for at, key, sample in sorted(samples, key=lambda s: s[0]):
        start, before[key] = before[key], at
        ms = _outside(max(start, since), at, overhead) / 1000 if at > since else 0.0
        node = nodes.get((key, sample))
        name = node["callFrame"].get("functionName", "") if node else ""
        if not ms or node is None or name in ("(idle)", "(program)", "(root)"):
            continue
        if name == "(garbage collector)":
            out["garbage collection"] += ms
            continue
        urls = []
        while node is not None:
            urls.append(node["callFrame"].get("url", ""))
            node = nodes.get((key, node.get("parent"))) if node.get("parent") else None
        out[_owner(urls)] += ms
    named = sum(v for k, v in out.items() if k not in ("busy", "profiler overhead (left out)"))
    out["other"] = max(out["busy"] - named, 0.0)
    return {k: round(v, 1) for k, v in sorted(out.items())}


def traced_change(browser: Any, page: Any, server: Server, path: str, name: str,
                  keep: Path | None = None) -> dict[str, Any]:
    """One filter change on a page under Chromium's tracing: its drawn time and the
    :func:`breakdown` of the browser's main thread from the key press until the page has
    been still for 300 ms (the trace starts after the name is typed, and the profiler a
    second before the key). ``keep``: where to write the raw trace."""
    try:
        open_page(page, f"{server.base}/{path}")
        type_amphoe(page, name)
        browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
        page.evaluate("() => 0")  # the profiler starts (a stall of 0.2-0.6 s) before the key
        page.wait_for_timeout(1000)
        seen = _press_and_watch(page)
        raw = browser.stop_tracing()
        if keep is not None:
            keep.write_bytes(raw)
        return {"drawn_ms": round(max(seen["last"], seen["done"]) - seen["start"]),
                "main_thread_ms": breakdown(json.loads(raw))}
    except Exception as exc:  # a measurement, not a test: report what went wrong
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
