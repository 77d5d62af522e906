"""Benchmark: every page at provincial and national scale, against a naive baseline.

    python -m bench.run                       # 1,174 and 1,000,000 households (about 5.5 min)
    python -m bench.run --large 100000        # a smaller "large" scale
    python -m bench.run --no-large            # provincial scale only
    python -m bench.run --no-large --store postgresql://user:pass@host:5432/db
                                              # the same on PostgreSQL (a fresh database per
                                              # scale, made beside ``db`` and dropped after;
                                              # results in bench/results_postgres.json)

For each scale, in fresh processes: build the store through the importer (timed), then run
every registered page through AppTest: first render (empty result caches), cached rerun and a
filter change (another amphoe), medians of several runs; bytes each page sends (the protobuf
size of its elements: chart specs, tables, deck JSON); the presenter on each of its slides, its
slowest slide counting as the page; peak memory (max RSS) of the process
running the pages. A naive baseline runs in the same process: the Overview's four KPIs computed
by reading the raw files into pandas on every run. With Chromium installed, the latency
through a real server is measured from the browser: the Overview's language switch, and each
data page's filter change as a user makes it (until the run is seen finished, and until the
page is drawn). Results are printed as a table with the
targets as pass/fail and written to ``bench/results.json``. Nothing here is a test: a missed
target is a finding to act on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
RESULTS_POSTGRES = ROOT / "bench" / "results_postgres.json"
TARGETS = {
    "small": {"first_render_s": 0.5, "cached_rerun_ms": 25, "filter_change_ms": 50},
    "large": {"first_render_s": 1.0, "cached_rerun_ms": 25, "filter_change_ms": 200,
              "peak_memory_mb": 1024, "page_bytes": 3 * 1024 * 1024, "import_s": 120},
}
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
        reruns = []
        for _ in range(RUNS):
            started = time.perf_counter()
            at.run()
            reruns.append(time.perf_counter() - started)
        changes = []
        for code in AMPHOE_CYCLE:
            started = time.perf_counter()
            at.selectbox(key="f_amphoe").set_value(code).run()
            changes.append(time.perf_counter() - started)
        at.selectbox(key="f_amphoe").set_value("").run()
        results[spec.url_path] = {
            "first_render_s": round(first, 3),
            "cached_rerun_ms": round(statistics.median(reruns) * 1000, 1),
            "filter_change_ms": round(statistics.median(changes) * 1000, 1),
            "page_bytes": _bytes_sent(at),
            "errors": [e.value for e in at.error][:3],
        }
        if spec.file == "presenter.py":  # one slide at a time: the slowest slide counts
            results[spec.url_path] |= _every_slide(at)
    results["_peak_memory_mb"] = round(_maxrss_mb())
    results["_naive"] = naive_baseline()
    return results


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
        reruns, changes = [], []
        for _ in range(RUNS):
            started = time.perf_counter()
            at.run()
            reruns.append(time.perf_counter() - started)
        for code in AMPHOE_CYCLE:
            at.session_state["present_slide"] = index
            started = time.perf_counter()
            at.selectbox(key="f_amphoe").set_value(code).run()
            changes.append(time.perf_counter() - started)
        slides[f"slide {index + 1}"] = {
            "title": at.title[0].value,
            "first_render_s": round(first, 3),
            "cached_rerun_ms": round(statistics.median(reruns) * 1000, 1),
            "filter_change_ms": round(statistics.median(changes) * 1000, 1),
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


def browser_latency(store_dir: Path) -> dict[str, Any]:
    if not Path("/usr/bin/chromium").exists():
        return {"skipped": "no /usr/bin/chromium"}
    from playwright.sync_api import sync_playwright

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=_env(store_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    done = '[data-testid="stApp"][data-test-script-state="notRunning"]'
    try:
        import urllib.request

        for _ in range(600):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=["--disable-gpu", "--disable-quic"])
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            base = f"http://127.0.0.1:{port}"
            started = time.perf_counter()
            page.goto(f"{base}/")
            page.wait_for_selector(done, timeout=300_000)
            first = time.perf_counter() - started
            times = []
            # the language switch reruns the whole Overview; the title shows the new language
            # once the rerun has reached the browser
            for label, title in (("English", "Overview"), ("ไทย", "ภาพรวม")) * 3:
                started = time.perf_counter()
                page.get_by_text(label, exact=True).first.click()
                page.locator("h1", has_text=title).first.wait_for(timeout=60_000)
                page.wait_for_selector(done, timeout=60_000)
                times.append(time.perf_counter() - started)
            changes = {path or "overview": _browser_filter_changes(page, f"{base}/{path}")
                       for path in SERVER_PAGES}
            browser.close()
        return {"first_load_s": round(first, 2),
                "rerun_ms": round(statistics.median(times) * 1000, 1),
                "filter_change_ms": changes}
    except Exception as exc:  # a measurement, not a test: report what went wrong
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


SERVER_PAGES = ("", "map", "coverage", "outcomes", "households", "followup", "agencies",
                "quality")
"""The URL paths of the pages whose filter change is measured from the browser (those that
read the store; the Overview at the root)."""
SERVER_AMPHOE = ("ชุมแพ", "หนองเรือ", "บ้านไผ่", "พล")
# In the page: when the script run the key press starts reaches the browser as finished, and
# the last change to the main area's DOM (the charts and tables drawn)
_WATCH_JS = """() => {
  const t = window.__kusiao = {start: null, running: null, done: null, last: null};
  document.addEventListener('keydown', e => {
    if (e.key === 'Enter' && t.start === null) t.start = t.last = performance.now();
  }, {capture: true, once: true});
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(records => {  // each change of the state, even two in one batch
    for (const r of records) {
      if (t.start === null || r.attributeName !== 'data-test-script-state') continue;
      if (r.oldValue === 'notRunning' && t.running === null) t.running = performance.now();
      if (r.oldValue === 'running' && t.running !== null && t.done === null)
        t.done = performance.now();
    }
  }).observe(app, {attributes: true, attributeOldValue: true});
  new MutationObserver(() => { if (t.start !== null) t.last = performance.now(); }).observe(
    document.querySelector('[data-testid="stMain"]'),
    {subtree: true, childList: true, attributes: true, characterData: true});
}"""


def _browser_filter_changes(page: Any, url: str) -> dict[str, Any]:
    """A filter change as a user makes it: type an amphoe's name into the sidebar's amphoe box
    and press Enter. Timed in the page from the key press to the run's end as the browser sees
    it (every element received), and to the last change of the page (charts and tables drawn,
    nothing changing for 300 ms after); medians over :data:`SERVER_AMPHOE`. A page that fails
    is reported as such; the others are still measured."""
    try:
        return _filter_changes_of(page, url)
    except Exception as exc:  # a measurement, not a test: report what went wrong
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}


def type_amphoe(page: Any, name: str) -> None:
    """Type an amphoe's name into the sidebar's amphoe box, and start watching the page: the
    next Enter is the key press a filter change is timed from."""
    box = page.locator(".st-key-f_amphoe input")
    box.click()
    box.fill(name)
    page.wait_for_timeout(300)  # the list filtered to the name
    page.evaluate(_WATCH_JS)


def _filter_changes_of(page: Any, url: str) -> dict[str, Any]:
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                           timeout=300_000)
    page.wait_for_timeout(1500)
    ran, drawn = [], []
    for name in SERVER_AMPHOE:
        type_amphoe(page, name)
        page.keyboard.press("Enter")
        page.wait_for_function("() => window.__kusiao.done !== null", timeout=60_000)
        page.wait_for_function("() => performance.now() - window.__kusiao.last > 300",
                               timeout=60_000, polling=50)
        seen = page.evaluate("() => window.__kusiao")
        ran.append(seen["done"] - seen["start"])
        drawn.append(seen["last"] - seen["start"])
    return {"run_seen_ms": round(statistics.median(ran)),
            "drawn_ms": round(statistics.median(drawn))}


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


def run_scale(scale: str, households: int, server: str | None = None) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"kusiao_bench_{scale}_"))
    drop = None
    if server:
        _STORES[folder], drop = _fresh_database(server, scale)
    try:
        print(f"[{scale}] building the store ({households:,} households)…", flush=True)
        built = _child("build", scale, households, folder)
        print(f"[{scale}] import {built['import_s']} s; measuring pages…", flush=True)
        pages = _child("pages", scale, households, folder, json.dumps(built["files"]))
        print(f"[{scale}] measuring through a real server…", flush=True)
        server_latency = browser_latency(folder)
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
        for key in ("first_render_s", "cached_rerun_ms", "filter_change_ms", "page_bytes"):
            if key in targets:
                rows.append((key, page, figures[key], targets[key], figures[key] <= targets[key]))
    if "peak_memory_mb" in targets:
        peak = result["pages"]["_peak_memory_mb"]
        rows.append(("peak_memory_mb", "(all pages)", peak, targets["peak_memory_mb"],
                     peak <= targets["peak_memory_mb"]))
    if "import_s" in targets:
        rows.append(("import_s", "(all files)", result["build"]["import_s"], targets["import_s"],
                     result["build"]["import_s"] <= targets["import_s"]))
    return rows


def report(results: dict[str, Any]) -> None:
    print()
    for scale, result in results["scales"].items():
        pages = result["pages"]
        build_info = result["build"]
        print(f"== {scale}: {result['households']:,} households, "
              f"{build_info['rows']['visit']:,} visits; import {build_info['import_s']} s; "
              f"pages peak memory {pages['_peak_memory_mb']} MB")
        print(f"{'page':<14}{'first s':>9}{'rerun ms':>10}{'filter ms':>11}{'bytes':>11}")
        for page, f in pages.items():
            if page.startswith("_"):
                continue
            if "error" in f or "skipped" in f:
                print(f"{page:<14} {'ERROR ' + f['error'] if 'error' in f else f['skipped']}")
                continue
            for name, row in [(page, f), *(("  " + k, v) for k, v in f.get("slides", {}).items())]:
                print(f"{name:<14}{row['first_render_s']:>9}{row['cached_rerun_ms']:>10}"
                      f"{row['filter_change_ms']:>11}{row['page_bytes']:>11,}"
                      f"{'  ' + row['title'] if 'title' in row else ''}")
        naive = pages["_naive"]["rerun_ms"]
        overview = pages["overview"]
        print(f"naive baseline (raw files into pandas each run): {naive} ms per rerun; "
              f"x{naive / max(overview['cached_rerun_ms'], 0.1):.0f} the Overview's cached "
              f"rerun, x{naive / max(overview['filter_change_ms'], 0.1):.1f} its filter change")
        server = dict(result["server"])
        changes = server.pop("filter_change_ms", {})
        print(f"through a real server: {server}")
        for page, f in changes.items():
            print(f"  filter change from the browser, {page}: " + (
                f"run seen {f['run_seen_ms']} ms, drawn {f['drawn_ms']} ms" if "error" not in f
                else f"ERROR {f['error']}"))
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
        "scales": {"small": run_scale("small", 1174, args.store)},
    }
    if not args.no_large:
        results["scales"]["large"] = run_scale("large", args.large, args.store)
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
