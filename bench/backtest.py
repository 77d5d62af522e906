"""Back-test of the ladder forecast: both methods' error, on the demo programme and on a
second synthetic programme that improves at half its pace.

    python -m bench.backtest            # prints the table for docs/forecast.md

For each programme: build a store from the generated files through the importer, then, from
every quarter with a full window behind it, forecast 2 and 4 quarters ahead by the quarterly
transition rates and by the linear trend, and compare with what the data show then (mean
absolute error in percentage points, for the province and over the amphoe). The definitions
file's ``[forecast]`` settings apply.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from dashboard.queries.forecast import backtest, level_counts, level_moves
from domain.definitions import load_definitions
from domain.filters import Filters
from loaders.bootstrap import ensure_store
from loaders.demo import DEFAULT_SEED, write_demo
from loaders.store import Store

PROGRAMMES = (("demo (pace 1)", 1.0), ("slower programme (pace 0.5)", 0.5))


def programme_errors(pace: float, folder: Path) -> pd.DataFrame:
    write_demo(folder / "files", DEFAULT_SEED, pace)
    store = Store.open(f"duckdb://{folder / 'store.duckdb'}", store_dir=folder)
    try:
        ensure_store(store, folder / "files")
        definitions = load_definitions()
        return backtest(level_counts(store.con, Filters()), level_moves(store.con, Filters()),
                        definitions)
    finally:
        store.close()


def table(results: dict[str, pd.DataFrame]) -> str:
    """A markdown table: programme, horizon, scope, then each method's error."""
    lines = ["| programme | quarters ahead | where | transitions (pp) | linear trend (pp) "
             "| forecasts compared |", "|---|---|---|---|---|---|"]
    for name, errors in results.items():
        wide = errors.pivot_table(index=["horizon", "scope"], columns="method",
                                  values="error_pp").reset_index()
        counts = errors.groupby(["horizon", "scope"])["forecasts"].first()
        for row in wide.sort_values(["horizon", "scope"], ascending=[True, False]).itertuples():
            scope = "province" if row.scope == "whole" else "amphoe"
            lines.append(f"| {name} | {row.horizon} | {scope} | {row.transitions:.1f} "
                         f"| {row.linear:.1f} | {counts[(row.horizon, row.scope)]:,} |")
    return "\n".join(lines)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    results = {}
    for name, pace in PROGRAMMES:
        with tempfile.TemporaryDirectory() as folder:
            results[name] = programme_errors(pace, Path(folder))
    print(table(results))


if __name__ == "__main__":
    main()
