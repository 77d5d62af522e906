"""Two versions of the dashboard side by side, end to end, through real servers.

    python -m bench.compare --before /path/to/old/checkout --after /path/to/new/checkout
    python -m bench.compare --before A --after B --rounds 5 --json out.json --markdown out.md

Each folder is a checkout of the project. For each, a Streamlit server is started on a free
loopback port with that folder as its working directory and a store of its own (built from the
folder's demo files on the first start; each server is warmed with one page load). Then, round
after round, every data page (:data:`bench.run.SERVER_PAGES`) is measured on one server and
then on the other, interleaved, which goes first alternating, so both versions see the same
load on the machine. A measurement is a filter change as a user makes it, with the watcher of
:mod:`bench.browser`: type an amphoe's name into the sidebar's amphoe box and press Enter, timed
in the page from the key press to the run seen finished and to the page drawn; the median over
the four names of :data:`bench.run.SERVER_AMPHOE`. Before each measurement both servers are
left to fall idle (their CPU time still), so work one leaves behind does not land on the
other's figure.

Nothing of either checkout is imported here: the servers run their own code. The server's
script time (Streamlit's script runner, from the run's start to its end, reruns included)
is logged by a small wrapper the server is started through, and reported beside the
browser's figures, with the server process's CPU time over the four changes.

Per page: the median over rounds of run-seen and drawn for both, and the ratio after/before
(and the median of the per-round ratios, which the drift of a shared machine affects less).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import browser
from bench.browser import CHROMIUM, DONE, Server, settle, uptime
from bench.run import SERVER_AMPHOE, SERVER_PAGES


def measure(page: Any, server: Server, path: str) -> dict[str, Any]:
    """The filter change on one page of one server, to the same four amphoe every time."""
    return browser.measure(page, server, path, SERVER_AMPHOE)


def summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for path in SERVER_PAGES:
        page = path or "overview"
        row: dict[str, Any] = {}
        for version in ("before", "after"):
            ok = [r[page][version] for r in rounds if "error" not in r[page][version]]
            row[version] = {key: browser.median([m[key] for m in ok])
                            for key in ("run_seen_ms", "drawn_ms", "script_ms", "server_cpu_ms")}
            row[version]["rounds_ok"] = len(ok)
            row[version]["errors"] = [r[page][version]["error"] for r in rounds
                                      if "error" in r[page][version]]
        for key in ("run_seen_ms", "drawn_ms"):
            before, after = row["before"][key], row["after"][key]
            row[f"{key}_ratio"] = round(after / before, 2) if before and after else None
            paired = [r[page]["after"][key] / r[page]["before"][key] for r in rounds
                      if "error" not in r[page]["before"] and "error" not in r[page]["after"]
                      and r[page]["before"][key]]
            row[f"{key}_paired_ratio"] = round(statistics.median(paired), 2) if paired else None
        summary[page] = row
    return summary


def floor_ratios(rounds: list[dict[str, Any]], summary: dict[str, Any],
                 names: list[str]) -> dict[str, Any]:
    """The floors' medians, and each page's (after) drawn and script time as a multiple of
    the one-metric floor's."""
    out: dict[str, Any] = {}
    for name in names:
        ok = [r["_floors"][name] for r in rounds if "error" not in r["_floors"][name]]
        out[name] = {key: browser.median([m[key] for m in ok])
                     for key in ("run_seen_ms", "drawn_ms", "script_ms")}
    floor = out.get("floor_metric", {})
    for page, row in summary.items():
        after = row["after"]
        out.setdefault("pages", {})[page] = {
            key: round(after[key] / floor[key], 2) if after[key] and floor.get(key) else None
            for key in ("drawn_ms", "script_ms")}
    return out


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| page | before run-seen ms | before drawn ms | after run-seen ms | after drawn ms "
        "| drawn ratio after/before | drawn, median of per-round ratios "
        "| before script ms | after script ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for page, row in results["summary"].items():
        b, a = row["before"], row["after"]
        lines.append(
            f"| {page} | {b['run_seen_ms']} | {b['drawn_ms']} | {a['run_seen_ms']} "
            f"| {a['drawn_ms']} | {row['drawn_ms_ratio']} | {row['drawn_ms_paired_ratio']} "
            f"| {b['script_ms']} | {a['script_ms']} |")
    floors = results.get("floors")
    if floors:
        lines += ["", "| floor or page (after) | drawn ms | script ms | drawn / one-metric floor "
                  "| script / one-metric floor |", "|---|---:|---:|---:|---:|"]
        for name in ("floor_metric", "floor_charts"):
            f = floors[name]
            lines.append(f"| {name} | {f['drawn_ms']} | {f['script_ms']} | | |")
        for page, ratio in floors["pages"].items():
            a = results["summary"][page]["after"]
            lines.append(f"| {page} | {a['drawn_ms']} | {a['script_ms']} "
                         f"| {ratio['drawn_ms']} | {ratio['script_ms']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare")
    parser.add_argument("--before", type=Path, required=True, help="the old checkout")
    parser.add_argument("--after", type=Path, required=True, help="the new checkout")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--markdown", type=Path, help="write the table here")
    parser.add_argument("--floors", action="store_true",
                        help="also measure the floor apps (bench/floor/: one metric; six plain "
                             "charts) of the after checkout, and each page's ratio to them")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"no {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    results: dict[str, Any] = {
        "before": str(args.before.resolve()), "after": str(args.after.resolve()),
        "commits": {}, "rounds": args.rounds, "amphoe": list(SERVER_AMPHOE),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "load_start": uptime()}
    for version in ("before", "after"):
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=getattr(args, version),
                             capture_output=True, text=True, check=False)
        results["commits"][version] = out.stdout.strip() or None
    print(f"load at start: {results['load_start']}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="kusiao_compare_"))
    results["work"] = str(work)
    servers = {"before": Server("before", args.before, work),
               "after": Server("after", args.after, work)}
    floors = {name: Server(name, args.after, work, f"bench/floor/{script}.py")
              for name, script in (("floor_metric", "metric"), ("floor_charts", "charts"))
              } if args.floors else {}
    every = [*servers.values(), *floors.values()]
    rounds: list[dict[str, Any]] = []
    try:
        for server in every:
            server.wait_healthy()
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=["--disable-gpu", "--disable-quic"])
            pages = {name: chromium.new_context(viewport={"width": 1600, "height": 1000})
                     .new_page() for name in (*servers, *floors)}
            results["warm_s"] = {}
            for name, server in {**servers, **floors}.items():  # the first start builds the store
                at = time.perf_counter()
                pages[name].goto(f"{server.base}/")
                pages[name].wait_for_selector(DONE, timeout=600_000)
                results["warm_s"][name] = round(time.perf_counter() - at, 2)
                print(f"{name} warm: {results['warm_s'][name]} s", flush=True)
            for index in range(args.rounds):
                this: dict[str, Any] = {}
                for number, path in enumerate(SERVER_PAGES):
                    order = ["before", "after"] if (index + number) % 2 == 0 \
                        else ["after", "before"]
                    this[path or "overview"] = {"first": order[0]}
                    for name in order:
                        waited = settle(every)
                        figures = measure(pages[name], servers[name], path)
                        figures["settle_s"] = waited
                        this[path or "overview"][name] = figures
                    row = this[path or "overview"]
                    print(f"round {index + 1} {path or 'overview':<11} "
                          + "  ".join(f"{n}: " + (f"seen {row[n]['run_seen_ms']} drawn "
                                                  f"{row[n]['drawn_ms']} script "
                                                  f"{row[n]['script_ms']}"
                                                  if "error" not in row[n]
                                                  else f"ERROR {row[n]['error'][:80]}")
                                      for n in ("before", "after")), flush=True)
                for name, floor in floors.items():
                    settle(every)
                    this.setdefault("_floors", {})[name] = measure(pages[name], floor, "")
                    print(f"round {index + 1} {name}: {this['_floors'][name]}", flush=True)
                rounds.append(this)
            chromium.close()
    finally:
        for server in every:
            server.stop()
    results["load_end"] = uptime()
    results["total_s"] = round(time.perf_counter() - started, 1)
    results["by_round"] = rounds
    results["summary"] = summarise(rounds)
    if floors:
        results["floors"] = floor_ratios(rounds, results["summary"], list(floors))
    table = markdown(results)
    print(f"load at end: {results['load_end']}")
    print(table)
    print(f"{args.rounds} rounds in {results['total_s']} s; server logs in {work}")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.markdown:
        args.markdown.write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
