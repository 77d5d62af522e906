"""โหมดนำเสนอ / Presenter mode: the briefing slides on a projector, and as PowerPoint and PDF.

No sidebar or app chrome, large type, aggregates only (the context's viewer always masks), the
filters in force on every slide. Slides move with the buttons or the keyboard (arrows, Page
Up/Down as sent by presentation clickers, Home); the slide number lives in the URL
(``?present=1&slide=3``). Clicking an amphoe on the map filters to it and adds its slide.
"""

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard import store
from dashboard.briefing import slides as briefing
from dashboard.queries import overview, status
from dashboard.ui import context, filters_summary
from dashboard.ui.registry import PAGES
from dashboard.ui.window import slide_scale, window_size
from domain.filters import ALL, KEY_AMPHOE

KEY_SLIDE, PARAM_SLIDE, FIGURE_HEIGHT = "present_slide", "slide", 800
PARAM_PRESENT = "present"  # dashboard/app.py opens this page for ?present=1
STYLE = Path(__file__).resolve().parent.parent / "dashboard" / "static" / "presenter.css"
ctx = context()
st.html(STYLE)
scale = slide_scale(window_size("present_window"))  # the charts' share of the CSS's scaling


def sources_of(data: store.Snapshot, definitions: object) -> tuple[str, ...]:
    demo = bool((store.import_history(data)["imported_by"] == "demo").any())
    return briefing.source_lines(definitions, ctx.lang, demo)


meta = briefing.Meta(ctx.lang, filters_summary(ctx), ctx.as_of, dt.date.today())
sources = sources_of(ctx.data, ctx.definitions)
keys = briefing.slide_keys(briefing.BriefingData(
    ctx.filters, ctx.data.read(overview.overview_kpis, ctx.filters, ctx.definitions)))
if KEY_SLIDE not in st.session_state:  # a prepared link may open on any slide
    wanted = st.query_params.get(PARAM_SLIDE, "1")
    st.session_state[KEY_SLIDE] = int(wanted) - 1 if wanted.isdigit() else 0
index = st.session_state[KEY_SLIDE] = min(max(st.session_state[KEY_SLIDE], 0), len(keys) - 1)
st.query_params[PARAM_SLIDE] = str(index + 1)
# the shown slide's figures only: a filter change asks for one slide's queries, not ten
shown = briefing.collect(ctx.data, ctx.filters, ctx.definitions, keys[index:index + 1])
inputs = (keys[index], shown, ctx.definitions, meta, sources)
slide = briefing.build_slide(*inputs)


def go(to: int) -> None:
    st.session_state[KEY_SLIDE] = min(max(to, 0), len(keys) - 1)


def pick_amphoe() -> None:
    """A click on an amphoe filters to it (its slide follows the map); again, clears it."""
    points = st.session_state["present_map"].selection.points
    code = str(points[0]["customdata"][0]) if points else None
    if code:
        st.session_state[KEY_AMPHOE] = ALL if st.session_state.get(KEY_AMPHOE) == code else code


def points(where: object, bullets: bool = False) -> None:
    where.markdown("\n".join(f"- {p}" if bullets else f"{p}  " for p in slide.points))


def metric(where: object, kpi: briefing.Kpi) -> None:
    where.metric(kpi.label, kpi.value, delta=kpi.note or None, delta_color="off",
                 delta_arrow="off", border=True)


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
            points(st)
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
                points(side)
        height = FIGURE_HEIGHT - (100 if where.points is not None and slide.kpis else 0)
        main.plotly_chart(briefing.slide_figure(*inputs, round(height * scale),
                                   round(briefing.PROJECTOR_FONT * scale)),
                          key=f"present_{slide.key}",
                          theme=None,
                          config={"displayModeBar": False, "doubleClickDelay": 200},
                          **({"on_select": pick_amphoe, "selection_mode": "points"}
                             if slide.key == "map" else {}))
        if slide.key == "map":
            main.caption(ctx.t("presenter.map_click"))
    elif slide.table is not None:
        points(st)
        st.table(slide.table.set_index(slide.table.columns[0]))  # figures right-aligned (css)
    else:
        start = 0
        for count in briefing.kpi_rows(len(slide.kpis)):
            for column, kpi in zip(st.columns(count), slide.kpis[start:start + count],
                                   strict=True):
                metric(column, kpi)
            start += count
        points(st, bullets=slide.key == "sources")

# widths that fit each Thai label with its key badge on the slide (drawn for 1,920 px wide and
# scaled to the window), the help on two lines at most
bar = st.container(key="present_bar").columns([2.3, 2.3, 1, 2.1, 3.2, 3, 2.6],
                                               vertical_alignment="center")
bar[0].button(ctx.t("presenter.first"), on_click=go, args=(0,), shortcut="Home",
              key="present_first", icon=":material/first_page:", width="stretch",
              disabled=index == 0)
bar[1].button(ctx.t("presenter.previous"), on_click=go, args=(index - 1,), shortcut="Left",
              key="present_previous", icon=":material/chevron_left:", width="stretch",
              disabled=index == 0)
bar[2].markdown(f"**{ctx.t('presenter.page_of', n=index + 1, total=len(keys))}**",
                text_alignment="center")
bar[3].button(ctx.t("presenter.next"), on_click=go, args=(index + 1,), shortcut="Right",
              key="present_next", icon=":material/chevron_right:", icon_position="right",
              width="stretch", type="primary", disabled=index == len(keys) - 1)
bar[4].caption(ctx.t("presenter.keys_help"))
with st.container(key="present_clicker"):  # presentation clickers send Page Up / Page Down
    st.button("PageUp", on_click=go, args=(index - 1,), shortcut="PageUp", key="present_up")
    st.button("PageDown", on_click=go, args=(index + 1,), shortcut="PageDown",
              key="present_down")

files: dict[str, Any] = {}  # the whole briefing, collected and drawn once for both files
drawing = threading.Lock()  # a second click waits for the first one's drawing


def exported(build: Callable[..., bytes]) -> bytes:
    """A file of every slide, made when its button is clicked, for the data of that moment:
    another session may have imported since this page was drawn."""
    with drawing:
        current = store.snapshot()
        if files.get("version") != current.version:
            same = current == ctx.data
            definitions = ctx.definitions if same else store.definitions()
            now = meta if same else dataclasses.replace(
                meta, as_of=current.read(status.data_as_of))
            data = briefing.collect(current, ctx.filters, definitions)
            slides = briefing.build_slides(data, definitions, now, sources_of(current,
                                                                               definitions))
            files.update(version=current.version, meta=now, slides=slides,
                         images=briefing.chart_images(slides))
        return build(files["slides"], files["meta"], files["images"])


with bar[5].popover(ctx.t("presenter.export"), icon=":material/download:", width="stretch"):
    st.caption(ctx.t("presenter.export_note"))
    if briefing.chart_browser() is None:
        st.warning(ctx.t("presenter.no_browser"), icon=":material/image_not_supported:")
    stem = meta.file_stem(ctx.filters.amphoe)
    st.download_button(ctx.t("presenter.export_pptx"), lambda: exported(briefing.build_deck),
                       file_name=f"{stem}.pptx", on_click="ignore", icon=":material/slideshow:",
                       mime="application/vnd.openxmlformats-officedocument.presentationml."
                            "presentation", key="present_pptx", width="stretch")
    st.download_button(ctx.t("presenter.export_pdf"), lambda: exported(briefing.build_pdf),
                       file_name=f"{stem}.pdf", mime="application/pdf", on_click="ignore",
                       icon=":material/picture_as_pdf:", key="present_pdf", width="stretch")
# a link, not st.switch_page: the browser's navigation carries the sidebar's filters along
bar[6].page_link(next(spec.path for spec in PAGES if spec.default), label=ctx.t("presenter.exit"),
                 icon=":material/close_fullscreen:", width="stretch",
                 query_params={k: v for k, v in st.query_params.to_dict().items()
                               if k not in (PARAM_PRESENT, PARAM_SLIDE)})
