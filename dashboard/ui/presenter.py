"""Presenter mode's pieces: one slide drawn on the page, and the briefing files on click."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import streamlit as st

from dashboard import store
from dashboard.briefing import slides as briefing
from dashboard.queries import status
from dashboard.ui import PageContext
from domain.definitions import Definitions

FIGURE_HEIGHT = 800
MAP_HEIGHT = 840
"""The map's height on a full-HD slide (its click hint beside it, not below): the hexagons,
and the type in them, grow with it. In a window taller than the slide (1,280 × 800) the map
also takes the height left free below the slide, so that its names are 16 px or more and
still fit their hexagons."""
_DRAWING = threading.Lock()  # a second click waits for the first one's drawing


def sources_of(ctx: PageContext, data: store.Snapshot, definitions: Definitions
               ) -> tuple[str, ...]:
    """The sources slide's lines (the demo data says it is synthetic)."""
    demo = bool((store.import_history(data)["imported_by"] == "demo").any())
    return briefing.source_lines(definitions, ctx.lang, demo)


def points(where: Any, slide: briefing.Slide, bullets: bool = False) -> None:
    where.markdown("\n".join(f"- {p}" if bullets else f"{p}  " for p in slide.points))


def metric(where: Any, kpi: briefing.Kpi) -> None:
    where.metric(kpi.label, kpi.value, delta=kpi.note or None, delta_color="off",
                 delta_arrow="off", border=True)


def draw_slide(ctx: PageContext, slide: briefing.Slide, meta: briefing.Meta,
               inputs: tuple[Any, ...], fit: tuple[float, int],
               pick_amphoe: Callable[[], None]) -> None:
    """The slide on the page, in the places the exported slide has them, its chart drawn to
    ``fit`` (the scale of the window, the pixels it has free below the slide); the map's
    clicks go to ``pick_amphoe``."""
    scale, spare = fit
    if slide.key == "cover":
        with st.container(key="present_cover"):
            st.title(slide.title)
            st.header(slide.points[0], divider="blue")
            st.markdown("  \n".join(slide.points[1:]))
    else:
        st.title(slide.title)
        st.caption(meta.caption)
        where = briefing.arrange(slide)  # the same places as on the exported slides
        if where.figure is not None:
            main = st.container()
            if where.points is not None and slide.kpis:
                points(st, slide)
            if where.kpis or where.points is not None:
                side, main = st.columns([briefing.SIDE, briefing.BODY.w - briefing.SIDE],
                                        gap="large")
                side = side.container(key="present_side")
                across = briefing.side_columns(len(slide.kpis))
                for i, kpi in enumerate(slide.kpis):
                    if i % across == 0:
                        row = side.columns(across) if across > 1 else [side]
                    metric(row[i % across], kpi)
                if not slide.kpis:
                    points(side, slide)
                if slide.key == "map":
                    side.caption(ctx.t("presenter.map_click"))
            if slide.key == "map":
                height = round(MAP_HEIGHT * scale) + spare
            else:
                height = round((FIGURE_HEIGHT - (100 if where.points is not None and slide.kpis
                                                 else 0)) * scale)
            main.plotly_chart(briefing.slide_figure(*inputs, height,
                                                    round(briefing.PROJECTOR_FONT * scale)),
                              key=f"present_{slide.key}",
                              theme=None,
                              config={"displayModeBar": False, "doubleClickDelay": 200},
                              **({"on_select": pick_amphoe, "selection_mode": "points"}
                                 if slide.key == "map" else {}))
        elif slide.table is not None:
            points(st, slide)
            st.table(slide.table.set_index(slide.table.columns[0]))  # figures right-aligned (css)
        else:
            start = 0
            for count in briefing.kpi_rows(len(slide.kpis)):
                for column, kpi in zip(st.columns(count), slide.kpis[start:start + count],
                                       strict=True):
                    metric(column, kpi)
                start += count
            points(st, slide, bullets=slide.key == "sources")


def _exported(ctx: PageContext, meta: briefing.Meta, files: dict[str, Any],
              build: Callable[..., bytes]) -> bytes:
    """A file of every slide, made when its button is clicked, for the data of that moment:
    another session may have imported since this page was drawn."""
    with _DRAWING:
        current = store.snapshot(ctx.viewer.area)  # the data of this moment, in the area
        version = (current.version, store.cases_version())  # an edited case: new files
        if files.get("version") != version:
            same = current == ctx.data
            definitions = ctx.definitions if same else store.definitions()
            now = meta if same else dataclasses.replace(
                meta, as_of=current.read(status.data_as_of))
            data = briefing.collect(current, ctx.filters, definitions, today=meta.produced,
                                    cases=version[1])
            slides = briefing.build_slides(data, definitions, now,
                                           sources_of(ctx, current, definitions))
            files.update(version=version, meta=now, slides=slides,
                         images=briefing.chart_images(slides))
        return build(files["slides"], files["meta"], files["images"])


def export_menu(ctx: PageContext, meta: briefing.Meta) -> None:
    """The PowerPoint and PDF of every slide, made on click (the whole briefing collected
    and drawn once for both files)."""
    files: dict[str, Any] = {}
    with st.popover(ctx.t("presenter.export"), icon=":material/download:", width="stretch"):
        st.caption(ctx.t("presenter.export_note"))
        if briefing.chart_browser() is None:
            st.warning(ctx.t("presenter.no_browser"), icon=":material/image_not_supported:")
        stem = meta.file_stem(ctx.filters.amphoe)
        st.download_button(ctx.t("presenter.export_pptx"),
                           lambda: _exported(ctx, meta, files, briefing.build_deck),
                           file_name=f"{stem}.pptx", on_click="ignore",
                           icon=":material/slideshow:",
                           mime="application/vnd.openxmlformats-officedocument.presentationml."
                                "presentation", key="present_pptx", width="stretch")
        st.download_button(ctx.t("presenter.export_pdf"),
                           lambda: _exported(ctx, meta, files, briefing.build_pdf),
                           file_name=f"{stem}.pdf", mime="application/pdf", on_click="ignore",
                           icon=":material/picture_as_pdf:", key="present_pdf", width="stretch")
