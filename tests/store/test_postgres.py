"""The same figures on PostgreSQL as on DuckDB, and several servers on one PostgreSQL store.

The tests use a real server: ``KUSIAO_TEST_PG_URL`` (default
``postgresql://kusiao:kusiao@127.0.0.1:5432/kusiao_test``; the role needs CREATEDB). Each test
session makes its own databases and drops them at the end. Without a reachable server the
tests are skipped, except under CI (``CI`` set), where they fail: ``.ci/run`` starts one.

- Parity of stores: the hand-made programme and the demo files imported into both engines
  give the same tables: names, column types, values and rows.
- Parity of pages: every query a page reads, under 20 filter sets, gives the same values,
  dtypes and row order on both engines.
- Undo, and two imports at once (one waits for the other; nothing is lost or mixed).
- Two dashboard servers on one database: ``tests/e2e/test_two_servers.py``.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest

from dashboard.queries import (
    climb,
    coverage,
    followup,
    forecast,
    geo,
    households,
    outcomes,
    overview,
    quality,
)
from dashboard.store.privacy import Viewer
from domain.definitions import load_definitions
from domain.filters import Filters
from loaders import cases
from loaders.bootstrap import ensure_store
from loaders.cases import CaseConflict
from loaders.contracts import DATASETS, IMPORT_ORDER
from loaders.importer import import_file, import_files, undo_last_import
from loaders.store import Store, StoreBusyError
from tests.conftest import ROOT, build_store
from tests.factories import tiny_frames, write_csvs
from tests.followup_factories import EXPECTED, PLANTED_CASES, TODAY, followup_frames

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="session")
def pg_tiny(pg_database: Callable[[str], str],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("pg_tiny")  # as tests/conftest.py builds it
    store = build_store(folder, write_csvs(tiny_frames(), folder / "files"), pg_database("tiny"))
    yield store
    store.close()


@pytest.fixture(scope="session")
def pg_demo(pg_database: Callable[[str], str],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store.open(pg_database("demo"), store_dir=tmp_path_factory.mktemp("pg_demo"))
    assert len(ensure_store(store)) == len(IMPORT_ORDER)
    yield store
    store.close()


@pytest.fixture(scope="session")
def duck_demo(demo_store_dir: Path) -> Iterator[Store]:
    store = Store.open(f"duckdb://{demo_store_dir / 'store.duckdb'}", store_dir=demo_store_dir)
    yield store
    store.close()


# --- comparing ---------------------------------------------------------------------------

# the order every table is compared in: its key first, then every other column
TABLE_KEYS: dict[str, list[str]] = {d.table: list(d.key) for d in DATASETS.values()} | {
    "import_log": ["import_id"],
    "import_warning": ["import_id", "file_row", "file_column"],
    "meta": ["key"],
    "visit_status": ["visit_id"],
    "quarter_calendar": ["q_idx"],
    "status_quarter": ["q_idx", "household_id"],
    "official_quarter": ["q_idx", "official_id"],
    "unpaired_quarter": ["q_idx", "household_id"],
    "quality_finding": ["check", "household_id", "visit_id", "q_idx"],
    "quality_completeness": ["q_idx", "amphoe_code", "tambon_code", "agency_code", "level"],
    "quality_round": ["q_idx"],
    "need_noted": ["household_id", "need"],
    "help_delivered": ["household_id", "type"],
}
# what differs by nature between two imports of the same files: when, and where the raw file
# was kept (and in meta, the time of the first import and the random data version)
NOT_COMPARED = {"import_log": {"imported_at", "raw_path"}}


def _table_frame(store: Store, name: str) -> pd.DataFrame:
    table = store.table(name)
    if name == "meta":  # the same keys; of the values, only the definitions' fingerprint is
        # not a time or a random version
        table = table.mutate(value=(table.key == "definitions").ifelse(table.value, None))
    keys = [k for k in TABLE_KEYS.get(name, []) if k in table.columns]
    order = keys + [c for c in table.columns if c not in keys]
    frame = table.order_by(order).execute()
    return frame.drop(columns=sorted(NOT_COMPARED.get(name, set()) & set(frame.columns)))


KEPT_APART = frozenset({"audit_log", "app_user", "followup_case", "followup_case_history"})
"""Tables no import writes (users and the audit log): other tests' sessions add to the shared
demo store's, so only their names and types are compared here."""


def _compare_stores(duck: Store, pg: Store) -> list[str]:
    """Every table of both stores: the same names, types, rows and values."""
    assert duck.table_names() == pg.table_names()
    compared = []
    for name in sorted(duck.table_names()):
        left_schema, right_schema = duck.table(name).schema(), pg.table(name).schema()
        assert left_schema == right_schema, (name, [
            (c, t, right_schema.get(c)) for c, t in left_schema.items()
            if right_schema.get(c) != t])
        compared.append(name)
        if name in KEPT_APART:
            continue  # what sessions did on the shared demo store, not what was imported
        left, right = _table_frame(duck, name), _table_frame(pg, name)
        pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=1e-9,
                                      obj=f"table {name}")
    return compared


def assert_same(left: Any, right: Any, where: str) -> None:
    """Query results equal in values, dtypes and row order (frames), field by field
    (dataclasses), item by item (tuples, lists, dicts); floats to 1e-9."""
    if isinstance(left, pd.DataFrame):
        assert isinstance(right, pd.DataFrame), where
        pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=1e-9, obj=where)
    elif isinstance(left, pd.Series):
        pd.testing.assert_series_equal(left, right, check_exact=False, rtol=1e-9, obj=where)
    elif dataclasses.is_dataclass(left) and not isinstance(left, type):
        assert type(left) is type(right), where
        for f in dataclasses.fields(left):
            assert_same(getattr(left, f.name), getattr(right, f.name), f"{where}.{f.name}")
    elif isinstance(left, tuple | list):
        assert type(left) is type(right) and len(left) == len(right), where
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(left, dict):
        assert left.keys() == right.keys(), where
        for key in left:
            assert_same(left[key], right[key], f"{where}[{key!r}]")
    elif isinstance(left, float | np.floating) and not pd.isna(left):
        assert type(left) is type(right) and np.isclose(left, right, rtol=1e-9), (
            where, left, right)
    else:
        assert type(left) is type(right), (where, type(left), type(right))
        assert (pd.isna(left) and pd.isna(right)) if pd.api.types.is_scalar(left) and pd.isna(
            left) else left == right, (where, left, right)


# --- parity of stores --------------------------------------------------------------------


def test_tiny_import_gives_the_same_tables(tiny_template: Path, pg_tiny: Store) -> None:
    duck = Store.open(f"duckdb://{tiny_template / 'store.duckdb'}", store_dir=tiny_template)
    try:
        compared = _compare_stores(duck, pg_tiny)
    finally:
        duck.close()
    assert {"household", "visit", "visit_status", "status_quarter", "quality_finding",
            "import_log"} <= set(compared)
    assert pg_tiny.count("visit") > 0 and pg_tiny.count("quality_finding") > 0


def test_demo_import_gives_the_same_tables(duck_demo: Store, pg_demo: Store) -> None:
    compared = _compare_stores(duck_demo, pg_demo)
    assert len(compared) == len(duck_demo.table_names())
    assert pg_demo.count("household") == duck_demo.count("household") > 1000


# --- parity of pages ---------------------------------------------------------------------

OFFICER = Viewer(role="officer")
ANALYST = Viewer(role="analyst")


def filter_sets(con: Any) -> list[Filters]:
    """12 filter sets over the demo data: none; each filter alone (an amphoe, a tambon, an
    agency, the first quarter, the lowest level, a user's area of amphoe); combinations
    (amphoe, past quarter and two levels; agency, quarter, a level and an area of agencies;
    tambon, two levels and an area of amphoe; amphoe, agency and quarter); and a set that
    matches no household."""
    from dashboard.queries.status import choices

    offered = choices(con)
    quarters = offered.quarters
    tambons = [offered.tambon_of[a][0] for a in ("4001", "4012")]
    agencies = list(offered.agency[:3])
    return [
        Filters(),
        Filters(amphoe="4005"),
        Filters(amphoe="4001", tambon=tambons[0]),
        Filters(agency=agencies[0]),
        Filters(quarter=quarters[0]),
        Filters(levels=(0,)),
        Filters(within_amphoe=("4005", "4012")),  # a user's area
        Filters(amphoe="4005", quarter=quarters[-3], levels=(2, 3)),
        Filters(agency=agencies[1], quarter=quarters[len(quarters) // 2], levels=(1,),
                within_agency=tuple(agencies[:2])),
        Filters(amphoe="4012", tambon=tambons[1], levels=(0, 1),
                within_amphoe=("4005", "4012")),
        Filters(amphoe="4029", agency=agencies[2], quarter=quarters[-2]),
        Filters(amphoe="4001", tambon=offered.tambon_of["4005"][0]),  # matches nothing
    ]


def page_queries(index: int, f: Filters, defs: Any) -> list[tuple[str, Callable[..., Any],
                                                                   tuple, dict]]:
    """Every query the pages read, with the arguments they pass; the choices a page offers
    (periods, sorting, income and recency filters, comparison by) rotate over the sets."""
    period = outcomes.PERIODS[index % len(outcomes.PERIODS)]
    sort = households.SORTS[index % len(households.SORTS)]
    income = households.INCOME_FILTERS[index % len(households.INCOME_FILTERS)]
    recency = households.RECENCY_FILTERS[(index // 2) % len(households.RECENCY_FILTERS)]
    by = ("amphoe_code", "agency_code")[index % 2]
    place = "tambon_code" if f.amphoe else "amphoe_code"
    return [
        ("overview_kpis", overview.overview_kpis, (f, defs), {}),
        ("target_trend", overview.target_trend, (f, defs), {}),
        ("place_summary", overview.place_summary, (f, defs), {"by": place}),
        ("process_funnel", overview.process_funnel, (f, defs), {}),
        ("coverage_counts", coverage.coverage_counts, (f, defs), {}),
        ("caseload_check", coverage.caseload_check, (f,), {}),
        ("league_and_overdue", coverage.league_and_overdue, (f, defs), {"level": 2}),
        ("overdue_officials", coverage.overdue_officials, (f, defs), {}),
        ("quality_report", quality.quality_report, (f, defs), {}),
        ("household_table", households.household_table, (f, defs),
         {"viewer": OFFICER if index % 2 else ANALYST, "sort": sort, "income": income,
          "recency": recency, "search": "" if index % 3 else "40"}),
        ("map_place_values", geo.map_place_values, (f, defs), {}),
        ("map_place_values tambon", geo.map_place_values, (f, defs), {"by": "tambon_code"}),
        ("map_points", geo.map_points, (f,), {}),
        ("map_cells", geo.map_cells, (f,), {"cell_m": (2000, 5000)[index % 2]}),
        ("level_trend", outcomes.level_trend, (f, defs), {"period": period}),
        ("transitions", outcomes.transitions, (f,), {}),
        ("income_medians", outcomes.income_medians, (f,), {}),
        ("income_histogram", outcomes.income_histogram, (f,), {"cap": outcomes.INCOME_CAP}),
        ("dimension_deprivation", outcomes.dimension_deprivation, (f, defs), {}),
        ("gap_counts", outcomes.gap_counts, (f,), {}),
        ("group_comparison", outcomes.group_comparison, (f, defs), {"by": by, "level": 2}),
        ("followup_list", followup.followup_list, (f, defs),
         {"viewer": OFFICER if index % 2 else ANALYST, "today": TODAY}),
        ("reason_counts", followup.reason_counts, (f, defs, TODAY), {}),
        ("ladder_forecast", forecast.ladder_forecast, (f, defs), {}),
        ("climb_after_help", climb.climb_after_help, (f, defs), {}),
    ]


DERIVED: dict[Callable[..., Any], dict[str, Callable[[Any], Any]]] = {
    coverage.coverage_counts: {
        "coverage_matrix": coverage.matrix_of,
        "recency_bands place": lambda counts: coverage.bands_of(counts, counts.place),
        "recency_bands agency": lambda counts: coverage.bands_of(counts, "agency_code"),
    },
}
"""Page reads made in pandas from another read's result (the Coverage page's matrix and
recency bands, the Agencies page's bands): compared as made from each engine's result,
without reading the same counts from the engines three times over."""

FILTER_SETS = 12
"""How many filter sets every page query is compared under (one test each, so that the
test workers share them). Each set costs both engines about 2 s of Ibis compiling: the sets
are every filter alone and in the combinations that meet in one query (place with agency,
quarter with levels, the areas with the filters they narrow), not every pair. (There were
20: eight more single filters and pairs, each a condition the kept sets already put into
the same queries, in the same place; they cost the suite about 19 s.)"""


def test_the_filter_sets_reach_data(duck_demo: Store) -> None:
    sets = filter_sets(duck_demo.con)
    assert len(sets) == FILTER_SETS
    # every filter with others, and alone (a tambon with its amphoe only; an area of
    # agencies only with the agency filter's other settings)
    shapes = [{h.name for h in dataclasses.fields(Filters) if getattr(f, h.name)}
              for f in sets]
    for name in (h.name for h in dataclasses.fields(Filters)):
        alone = {"tambon": {"amphoe", "tambon"}}.get(name, {name})
        assert name == "within_agency" or alone in shapes, name
        assert any(name in shape and len(shape) > len(alone) for shape in shapes), name
    # every choice a page offers turns up: periods, sorts, income and recency filters
    offered = [page_queries(i, f, load_definitions()) for i, f in enumerate(sets)]
    assert set(DERIVED) <= {query for _, query, _, _ in offered[0]}  # each compared
    for query, option, values in (
            ("level_trend", "period", outcomes.PERIODS), ("household_table", "sort",
                                                          households.SORTS),
            ("household_table", "income", households.INCOME_FILTERS),
            ("household_table", "recency", households.RECENCY_FILTERS)):
        assert {kwargs[option] for queries in offered for name, _, _, kwargs in queries
                if name == query} == set(values), option
    counts = [overview.overview_kpis(duck_demo.con, f, load_definitions()).households
              for f in sets]
    assert sum(n > 0 for n in counts) >= FILTER_SETS - 1 and counts[-1] == 0


@pytest.mark.parametrize("index", range(FILTER_SETS))
def test_every_page_query_gives_the_same_results(duck_demo: Store, pg_demo: Store,
                                                 index: int) -> None:
    defs = load_definitions()
    f = filter_sets(duck_demo.con)[index]
    for name, query, args, kwargs in page_queries(index, f, defs):
        left = query(duck_demo.con, *args, **kwargs)
        right = query(pg_demo.con, *args, **kwargs)
        assert_same(left, right, f"{name} under {f}")
        for derived, made in DERIVED.get(query, {}).items():  # what pages make of it
            assert_same(made(left), made(right), f"{derived} under {f}")


def test_household_profiles_are_the_same(duck_demo: Store, pg_demo: Store) -> None:
    """A household's profile (the shared filters do not apply to it)."""
    defs = load_definitions()
    some = duck_demo.table("household").order_by("household_id").household_id.execute()
    for household_id in some.iloc[[0, 7, 500, -1]]:
        for viewer in (OFFICER, ANALYST):
            left = households.household_profile(duck_demo.con, Filters(), defs,
                                                household_id=household_id, viewer=viewer)
            right = households.household_profile(pg_demo.con, Filters(), defs,
                                                 household_id=household_id, viewer=viewer)
            assert left is not None
            assert_same(left, right, f"household_profile {household_id}")


# --- undo, and two imports at once ------------------------------------------------------


def _new_households(folder: Path, first: int, count: int) -> Path:
    from tests.factories import household

    frame = pd.DataFrame([household(f"H{n}", "4005", "400501")
                          for n in range(first, first + count)])
    return write_csvs({"households": frame}, folder)["households"]


def _snapshot(store: Store) -> dict[str, pd.DataFrame]:
    return {name: _table_frame(store, name) for name in sorted(store.table_names())}


def test_undo_on_postgres_puts_every_table_back(pg_tiny: Store, tmp_path: Path) -> None:
    before = _snapshot(pg_tiny)
    changed = pd.DataFrame([{**tiny_frames()["households"].iloc[0].to_dict(), "members": 9}])
    files = write_csvs({"households": pd.concat([
        changed, pd.read_csv(_new_households(tmp_path / "new", 900, 2), dtype=str)])},
        tmp_path / "files")
    report = import_file(pg_tiny, files["households"], "households", imported_by="test")
    assert report.committed and (report.rows_inserted, report.rows_updated) == (2, 1)
    assert pg_tiny.count("household") == len(before["household"]) + 2
    result = undo_last_import(pg_tiny, "test")
    assert result is not None and (result.rows_removed, result.rows_restored) == (3, 1)
    after = _snapshot(pg_tiny)
    assert after.keys() == before.keys()
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name], obj=f"table {name} after undo")


def test_follow_up_on_postgres_finds_the_planted_reasons_and_refuses_a_stale_save(
        pg_database: Callable[[str], str], tmp_path: Path) -> None:
    """The hand-made programme of tests/followup_factories.py on both engines: the same
    list; and two connections (two servers) editing one case: the second is refused."""
    url = pg_database("cases")
    files = write_csvs(followup_frames(), tmp_path / "files")
    first = Store.open(url, store_dir=tmp_path / "a")
    duck = Store.open(f"duckdb://{tmp_path / 'd' / 'store.duckdb'}", store_dir=tmp_path / "d")
    second = Store.open(url, store_dir=tmp_path / "b")
    try:
        for store in (first, duck):
            import_files(store, files, imported_by="test")
            for case in PLANTED_CASES:
                cases.save_case(store, case, 0, "test")
        defs = load_definitions()
        listed = followup.followup_list(second.con, Filters(), defs, OFFICER, TODAY)
        assert dict(zip(listed.rows["household_id"], listed.rows["reasons"],
                        strict=True)) == EXPECTED
        assert_same(followup.followup_list(duck.con, Filters(), defs, OFFICER, TODAY),
                    listed, "followup_list")
        read = cases.read_case(second, "F6")
        assert read is not None and read.version == 1
        cases.save_case(first, dataclasses.replace(read, status="resolved"), 1, "first")
        with pytest.raises(CaseConflict) as conflict:
            cases.save_case(second, dataclasses.replace(read, note="stale"), 1, "second")
        assert (conflict.value.current.status, conflict.value.current.changed_by) == (
            "resolved", "first")
        assert cases.read_case(first, "F6").note == read.note
        assert len(cases.case_history(second, "F6")) == 2
    finally:
        for store in (first, second, duck):
            store.close()


@pytest.fixture
def two_connections(pg_database: Callable[[str], str], tmp_path: Path
                    ) -> Iterator[tuple[Store, Store]]:
    url = pg_database("locks")
    first = Store.open(url, store_dir=tmp_path / "a")
    import_files(first, write_csvs(tiny_frames(), tmp_path / "files"), imported_by="test")
    second = Store.open(url, store_dir=tmp_path / "b")
    yield first, second
    first.close()
    second.close()


def test_a_second_import_waits_for_the_first_and_neither_is_lost(
        two_connections: tuple[Store, Store], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = two_connections
    log_before = first.count("import_log")
    held, release = threading.Event(), threading.Event()
    reports: dict[str, Any] = {}

    def slow_import() -> None:
        with first.write_lock():  # the first import holds the store ...
            held.set()
            release.wait(10)
            reports["first"] = import_file(first, _new_households(tmp_path / "x", 910, 3),
                                           "households", imported_by="first")

    thread = threading.Thread(target=slow_import)
    thread.start()
    assert held.wait(10)
    # ... a second one is refused after the wait it is allowed, and writes nothing
    monkeypatch.setenv("KUSIAO_STORE_LOCK_WAIT", "0.3")
    with pytest.raises(StoreBusyError, match="another import or undo"):
        import_file(second, _new_households(tmp_path / "y", 920, 2), "households",
                    imported_by="second")
    assert second.count("import_log") == log_before
    # with a longer wait it goes in after the first, whole
    monkeypatch.setenv("KUSIAO_STORE_LOCK_WAIT", "30")
    timer = threading.Timer(0.5, release.set)
    timer.start()
    started = time.perf_counter()
    reports["second"] = import_file(second, _new_households(tmp_path / "y", 920, 2),
                                    "households", imported_by="second")
    waited = time.perf_counter() - started
    thread.join(10)
    assert reports["first"].committed and reports["second"].committed
    assert waited >= 0.4
    log = second.table("import_log").order_by("import_id").execute()
    assert log["imported_by"].tolist()[-2:] == ["first", "second"]
    first_id, second_id = log["import_id"].tolist()[-2:]
    rows = second.table("household").filter(
        second.table("household").household_id.isin(
            [f"H{n}" for n in (910, 911, 912, 920, 921)])).execute()
    by_import = rows.groupby("_import_id")["household_id"].apply(sorted).to_dict()
    assert by_import == {first_id: ["H910", "H911", "H912"], second_id: ["H920", "H921"]}


# --- a store that cannot be opened: a message, never a traceback ---------------------------


@pytest.mark.parametrize("url", ["mysql://kusiao@dbhost/kusiao",
                                 "postgresql://kusiao:secret@127.0.0.1:1/kusiao"])
def test_a_store_that_cannot_be_opened_gives_a_message(url: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from dashboard import store

    monkeypatch.setenv("KUSIAO_STORE_URL", url)
    monkeypatch.setenv("KUSIAO_STORE_DIR", str(tmp_path))
    store.close()
    try:
        at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run()
        assert not at.exception
        assert len(at.error) == 1 and "KUSIAO_STORE_URL" in at.error[0].value
        assert "secret" not in at.error[0].value  # the password is never shown
    finally:
        store.close()
    cli = subprocess.run([sys.executable, "-m", "loaders", "--lang", "en", "undo"], cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                         text=True, timeout=60)
    assert cli.returncode == 2 and "Traceback" not in cli.stderr
    assert "cannot open the store" in cli.stderr and "secret" not in cli.stderr


def test_saved_mappings_and_house_codes_on_postgres(pg_database: Callable[[str], str],
                                                     tmp_path: Path) -> None:
    """An office's export with headers mapped once, saved by one server and found by the
    other; households known only by their house codes, and their visits named by code."""
    from loaders.mappings import checked_mapping, list_mappings, save_mapping
    from tests.loaders.test_header_mapping import BY_HAND, CODES, FIXTURES, UNSURE

    url = pg_database("houses")
    folder = tmp_path / "a"
    first = build_store(folder, write_csvs(tiny_frames(), folder / "files"), url)
    second = Store.open(url, store_dir=tmp_path / "b")
    try:
        save_mapping(first, checked_mapping("ชุมแพ", "households", BY_HAND), "officer")
        assert [m.name for m in list_mappings(second)] == ["ชุมแพ"]
        report = import_file(second, UNSURE, "households")
        assert report.committed and report.headers.saved_name == "ชุมแพ"
        reports = import_files(second, {"visits": FIXTURES / "visits_by_house_code.csv"})
        assert reports[0].committed, [(i.row, i.reason_key) for i in reports[0].errors]
        ids = dict(first.execute(
            "SELECT house_code, household_id FROM household WHERE house_code IS NOT NULL"))
        assert sorted(ids) == list(CODES) and all(h.startswith("HC") for h in ids.values())
        visited = dict(first.execute(
            "SELECT visit_id, household_id FROM visit WHERE visit_id LIKE 'VC%'"))
        assert visited == {"VC1": ids[CODES[0]], "VC2": ids[CODES[1]], "VC3": ids[CODES[2]]}
        twice = import_file(first, FIXTURES / "households_house_code_twice.csv", "households")
        assert [(i.row, i.reason_key) for i in twice.errors] == [(5, "duplicate_house_code")]
    finally:
        first.close()
        second.close()


class _Abandon(Exception):
    pass


def test_a_rebuild_leaves_the_tables_in_use_readable_until_it_commits(
        pg_database: Callable[[str], str], tmp_path: Path) -> None:
    """Two servers on one store: while one rebuilds a derived table (as every import does,
    for a quarter of an hour at a million households), the other reads the table in use
    without waiting; a rebuild that fails leaves it as it was; one that commits replaces it,
    indexes included, and leaves nothing of the build behind."""
    url = pg_database("aside")
    writer = build_store(tmp_path / "a", write_csvs(tiny_frames(), tmp_path / "files"), url)
    reader = Store.open(url, store_dir=tmp_path / "b")
    try:
        rows = reader.count("status_quarter")
        assert rows > 1
        reader.execute("SET lock_timeout = '2s'")  # waiting longer fails the test

        def rebuild_to_one_row() -> None:
            with writer.building_aside():
                one = writer.table("household").select(
                    "household_id", "amphoe_code", q_idx=ibis.literal(25654, "int64")).limit(1)
                writer.replace_table_from_expr("status_quarter", one)
                writer.index_for_reads("status_quarter", ("q_idx", "amphoe_code"))
                assert writer.count("status_quarter") == 1  # the build sees its own table
                assert reader.count("status_quarter") == rows  # the reader, the one in use

        with pytest.raises(_Abandon), writer.transaction():
            rebuild_to_one_row()
            raise _Abandon
        assert reader.count("status_quarter") == rows
        with writer.transaction():
            rebuild_to_one_row()
        assert reader.count("status_quarter") == 1
        assert reader.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'kusiao_build'") == [(0,)]
        assert reader.execute("SELECT schemaname FROM pg_indexes "
                              "WHERE indexname = 'status_quarter__reads'") == [("public",)]
    finally:
        reader.close()
        writer.close()
