"""The size of the browser window, for a page laid out to fit it (the presenter's slides).

A slide is drawn for a 1,920 × 1,080 window and scaled to the one it is shown in, as a slide
program does: the type and the cards through CSS (``dashboard/static/presenter.css`` sets the
root font size from the window's size), the charts through :func:`slide_scale` (a plotly
figure's height and type are pixels, set here in Python). The browser reports its window's
size through a small component; until it has (a session's first run, and under AppTest) the
window is taken to be the full slide.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import streamlit as st

SLIDE_WIDTH, SLIDE_HEIGHT = 1920, 1080
"""The window a slide is drawn for, in CSS pixels (a projector at full HD, full screen)."""
SCALE_STEP, SMALLEST_SCALE = 0.05, 0.3
"""The charts' scale goes down in steps (each size is a figure kept for every session: a
window dragged through every width would make one each), and no lower than a 576 × 324
window's (a smaller one shows part of the slide)."""

_JS = """
const mounted = new WeakMap()

export default function (component) {
  const { data, parentElement, setStateValue } = component
  let entry = mounted.get(parentElement)
  if (!entry) {
    entry = { timer: 0 }
    entry.report = () => {
      const size = [window.innerWidth, window.innerHeight]
      const known = entry.known
      if (!known || known[0] !== size[0] || known[1] !== size[1]) {
        entry.known = size
        entry.set("size", size)
      }
    }
    entry.resized = () => {
      clearTimeout(entry.timer)
      entry.timer = setTimeout(entry.report, 250)
    }
    window.addEventListener("resize", entry.resized)
    mounted.set(parentElement, entry)
  }
  entry.set = setStateValue
  entry.known = data && data.size
  entry.report()
  return () => {
    window.removeEventListener("resize", entry.resized)
    clearTimeout(entry.timer)
    mounted.delete(parentElement)
  }
}
"""

_WINDOW = st.components.v2.component("kusiao_window_size", html="<span></span>", js=_JS)


def _reported() -> None:
    """The new size is read on the rerun the report causes."""


def window_size(key: str) -> tuple[int, int] | None:
    """The browser window's inner width and height in CSS pixels, as the browser last
    reported them (a change reruns the page), or None before it has."""
    state = st.session_state.get(key)
    known = state.get("size") if isinstance(state, Mapping) else None
    size = _WINDOW(key=key, data={"size": known}, default={"size": None},
                   on_size_change=_reported, height=0).size
    if not (isinstance(size, list) and len(size) == 2
            and all(type(v) is int and v > 0 for v in size)):
        return None
    return size[0], size[1]


def spare_height(size: tuple[int, int] | None, step: int = 20) -> int:
    """Pixels of the window's height a slide drawn to its scale leaves free below it (a
    16:10 window, such as 1,280 × 800, is taller than the 16:9 slide; the charts' scale is
    also rounded down from the type's), in steps of ``step`` (each size is a figure kept)."""
    if size is None:
        return 0
    drawn = min(1.0, size[0] / SLIDE_WIDTH, size[1] / SLIDE_HEIGHT)  # the CSS's scale
    free = size[1] - SLIDE_HEIGHT * drawn
    return max(0, int(free // step) * step)


def slide_scale(size: tuple[int, int] | None) -> float:
    """How much smaller than :data:`SLIDE_WIDTH` × :data:`SLIDE_HEIGHT` a slide's charts are
    drawn in a window of ``size``: its share of the full slide, rounded down to a
    :data:`SCALE_STEP` (a chart a little smaller than its place, never larger) and no smaller
    than :data:`SMALLEST_SCALE`; never larger than 1 (a bigger screen shows the slide at its
    own size)."""
    if size is None:
        return 1.0
    share = min(1.0, size[0] / SLIDE_WIDTH, size[1] / SLIDE_HEIGHT)
    return max(SMALLEST_SCALE, math.floor(share / SCALE_STEP + 1e-9) * SCALE_STEP)
