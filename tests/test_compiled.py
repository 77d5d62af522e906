"""Page queries built and compiled once per shape give the same answers as made afresh."""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd
import pytest

from dashboard import compiled, memo, metrics, store_access
from dashboard.definitions import load_definitions
from dashboard.filters import Filters
from dashboard.privacy import Viewer
from loaders.store import Store

PARAMS = {
    "household_table": {"viewer": Viewer(role="analyst")},
    "household_profile": {"household_id": "KK-4001-0001", "viewer": Viewer(role="officer")},
    "map_cells": {"cell_m": 5000},
    "recency_bands": {"by": "agency_code"},
    "group_comparison": {"by": "agency_code", "level": 3},
}


def _function(name: str):
    return next(getattr(m, name) for m in store_access.QUERY_MODULES if hasattr(m, name))


DEFINITIONS = load_definitions()
"""One object, as in the app (a builder's kept expressions are keyed by the definitions'
identity: a new object each call would build afresh and hide a builder reading a filter's
value as a plain value)."""


def _answer(name: str, con, filters: Filters):
    function = _function(name)
    kwargs = dict(PARAMS.get(name, {}))
    if "definitions" in function.__code__.co_varnames:
        kwargs["definitions"] = DEFINITIONS
    with compiled.reading(con, filters):
        return function(con, filters, **kwargs)


@pytest.fixture(scope="module")
def demo(demo_store_dir: Path):
    store = Store.open(f"duckdb://{demo_store_dir / 'store.duckdb'}", store_dir=demo_store_dir)
    yield store
    store.close()


def _filter_sets(store: Store) -> list[Filters]:
    quarters = sorted(int(q) for q in store.table("quarter_calendar").q_idx.execute())
    now = store.table("status_quarter").filter(lambda t: t.q_idx == quarters[-1]).execute()
    some = now.iloc[0]
    # each shape twice with other values, so that a kept expression is reused for them
    other_tambon = now.loc[(now["amphoe_code"] == some.amphoe_code)
                           & (now["tambon_code"] != some.tambon_code), "tambon_code"].iloc[0]
    other_agency = now.loc[now["agency_code"].notna()
                           & (now["agency_code"] != some.agency_code), "agency_code"].iloc[0]
    return [
        Filters(),
        Filters(amphoe=some.amphoe_code),
        Filters(amphoe="4010"),
        Filters(amphoe=some.amphoe_code, tambon=some.tambon_code),
        Filters(amphoe=some.amphoe_code, tambon=other_tambon),
        Filters(agency=some.agency_code, levels=(1, 2)),
        Filters(agency=other_agency, levels=(1, 2)),
        Filters(amphoe=some.amphoe_code, agency=some.agency_code, quarter=quarters[-2]),
        Filters(amphoe="4010", agency=other_agency, quarter=quarters[-2]),
        Filters(quarter=quarters[0]),
    ]


@pytest.mark.parametrize("name", sorted(store_access.QUERIES))
def test_every_page_query_answers_as_compiled_afresh(demo: Store, name: str) -> None:
    backend = compiled.PageBackend.for_connection(demo.raw)
    for filters in _filter_sets(demo):
        fresh = _answer(name, demo.con, filters)
        kept = _answer(name, backend, filters)
        again = _answer(name, backend, filters)  # from the kept SQL and results
        assert memo.fingerprint(kept) == memo.fingerprint(fresh), (name, filters)
        assert memo.fingerprint(again) == memo.fingerprint(fresh), (name, filters)


def test_another_amphoe_reuses_the_sql_and_answers_for_that_amphoe(demo: Store) -> None:
    backend = compiled.PageBackend.for_connection(demo.raw)
    definitions = DEFINITIONS
    counts = {}
    for amphoe in ("4001", "4005"):
        filters = Filters(amphoe=amphoe)
        with compiled.reading(backend, filters):
            counts[amphoe] = metrics.overview_kpis(backend, filters, definitions).households
        if amphoe == "4001":
            shapes, built = len(backend._sql), len(backend._expressions)
    assert len(backend._sql) == shapes  # nothing compiled for the second amphoe
    assert len(backend._expressions) == built > 0  # nor any expression built
    for amphoe, households in counts.items():
        expected = metrics.overview_kpis(demo.con, Filters(amphoe=amphoe), definitions)
        assert households == expected.households > 0
    assert counts["4001"] != counts["4005"]


def test_a_kept_result_is_a_copy_for_each_caller(demo: Store) -> None:
    backend = compiled.PageBackend.for_connection(demo.raw)
    with compiled.bound(Filters()):
        first = backend.table("quarter_calendar").execute()
        first["q_idx"] = -1
        second = backend.table("quarter_calendar").execute()
    assert (second["q_idx"] > 0).all()


def test_a_result_is_kept_by_the_parameters_its_statement_uses(
        demo: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The quarter calendar is read once whichever amphoe is chosen; a read that uses the
    amphoe is read again for another amphoe, and once only for each."""
    backend = compiled.PageBackend.for_connection(demo.raw)
    runs: list[str] = []
    arrow = compiled.PageBackend._arrow

    def counted(self, expr, limit):
        runs.append(str(limit))
        return arrow(self, expr, limit)

    monkeypatch.setattr(compiled.PageBackend, "_arrow", counted)
    calendar = backend.table("quarter_calendar")
    households = {}
    for amphoe in ("4001", "4005", "4001", "4005"):
        filters = Filters(amphoe=amphoe)
        with compiled.bound(filters):
            quarters = calendar.execute()
            status = backend.table("status_quarter")
            place = status.filter(status.amphoe_code == compiled.value(filters, "amphoe"))
            households[amphoe] = place.count().execute()
    assert len(runs) == 3  # the calendar once, the count once for each amphoe
    assert len(quarters) > 0
    for amphoe, n in households.items():
        status = demo.table("status_quarter")
        assert n == status.filter(status.amphoe_code == amphoe).count().execute() > 0
    assert households["4001"] != households["4005"]


def test_values_are_written_as_literals() -> None:
    sql = f"a = '{compiled._MARKERS['amphoe']}' AND q <= {compiled._MARKERS['quarter']}"
    filled = compiled.fill(sql, Filters(amphoe="40'05", quarter=25661))
    assert filled == "a = '40''05' AND q <= 25661"
    with pytest.raises(ValueError, match="amphoe"):
        compiled.fill(sql, Filters(quarter=25661))


def test_outside_a_page_query_filters_are_plain_values(demo: Store) -> None:
    filters = Filters(amphoe="4005")
    assert compiled.value(filters, "amphoe") == "4005"
    with compiled.bound(filters):
        assert compiled.value(filters, "amphoe") is compiled.PARAMETERS["amphoe"]
        # a filter built inside the query with another value stays a literal
        assert compiled.value(Filters(amphoe="4010"), "amphoe") == "4010"


def test_an_empty_code_is_no_filter_and_keeps_no_expression_for_a_real_one(demo: Store) -> None:
    """Builders read ``""`` as no filter: it must not be kept as the "amphoe set" shape."""
    backend = compiled.PageBackend.for_connection(demo.raw)
    for amphoe in ("", "4001"):
        filters = Filters(amphoe=amphoe)
        with compiled.bound(filters):
            kept = metrics.overview_kpis(backend, filters, DEFINITIONS).households
        assert kept == metrics.overview_kpis(demo.con, Filters(amphoe=amphoe or None),
                                             DEFINITIONS).households


def test_prepared_statements_let_a_closed_store_go(tmp_path: Path, demo_store_dir: Path) -> None:
    """The registry holds its connections weakly: a store that is dropped closes (another
    process may then lock its file)."""
    import gc
    import shutil
    import weakref

    shutil.copytree(demo_store_dir, tmp_path, dirs_exist_ok=True)
    store = Store.open(f"duckdb://{tmp_path / 'store.duckdb'}", store_dir=tmp_path)
    backend = compiled.PageBackend.for_connection(store.raw)
    filters = Filters(amphoe="4005")
    with compiled.reading(backend, filters):
        metrics.overview_kpis(backend, filters, DEFINITIONS)
    raw = weakref.ref(store.raw)
    assert compiled.prepared(raw())._statements
    store.close()
    del store, backend
    gc.collect()
    assert raw() is None


def test_another_amphoe_runs_the_same_prepared_statement(demo: Store) -> None:
    backend = compiled.PageBackend.for_connection(demo.raw)
    statements = compiled.prepared(demo.raw)
    statements.clear()
    for amphoe in ("4001", "4005", "4010"):
        filters = Filters(amphoe=amphoe)
        with compiled.reading(backend, filters):
            metrics.overview_kpis(backend, filters, DEFINITIONS)
        if amphoe == "4001":
            prepared = dict(statements._statements)
    assert prepared and all(entry is not None for entry in prepared.values())
    assert statements._statements == prepared  # nothing prepared for the other amphoe
    assert any("amphoe" in names for _name, names in prepared.values())


def test_prepared_statements_follow_replaced_tables_and_go_when_evicted() -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT '4001' AS amphoe_code, 1 AS n")
    statements = compiled.Prepared(con)
    statements.SIZE = 2
    marked = f"SELECT n FROM t WHERE amphoe_code = '{compiled._MARKERS['amphoe']}'"
    filters = Filters(amphoe="4001")
    assert statements.run(marked, filters).to_arrow_table()["n"].to_pylist() == [1]
    con.execute("CREATE OR REPLACE TABLE t AS SELECT '4001' AS amphoe_code, 2.5 AS n")  # import
    assert statements.run(marked, filters).to_arrow_table()["n"].to_pylist() == [2.5]
    first = statements.statement(marked)[0]
    for n in range(2):  # two more statements: the first, used least recently, goes
        statements.run(f"SELECT {n} AS n", filters).to_arrow_table()
    with pytest.raises(duckdb.BinderException, match=first):
        con.execute(f"EXECUTE {first}(amphoe := '4001')")
    # a statement DuckDB will not prepare runs with its values as literals
    assert statements.statement("PRAGMA version") is None
    assert statements.run("PRAGMA version", filters).to_arrow_table().num_rows == 1
    with pytest.raises(ValueError, match="amphoe"):  # a parameter without its filter
        statements.run(marked, Filters())
    statements.clear()
    assert not statements._statements
    statements.run(marked, filters).to_arrow_table()
    con.close()  # a store closed since: its statements went with it
    statements.clear()
    assert not statements._statements


TYPES_SQL = """SELECT * FROM (VALUES
    (1::TINYINT, 2::SMALLINT, 3::INTEGER, 4::BIGINT, 5::HUGEINT, 6::UBIGINT, 1.5::FLOAT,
     2.5::DOUBLE, TRUE, 'ก', DATE '2020-01-02', TIMESTAMP '2020-01-02 03:04:05',
     1.25::DECIMAL(10,2), [1, 2], 7::INTEGER, 'x', 0.5::DOUBLE, FALSE, DATE '2563-09-30',
     NULL::INTEGER, NULL::VARCHAR, NULL::BOOLEAN, NULL::BIGINT),
    (-1::TINYINT, -2::SMALLINT, -3::INTEGER, -4::BIGINT, -5::HUGEINT, 0::UBIGINT, -1.5::FLOAT,
     NULL, FALSE, '', DATE '2567-12-31', NULL, NULL, [], NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL)
) AS t(i8, i16, i32, i64, huge, u64, f32, f64, b, s, d, ts, dec, l, int_null, str_null,
       float_null, bool_null, date_null, int_none, str_none, bool_none, big_none)"""


@pytest.mark.parametrize("rows", [2, 1, 0])
def test_results_convert_to_pandas_as_ibis_converts_them(rows: int) -> None:
    """``compiled.frame`` against Ibis' own ``execute``, for every type the pages meet and
    with nulls (which take Ibis' own path), on two rows, one row without nulls, no rows."""
    import duckdb

    con = ibis.duckdb.from_connection(duckdb.connect())
    con.raw_sql(f"CREATE TABLE t AS SELECT * FROM ({TYPES_SQL}) LIMIT {rows}")
    con.raw_sql("CREATE TABLE sums AS SELECT SUM(i64) AS total, COUNT(*) AS n, "
                "SUM(CAST(b AS BIGINT)) AS yes FROM t")  # HUGEINT sums Ibis reads as integers
    for name in ("t", "sums"):
        table = con.table(name)
        expected = table.execute()
        arrow = con.con.sql(f"SELECT * FROM {name}").to_arrow_table()
        got = compiled.frame(arrow, table.schema())
        assert list(got.dtypes) == list(expected.dtypes), name
        pd.testing.assert_frame_equal(got, expected)


def test_a_read_in_parts_gives_each_part_as_its_own_read_would() -> None:
    """One read of a union: each part is converted from its own rows, so an integer column
    that is null in the other parts stays integer, and a part not wanted is not made."""
    import duckdb

    con = ibis.duckdb.from_connection(duckdb.connect())
    con.raw_sql("CREATE TABLE t AS SELECT * FROM (VALUES ('a', 1, NULL), ('b', 2, 5), "
                "('c', NULL, 7)) AS v(code, n, m)")
    t = con.table("t")
    first = t.filter(t.n.notnull()).select("code", "n")
    second = t.filter(t.m.notnull()).select("code", "m")
    union = ibis.union(
        first.select(part=ibis.literal(0, "int8"), code="code", n="n", m=ibis.null("int32")),
        second.select(part=ibis.literal(1, "int8"), code="code", n=ibis.null("int32"), m="m"),
    ).order_by(["part", "code"])
    backend = compiled.PageBackend.for_connection(con.con)
    for reader in (con, backend):
        with compiled.reading(reader, Filters()):
            ones, twos = compiled.read_parts(reader, union, (("code", "n"), ("code", "m")))
            skipped = compiled.read_parts(reader, union, (None, ("m",)))
        pd.testing.assert_frame_equal(ones, first.order_by("code").execute())
        pd.testing.assert_frame_equal(twos, second.order_by("code").execute())
        assert ones["n"].dtype == twos["m"].dtype == "int32"
        assert skipped[0] is None and list(skipped[1]["m"]) == [5, 7]
    with pytest.raises(ValueError, match="ordered by 'part'"):
        compiled.read_parts(con, union.order_by(ibis.desc("part")), (("code",), ("code",)))
    with pytest.raises(ValueError, match="first column"):
        compiled.read_parts(con, first, (("code",),))


def test_a_kept_read_is_made_once_per_filter_and_copied_for_each_caller() -> None:
    import duckdb

    calls: list[Filters] = []

    @compiled.kept_read
    def reader(con: object, filters: Filters, rows: int) -> tuple[pd.DataFrame, int]:
        calls.append(filters)
        return pd.DataFrame({"n": range(rows)}), rows

    backend = compiled.PageBackend.for_connection(duckdb.connect())
    one, other = Filters(amphoe="4001"), Filters(amphoe="4002")
    with compiled.bound(one):
        first, _ = reader(backend, one, 3)
        first.loc[0, "n"] = 99  # a caller's change stays in its copy
        again, _ = reader(backend, one, 3)
    assert len(calls) == 1 and again["n"].tolist() == [0, 1, 2]
    with compiled.bound(other):
        reader(backend, other, 3)
    assert calls == [one, other]
    reader(backend, one, 3)  # outside a page query: read every time
    with compiled.bound(one):  # too long to keep
        reader(backend, one, backend.RESULT_ROWS + 1)
        reader(backend, one, backend.RESULT_ROWS + 1)
    assert len(calls) == 5
