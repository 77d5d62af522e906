"""Does one user's upload stall the others? Another session's page load, in Chromium through a
real server, alone and while the Import page checks a large file in a first session.

``python -m bench.stall [--rows 200000] [--rounds 5]``: starts the dashboard on a store built
from the demo files, writes a households CSV of ``--rows`` rows (the demo's households copied
with fresh IDs), then, round by round, times the Overview's load in a second browser tab
(navigation to the page drawn) alone, and again just after the first tab has handed the file to
the Import page (its check runs while the second page loads). Prints both medians and their
ratio; the target is at most 2x.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import pandas as pd

from bench.run import ROOT, _env
from bench.scale import citizen_ids
from loaders.demo import generate

DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as response:
            return response.read() == b"ok"
    except OSError:
        return False


def households_file(folder: Path, rows: int) -> Path:
    """A households CSV of ``rows`` rows: the demo's households again and again, fresh IDs."""
    demo = generate()["households"]
    copies = -(-rows // len(demo))
    frame = pd.concat([demo] * copies, ignore_index=True).head(rows)
    frame["household_id"] = [f"BIG-{i:07d}" for i in range(len(frame))]
    frame["head_citizen_id"] = citizen_ids(5_000_000, len(frame))
    frame["house_code"] = None
    path = folder / "households_big.csv"
    frame.to_csv(path, index=False)
    return path


def load_time(browser: Any, base: str) -> float:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        started = time.perf_counter()
        page.goto(base + "/")
        page.wait_for_selector(DONE, timeout=300_000)
        page.locator('[data-testid="stMetric"]').first.wait_for(timeout=300_000)
        return time.perf_counter() - started
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stall")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big = households_file(folder, args.rows)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port",
             str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=_env(folder / "store"), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            while not healthy(base):
                time.sleep(0.2)
            alone: list[float] = []
            during: list[float] = []
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                            args=CHROMIUM_ARGS)
                load_time(browser, base)  # builds the store and warms the server
                for _ in range(args.rounds):
                    alone.append(load_time(browser, base))
                    uploader = browser.new_context(viewport={"width": 1280, "height": 800})
                    page = uploader.new_page()
                    page.goto(base + "/import")
                    page.wait_for_selector(DONE, timeout=300_000)
                    page.locator('input[type="file"]').set_input_files(str(big))
                    page.wait_for_timeout(500)  # the upload arrives; the check begins
                    during.append(load_time(browser, base))
                    uploader.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    result = {"rows": args.rows, "rounds": args.rounds,
              "alone_s": round(statistics.median(alone), 3),
              "during_upload_s": round(statistics.median(during), 3)}
    result["ratio"] = round(result["during_upload_s"] / result["alone_s"], 2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
