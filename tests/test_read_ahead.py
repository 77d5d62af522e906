"""Reads ahead: the frame begins, on the store's second connection, the reads a page asked
for on its last run, and the page takes them instead of reading again."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from pathlib import Path

import pytest

from dashboard import compiled, memo, store_access
from dashboard.filters import Filters
from dashboard.registry import PAGES, PageSpec
from loaders.store import Store
from tests.test_app import copy_of, metric_values, run_app

AHEAD = "kusiao-ahead"


@pytest.fixture
def engine_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The thread of every statement the page backends run, in order."""
    threads: list[str] = []
    run = compiled._Result.to_arrow_table

    def noted(self):
        threads.append(threading.current_thread().name)
        return run(self)

    monkeypatch.setattr(compiled._Result, "to_arrow_table", noted)
    return threads


@pytest.mark.parametrize("spec", [s for s in PAGES if s.url_path not in ("import",
                                                                          "definitions")],
                         ids=lambda s: s.url_path)
def test_a_filter_change_reads_ahead_what_the_page_asked_for_last(
        spec: PageSpec, demo_store_dir: Path, use_store, engine_reads: list[str]) -> None:
    use_store(demo_store_dir)
    at = run_app({"amphoe": "4001"})
    at.switch_page(f"../pages/{spec.file}").run()
    at.selectbox(key="f_amphoe").set_value("4002").run()  # read by the page itself: noted
    page = spec.url_path
    asked = at.session_state[f"_reads_{page}"][1]
    assert asked, "the page's queries are noted"
    engine_reads.clear()
    at.selectbox(key="f_amphoe").set_value("4005").run()
    assert not at.exception, at.exception
    ahead = list(engine_reads)
    # the first read is begun before the sidebar is drawn; a later one the page asks for
    # before the second connection is free is read by the page itself, and only once
    assert ahead[0] == f"{AHEAD}_0", ahead
    assert at.session_state[f"_reads_{page}"][1] == asked  # the same queries, asked again
    with pytest.MonkeyPatch.context() as patch:  # the same change without reading ahead
        patch.setattr(store_access, "start_all", lambda *args: None)
        engine_reads.clear()
        at.selectbox(key="f_amphoe").set_value("4010").run()
    assert len(engine_reads) == len(ahead) and AHEAD not in " ".join(engine_reads)
    engine_reads.clear()
    at.selectbox(key="f_amphoe").set_value("4005").run()  # kept: nothing read again
    assert not engine_reads
    assert at.session_state[f"_reads_{page}"][1] == asked  # and the reads to begin stay noted

    # the figures are those of a session that opened on 4005 and read everything itself
    shown = metric_values(at)
    memo.clear()
    fresh = run_app({"amphoe": "4005"})
    fresh.switch_page(f"../pages/{spec.file}").run()
    assert metric_values(fresh) == shown
    assert [m.value for m in fresh.markdown] == [m.value for m in at.markdown]


def test_only_queries_with_the_pages_filters_are_noted(demo_store_dir: Path) -> None:
    store = Store.open(f"duckdb://{demo_store_dir / 'store.duckdb'}", store_dir=demo_store_dir)
    try:
        version = store.data_version()
        mine, other = Filters(amphoe="4001"), Filters(amphoe="4001", agency="DOPA")
        store_access._open_store.clear()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(store_access, "store", lambda: store)
            asked: list = []
            with store_access.noting(mine, asked):
                store_access.query("recency_bands", version, mine, by="amphoe_code")
                store_access.query("recency_bands", version, other, by="amphoe_code")
                store_access.query("coverage_matrix", version, mine)
                store_access.query("recency_bands", version, mine, by="amphoe_code")
        # the matrix takes what the recency bands read (one read of the store for both)
        assert asked == [("recency_bands", (("by", "amphoe_code"),))]
        again: list = []
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(store_access, "store", lambda: store)
            with store_access.noting(mine, again, before=asked):  # all kept now: as before
                store_access.query("coverage_matrix", version, mine)
                store_access.query("recency_bands", version, mine, by="amphoe_code")
        assert again == asked
    finally:
        memo.clear()
        store.close()


def test_a_read_ahead_that_fails_is_read_again_by_the_page(
        tmp_path: Path, tiny_template, use_store, monkeypatch: pytest.MonkeyPatch) -> None:
    use_store(copy_of(tiny_template, tmp_path))
    at = run_app()
    version = store_access.data_version()
    filters = Filters(amphoe="4001")
    calls: list[str] = []

    def failing(*args, **kwargs):
        calls.append(threading.current_thread().name)
        raise RuntimeError("the second connection failed")

    monkeypatch.setattr(store_access, "_reader_backend", failing)
    store_access.start("overview_kpis", version, filters)
    concurrent.futures.wait(list(store_access._STARTED.values()))  # it has failed
    kpis = store_access.query("overview_kpis", version, filters)
    assert calls == [f"{AHEAD}_0"]
    assert kpis.households == 6  # read by the page itself (the tiny programme's 4001)
    assert not store_access._STARTED
    assert not at.exception


def test_a_read_not_begun_yet_is_read_by_the_page_itself(
        tmp_path: Path, tiny_template, use_store, monkeypatch: pytest.MonkeyPatch,
        engine_reads: list[str]) -> None:
    use_store(copy_of(tiny_template, tmp_path))
    run_app()
    version = store_access.data_version()
    filters = Filters(amphoe="4005")
    gate = threading.Event()
    store_access._AHEAD.submit(gate.wait, 30)  # the second connection is busy
    try:
        store_access.start("overview_kpis", version, filters)
        engine_reads.clear()
        kpis = store_access.query("overview_kpis", version, filters)
    finally:
        gate.set()
    assert kpis.households == 2
    assert engine_reads and AHEAD not in " ".join(engine_reads)
    time.sleep(0.05)
    assert not store_access._STARTED  # the one begun was taken back


def test_a_stores_second_connection_closes_with_it(tmp_path: Path, tiny_template) -> None:
    folder = copy_of(tiny_template, tmp_path)
    store = Store.open(f"duckdb://{folder / 'store.duckdb'}", store_dir=folder)
    reader = store.reader()
    assert reader.execute("SELECT count(*) FROM household").fetchone()[0] == 8
    store.close()
    with pytest.raises(Exception, match=r"(?i)closed"):
        reader.execute("SELECT 1")


def test_with_the_same_filters_nothing_is_read_ahead(demo_store_dir: Path, use_store,
                                                      engine_reads: list[str]) -> None:
    """Another slide with the same filters reads only what that slide needs: the last
    slide's reads are not begun again (forgotten, as after an import, they would be read in
    vain)."""
    use_store(demo_store_dir)
    at = run_app({"amphoe": "4001"})
    at.switch_page("../pages/presenter.py").run()
    at.session_state["present_slide"] = 5  # the coverage slide
    at.run()
    assert at.session_state["_reads_present"][1]
    store_access.forget_kept()
    engine_reads.clear()
    at.session_state["present_slide"] = 8  # sources and definitions
    at.run()
    assert not at.exception, at.exception
    assert AHEAD not in " ".join(engine_reads)
