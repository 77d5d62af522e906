"""The benchmark's split of the browser's main-thread time, on a hand-made trace whose answer
is known: a trace of Chromium's shape with one task before the key press (left out), a
plotly sample, a Streamlit-frontend sample, a collector's sample, a plotly sample whose
time is half inside the profiler's interrupt (that half left out), nested paints, a layout
outside scripts and one forced inside a script; and a second tab, idle, which is not the
page measured."""

from bench.browser import breakdown

PID, MAIN, SAMPLER = 1, 10, 11
PLOTLY = "http://127.0.0.1/static/js/PlotlyChart.D9Z0.js"
APP = "http://127.0.0.1/static/js/index.Dorm.js"


def _x(name: str, ts: int, dur: int, **args: object) -> dict:
    return {"ph": "X", "pid": PID, "tid": MAIN, "name": name, "ts": ts, "dur": dur,
            "args": args}


def _trace() -> list[dict]:
    nodes = [
        {"id": 1, "callFrame": {"functionName": "(root)"}},
        {"id": 2, "callFrame": {"functionName": "render", "url": APP}, "parent": 1},
        {"id": 3, "callFrame": {"functionName": "newPlot", "url": PLOTLY}, "parent": 2},
        {"id": 4, "callFrame": {"functionName": "measure", "url": ""}, "parent": 3},
        {"id": 5, "callFrame": {"functionName": "(garbage collector)"}, "parent": 1},
        {"id": 6, "callFrame": {"functionName": "(idle)"}, "parent": 1},
    ]
    return [
        {"ph": "M", "pid": PID, "tid": MAIN, "name": "thread_name",
         "args": {"name": "CrRendererMain"}},
        _x("RunTask", 0, 5_000),  # before the key press
        _x("RunTask", 10_000, 100_000),
        _x("ThreadControllerImpl::RunTask", 10_000, 100_000),  # nested: counted once
        _x("EventDispatch", 10_000, 1_000, data={"type": "keydown"}),
        _x("FunctionCall", 20_000, 60_000),
        _x("Layout", 30_000, 4_000),  # forced from a script: the script's owner's
        _x("V8.InvokeApiInterruptCallbacks", 70_000, 10_000),  # the sampler's cost
        _x("UpdateLayoutTree", 85_000, 3_000),
        _x("Layout", 88_000, 2_000),
        _x("Paint", 95_000, 5_000),
        _x("Paint", 96_000, 2_000),  # a layer's, inside the one above: counted once
        {**_x("RunTask", 120_000, 50_000), "pid": 2},  # another tab, not the page measured
        {"ph": "M", "pid": 2, "tid": MAIN, "name": "thread_name",
         "args": {"name": "CrRendererMain"}},
        {"ph": "P", "pid": PID, "tid": MAIN, "name": "Profile", "id": "0x1", "ts": 10_000,
         "args": {"data": {"startTime": 10_000}}},
        {"ph": "P", "pid": PID, "tid": SAMPLER, "name": "ProfileChunk", "id": "0x1",
         "ts": 50_000, "args": {"data": {
             "cpuProfile": {"nodes": nodes, "samples": [4, 2, 5, 3, 6]},
             # sample times 30, 50, 60, 75 (since 60, half inside the interrupt) and 90 ms
             "timeDeltas": [20_000, 20_000, 10_000, 15_000, 15_000]}}},
    ]


def test_the_main_threads_time_is_split_by_what_did_the_work():
    split = breakdown({"traceEvents": _trace()})
    assert split["profiler overhead (left out)"] == 10.0
    assert split["busy"] == 90.0  # 100 ms of tasks after the key press, less the sampler's
    # the samples in a plotly frame, under the app's render: 20 ms, and 15 less 10
    assert split["plotly"] == 30.0
    assert split["streamlit frontend"] == 20.0
    assert split["garbage collection"] == 10.0
    assert split["style and layout"] == 5.0  # the forced layout is not counted here
    assert split["paint"] == 5.0
    assert split["other"] == 20.0
    assert "other script" not in split


def test_a_trace_without_the_renderer_has_nothing_to_split():
    assert breakdown([]) == {}
