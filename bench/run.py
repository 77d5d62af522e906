"""Benchmark: every page at provincial and national scale, against a naive baseline and
against Streamlit's own floor.

    python -m bench.run                       # 1,174 and 1,000,000 households
    python -m bench.run --large 100000        # a smaller "large" scale
    python -m bench.run --no-large            # provincial scale only
    python -m bench.run --rounds 6            # rounds through the real server (default 5)
    python -m bench.run --server-only         # only what the browser measures (no AppTest)
    python -m bench.run --no-large --store postgresql://user:pass@host:5432/db
                                              # the same on PostgreSQL (a fresh database per
                                              # scale, made beside ``db`` and dropped after;
                                              # results in bench/results_postgres.json)

For each scale, in fresh processes: build the store through the importer (timed), then run
every registered page through AppTest: first render (empty result caches), cached rerun and a
filter change (another amphoe), medians of several runs; bytes each page sends (the protobuf
size of its elements: chart specs, tables, deck JSON); the presenter on each of its slides, its
slowest slide counting as the page; Outcomes and Agencies also with the sections they compute
only on opening open (a row of their own); peak memory (max RSS) of the process running the pages. A
naive baseline runs in the same process: the Overview's four KPIs computed by reading the raw
files into pandas on every run.

Then, with Chromium installed, what the user waits for, through real servers
(:mod:`bench.browser`): the Overview's first load and language switch; and, round after round,
each data page's filter change as a user makes it (an amphoe typed into the sidebar, Enter)
beside the same change on two floor apps (``bench/floor/``: one metric; six plain plotly
charts), interleaved, each round on amphoe the pages have not seen: run seen finished, page
drawn, the server's script time, and each page's ratio to the one-metric floor, against the
targets drawn <= 4x and script <= 2x the floor's. Last, one traced filter change per page:
the browser's main-thread time split into plotly.js, the other chart libraries, Streamlit's
frontend, garbage collection, style and layout, and paint.

Results are printed as tables with the targets as pass/fail and written to
``bench/results.json``. Nothing here is a test: a missed target is a finding to act on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import browser

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
RESULTS_POSTGRES = ROOT / "bench" / "results_postgres.json"
TARGETS = {
    "small": {"first_render_s": 0.5, "cached_rerun_ms": 25, "filter_change_ms": 50,
              "drawn_x_floor": 4, "script_x_floor": 2},
    "large": {"first_render_s": 1.0, "cached_rerun_ms": 25, "filter_change_ms": 200,
              "peak_memory_mb": 1024, "page_bytes": 3 * 1024 * 1024, "import_s": 120,
              "drawn_x_floor": 4, "script_x_floor": 2},
}
"""Per scale. ``drawn_x_floor``: a filter change's key press to page drawn, through a real
server, as a multiple of the one-metric floor's in the same run; ``script_x_floor``: the
server's script time for it, likewise. The others are AppTest's, in process."""
AMPHOE_CYCLE = ("4005", "4010", "4020", "4001", "4016")
RUNS = 5


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_STORES: dict[Path, str] = {}
"""The store URL of each scale's folder when it is not the folder's own DuckDB file."""


def _store_url(store_dir: Path) -> str:
    return _STORES.get(store_dir) or f"duckdb://{store_dir / 'kusiao.duckdb'}"


def _env(store_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["KUSIAO_STORE_DIR"] = str(store_dir)
    env["KUSIAO_STORE_URL"] = _store_url(store_dir)
    env["KUSIAO_ROLE"] = "officer"  # every page shows its full content
    env["PYTHONPATH"] = str(ROOT)
    return env


# --- step 1: files and import ---------------------------------------------------------------


def build(scale: str, households: int, folder: Path) -> dict[str, Any]:
    """Write the scale's files and import them into a new store; runs in its own process.
    The files are imported as one (one transaction, one rebuild of the derived tables)."""
    from loaders.bootstrap import DEMO_DIR, demo_files
    from loaders.importer import import_files
    from loaders.store import Store

    files: dict[str, Path]
    started = time.perf_counter()
    if scale == "small":
        files = dict(demo_files(DEMO_DIR))
    else:
        from bench.scale import copies_for, write_scale

        files = write_scale(folder / "files", copies_for(households))
    written = time.perf_counter() - started
    store = Store.open(os.environ.get("KUSIAO_STORE_URL") or _store_url(folder),
                       store_dir=folder)
    starts: list[float] = []  # when each file's reading began, then when writing began

    def progress(share: float, stage: str) -> None:
        if stage in ("read", "write"):
            starts.append(time.perf_counter())

    started = time.perf_counter()
    reports = import_files(store, files, imported_by="bench", progress=progress)
    imported = time.perf_counter() - started
    refused = [r for r in reports if not r.committed]
    if refused:
        reasons = [(r.dataset, i.reason_key) for r in refused for i in r.errors][:5]
        raise SystemExit(f"import refused: {reasons}")
    # seconds per file to read and validate it; then writing them all and the derived tables
    ends = [*starts[1:], started + imported]
    timings: dict[str, Any] = {
        report.dataset: {"rows": report.rows_read, "seconds": round(end - start, 2)}
        for report, start, end in zip(reports, starts, ends, strict=False)
    }
    timings["write_and_derived"] = {"rows": sum(r.rows_read for r in reports),
                                    "seconds": round(started + imported - starts[-1], 2)}
    counts = {t: store.count(t) for t in ("household", "official", "pairing", "visit")}
    store.close()
    return {"files": {k: str(v) for k, v in files.items()}, "write_files_s": round(written, 1),
            "import_s": round(imported, 1), "import_by_file": timings, "rows": counts,
            "import_peak_memory_mb": round(_maxrss_mb())}


# --- step 2: pages ----------------------------------------------------------------------------


def _bytes_sent(at: Any) -> int:
    total = 0
    stack = [at._tree]
    while stack:
        node = stack.pop()
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ByteSize") and not getattr(node, "children",
                                                                             None):
            total += proto.ByteSize()
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            stack.extend(children.values())
    return total


def _rerun_and_change(at: Any, before_change: Callable[[], None] = lambda: None
                      ) -> dict[str, float]:
    """The median cached rerun, and the median filter change (each amphoe of
    :data:`AMPHOE_CYCLE` chosen in turn; ``before_change`` runs before each), in ms."""
    reruns, changes = [], []
    for _ in range(RUNS):
        started = time.perf_counter()
        at.run()
        reruns.append(time.perf_counter() - started)
    for code in AMPHOE_CYCLE:
        before_change()
        started = time.perf_counter()
        at.selectbox(key="f_amphoe").set_value(code).run()
        changes.append(time.perf_counter() - started)
    return {"cached_rerun_ms": round(statistics.median(reruns) * 1000, 1),
            "filter_change_ms": round(statistics.median(changes) * 1000, 1)}


def measure_pages() -> dict[str, Any]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard import store as store_access
    from dashboard.ui.registry import PAGES

    app = str(ROOT / "dashboard" / "app.py")
    results: dict[str, Any] = {}
    warm = AppTest.from_file(app, default_timeout=600)
    started = time.perf_counter()
    warm.run()  # opens the store (the server does this once, at start)
    results["_store_open_s"] = round(time.perf_counter() - started, 2)
    for spec in PAGES:
        at = AppTest.from_file(app, default_timeout=600)
        at.run()  # the session starts on the Overview; its results are then forgotten
        st.cache_data.clear()
        store_access.forget_results()
        started = time.perf_counter()
        try:
            at.switch_page(f"../pages/{spec.file}")
        except ValueError:  # a page the app does not offer to this role (the admin page)
            results[spec.url_path] = {"skipped": "not offered to the benchmark's role"}
            continue
        at.run()
        first = time.perf_counter() - started
        if at.exception:
            results[spec.url_path] = {"error": str(at.exception[0].message)[:300]}
            continue
        timed = _rerun_and_change(at)
        at.selectbox(key="f_amphoe").set_value("").run()
        results[spec.url_path] = {
            "first_render_s": round(first, 3), **timed,
            "page_bytes": _bytes_sent(at),
            "errors": [e.value for e in at.error][:3],
        }
        if spec.file == "presenter.py":  # one slide at a time: the slowest slide counts
            results[spec.url_path] |= _every_slide(at)
        if spec.file in OPENED:  # and with its sections computed on opening open
            results[spec.url_path]["opened"] = _opened(at, OPENED[spec.file])
    results["_peak_memory_mb"] = round(_maxrss_mb())
    results["_naive"] = naive_baseline()
    return results


OPENED = {"outcomes.py": ("outcomes_forecast_box", "outcomes_climb_box"),
          "agencies.py": ("agencies_recency_box",)}
"""The expanders a page fills only while open (the forecast, the climbs, the recency)."""


def _opened(at: Any, boxes: tuple[str, ...]) -> dict[str, Any]:
    """A page with its on-opening sections open: first render (from cold caches), cached
    rerun and filter change, as for a page."""
    import streamlit as st

    from dashboard import store as store_access

    st.cache_data.clear()
    store_access.forget_results()
    for box in boxes:
        at.session_state[box] = True
    started = time.perf_counter()
    at.run()
    first = time.perf_counter() - started
    timed = _rerun_and_change(at)
    at.selectbox(key="f_amphoe").set_value("").run()
    return {"first_render_s": round(first, 3), **timed,
            "page_bytes": _bytes_sent(at), "errors": [e.value for e in at.error][:3]}


def _every_slide(at: Any) -> dict[str, Any]:
    """The presenter on each of its slides (an amphoe chosen, so the amphoe's slide too): first
    render, cached rerun and filter change as for a page, and the slowest slide's figures as
    the page's. The projector collects only the shown slide's figures, so the cover alone
    would flatter it."""
    import streamlit as st

    from dashboard import store as store_access

    slides: dict[str, Any] = {}
    at.selectbox(key="f_amphoe").set_value(AMPHOE_CYCLE[-1]).run()
    for index in range(20):
        st.cache_data.clear()
        store_access.forget_results()
        at.session_state["present_slide"] = index
        started = time.perf_counter()
        at.run()
        first = time.perf_counter() - started
        if at.session_state["present_slide"] != index:  # past the last slide
            break
        def stay(index: int = index) -> None:  # a filter change keeps the slide shown
            at.session_state["present_slide"] = index

        timed = _rerun_and_change(at, stay)
        slides[f"slide {index + 1}"] = {
            "title": at.title[0].value,
            "first_render_s": round(first, 3), **timed,
            "page_bytes": _bytes_sent(at),
        }
    worst = {key: max(slide[key] for slide in slides.values())
             for key in ("first_render_s", "cached_rerun_ms", "filter_change_ms", "page_bytes")}
    return worst | {"slides": slides}


def naive_baseline() -> dict[str, Any]:
    """The Overview's KPI cards the naive way: read the raw files into pandas on every run."""
    import pandas as pd

    from loaders.bootstrap import DEMO_DIR

    files = json.loads(os.environ["BENCH_FILES"])

    def read(name: str) -> pd.DataFrame:
        path = Path(files[name])
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
        if path.parent == DEMO_DIR and name == "households":
            frame = frame.rename(columns={frame.columns[0]: "household_id"})
        return frame

    def run_once() -> dict[str, float]:
        households = read("households")
        pairings = read("pairings")
        visits = read("visits")
        visits["visit_date"] = pd.to_datetime(visits["visit_date"])
        as_of = visits["visit_date"].max()
        pairings["start_date"] = pd.to_datetime(pairings["start_date"])
        pairings["end_date"] = pd.to_datetime(pairings["end_date"].replace("", None))
        open_now = pairings[(pairings["start_date"] <= as_of)
                            & (pairings["end_date"].isna() | (pairings["end_date"] >= as_of))]
        last = visits.groupby("household_id")["visit_date"].max()
        return {"households": len(households), "paired": open_now["household_id"].nunique(),
                "officials": open_now["official_id"].nunique(),
                "visited": int(((as_of - last).dt.days <= 90).sum())}

    times = []
    figures: dict[str, float] = {}
    for _ in range(3):
        started = time.perf_counter()
        figures = run_once()
        times.append(time.perf_counter() - started)
    return {"rerun_ms": round(statistics.median(times) * 1000, 1), "figures": figures}


# --- step 3: through a real server, from the browser ------------------------------------------


FLOORS = (("floor_metric", "bench/floor/metric.py"), ("floor_charts", "bench/floor/charts.py"))
"""Streamlit's own floor, measured beside the pages in the same run: a page with one metric,
and a plain page with six plotly charts, each with the dashboard's amphoe box."""
SERVER_PAGES = ("", "map", "coverage", "outcomes", "households", "followup", "agencies",
                "quality")
"""The URL paths of the pages whose filter change is measured from the browser (those that
read the store; the Overview at the root)."""
SERVER_AMPHOE = ("ชุมแพ", "หนองเรือ", "บ้านไผ่", "พล")
"""The names :mod:`bench.compare` types, the same in every round."""
ROUND_NAMES = 4
"""Amphoe typed per page and round; each round takes the next names of all 26, so in the
first six rounds every change is to a filter set that page has not seen (the deputy governor
clicking through amphoe; from the seventh round on, names come round again and find their
results kept), and the median of a page's changes is its figure for the round."""


def _round_names(index: int) -> tuple[str, ...]:
    from domain.reference import amphoe_names
    from domain.thai_text import sort_key

    every = sorted(amphoe_names("th").values(), key=sort_key)
    return tuple(every[(index * ROUND_NAMES + i) % len(every)] for i in range(ROUND_NAMES))


def browser_latency(store_dir: Path, rounds: int = RUNS) -> dict[str, Any]:
    """Through real servers, from Chromium: the first load and the language switch of the
    Overview; then, ``rounds`` times, every data page's filter change and the two floors',
    interleaved (each round in another order, every server idle before each measurement);
    per page the median over rounds of run seen, drawn, the server's script time, and the
    ratios to the one-metric floor; a traced filter change on every page, its browser time
    split by what did the work (:func:`bench.browser.breakdown`)."""
    if not Path(browser.CHROMIUM).exists():
        return {"skipped": f"no {browser.CHROMIUM}"}
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="kusiao_server_"))
    env = _env(store_dir)
    servers = {"dashboard": browser.Server("dashboard", ROOT, work, env=env)}
    servers |= {name: browser.Server(name, ROOT, work, script, env=env)
                for name, script in FLOORS}
    every = list(servers.values())
    targets = [(name, name, "") for name, _ in FLOORS]
    targets += [(path or "overview", "dashboard", path) for path in SERVER_PAGES]
    try:
        for server in every:
            server.wait_healthy()
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=browser.CHROMIUM, headless=True,
                                         args=["--disable-gpu", "--disable-quic"])
            tabs = {name: chromium.new_context(viewport={"width": 1600, "height": 1000})
                    .new_page() for name in servers}
            page = tabs["dashboard"]
            started = time.perf_counter()
            page.goto(f"{servers['dashboard'].base}/")
            page.wait_for_selector(browser.DONE, timeout=600_000)
            first = time.perf_counter() - started
            for name in FLOORS:
                browser.open_page(tabs[name[0]], f"{servers[name[0]].base}/")
            switches = []
            # the language switch reruns the whole Overview; the title shows the new language
            # once the rerun has reached the browser
            for label, title in (("English", "Overview"), ("ไทย", "ภาพรวม")) * 3:
                started = time.perf_counter()
                page.get_by_text(label, exact=True).first.click()
                page.locator("h1", has_text=title).first.wait_for(timeout=60_000)
                page.wait_for_selector(browser.DONE, timeout=60_000)
                switches.append(time.perf_counter() - started)
            by_round = []
            for index in range(rounds):
                names = _round_names(index)
                shift = index % len(targets)
                this = {}
                for label, server, path in targets[shift:] + targets[:shift]:
                    waited = browser.settle(every)
                    this[label] = browser.measure(tabs[server], servers[server], path, names)
                    this[label]["settle_s"] = waited
                print(f"  round {index + 1}: " + ", ".join(
                    f"{k} {v.get('drawn_ms', 'ERR')}" for k, v in this.items()), flush=True)
                by_round.append(this)
            traces = {}
            traced = _round_names(rounds)[0]
            for label, server, path in targets[1:]:  # the six-chart floor and every page
                browser.settle(every)
                traces[label] = browser.traced_change(
                    chromium, tabs[server], servers[server], path, traced,
                    keep=work / f"trace-{label}.json")
            chromium.close()
    except Exception as exc:  # a measurement, not a test: report what went wrong
        return {"error": f"{type(exc).__name__}: {exc}"[:300], "work": str(work)}
    finally:
        for server in every:
            server.stop()
    return {"first_load_s": round(first, 2),
            "rerun_ms": round(statistics.median(switches) * 1000, 1),
            "rounds": rounds, "filter_change": summarise_rounds(by_round),
            "traces": traces, "by_round": by_round, "work": str(work)}


def summarise_rounds(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Per page and floor, the median over rounds of each figure, and each page's drawn and
    script time as a multiple of the one-metric floor's."""
    summary: dict[str, Any] = {}
    for label in rounds[0]:
        ok = [r[label] for r in rounds if "error" not in r[label]]
        summary[label] = {key: browser.median([m[key] for m in ok])
                          for key in ("run_seen_ms", "drawn_ms", "script_ms", "server_cpu_ms")}
        summary[label]["rounds_ok"] = len(ok)
        errors = [r[label]["error"] for r in rounds if "error" in r[label]]
        if errors:
            summary[label]["errors"] = errors
    floor = summary.get("floor_metric", {})
    for row in summary.values():
        for key in ("drawn_ms", "script_ms"):
            row[f"{key}_x_floor"] = (round(row[key] / floor[key], 2)
                                     if row.get(key) and floor.get(key) else None)
    return summary


# --- orchestration ------------------------------------------------------------------------------


def _child(step: str, scale: str, households: int, folder: Path, files: str = "{}") -> dict:
    env = _env(folder) | {"BENCH_FILES": files}
    out = subprocess.run(
        [sys.executable, "-m", "bench.run", "--child", step, "--scale", scale,
         "--households", str(households), "--folder", str(folder)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{step} at {scale} scale failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fresh_database(server: str, scale: str) -> tuple[str, Any]:
    """A new, empty PostgreSQL database on the server of ``server`` (a URL of a database
    the role may connect to; the role needs CREATEDB): its URL, and how to drop it."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from psycopg import sql

    name = f"kusiao_bench_{scale}_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop() -> None:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))

    return urlunsplit(urlsplit(server)._replace(path=f"/{name}")), drop


def run_scale(scale: str, households: int, server: str | None = None,
              rounds: int = RUNS, server_only: bool = False) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"kusiao_bench_{scale}_"))
    drop = None
    if server:
        _STORES[folder], drop = _fresh_database(server, scale)
    try:
        print(f"[{scale}] building the store ({households:,} households)…", flush=True)
        built = _child("build", scale, households, folder)
        print(f"[{scale}] import {built['import_s']} s; measuring pages…", flush=True)
        pages = {} if server_only else _child("pages", scale, households, folder,
                                              json.dumps(built["files"]))
        print(f"[{scale}] measuring through a real server…", flush=True)
        server_latency = browser_latency(folder, rounds)
        return {"households": households, "build": built, "pages": pages,
                "server": server_latency}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if drop is not None:
            drop()


def verdicts(scale: str, result: dict[str, Any]) -> list[tuple[str, str, Any, Any, bool]]:
    """(what, page, measured, target, met) for every target of the scale."""
    targets = TARGETS[scale]
    rows = []
    for page, figures in result["pages"].items():
        if page.startswith("_") or "error" in figures or "skipped" in figures:
            continue
        for name, row in [(page, figures),
                          *([(f"{page} opened", figures["opened"])] if "opened" in figures
                            else [])]:
            for key in ("first_render_s", "cached_rerun_ms", "filter_change_ms", "page_bytes"):
                if key in targets:
                    rows.append((key, name, row[key], targets[key], row[key] <= targets[key]))
    for page, figures in result["server"].get("filter_change", {}).items():
        if page.startswith("floor_"):
            continue
        for key in ("drawn_x_floor", "script_x_floor"):
            measured = figures.get(key.replace("_x_", "_ms_x_"))
            if key in targets and measured is not None:
                rows.append((key, page, measured, targets[key], measured <= targets[key]))
    peak = result["pages"].get("_peak_memory_mb")
    if "peak_memory_mb" in targets and peak is not None:
        rows.append(("peak_memory_mb", "(all pages)", peak, targets["peak_memory_mb"],
                     peak <= targets["peak_memory_mb"]))
    if "import_s" in targets:
        rows.append(("import_s", "(all files)", result["build"]["import_s"], targets["import_s"],
                     result["build"]["import_s"] <= targets["import_s"]))
    return rows


def server_table(server: dict[str, Any]) -> str:
    """The filter changes through a real server, with the floors, as a Markdown table; and
    each traced page's main-thread time by what did the work."""
    if "filter_change" not in server:
        return f"through a real server: {server}"
    lines = [f"through a real server: first load {server['first_load_s']} s, language switch "
             f"{server['rerun_ms']} ms; filter change, median of {server['rounds']} rounds:",
             "", "| page | run seen ms | drawn ms | server script ms | server CPU ms "
             "| drawn / floor | script / floor |", "|---|---:|---:|---:|---:|---:|---:|"]
    for page, f in server["filter_change"].items():
        lines.append(f"| {page} | {f['run_seen_ms']} | {f['drawn_ms']} | {f['script_ms']} "
                     f"| {f['server_cpu_ms']} | {f['drawn_ms_x_floor']} "
                     f"| {f['script_ms_x_floor']} |" + (" errors: " + "; ".join(
                         f["errors"])[:200] if f.get("errors") else ""))
    left_out = "profiler overhead (left out)"
    kinds = sorted({k for t in server["traces"].values() for k in t.get("main_thread_ms", {})
                    if k not in ("busy", "other", left_out)})
    lines += ["", "browser main thread in one traced filter change, ms:", "",
              "| page | drawn | busy | " + " | ".join(kinds) + f" | other | ({left_out}) |",
              "|---|---:|---:|" + "---:|" * (len(kinds) + 2)]
    for page, t in server["traces"].items():
        if "error" in t:
            lines.append(f"| {page} | error: {t['error'][:150]} |")
            continue
        m = t["main_thread_ms"]
        lines.append(f"| {page} | {t['drawn_ms']} | {m.get('busy', 0):.0f} | " + " | ".join(
            f"{m.get(k, 0):.0f}" for k in kinds) + f" | {m.get('other', 0):.0f} "
            f"| ({m.get(left_out, 0):.0f}) |")
    return "\n".join(lines)


def apptest_table(pages: dict[str, Any]) -> str:
    lines = [f"{'page':<14}{'first s':>9}{'rerun ms':>10}{'filter ms':>11}{'bytes':>11}"]
    for page, f in pages.items():
        if page.startswith("_"):
            continue
        if "error" in f or "skipped" in f:
            lines.append(f"{page:<14} {'ERROR ' + f['error'] if 'error' in f else f['skipped']}")
            continue
        rows = [(page, f), *(("  " + k, v) for k, v in f.get("slides", {}).items()),
                *([("  opened", f["opened"])] if "opened" in f else [])]
        for name, row in rows:
            lines.append(f"{name:<14}{row['first_render_s']:>9}{row['cached_rerun_ms']:>10}"
                         f"{row['filter_change_ms']:>11}{row['page_bytes']:>11,}"
                         f"{'  ' + row['title'] if 'title' in row else ''}")
    naive = pages["_naive"]["rerun_ms"]
    overview = pages["overview"]
    lines.append(f"naive baseline (raw files into pandas each run): {naive} ms per rerun; "
                 f"x{naive / max(overview['cached_rerun_ms'], 0.1):.0f} the Overview's cached "
                 f"rerun, x{naive / max(overview['filter_change_ms'], 0.1):.1f} its filter "
                 "change")
    return "\n".join(lines)


def report(results: dict[str, Any]) -> None:
    print()
    for scale, result in results["scales"].items():
        pages = result["pages"]
        build_info = result["build"]
        print(f"== {scale}: {result['households']:,} households, "
              f"{build_info['rows']['visit']:,} visits; import {build_info['import_s']} s; "
              f"pages peak memory {pages.get('_peak_memory_mb')} MB")
        if pages:
            print(apptest_table(pages))
        print(server_table(result["server"]))
        missed = [r for r in verdicts(scale, result) if not r[4]]
        met = len(verdicts(scale, result)) - len(missed)
        print(f"targets met: {met}, missed: {len(missed)}")
        for what, page, measured, target, _ in missed:
            print(f"  MISSED {what} on {page}: {measured} > {target}")
        print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--large", type=int, default=1_000_000, help="households, large scale")
    parser.add_argument("--no-large", action="store_true")
    parser.add_argument("--child", choices=("build", "pages"))
    parser.add_argument("--scale", default="small")
    parser.add_argument("--households", type=int, default=1174)
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--rounds", type=int, default=RUNS,
                        help="rounds of filter changes through the real server")
    parser.add_argument("--server-only", action="store_true",
                        help="only the measurements through a real server (no AppTest)")
    parser.add_argument("--store", metavar="postgresql://...",
                        help="run on PostgreSQL: a database URL on the server to use")
    args = parser.parse_args(argv)
    if args.store and not args.store.startswith(("postgresql://", "postgres://")):
        parser.error("--store takes a postgresql://user:password@host:port/database URL")
    if args.child == "build":
        print(json.dumps(build(args.scale, args.households, args.folder)))
        return 0
    if args.child == "pages":
        print(json.dumps(measure_pages()))
        return 0
    started = time.perf_counter()
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "date": time.strftime("%Y-%m-%d"),
        "engine": "postgres" if args.store else "duckdb",
        "scales": {"small": run_scale("small", 1174, args.store, args.rounds,
                                     args.server_only)},
    }
    if not args.no_large:
        results["scales"]["large"] = run_scale("large", args.large, args.store,
                                              args.rounds, args.server_only)
    results["verdicts"] = {scale: [list(v) for v in verdicts(scale, r)]
                           for scale, r in results["scales"].items()}
    results["total_s"] = round(time.perf_counter() - started, 1)
    written = RESULTS_POSTGRES if args.store else RESULTS
    written.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    report(results)
    print(f"written {written.relative_to(ROOT)} in {results['total_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
