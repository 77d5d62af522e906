"""Chart pictures for the briefing files: plotly figures drawn to PNG by kaleido in Debian's
Chromium (no internet: plotly.js comes from the plotly package, MathJax is off, the project's
fonts from ``fonts.conf``).

One Chromium is kept between exports, on an event loop of its own, so a second download does
not wait for a browser to start. A picture that fails or takes longer than
:data:`RENDER_TIMEOUT_S` closes that browser; the next picture starts a fresh one. So a browser
that crashed or hung costs one picture's wait, never every later export of the process (the
library's own sync server waits for ever when its browser fails to start).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

LOG = logging.getLogger(__name__)
FONTS_CONF = Path(__file__).resolve().parents[2] / "fonts.conf"
RENDER_TIMEOUT_S = 45.0  # one picture, a browser start included; one takes 0.2-2 s
CLOSE_TIMEOUT_S = 15.0


def chart_browser() -> str | None:
    """The Chromium that kaleido will drive, or None: chart images then cannot be made."""
    for name in (os.environ.get("BROWSER_PATH"), "chromium", "chromium-browser",
                 "google-chrome"):
        found = shutil.which(name) if name else None
        if found:
            return found
    return None


class ChartRenderer:
    """A Chromium for pictures, opened at the first one and kept; thread-safe (one picture at
    a time: the pictures of one export come one after another anyway)."""

    def __init__(self, timeout_s: float = RENDER_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._browser: Any = None  # a kaleido.Kaleido once open

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            # a daemon: a browser that hangs must not hang the process's exit
            threading.Thread(target=loop.run_forever, name="chart-pictures",
                             daemon=True).start()
            self._loop = loop
        return self._loop

    async def _draw(self, figure: dict[str, Any], spec: dict[str, Any], path: str) -> bytes:
        import kaleido

        if self._browser is None:
            # Chromium reads the project's fonts from the environment it starts in
            os.environ.setdefault("FONTCONFIG_FILE", str(FONTS_CONF))
            browser = kaleido.Kaleido(path=path, n=1, timeout=self.timeout_s, mathjax=False)
            try:
                await browser.open()
            except BaseException:
                await self._close(browser)
                task = asyncio.current_task()
                if task is not None and task.cancelling():  # given up on: nobody to tell
                    raise asyncio.CancelledError from None
                raise
            self._browser = browser
        picture: bytes = await self._browser.calc_fig(figure, opts=spec)
        return picture

    async def _close(self, browser: Any) -> None:
        try:
            await asyncio.wait_for(browser.close(), CLOSE_TIMEOUT_S)
        except BaseException:  # the browser is gone either way; the next picture starts one
            LOG.warning("closing the chart browser failed", exc_info=True)

    async def _reset(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            await self._close(browser)

    def render(self, fig: go.Figure, width: int, height: int, scale: float) -> bytes:
        """The figure as PNG of ``width`` x ``height`` CSS pixels at ``scale``. Raises when
        there is no Chromium, or the picture fails or takes too long (the browser is then
        closed, so the next call starts afresh)."""
        path = chart_browser()
        if path is None:
            raise RuntimeError("no Chromium for chart pictures")
        spec = {"format": "png", "width": width, "height": height, "scale": scale}
        with self._lock:
            loop = self._running_loop()
            job = asyncio.run_coroutine_threadsafe(self._draw(fig.to_dict(), spec, path), loop)
            try:
                return job.result(self.timeout_s)
            except BaseException as exc:
                job.cancel()
                reset = asyncio.run_coroutine_threadsafe(self._reset(), loop)
                try:
                    reset.result(CLOSE_TIMEOUT_S + 5)
                except concurrent.futures.TimeoutError:
                    LOG.warning("the chart browser did not close")
                if isinstance(exc, concurrent.futures.TimeoutError):
                    raise TimeoutError(f"no chart picture after {self.timeout_s:.0f} s") from exc
                raise

    def close(self) -> None:
        """Close the browser, if one is open (tests; a server keeps it)."""
        with self._lock:
            if self._loop is not None:
                asyncio.run_coroutine_threadsafe(self._reset(), self._loop).result(
                    CLOSE_TIMEOUT_S + 5)


RENDERER = ChartRenderer()
"""The process's chart browser, started at the first picture."""
