"""What a page shows, as a JSON-able record: the golden record's recorder.

:func:`page_content` walks an :class:`AppTest`'s main area and sidebar in element order and
keeps what a user sees: headings, text, alerts, metrics, every cell of each table, each plotly
trace's data, the deck.gl layers' data, the widgets' labels, options and values, and the
buttons' labels. Floats are rounded to 6 significant digits. What changes from one recording
to the next is left out (element ids, media file URLs, the layout's containers) or replaced:
today's date (the presenter's "prepared on") by ``<today>``, a time stamp of about now (the
store's import times) by ``<timestamp>``. Two recordings of the same data, on any day, are
byte-identical.

This module imports neither ``dashboard`` nor ``loaders``: it records the app from the outside,
so the same record can be taken before and after the code is moved.

Record the golden file (``tests/golden/page_content.json.gz``)::

    python -m tests.page_content --write

which runs ``tests/pages/test_page_content.py`` in write mode; ``python -m pytest
tests/pages/test_page_content.py`` then compares every case with it.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import io
import json
import math
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

GOLDEN = Path(__file__).resolve().parent / "golden" / "page_content.json.gz"
WRITE_ENV = "KUSIAO_WRITE_PAGE_CONTENT"
"""Set (to anything) by ``--write``: the test records the golden file instead of comparing."""

DIGITS = 6
TODAY = "<today>"
TIMESTAMP = "<timestamp>"

# The app writes dates in the Buddhist Era: "6 ธ.ค. 2569" and "6 Dec 2569 BE". Kept here,
# not imported from the dashboard, so this file survives the code being moved.
_MONTHS_TH = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.",
              "พ.ย.", "ธ.ค.")
_MONTHS_TH_FULL = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
                   "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS_EN_FULL = ("January", "February", "March", "April", "May", "June", "July", "August",
                   "September", "October", "November", "December")


def _date_forms(day: dt.date) -> set[str]:
    """Every way the app may write ``day``: ISO, Buddhist Era (Thai, English), Gregorian."""
    forms = {day.isoformat(), day.strftime("%d/%m/%Y")}
    for year in (day.year + 543, day.year):
        m = day.month - 1
        forms |= {f"{day.day} {_MONTHS_TH[m]} {year}", f"{day.day} {_MONTHS_TH_FULL[m]} {year}",
                  f"{day.day} {_MONTHS_EN[m]} {year}", f"{day.day} {_MONTHS_EN_FULL[m]} {year}",
                  f"{_MONTHS_EN[m]} {day.day}, {year}", f"{_MONTHS_EN_FULL[m]} {day.day}, {year}"}
    return forms


def _alternatives(forms: set[str]) -> str:
    return "|".join(map(re.escape, sorted(forms, key=lambda f: (-len(f), f))))


class Volatile:
    """Today's date, and a time stamp of about now (the store's import times, ISO or as the
    pages write a date and a time): the only
    values on the pages that change from one recording to the next. The day before and after
    count too: a recording may run across midnight, and a time stamp may be in UTC."""

    def __init__(self, today: dt.date | None = None) -> None:
        today = today or dt.date.today()
        days = [today + dt.timedelta(days=d) for d in (-1, 0, 1)]
        iso = _alternatives({d.isoformat() for d in days})
        self.stamp = re.compile(rf"(?<!\d)(?:{iso})[ T]\d{{2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?"
                                rf"(?:[+-]\d{{2}}:?\d{{2}}|Z)?")
        self.date = re.compile(rf"(?<!\d)(?:{_alternatives(set().union(*map(_date_forms, days)))})"
                               rf"(?!\d)")

    def __call__(self, text: str) -> str:
        # a date written as the pages write it ("6 ธ.ค. 2569 14:05") and a time: a time stamp
        dated = self.date.sub(TODAY, self.stamp.sub(TIMESTAMP, text))
        return re.sub(rf"{re.escape(TODAY)} \d{{2}}:\d{{2}}(?!\d)", TIMESTAMP, dated)


def round_float(value: float) -> float | None:
    """6 significant digits; NaN and infinities as None (JSON has neither); no ``-0.0``."""
    if not math.isfinite(value):
        return None
    rounded = float(f"{value:.{DIGITS}g}")
    return 0.0 if rounded == 0 else rounded


class _Recorder:
    def __init__(self) -> None:
        self.volatile = Volatile()

    # -- values ------------------------------------------------------------------------------

    def text(self, value: object) -> str:
        return self.volatile(str(value))

    def value(self, value: Any) -> Any:
        """A JSON value with floats rounded and strings normalised, recursively."""
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, (float, np.floating)):
            return round_float(float(value))
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            if set(value) >= {"dtype", "bdata"}:  # plotly's typed array
                return self.value(_typed_array(value))
            return {str(k): self.value(v) for k, v in value.items()}
        if isinstance(value, np.ndarray):
            return self.value(value.tolist())
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
            return self.text(value.isoformat())
        return self.text(value)

    def cell(self, value: Any) -> str | None:
        """A table cell as a string: floats to 6 significant digits, missing as None."""
        if value is None or value is pd.NaT:
            return None
        if isinstance(value, (float, np.floating)):
            rounded = round_float(float(value))
            return None if rounded is None else f"{rounded:.{DIGITS}g}"
        if isinstance(value, (np.ndarray, list, tuple)):
            return json.dumps(self.value(list(value)), ensure_ascii=False, sort_keys=True)
        if isinstance(value, Mapping):
            return json.dumps(self.value(dict(value)), ensure_ascii=False, sort_keys=True)
        try:
            if pd.isna(value):
                return None
        except (TypeError, ValueError):
            pass
        if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
            return self.text(value.isoformat())
        if isinstance(value, (bool, np.bool_)):
            return str(bool(value))
        return self.text(value)

    def frame(self, frame: pd.DataFrame) -> dict:
        record: dict[str, Any] = {
            "columns": [self.text(_label(c)) for c in frame.columns],
            "rows": [[self.cell(v) for v in row] for row in frame.itertuples(index=False)],
        }
        index = frame.index
        if not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1):
            record["index"] = [self.cell(v) if not isinstance(v, tuple) else
                               [self.cell(p) for p in v] for v in index]
            record["index_names"] = [None if n is None else self.text(n) for n in index.names]
        return record

    # -- elements ----------------------------------------------------------------------------

    def element(self, el: Any) -> dict | None:
        kind = el.type
        record: dict[str, Any] = {"type": kind}
        key = getattr(el, "key", None)
        if key:
            record["key"] = key
        proto = el.proto
        if kind in ("title", "header", "subheader", "markdown", "caption", "latex", "code",
                    "text", "json"):
            record["body"] = self.text(proto.body)
            if kind == "code":
                record["language"] = proto.language
        elif kind == "divider":
            pass
        elif kind in ("error", "warning", "info", "success", "exception"):
            record["body"] = self.text(proto.message if kind == "exception" else proto.body)
            if getattr(proto, "icon", ""):
                record["icon"] = proto.icon
        elif kind == "metric":
            record |= {"label": self.text(proto.label), "value": self.text(proto.body),
                       "delta": self.text(proto.delta), "help": self.text(proto.help),
                       "color": int(proto.color), "direction": int(proto.direction)}
            if len(proto.chart_data):
                record["chart_data"] = self.value(list(proto.chart_data))
        elif kind in ("dataframe", "table"):
            record |= self.frame(el.value)
            if kind == "dataframe" and proto.columns:
                config = json.loads(proto.columns)
                record["column_config"] = self.value(config)
                if config.get("_index", {}).get("hidden"):  # row labels no one sees
                    record.pop("index", None)
                    record.pop("index_names", None)
        elif kind == "plotly_chart":
            record |= self.plotly(json.loads(proto.spec))
        elif kind == "deck_gl_json_chart":
            record |= self.deck(json.loads(proto.json))
            if proto.tooltip:
                record["tooltip"] = self.value(json.loads(proto.tooltip))
        elif kind == "html":
            record["body"] = self.text(proto.body)
        elif kind in ("button", "download_button", "link_button", "page_link"):
            record["label"] = self.text(proto.label)
            record["disabled"] = bool(proto.disabled)
        elif kind in ("selectbox", "radio"):
            options = [self.text(o) for o in el.options]
            index = el.index
            record |= {"label": self.text(proto.label), "options": options,
                       "value": None if index is None else options[index],
                       "help": self.text(proto.help), "disabled": bool(proto.disabled)}
        elif kind == "multiselect":
            record |= {"label": self.text(proto.label),
                       "options": [self.text(o) for o in el.options],
                       "value": [self.text(v) for v in el.values],
                       "help": self.text(proto.help), "placeholder": self.text(proto.placeholder),
                       "disabled": bool(proto.disabled)}
        elif kind == "button_group":
            options = [self.text(o) for o in el.options]
            record |= {"label": self.text(proto.label), "options": options,
                       "value": [options[i] for i in el.indices],
                       "help": self.text(proto.help), "disabled": bool(proto.disabled)}
        elif kind in ("checkbox", "toggle"):
            record |= {"label": self.text(proto.label), "value": bool(el.value),
                       "help": self.text(proto.help), "disabled": bool(proto.disabled)}
        elif kind in ("text_input", "text_area", "number_input"):
            record |= {"label": self.text(proto.label), "value": self.value(el.value),
                       "placeholder": self.text(proto.placeholder),
                       "help": self.text(proto.help), "disabled": bool(proto.disabled)}
        elif kind == "file_uploader":
            record |= {"label": self.text(proto.label), "types": list(proto.type),
                       "help": self.text(proto.help)}
        elif kind == "progress":
            record |= {"value": int(proto.value), "text": self.text(proto.text)}
        elif kind == "imgs":
            record["captions"] = [self.text(i.caption) for i in proto.imgs]  # urls are volatile
        elif kind == "bidi_component":
            record["name"] = proto.component_name  # the window-size probe: no content
        else:
            label = getattr(proto, "label", None)
            if isinstance(label, str):
                record["label"] = self.text(label)
        return record

    def block(self, block: Any) -> dict | None:
        """A labelled container (expander, popover, tab) is recorded where it starts."""
        proto = block.proto
        if block.type in ("expander", "status", "tab"):  # AppTest keeps the sub-message
            label = proto.label
        elif block.type == "popover":
            label = proto.popover.label
        else:  # columns and other containers: layout, not content
            return None
        return {"type": block.type, "label": self.text(label)}

    def walk(self, node: Any) -> Iterator[dict]:
        children = getattr(node, "children", None)
        if children is None:  # an element
            record = self.element(node)
            if record is not None:
                yield record
            return
        record = self.block(node)
        if record is not None:
            yield record
        for index in sorted(children):  # the order on the page, whatever the order of arrival
            yield from self.walk(children[index])

    # -- charts ------------------------------------------------------------------------------

    TRACE_KEYS = ("x", "y", "z", "text", "hovertext", "customdata", "labels", "values", "ids",
                  "parents", "lat", "lon", "locations", "r", "theta", "node", "link", "base",
                  "orientation", "mode", "textposition", "xaxis", "yaxis", "visible",
                  "showlegend", "legendgroup")

    def plotly(self, spec: Mapping) -> dict:
        traces = []
        for trace in spec.get("data", []):
            record = {"type": trace.get("type", "scatter"), "name": trace.get("name")}
            for key in self.TRACE_KEYS:
                if key in trace:
                    record[key] = trace[key]
            for key in ("marker", "line"):  # colour tells the levels apart on several charts
                part = trace.get(key)
                if isinstance(part, Mapping) and "color" in part:
                    record[f"{key}_color"] = part["color"]
            traces.append(self.value(record))
        layout = spec.get("layout", {})
        shown: dict[str, Any] = {}
        if title := _title(layout.get("title")):
            shown["title"] = title
        for name in sorted(layout):
            if re.fullmatch(r"[xy]axis\d*|coloraxis", name) and isinstance(layout[name], Mapping):
                axis = layout[name]
                part = {k: axis[k] for k in ("tickvals", "ticktext", "range", "categoryarray")
                        if k in axis}
                if title := _title(axis.get("title")):
                    part["title"] = title
                if part:
                    shown[name] = part
        notes = [a.get("text") for a in layout.get("annotations", []) if a.get("text")]
        if notes:
            shown["annotations"] = notes
        shapes = [{k: s[k] for k in ("type", "x0", "x1", "y0", "y1") if k in s}
                  for s in layout.get("shapes", [])]
        if shapes:
            shown["shapes"] = shapes
        return {"traces": traces, "layout": self.value(shown)}

    def deck(self, spec: Mapping) -> dict:
        layers = []
        for layer in spec.get("layers", []):
            layers.append(self.value({k: layer.get(k) for k in ("@@type", "id", "data")
                                      if k in layer}))
        record: dict[str, Any] = {"layers": layers}
        if "initialViewState" in spec:
            record["view"] = self.value(spec["initialViewState"])
        return record


def _label(value: object) -> str:
    return " / ".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _title(title: object) -> str | None:
    if isinstance(title, Mapping):
        title = title.get("text")
    return title if isinstance(title, str) and title else None


def _typed_array(value: Mapping) -> list:
    """Plotly 6+ sends numeric arrays as typed base64 (``{"dtype", "bdata", "shape"}``)."""
    array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    shape = value.get("shape")
    if shape:
        dims = [int(s) for s in str(shape).split(",")] if isinstance(shape, str) else shape
        array = array.reshape(dims)
    return array.tolist()


def page_content(at: AppTest) -> dict:
    """What ``at``'s current run shows: the main area's and the sidebar's elements in page
    order, and the URL's query parameters."""
    recorder = _Recorder()
    return {
        "main": list(recorder.walk(at.main)),
        "sidebar": list(recorder.walk(at.sidebar)),
        "query_params": {k: recorder.text(v) for k, v in sorted(at.query_params.items())},
    }


# -- the golden file -------------------------------------------------------------------------

def dumps(records: Mapping[str, Any]) -> bytes:
    return json.dumps(records, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


def write_golden(records: Mapping[str, Any], path: Path = GOLDEN) -> None:
    """Gzip'd JSON, sorted keys; no file name or time in the gzip header: the same records
    make the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as out:
        out.write(dumps(records))
    path.write_bytes(buffer.getvalue())


def read_golden(path: Path = GOLDEN) -> dict[str, Any]:
    return json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))


def first_difference(actual: Any, expected: Any, path: str = "") -> tuple[str, Any, Any] | None:
    """The first place where two records differ: (path, actual, expected), or None."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        for key in sorted(set(actual) | set(expected)):
            if key not in expected:
                return f"{path}.{key}", actual[key], "<missing>"
            if key not in actual:
                return f"{path}.{key}", "<missing>", expected[key]
            found = first_difference(actual[key], expected[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(actual, list) and isinstance(expected, list):
        for i, (a, e) in enumerate(zip(actual, expected, strict=False)):
            found = first_difference(a, e, f"{path}[{i}]")
            if found:
                return found
        if len(actual) != len(expected):
            n = min(len(actual), len(expected))
            return (f"{path}[{n}] (length {len(actual)} vs {len(expected)})",
                    actual[n] if n < len(actual) else "<missing>",
                    expected[n] if n < len(expected) else "<missing>")
        return None
    return None if actual == expected else (path, actual, expected)


def describe_difference(actual: Any, expected: Any, width: int = 2000) -> str:
    """A readable account of the first difference, '' when there is none."""
    found = first_difference(actual, expected)
    if found is None:
        return ""
    path, a, e = found

    def show(v: Any) -> str:
        text = json.dumps(v, ensure_ascii=False, sort_keys=True, indent=1)
        return text if len(text) <= width else text[:width] + " …"

    context = ""
    element = re.match(r"(\.slides\[\d+\])?\.(main|sidebar)\[\d+\]", path)
    if element:  # which element, by its heading fields, when the difference is deep in it
        here = _at_path(expected, element.group(0))
        if isinstance(here, dict):
            brief = {k: here[k] for k in ("type", "key", "label", "body") if k in here}
            context = f"\nin element: {show(brief)}"
    return f"first difference at {path}{context}\nnow:    {show(a)}\ngolden: {show(e)}"


def _at_path(record: Any, path: str) -> Any:
    for name, index in re.findall(r"\.(\w+)(?:\[(\d+)\])?", path):
        record = record.get(name) if isinstance(record, dict) else None
        if index and isinstance(record, list):
            record = record[int(index)] if int(index) < len(record) else None
    return record


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print("usage: python -m tests.page_content --write", file=sys.stderr)
        return 2
    import os

    import pytest

    os.environ[WRITE_ENV] = "1"
    test = str(Path(__file__).resolve().parent / "pages" / "test_page_content.py")
    code = pytest.main([test, "-q", "-p", "no:cacheprovider", "-n", "0"])  # one process
    if code == 0:
        print(f"wrote {GOLDEN}")
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
