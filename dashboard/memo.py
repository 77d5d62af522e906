"""Reuse a built chart while its inputs are unchanged.

A Streamlit page runs top to bottom on every interaction, and building a plotly figure costs
10-20 ms (plotly validates every property as it is set) while handing a built figure to the
browser costs about 1 ms. :func:`memoised` keys a builder's result on a fingerprint of its
arguments, so a rerun with the same data reuses the figure. The fingerprint reads the values
themselves (a frame's content hash, not its identity), so a changed input can never return a
stale figure. Builders must be pure and callers must not change a returned figure.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from _plotly_utils.utils import convert_to_base64
from plotly.io.json import to_json_plotly

T = TypeVar("T")
MAX_ENTRIES = 256



class Lru:
    """A bounded map shared by every session's thread: when full, the entry used least
    recently goes."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, default: Any = None) -> Any:
        with self._lock:
            if key not in self._entries:
                return default
            self._entries.move_to_end(key)
            return self._entries[key]

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_MISSING = object()
_CACHE = Lru(MAX_ENTRIES)


_KNOWN: dict[int, tuple[weakref.ref[Any], Any]] = {}
_KNOWN_LOCK = threading.Lock()


def known_as(value: Any, token: Any) -> None:
    """Say that ``value`` (and each frame inside it) is exactly what ``token`` names, e.g. a
    cached query's result named by its cache key: :func:`fingerprint` then reads the token
    instead of hashing a large frame on every rerun. Only the very object registered is
    known this way; a frame derived from it (a masked copy, a filtered one) is a new object
    and is read by content."""
    parts: list[tuple[Any, Any]] = [(value, token)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts += [(getattr(value, f.name), (token, f.name)) for f in dataclasses.fields(value)]
    elif isinstance(value, tuple):
        parts += [(item, (token, i)) for i, item in enumerate(value)]
    for part, name in parts:
        if isinstance(part, pd.DataFrame | pd.Series):
            _remember(part, name)


def known_reference(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """``frame``, a reference table loaded once for the process (amphoe, tambon, agencies,
    the tile layout), hashed once and known by that from now on: pages pass these to many
    memoised builders, and hashing them took a few milliseconds of every rerun. A table
    loaded again (its cache cleared) is hashed anew."""
    if _token(frame) is None:
        _remember(frame, ("reference", name, fingerprint(frame)))
    return frame


def _remember(value: Any, token: Any) -> None:
    key = id(value)

    def forget(ref: weakref.ref[Any], key: int = key) -> None:
        # no lock: the collector may run this in a thread that holds it. Removing only our own
        # entry is enough; at worst a newer entry is dropped, and its frame is read by content
        entry = _KNOWN.get(key)
        if entry is not None and entry[0] is ref:
            _KNOWN.pop(key, None)

    with _KNOWN_LOCK:
        _KNOWN[key] = (weakref.ref(value, forget), token)


def _token(value: Any) -> Any:
    with _KNOWN_LOCK:
        entry = _KNOWN.get(id(value))
    return entry[1] if entry is not None and entry[0]() is value else None


_PLAIN = (str, int, float, bool, type(None), dt.date)


def _plain(items: tuple[Any, ...]) -> bool:
    """Only text, numbers, dates and pairs of them: such a tuple is its own fingerprint."""
    return all(isinstance(item, _PLAIN) or (type(item) is tuple and _plain(item))
               for item in items)


def fingerprint(value: Any) -> Any:
    """A hashable value equal for equal inputs: frames by content (or by the token they are
    :func:`known_as`), containers item by item.

    Raises ``TypeError`` for a value it cannot read, rather than guess by identity."""
    if value is None or isinstance(value, str | int | float | bool | bytes | dt.date | dt.time
                                   | dt.timedelta | Decimal | Enum):
        return value
    if isinstance(value, pd.DataFrame | pd.Series):
        token = _token(value)
        if token is not None:
            return ("known", token)
        hashed = pd.util.hash_pandas_object(value, index=True).to_numpy()
        names = tuple(value.columns) if isinstance(value, pd.DataFrame) else (value.name,)
        dtypes = (tuple(str(d) for d in value.dtypes) if isinstance(value, pd.DataFrame)
                  else (str(value.dtype),))
        return (type(value).__name__, value.shape, names, dtypes, fingerprint(dict(value.attrs)),
                hashlib.blake2b(hashed.tobytes(), digest_size=16).digest())
    if isinstance(value, np.ndarray):
        return ("ndarray", value.shape, str(value.dtype),
                hashlib.blake2b(np.ascontiguousarray(value).tobytes(), digest_size=16).digest())
    if isinstance(value, Mapping):
        pairs = tuple(value.items())
        if _plain(pairs):  # names by code and the like: compared as they are
            return ("map", pairs)
        return ("map", tuple((fingerprint(k), fingerprint(v)) for k, v in pairs))
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        if isinstance(value, list | tuple) and _plain(tuple(items)):
            return (type(value).__name__, tuple(items))
        return (type(value).__name__, tuple(fingerprint(v) for v in items))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # by its fields, never by hash(): equal hashes do not make equal values
        return (type(value).__qualname__, tuple(
            fingerprint(getattr(value, f.name)) for f in dataclasses.fields(value)))
    raise TypeError(f"cannot fingerprint a {type(value).__name__}")


class FrozenFigure(go.Figure):
    """A figure that is not changed any more, so its dict is written once: Streamlit asks
    for ``to_dict()`` on every rerun, and plotly deep-copies every trace to answer.

    Made by :meth:`of_spec`, it is only its plain spec until something asks more of it than
    its dict; the first such question makes plotly's objects (:meth:`__getattr__`)."""

    _frozen: dict[str, Any] | None = None

    @classmethod
    def of_spec(cls, spec: Mapping[str, Any]) -> FrozenFigure:
        """The figure of a plain ``{"data": [...], "layout": {...}}`` that plotly's figure
        would make without its checks, with none of plotly's objects made yet: making them
        costs 1-1.5 ms a figure, and a page only sends the figure's dict."""
        made = object.__new__(cls)
        object.__setattr__(made, "_spec", spec)
        return made

    def __getattr__(self, name: str) -> Any:
        """Reached only for what the figure does not have: one made by :meth:`of_spec`
        makes plotly's objects now, and answers from them."""
        spec = self.__dict__.pop("_spec", None)
        if spec is None:
            raise AttributeError(name)
        go.Figure.__init__(self, spec, _validate=False)
        return getattr(self, name)

    def to_dict(self) -> dict[str, Any]:
        if self._frozen is None:
            spec = self.__dict__.get("_spec")
            if spec is not None:  # as plotly writes it: the default template added
                frozen = {"data": _set(list(spec["data"])), "layout": _set(dict(spec["layout"]))}
                if "template" not in frozen["layout"] and pio.templates.default is not None:
                    frozen["layout"]["template"] = _default_template(pio.templates.default)
            else:
                # plotly's own to_dict deep-copies every array before it replaces the arrays
                # in the copy by base64 text; copying the dicts and lists that hold them is
                # enough (the replacing makes new values, the figure's arrays stay as they were)
                frozen = {"data": _containers(self._data), "layout": _containers(self._layout)}
                frames = [_containers(frame._props) for frame in self._frame_objs]
                if frames:
                    frozen["frames"] = frames
            convert_to_base64(frozen)
            self._frozen = _listed(frozen)
        return copy.deepcopy(self._frozen) if _caller_may_change() else self._frozen


@functools.lru_cache(maxsize=4)
def _default_template(name: Any) -> dict[str, Any]:
    """The dict of plotly's default template (by its name, or the template itself), as a
    figure's dict holds it; one dict shared by the frozen dicts, which nobody changes."""
    template = pio.templates[name] if isinstance(name, str) else name
    return template.to_plotly_json()


def _set(value: Any) -> Any:
    """A spec's ``value`` as plotly keeps it: every dict, list and tuple in it copied, without
    the properties set to ``None`` (which plotly takes as not set); anything else shared."""
    if isinstance(value, dict):
        return {key: _set(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_set(item) for item in value]
    return value


def _containers(value: Any) -> Any:
    """``value`` with every dict, list and tuple in it copied; anything else shared."""
    if isinstance(value, dict):
        return {key: _containers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_containers(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_containers(item) for item in value)
    return value


def _listed(value: Any) -> Any:
    """``value`` with each array of text or of mixed values (a chart's customdata: a code
    and a count) as the list plotly's JSON writer makes of it (in place, for dicts and lists).
    With such an array in it, plotly's writer turns the whole figure into plain values first,
    on every rerun: 2.2 ms for the Coverage matrix, 0.15 ms without. Numbers went to base64
    before; dates stay arrays, which the writer takes as they are (in a figure that also
    held text arrays, they were written as the cleaning writes them: no chart here has them).
    The default template, shared by every frozen dict, is left alone."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "template":
                value[key] = _listed(item)
    elif isinstance(value, list):
        value[:] = [_listed(item) for item in value]
    elif isinstance(value, np.ndarray) and value.dtype.kind in "OU":
        return json.loads(to_json_plotly(value))
    return value


def _caller_may_change() -> bool:
    """Only Streamlit's chart element, which reads the dict to write JSON, gets the shared
    dict; any other caller (a figure built from this one, an export) gets its own copy."""
    caller = sys._getframe(2).f_globals.get("__name__", "")
    return caller != "plotly.tools"


def memoised(builder: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``builder(*args, **kwargs)``, reused while the arguments are equal (LRU of
    :data:`MAX_ENTRIES` results shared by all sessions). A plotly figure comes back as a
    :class:`FrozenFigure`."""
    if "<" in builder.__qualname__:  # a lambda or a nested function: no stable name
        raise TypeError(f"memoise a module-level function, not {builder.__qualname__}")
    key = (builder.__module__, builder.__qualname__, fingerprint(args), fingerprint(kwargs))
    cached = _CACHE.get(key, _MISSING)
    if cached is not _MISSING:
        return cached
    result = builder(*args, **kwargs)
    if type(result) is go.Figure:
        result.__class__ = FrozenFigure  # same object, same layout: nothing is copied
    known_as(result, ("memo", key))  # a builder fed this result reads the key, not the rows
    _CACHE.put(key, result)
    return result


KEPT_ENTRIES = 512
_KEPT = Lru(KEPT_ENTRIES)


def kept(key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()``, kept under ``key`` (LRU of :data:`KEPT_ENTRIES` shared by all sessions),
    for results a caller may change: each call gets its own shallow copy. With pandas'
    copy-on-write a change to a copied frame never reaches the kept one, and a copy costs
    microseconds where Streamlit's data cache unpickles the whole result on every rerun."""
    result = _KEPT.get(key, _MISSING)
    if result is _MISSING:
        result = compute()
        _KEPT.put(key, result)
    return shallow_copy(result)


def is_kept(key: tuple[Any, ...]) -> bool:
    """Whether :func:`kept` holds a result under ``key`` (nothing is computed)."""
    return _KEPT.get(key, _MISSING) is not _MISSING


def keep(key: tuple[Any, ...], value: Any) -> None:
    """Keep ``value`` under ``key`` as :func:`kept` would have (a read made elsewhere)."""
    _KEPT.put(key, value)


def shallow_copy(value: T) -> T:
    """A copy of frames and of the containers and dataclasses holding them; numbers, text and
    other immutable values are shared."""
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.copy(deep=False)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{
            f.name: shallow_copy(getattr(value, f.name))
            for f in dataclasses.fields(value) if f.init})
    if isinstance(value, dict):
        return {k: shallow_copy(v) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list):
        return [shallow_copy(v) for v in value]  # type: ignore[return-value]
    if type(value) is tuple:
        return tuple(shallow_copy(v) for v in value)  # type: ignore[return-value]
    return value


def clear() -> None:
    _CACHE.clear()
    _KEPT.clear()
