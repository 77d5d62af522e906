"""Ku Siao Dashboard: entrypoint and the only router.

Run from the project root: ``python -m streamlit run dashboard/app.py``. This frame sets the
page, opens the store (built from the demo files on first start), draws the shared sidebar
filters, keeps them in the URL, and runs the selected page.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from dashboard import store
from dashboard.queries import status
from dashboard.ui import (
    PageContext,
    agency_names,
    amphoe_names,
    every_label,
    set_context,
    tambon_names,
)
from dashboard.ui.identity import current_viewer, who_is_signed_in
from dashboard.ui.registry import PAGES
from domain.definitions import DefinitionsError
from domain.filters import (
    ALL,
    FILTER_PARAMS,
    KEY_AGENCY,
    KEY_AMPHOE,
    KEY_LANG,
    KEY_LEVELS,
    KEY_QUARTER,
    KEY_TAMBON,
    PARAM_LANG,
    Choices,
    Filters,
    from_query_params,
    to_query_params,
)
from domain.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from domain.thai_dates import format_date, format_quarter
from loaders.bootstrap import BootstrapError
from loaders.report import format_report

KEY_SEEDED = "_seeded_from_url"
PARAM_PRESENT = "present"  # ?present=1: a prepared link opens in presenter mode
PRESENTER_URL = "present"  # the presenter page's url_path (dashboard/registry.py)
STYLE = Path(__file__).resolve().parent / "static" / "app.css"  # every page's

# A local icon: a Material icon as favicon would be fetched from the internet.
st.set_page_config(page_title="คู่เสี่ยว แดชบอร์ด",
                   page_icon=str(Path(__file__).resolve().parent / "static" / "icon.png"),
                   layout="wide")


def seed_from_url(choices: Choices) -> None:
    """On a session's first run, take the filters and language from the URL."""
    if st.session_state.get(KEY_SEEDED):
        return
    params = st.query_params.to_dict()
    lang = params.get(PARAM_LANG, DEFAULT_LANGUAGE)
    st.session_state[KEY_LANG] = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    f = from_query_params(params, choices)
    st.session_state[KEY_AMPHOE] = f.amphoe or ALL
    st.session_state[KEY_TAMBON] = f.tambon or ALL
    st.session_state[KEY_AGENCY] = f.agency or ALL
    st.session_state[KEY_QUARTER] = f.quarter or choices.latest_quarter
    st.session_state[KEY_LEVELS] = list(f.levels)
    st.session_state[KEY_SEEDED] = True


def keep_valid(key: str, options: list, default: object) -> None:
    """A value that is no longer offered (e.g. a tambon of another amphoe) resets to default."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


def relabel_filters() -> None:
    """After a language switch, hand every filter its value again: a selectbox shows the label
    it was last given, so without this the sidebar kept the old language's names."""
    for key in (KEY_AMPHOE, KEY_TAMBON, KEY_AGENCY, KEY_QUARTER, KEY_LEVELS):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def settle_filters(choices: Choices, level_codes: Collection[int]) -> Filters:
    """The shared filters as the sidebar will show them: each value no longer offered (a
    tambon of another amphoe, a quarter or level since removed) reset first. Known before
    the sidebar is drawn, so the page's reads can begin while it is."""
    keep_valid(KEY_AMPHOE, [ALL, *choices.amphoe], ALL)
    amphoe = st.session_state[KEY_AMPHOE]
    keep_valid(KEY_TAMBON, tambon_options(choices, amphoe), ALL)
    keep_valid(KEY_AGENCY, [ALL, *choices.agency], ALL)
    keep_valid(KEY_QUARTER, list(choices.quarters), choices.latest_quarter)
    st.session_state[KEY_LEVELS] = [v for v in st.session_state.get(KEY_LEVELS, [])
                                    if v in level_codes]
    return Filters(
        amphoe=amphoe or None,
        tambon=st.session_state[KEY_TAMBON] or None,
        agency=st.session_state[KEY_AGENCY] or None,
        quarter=st.session_state[KEY_QUARTER],
        levels=tuple(sorted(st.session_state[KEY_LEVELS])),
    )


def tambon_options(choices: Choices, amphoe: str) -> list[str]:
    return [ALL, *choices.tambon_of.get(amphoe, ())] if amphoe else [ALL]


def at(options: list, key: str) -> int:
    """Where the session's value of ``key`` sits in ``options``."""
    return options.index(st.session_state[key])


def sidebar(choices: Choices, lang: str, filters: Filters, level_label: dict[int, str]
            ) -> None:
    """The shared filters' widgets, on the values :func:`settle_filters` settled. Each is
    also given that value as its default: the value set through the session state reaches
    the browser once, and a browser still loading the widget's code (a slow machine) took
    the default instead and sent it back with the next click: a link's English and filters
    were lost on the first click."""
    with st.sidebar:
        st.radio(t("app.language", lang), LANGUAGES, index=at(LANGUAGES, KEY_LANG),
                 key=KEY_LANG, horizontal=True, on_change=relabel_filters,
                 format_func=lambda code: {"th": "ไทย", "en": "English"}[code])
        st.header(t("filters.title", lang), divider="gray")
        names = amphoe_names(lang)
        amphoe = [ALL, *sorted(choices.amphoe, key=names.__getitem__)]
        st.selectbox(t("filters.amphoe", lang), amphoe, index=at(amphoe, KEY_AMPHOE),
                     key=KEY_AMPHOE,
                     format_func=lambda c: names.get(c, c) if c else every_label(
                         "amphoe", len(choices.amphoe), lang))
        tnames = tambon_names(lang)
        tambon = tambon_options(choices, filters.amphoe or ALL)
        st.selectbox(t("filters.tambon", lang), tambon, index=at(tambon, KEY_TAMBON),
                     key=KEY_TAMBON, disabled=not filters.amphoe, help=t("filters.tambon_help",
                                                                         lang),
                     format_func=lambda c: tnames.get(c, c) if c else t("filters.all_tambon", lang))
        anames = agency_names(lang)
        agency = [ALL, *choices.agency]
        st.selectbox(t("filters.agency", lang), agency, index=at(agency, KEY_AGENCY),
                     key=KEY_AGENCY,
                     format_func=lambda c: anames.get(c, c) if c else every_label(
                         "agency", len(choices.agency), lang))
        quarters = list(reversed(choices.quarters))
        st.selectbox(t("filters.quarter", lang), quarters, index=at(quarters, KEY_QUARTER),
                     key=KEY_QUARTER, help=t("filters.quarter_help", lang),
                     format_func=lambda q: format_quarter(q, lang))
        st.multiselect(t("filters.level", lang), list(level_label),
                       default=st.session_state[KEY_LEVELS], key=KEY_LEVELS,
                       format_func=lambda v: level_label[v], help=t("filters.level_help", lang),
                       placeholder=t("filters.all_levels", lang))


def write_url(lang: str, filters: Filters, choices: Choices) -> None:
    """Keep the shared filters and the language in the URL; parameters that pages own (such
    as ``household``) are left alone."""
    wanted = to_query_params(filters, choices)
    if lang != DEFAULT_LANGUAGE:
        wanted[PARAM_LANG] = lang
    current = st.query_params.to_dict()
    managed = {*FILTER_PARAMS, PARAM_LANG}
    wanted |= {k: v for k, v in current.items() if k not in managed}
    if current != wanted:
        st.query_params.from_dict(wanted)


def main() -> None:
    lang = st.session_state.get(KEY_LANG, DEFAULT_LANGUAGE)
    try:
        with st.spinner(t("app.building_store", lang)):
            data = store.snapshot()
        offered = data.read(status.choices)
    except DefinitionsError as exc:
        st.error(t("app.definitions_error", lang, file=exc.path.name, item=exc.key,
                   problem=exc.problem), icon=":material/error:")
        st.stop()
    except store.StoreUrlError as exc:
        st.error(t("app.store_error", lang, problem=str(exc)), icon=":material/error:")
        st.stop()
    except BootstrapError as exc:
        st.error(t("app.bootstrap_error", lang), icon=":material/error:")
        st.code(format_report(exc.report, lang))
        st.stop()
    viewer = current_viewer(lang)  # the sign-in screen stops the run here
    data = dataclasses.replace(data, area=viewer.area)  # every query inside the user's area
    choices = viewer.area.choices(offered)
    seed_from_url(choices)
    lang = st.session_state[KEY_LANG]
    definitions = store.definitions()
    levels = definitions.level_names(lang)
    filters = settle_filters(choices, levels)
    as_of = data.read(status.data_as_of)
    pages = [
        st.Page(spec.path, title=t(spec.title_key, lang), icon=spec.icon,
                url_path=spec.url_path, default=spec.default, help=t(spec.help_key, lang))
        for spec in PAGES if not spec.admin or viewer.administers
    ]
    presenting = st.query_params.get(PARAM_PRESENT) == "1"
    page = st.navigation(pages, position="hidden" if presenting else "sidebar")
    if presenter_mode(page, pages, presenting):
        viewer = dataclasses.replace(viewer, presenter=True)
    sidebar(choices, lang, filters, levels)
    write_url(lang, filters, choices)
    with st.sidebar:
        st.html(STYLE)  # a style only: it takes no room
        st.caption(t("app.data_as_of", lang, date=format_date(as_of, lang)))
        who_is_signed_in(viewer, lang)
    set_context(PageContext(lang=lang, filters=filters, choices=choices, data=data,
                            definitions=definitions, as_of=as_of, viewer=viewer))
    page.run()


def presenter_mode(page: StreamlitPage, pages: list[StreamlitPage], flagged: bool) -> bool:
    """Presenter mode is the presenter page: ``?present=1`` on any page opens it (keeping the
    filters), and the page opened from the menu puts the flag in the URL so its link opens in
    presenter mode too. The presenter page hides the app's chrome and always masks."""
    on_presenter = page.url_path == PRESENTER_URL
    if flagged and not on_presenter:
        presenter = next(p for p in pages if p.url_path == PRESENTER_URL)
        st.switch_page(presenter, query_params=st.query_params.to_dict())
    if on_presenter and not flagged:
        st.query_params[PARAM_PRESENT] = "1"
    return on_presenter


main()
