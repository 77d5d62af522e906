"""Reusing built charts: equal inputs reuse the figure, any changed input builds anew."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly
import plotly.graph_objects as go
import pytest

from dashboard import charts, memo
from dashboard.definitions import load_definitions


@dataclass(frozen=True)
class Holder:
    frame: pd.DataFrame
    label: str


def test_fingerprint_reads_values_not_identity() -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert memo.fingerprint(frame) == memo.fingerprint(frame.copy())
    changed = frame.copy()
    changed.loc[1, "a"] = 3
    assert memo.fingerprint(frame) != memo.fingerprint(changed)
    assert memo.fingerprint(frame) != memo.fingerprint(frame.rename(columns={"b": "c"}))
    assert memo.fingerprint(frame) != memo.fingerprint(frame.astype({"a": "float64"}))
    assert memo.fingerprint({"k": [1, 2]}) != memo.fingerprint({"k": [1, 3]})
    assert memo.fingerprint(Holder(frame, "a")) == memo.fingerprint(Holder(frame.copy(), "a"))
    assert memo.fingerprint(Holder(frame, "a")) != memo.fingerprint(Holder(changed, "a"))
    assert memo.fingerprint(dt.date(2024, 1, 1)) != memo.fingerprint(dt.date(2024, 1, 2))
    with pytest.raises(TypeError):
        memo.fingerprint(object())


def test_memoised_reuses_a_figure_until_an_input_changes() -> None:
    memo.clear()
    definitions = load_definitions()
    trend = pd.DataFrame({"q_idx": [25671, 25672], "share_1": [0.5, 0.6],
                          "share_2": [0.1, 0.2], "share_3": [0.0, 0.05]})
    args = (definitions.targets, definitions.plan, "th")
    first = memo.memoised(charts.target_trend_chart, trend, *args)
    assert memo.memoised(charts.target_trend_chart, trend.copy(), *args) is first
    later = trend.assign(share_2=[0.1, 0.3])
    rebuilt = memo.memoised(charts.target_trend_chart, later, *args)
    assert rebuilt is not first
    shares = {trace.name: list(trace.y) for trace in rebuilt.data}
    assert [0.1, 0.3] in shares.values() and [0.1, 0.2] not in shares.values()
    english = memo.memoised(charts.target_trend_chart, trend, definitions.targets,
                            definitions.plan, "en")
    assert english is not first


def test_memoised_keeps_a_bounded_number_of_results(monkeypatch: pytest.MonkeyPatch) -> None:
    memo.clear()
    monkeypatch.setattr(memo._CACHE, "size", 3)
    CALLS.clear()
    for n in (1, 2, 3, 4):
        memo.memoised(build, n)
    memo.memoised(build, 4)
    memo.memoised(build, 1)  # the oldest was dropped: built again
    assert CALLS == [1, 2, 3, 4, 1]
    with pytest.raises(TypeError, match="module-level"):
        memo.memoised(lambda n: [n], 1)  # two lambdas would share one name


CALLS: list[int] = []


def build(n: int) -> list[int]:
    CALLS.append(n)
    return [n]


def test_a_memoised_figure_writes_its_dict_once_and_copies_it_for_anyone_else() -> None:
    memo.clear()
    definitions = load_definitions()
    trend = pd.DataFrame({"q_idx": [25671, 25672], "share_1": [0.5, 0.6],
                          "share_2": [0.1, 0.2], "share_3": [0.0, 0.05]})
    fig = memo.memoised(charts.target_trend_chart, trend, definitions.targets,
                        definitions.plan, "th")
    assert isinstance(fig, memo.FrozenFigure)
    # Streamlit's chart element reads the figure through plotly.tools: the shared dict
    shown = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)
    assert shown is plotly.tools.return_figure_from_figure_or_data(fig, True)
    # anything else gets a copy it may change without touching the cached figure
    mine = fig.to_dict()
    mine["layout"]["height"] = 11
    derived = go.Figure(fig)
    derived.update_layout(height=22)
    assert fig.layout.height == shown["layout"]["height"] not in (11, 22)
    assert json.loads(plotly.io.to_json(shown)) == json.loads(go.Figure(fig).to_json())


def test_a_frozen_figure_writes_the_dict_plotly_writes_and_keeps_its_own_arrays() -> None:
    """The frozen dict copies containers only: the arrays it turns into base64 text must stay
    arrays in the figure (a projector copy and the exports read them afterwards)."""
    memo.clear()
    x = np.array([0.25, 0.5, 0.75])
    fig = go.Figure({"data": [
        {"type": "bar", "x": x, "y": ["a", "b", "c"], "orientation": "h",
         "customdata": np.array([[1, 2], [3, 4], [5, 6]]), "marker": {"color": ["#000"] * 3}},
        {"type": "scatter", "x": [1, 2], "y": np.array([3, 4], dtype="int32"),
         "line": {"dash": "dot"}}],
        "layout": {"height": 300, "shapes": [{"type": "line", "x0": 0, "x1": np.float64(1)}],
                   "xaxis": {"tickvals": np.array([0, 0.5, 1]), "range": [0, 1]}}})
    expected = fig.to_dict()  # plotly's own, key for key in the same order
    before = fig.to_plotly_json()
    fig.__class__ = memo.FrozenFigure
    shown = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)
    assert plotly.io.to_json(shown, validate=False) == plotly.io.to_json(expected,
                                                                         validate=False)
    assert "bdata" in json.dumps(shown["data"][0]["x"])  # arrays travel as base64
    assert isinstance(fig.data[0].x, np.ndarray) and (fig.data[0].x == x).all()
    after = fig.to_plotly_json()
    assert plotly.io.to_json(after, validate=False) == plotly.io.to_json(before,
                                                                         validate=False)


def test_text_and_mixed_arrays_travel_as_plain_lists_written_as_plotly_writes_them() -> None:
    """Arrays of text or of mixed values (a chart's customdata: a code and a count) are turned
    into lists once, when the dict is frozen: with one left in it, plotly's JSON writer cleans
    the whole figure into plain values on every rerun. The JSON is plotly's, character for
    character, and the figure keeps its own arrays."""
    memo.clear()
    custom = np.array([["4001", 12], ["4002", np.int64(7)]], dtype=object)
    fig = go.Figure({"data": [{"type": "bar", "x": np.array([1.5, 2.5]), "y": ["ก", "ข"],
                               "customdata": custom, "text": np.array(["ก", None], dtype=object),
                               "hovertext": np.array(["หนึ่ง", "สอง"])}]})
    expected = plotly.io.to_json(fig.to_dict(), validate=False)
    fig.__class__ = memo.FrozenFigure
    shown = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)
    assert plotly.io.to_json(shown, validate=False) == expected
    assert shown["data"][0]["customdata"] == [["4001", 12], ["4002", 7]]
    assert shown["data"][0]["text"] == ["ก", None]
    orjson = pytest.importorskip("orjson")  # plotly's JSON writer (requirements.txt)
    orjson.dumps(shown, option=orjson.OPT_SERIALIZE_NUMPY)  # plotly's fast path: no cleaning
    assert fig.data[0].customdata.dtype == object  # the figure's own array, as it was


@dataclass(frozen=True)
class Result:
    rows: pd.DataFrame
    total: int


def test_a_known_result_is_read_by_its_name_and_anything_derived_by_content() -> None:
    frame = pd.DataFrame({"official_id": ["o1", "o2"], "name": ["สมชาย ใจดี", "Jane Roe"]})
    result = Result(rows=frame, total=2)
    memo.known_as(result, ("query", "v1", "caseload_check"))
    assert memo.fingerprint(frame) == ("known", (("query", "v1", "caseload_check"), "rows"))
    masked = frame.assign(name=["ส***", "J***"])  # a new object: read by its content
    assert memo.fingerprint(masked)[0] == "DataFrame"
    assert memo.fingerprint(masked) != memo.fingerprint(frame.copy())
    key = id(frame)
    del result, frame
    import gc

    gc.collect()
    assert key not in memo._KNOWN  # forgotten with the object


def test_a_memoised_frame_is_known_by_its_key() -> None:
    memo.clear()
    frame = pd.DataFrame({"a": range(5)})
    doubled = memo.memoised(double, frame)
    assert memo.memoised(double, frame.copy()) is doubled
    assert memo.fingerprint(doubled)[0] == "known"
    assert memo.memoised(double, doubled)["a"].tolist() == [0, 4, 8, 12, 16]


def double(frame: pd.DataFrame) -> pd.DataFrame:
    return frame * 2


@dataclass(frozen=True)
class Point:
    x: int


def test_values_with_equal_hashes_are_not_taken_for_each_other() -> None:
    assert hash(Point(-1)) == hash(Point(-2))  # Python hashes -1 and -2 alike
    assert memo.fingerprint(Point(-1)) != memo.fingerprint(Point(-2))
    frame = pd.DataFrame({"a": [1.234]})
    marked = frame.copy()
    marked.attrs["decimals"] = 2  # read by some table builders
    assert memo.fingerprint(frame) != memo.fingerprint(marked)


def test_forgetting_a_frame_needs_no_lock() -> None:
    """The collector may free a known frame in a thread that holds the registry's lock."""
    frame = pd.DataFrame({"a": [1]})
    memo.known_as(frame, "t")
    key = id(frame)
    with memo._KNOWN_LOCK:  # as if the thread were inside _remember when the frame is freed
        del frame
        import gc

        gc.collect()
        assert key not in memo._KNOWN


def test_a_kept_result_is_computed_once_and_each_caller_changes_only_its_copy() -> None:
    memo.clear()
    calls = []

    def compute() -> Holder:
        calls.append(1)
        return Holder(pd.DataFrame({"a": [1, 2]}), "x")

    first = memo.kept(("test", 1), compute)
    first.frame.loc[0, "a"] = 99  # a page changing its copy in place
    first.frame["b"] = [3, 4]  # or adding a column
    second = memo.kept(("test", 1), compute)
    assert len(calls) == 1
    assert list(second.frame.columns) == ["a"] and list(second.frame["a"]) == [1, 2]
    assert second is not first and second.frame is not first.frame
    memo.clear()
    memo.kept(("test", 1), compute)
    assert len(calls) == 2


def test_a_full_lru_drops_the_entry_used_least_recently() -> None:
    kept = memo.Lru(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # "a" used: "b" is now the oldest
    kept.put("c", 3)
    assert (kept.get("a"), kept.get("b", "gone"), kept.get("c"), len(kept)) == (1, "gone", 3, 2)


def test_grid_gives_arrow_rows_or_the_frame_arrow_cannot_type() -> None:
    import pyarrow as pa

    from dashboard.ui import grid

    typed = pd.DataFrame({"code": ["4001", "4002", "4003"], "n": [1, 2, 3]})
    table = grid(typed, 2)
    assert isinstance(table, pa.Table) and table.to_pydict() == {"code": ["4001", "4002"],
                                                                 "n": [1, 2]}
    mixed = pd.DataFrame({"share": ["–", 20.8]}, dtype=object)  # a suppressed figure
    assert grid(mixed) is mixed  # Streamlit writes such a column as text itself


def test_a_reference_table_is_known_by_name_and_a_copy_by_content() -> None:
    table = pd.DataFrame({"amphoe_code": ["4001", "4002"], "name_th": ["เมืองขอนแก่น", "บ้านฝาง"]})
    by_content = memo.fingerprint(table)
    assert memo.known_reference(table, "amphoe_table") is table
    known = ("known", ("reference", "amphoe_table", by_content))
    assert memo.fingerprint(table) == known
    assert memo.fingerprint(table.copy()) == by_content
    memo.known_reference(table, "another_name")  # known once: the first name stays
    assert memo.fingerprint(table) == known
    # the same table loaded again with other content (its cache cleared) is another key
    reloaded = table.assign(name_th=["เมือง", "บ้านฝาง"])
    assert memo.fingerprint(memo.known_reference(reloaded, "amphoe_table")) != known


def test_a_figure_from_a_spec_sends_plotlys_dict_before_making_plotlys_objects() -> None:
    """Pages only send a figure's dict: it is written from the spec, as plotly writes the
    checked figure's (properties set to None left out at every depth, the default template
    added), and plotly's objects are made only when something asks the figure for more."""
    spec = {"data": [{"type": "scatter", "x": np.array([1.0, 2.0]), "y": [3, None],
                      "fillpattern": None, "line": {"color": "red", "dash": None}}],
            "layout": {"height": 300, "xaxis": {"range": [0, 3], "title": None}}}
    fig = memo.FrozenFigure.of_spec(spec)
    shown = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)
    assert "_spec" in fig.__dict__  # no plotly objects made yet
    expected = go.Figure(spec).to_dict()
    assert json.loads(plotly.io.to_json(shown, validate=False)) == json.loads(
        plotly.io.to_json(expected, validate=False))
    assert isinstance(spec["data"][0]["x"], np.ndarray)  # the spec's arrays left as they were
    assert fig.layout.height == 300 and list(fig.data[0].x) == [1.0, 2.0]  # made on demand
    assert "_spec" not in fig.__dict__
    copy = go.Figure(fig)
    copy.update_layout(height=200)
    assert fig.layout.height == 300
    with pytest.raises(AttributeError):
        _ = fig.no_such_property
