"""The benchmark's side-by-side table of both engines: the figures of each run in their own
column, the PostgreSQL targets at a million households marked met or missed, and a run that
did not measure something shown as not measured, never as zero."""

from bench.engines import table


def _run(import_s: float, drawn_overview: int, memory: int, first: float) -> dict:
    return {"households": 0,
            "build": {"import_s": import_s},
            "pages": {"_peak_memory_mb": memory, "overview": {"first_render_s": first}},
            "server": {"first_load_s": 3.0,
                       "filter_change": {"overview": {"drawn_ms": drawn_overview}}}}


def test_both_engines_at_both_scales_with_the_targets_marked() -> None:
    duckdb = {"date": "2026-12-01", "scales": {"small": _run(2.6, 600, 400, 0.2),
                                                "large": _run(200.0, 900, 840, 0.98)}}
    postgres = {"date": "2026-12-06", "scales": {"small": _run(2.8, 700, 250, 0.24),
                                                  "large": _run(950.0, 1400, 1100, 2.5)}}
    lines = table(duckdb, postgres).splitlines()
    header = lines[0].split(" | ")
    assert header[1:5] == ["DuckDB 1,174", "PostgreSQL 1,174", "DuckDB 1,000,000",
                           "PostgreSQL 1,000,000"]
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ")[1:] for line in lines[2:]
            if line.startswith("| ")}
    assert rows["import, s"] == ["2.6", "2.8", "200", "950 ✗", "180 |"]
    assert rows["overview: filter change drawn, ms"] == ["600", "700", "900", "1,400 ✓",
                                                         "1,500 |"]
    assert rows["peak memory of the pages' process, MB"][3] == "1,100 ✗"
    assert rows["overview: first render, s"] == ["0.2", "0.24", "0.98", "2.5", "– |"]
    # a page the runs did not measure
    assert rows["map: filter change drawn, ms"][:4] == ["–"] * 4
    assert "DuckDB 2026-12-01, PostgreSQL 2026-12-06" in lines[-1]


def test_a_missing_run_leaves_its_columns_empty() -> None:
    duckdb = {"date": "2026-12-01", "scales": {"small": _run(2.6, 600, 400, 0.2)}}
    rows = [line.split(" | ") for line in table(duckdb, None).splitlines()[2:]
            if line.startswith("| import")]
    assert rows[0][1:5] == ["2.6", "–", "–", "–"]
