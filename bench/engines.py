"""Both engines at both scales, side by side, from the benchmark's last results.

    python -m bench.engines            # a Markdown table on standard output

Reads ``bench/results.json`` (DuckDB) and ``bench/results_postgres.json`` (PostgreSQL), each
written by ``python -m bench.run [--store postgresql://...]``, and prints per scale: the
import, each page's first render (AppTest, empty caches), each page's filter change as the
user waits for it (key press to page drawn, Chromium through a real server, median of the
rounds) and the peak memory of the pages' process; the PostgreSQL targets at a million
households beside them, each marked met or missed. Nothing is measured here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.run import RESULTS, RESULTS_POSTGRES, SERVER_PAGES

PAGES = ("overview", "map", "coverage", "outcomes", "households", "followup", "agencies",
         "quality", "present")
SCALES = (("small", "1,174"), ("large", "1,000,000"))
TARGETS = {"import_s": 180.0, "drawn_ms": 1500.0, "peak_memory_mb": 1024.0}
"""PostgreSQL at a million households: import, a filter change drawn, the pages' process."""


def _load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def _figures(result: dict[str, Any] | None, scale: str) -> dict[str, Any]:
    """One engine at one scale: {row name: value or None}."""
    if result is None or scale not in result.get("scales", {}):
        return {}
    run = result["scales"][scale]
    pages, changes = run.get("pages", {}), run.get("server", {}).get("filter_change", {})
    rows: dict[str, Any] = {"import_s": run["build"]["import_s"],
                            "peak_memory_mb": pages.get("_peak_memory_mb"),
                            "first_load_s": run.get("server", {}).get("first_load_s")}
    for page in PAGES:
        figures = pages.get(page, {})
        rows[f"first {page}"] = figures.get("first_render_s")
    for path in SERVER_PAGES:
        label = path or "overview"
        rows[f"drawn {label}"] = changes.get(label, {}).get("drawn_ms")
    return rows


def _cell(value: Any, target: float | None = None) -> str:
    if value is None:
        return "–"
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}".rstrip("0").rstrip(".")
    if target is not None:
        text += " ✓" if value <= target else " ✗"
    return text


def _target(row: str) -> float | None:
    if row.startswith("drawn "):
        return TARGETS["drawn_ms"]
    return TARGETS.get(row)


LABELS = {"import_s": "import, s", "peak_memory_mb": "peak memory of the pages' process, MB",
          "first_load_s": "first page load in Chromium, s"}


def table(duckdb: dict[str, Any] | None, postgres: dict[str, Any] | None) -> str:
    columns = [(engine, scale, label, _figures(result, scale))
               for scale, label in SCALES
               for engine, result in (("DuckDB", duckdb), ("PostgreSQL", postgres))]
    names = list(dict.fromkeys(name for *_, rows in columns for name in rows))
    lines = ["| | " + " | ".join(f"{engine} {label}" for engine, _, label, _ in columns)
             + " | PostgreSQL 1,000,000 target |",
             "|---|" + "---:|" * (len(columns) + 1)]
    for name in names:
        target = _target(name)
        cells = [_cell(rows.get(name), target if (engine, scale) == ("PostgreSQL", "large")
                       else None) for engine, scale, _, rows in columns]
        kind, _, page = name.partition(" ")
        label = LABELS.get(name) or (f"{page}: first render, s" if kind == "first"
                                     else f"{page}: filter change drawn, ms")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {_cell(target)} |")
    dates = {engine: (result or {}).get("date", "–") for engine, result in
             (("DuckDB", duckdb), ("PostgreSQL", postgres))}
    lines.append("")
    lines.append(f"Runs: DuckDB {dates['DuckDB']}, PostgreSQL {dates['PostgreSQL']}; "
                 "– = not measured in that run.")
    return "\n".join(lines)


def main() -> int:
    print(table(_load(RESULTS), _load(RESULTS_POSTGRES)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
