"""โหมดนำเสนอ / Presenter mode: the briefing slides on a projector, and as PowerPoint and PDF.

No sidebar or app chrome, large type, aggregates only (the context's viewer always masks), the
filters in force on every slide. Slides move with the buttons or the keyboard (arrows, Page
Up/Down as sent by presentation clickers, Home); the slide number lives in the URL
(``?present=1&slide=3``). Clicking an amphoe on the map filters to it and adds its slide.
"""

from pathlib import Path

import streamlit as st

from dashboard import store
from dashboard.briefing import slides as briefing
from dashboard.queries import overview
from dashboard.ui import context, filters_summary, today
from dashboard.ui.presenter import draw_slide, export_menu, sources_of
from dashboard.ui.registry import PAGES
from dashboard.ui.window import slide_scale, spare_height, window_size
from domain.filters import ALL, KEY_AMPHOE

KEY_SLIDE, PARAM_SLIDE = "present_slide", "slide"
PARAM_PRESENT = "present"  # dashboard/app.py opens this page for ?present=1
STYLE = Path(__file__).resolve().parent.parent / "dashboard" / "static" / "presenter.css"
ctx = context()
st.html(STYLE)
window = window_size("present_window")
scale = slide_scale(window)  # the charts' share of the CSS's scaling


meta = briefing.Meta(ctx.lang, filters_summary(ctx), ctx.as_of, today())
sources = sources_of(ctx, ctx.data, ctx.definitions)
keys = briefing.slide_keys(briefing.BriefingData(
    ctx.filters, ctx.data.read(overview.overview_kpis, ctx.filters, ctx.definitions)))
if KEY_SLIDE not in st.session_state:  # a prepared link may open on any slide
    wanted = st.query_params.get(PARAM_SLIDE, "1")
    st.session_state[KEY_SLIDE] = int(wanted) - 1 if wanted.isdigit() else 0
index = st.session_state[KEY_SLIDE] = min(max(st.session_state[KEY_SLIDE], 0), len(keys) - 1)
st.query_params[PARAM_SLIDE] = str(index + 1)
# the shown slide's figures only: a filter change asks for one slide's queries, not ten
shown = briefing.collect(ctx.data, ctx.filters, ctx.definitions, keys[index:index + 1],
                         today=today(), cases=store.cases_version())
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


draw_slide(ctx, slide, meta, inputs, (scale, spare_height(window)), pick_amphoe)

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

with bar[5]:
    export_menu(ctx, meta)
# a link, not st.switch_page: the browser's navigation carries the sidebar's filters along
bar[6].page_link(next(spec.path for spec in PAGES if spec.default), label=ctx.t("presenter.exit"),
                 icon=":material/close_fullscreen:", width="stretch",
                 query_params={k: v for k, v in st.query_params.to_dict().items()
                               if k not in (PARAM_PRESENT, PARAM_SLIDE)})
