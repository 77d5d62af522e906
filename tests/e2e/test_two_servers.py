"""Two dashboard servers (``streamlit run``, as behind a load balancer) on one PostgreSQL
store: a file imported through one server's Import page shows on the other's next rerun, with
no restart (each rerun reads the store's data version: one small query).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from domain.filters import KEY_LANG
from domain.i18n import t
from loaders.store import Store
from tests.e2e.conftest import Tab, dashboard_server, new_tab
from tests.e2e.test_browser import households_csv, metric_value, save_import, upload
from tests.factories import tiny_frames, write_csvs

pytestmark = pytest.mark.postgres

SUCCESS = '[data-testid="stAlertContentSuccess"]'


@pytest.fixture(scope="module")
def two_servers(pg_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[tuple[str, str]]:
    """The hand-made programme (8 households) in a fresh PostgreSQL database, and two
    servers on it, each with its own folder for raw files, as two machines would have."""
    url = pg_database("servers")
    folder = tmp_path_factory.mktemp("two_servers")
    for machine in ("a", "b"):
        (folder / machine).mkdir()
    store = Store.open(url, store_dir=folder / "a" / "store")
    try:
        from loaders.importer import import_files

        import_files(store, write_csvs(tiny_frames(), folder / "files"), imported_by="test")
    finally:
        store.close()
    with dashboard_server(folder / "a" / "store", "officer", url) as first, \
            dashboard_server(folder / "b" / "store", "officer", url) as second:
        yield first, second


def households(tab: Tab, lang: str = "th") -> int:
    return metric_value(tab, t("kpi.households", lang))


def test_an_import_through_one_server_shows_on_the_other_at_its_next_rerun(
        chromium: Any, two_servers: tuple[str, str]) -> None:
    first, second = two_servers
    importing, watching = new_tab(chromium, first), new_tab(chromium, second)
    a, b = next(importing), next(watching)
    try:
        b.open("/")
        assert households(b) == 8
        a.open("/import")
        new_file, _ids = households_csv("TWO-", 900_101)
        upload(a, "two_servers_households.csv", new_file)
        save_import(a, 3, "ทดสอบ สองเครื่อง")
        expect(a.page.locator(SUCCESS)).to_be_visible()
        a.open("/")
        assert households(a) == 11
        # the other server's open page, not reloaded: its next rerun (a language switch)
        # reads the store's data version and draws the new figures
        b.page.locator(f".st-key-{KEY_LANG}").get_by_text("English", exact=True).click()
        expect(b.page.locator('[data-testid="stMetricLabel"]').get_by_text(
            t("kpi.households", "en"), exact=True)).to_be_visible()
        b.wait_for_script()
        assert households(b, "en") == 11
        a.assert_clean()
        b.assert_clean()
    finally:
        for tab in (importing, watching):
            tab.close()
