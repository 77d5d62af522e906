"""Signing in through a real OpenID Connect provider, in Chromium, as three people in turn.

The provider (``oidc-provider-mock``) runs on loopback in a thread; the dashboard runs as a
server with an ``[auth]`` table pointing at it. An officer of the whole province, an analyst
of amphoe 4005 and an identity nobody added each sign in through the provider's own form; the
test checks what each sees and is refused, on screen and in a download, and then that the
audit log holds those visits.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from domain.access import checked_user
from loaders import users
from loaders.store import Store
from tests.e2e.conftest import (
    SCREENSHOTS,
    SCREENSHOTS_ENV,
    dashboard_server,
    free_port,
    wait_for_script_done,
)

OFFICER = ("officer-1", "officer@khonkaen.go.th", "สมศรี ใจดี")
ANALYST = ("analyst-4005", "analyst.4005@khonkaen.go.th", "สมชาย ชุมแพ")
STRANGER = ("stranger", "stranger@example.org", "Nobody")


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    from oidc_provider_mock import User, run_server_in_thread

    people = [User(sub=sub, claims={"email": email, "name": name, "email_verified": True})
              for sub, email, name in (OFFICER, ANALYST, STRANGER)]
    with run_server_in_thread(free_port(), user_claims=people) as server:
        yield f"http://127.0.0.1:{server.server_port}"


@pytest.fixture(scope="module")
def signin_server(tmp_path_factory: pytest.TempPathFactory, demo_store_dir: Path,
                  provider: str) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("e2e_signin")
    store_dir = folder / "store"
    shutil.copytree(demo_store_dir, store_dir)
    store = Store.open(f"duckdb://{store_dir / 'store.duckdb'}", store_dir=store_dir)
    users.add_user(store, checked_user(OFFICER[1], "officer", OFFICER[2]), "test")
    users.add_user(store, checked_user(ANALYST[1], "analyst", ANALYST[2], amphoe=("4005",)),
                   "test")
    store.close()
    port = free_port()
    secrets = folder / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-long-random-string-for-the-test-only-0123456789"\n'
        'client_id = "kusiao-dashboard"\n'
        'client_secret = "test-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8")
    with dashboard_server(store_dir, "officer", f"duckdb://{store_dir / 'store.duckdb'}",
                          port=port, options=("--secrets.files", str(secrets))) as base:
        yield base, store_dir


def sign_in(page: Any, base: str, sub: str) -> None:
    page.goto(base + "/")
    wait_for_script_done(page)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(r"^" + re.escape(base)), timeout=30_000)
    wait_for_script_done(page)


class People:
    """Each person's browser context, kept signed in from one test to the next (a sign-in is
    three page loads through the provider); closed when the module's tests are done."""

    def __init__(self, chromium: Any, base: str) -> None:
        self.chromium, self.base = chromium, base
        self.contexts: dict[str, Any] = {}

    def new(self, sub: str) -> Any:
        """A fresh context (no cookie yet) for ``sub``, kept for the tests after: its page."""
        self.forget(sub)
        context = self.chromium.new_context(viewport={"width": 1280, "height": 800},
                                            accept_downloads=True)
        context.set_default_timeout(30_000)
        self.contexts[sub] = context
        return context.new_page()

    def signed_in(self, sub: str) -> Any:
        """The page of ``sub``'s context, signed in (in this test if no test before did)."""
        if sub in self.contexts:
            return self.contexts[sub].pages[0]
        page = self.new(sub)
        sign_in(page, self.base, sub)
        return page

    def forget(self, sub: str) -> None:
        if sub in self.contexts:
            self.contexts.pop(sub).close()

    def close(self) -> None:
        for sub in list(self.contexts):
            self.forget(sub)


@pytest.fixture(scope="module")
def people(chromium: Any, signin_server: tuple[str, Path]) -> Iterator[People]:
    kept = People(chromium, signin_server[0])
    yield kept
    kept.close()


def downloaded_ids(page: Any) -> list[str]:
    """The household IDs in the Households page's CSV download."""
    page.get_by_text("ดาวน์โหลดตารางนี้").first.click()  # the toggle that offers the files
    with page.expect_download() as info:
        page.get_by_role("button", name="ดาวน์โหลด CSV").first.click()
    data = Path(info.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    return [row[0] for row in rows[1:]]


def test_three_people_sign_in_and_see_what_their_role_and_area_allow(
        people: People, signin_server: tuple[str, Path]) -> None:
    base, _store_dir = signin_server
    for sub, email, name in (OFFICER, ANALYST, STRANGER):
        page = people.new(sub)
        kept = False
        try:
            page.goto(base + "/households")
            wait_for_script_done(page)
            expect(page.get_by_role("button", name="เข้าสู่ระบบ")).to_be_visible()
            assert page.locator('[data-testid="stDataFrame"]').count() == 0
            sign_in(page, base, sub)
            if os.environ.get(SCREENSHOTS_ENV):  # to look at
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=SCREENSHOTS / f"signed_in_{sub}.png")
            sidebar = page.locator('[data-testid="stSidebar"]')
            if sub == STRANGER[0]:
                expect(page.get_by_text(email).first).to_be_visible()
                assert page.locator('[data-testid="stMetric"]').count() == 0
                assert page.locator('[data-testid="stDataFrame"]').count() == 0
                continue
            expect(sidebar.get_by_text(name).first).to_be_visible()
            page.goto(base + "/households?household=KK-4001-0001")
            wait_for_script_done(page)
            ids = downloaded_ids(page)
            assert ids
            if sub == ANALYST[0]:
                assert all(i.startswith("KK-4005-") for i in ids), ids[:5]
                expect(page.get_by_text("ไม่พบครัวเรือนรหัสนี้")).to_be_visible()
                expect(sidebar.get_by_text("ชุมแพ").first).to_be_visible()
            else:
                assert {i[3:7] for i in ids} > {"4001", "4005"}  # the whole province
                expect(page.get_by_text("ไม่พบครัวเรือนรหัสนี้")).to_have_count(0)
            kept = True  # signed in, for the next test
        finally:
            if not kept:
                people.forget(sub)


def test_an_officer_plans_a_case_and_prints_a_visit_list_an_analyst_only_reads(
        people: People, signin_server: tuple[str, Path]) -> None:
    """The Follow-up page: the officer saves a status and downloads a buddy's A4 visit list
    (reopened here, its Thai text found); the analyst of the same amphoe sees the saved case
    with no form to change it."""
    from pypdf import PdfReader

    base, _store_dir = signin_server
    case_url = base + "/followup?followup_household=KK-4005-0007"
    for sub in (OFFICER[0], ANALYST[0]):
        page = people.signed_in(sub)
        try:
            page.goto(case_url)
            wait_for_script_done(page)
            form = page.locator('[data-testid="stForm"]')
            if sub == ANALYST[0]:
                expect(page.get_by_text("ท่านดูได้อย่างเดียว").first).to_be_visible()
                expect(form).to_have_count(0)
                # the saved status, in the case panel (the list's copy is the grid's hidden
                # accessible mirror)
                expect(page.get_by_text("กำลังดำเนินการ").locator("visible=true").first
                       ).to_be_visible()
                continue
            status = form.get_by_role("combobox", name="สถานะ")
            status.click()
            status.fill("กำลังดำเนินการ")  # the selectbox filters its options as one types
            status.press("Enter")
            form.get_by_label("สิ่งที่ต้องทำต่อ").fill("ประสานเกษตรอำเภอ")
            form.get_by_role("button", name="บันทึก", exact=True).click()
            expect(page.get_by_text("บันทึกแล้ว (ครั้งที่ 1)")).to_be_visible()
            wait_for_script_done(page)
            page.get_by_text("รายการเยี่ยมของคู่เสี่ยว").click()
            with page.expect_download() as info:
                page.get_by_role("button", name="รายการเยี่ยม (PDF, A4)").click()
            reader = PdfReader(info.value.path())
            text = reader.pages[0].extract_text()
            assert text.startswith("รายการเยี่ยมครัวเรือน: "), text[:80]
            assert "ที่อยู่: " in text and "เหตุผล: " in text
            assert round(float(reader.pages[0].mediabox.height)) == 842  # A4
            if os.environ.get(SCREENSHOTS_ENV):  # to look at
                page.screenshot(path=SCREENSHOTS / "followup_officer_saved.png")
        finally:
            people.forget(sub)  # the last test that signs in


def test_the_audit_log_holds_the_visits(chromium: Any,
                                        signin_server: tuple[str, Path]) -> None:
    """Read after the visits above (the server holds the store: read it through the
    administrators' command line on a copy)."""
    _base, store_dir = signin_server
    copy = store_dir.parent / "audit_copy"
    shutil.copytree(store_dir, copy, dirs_exist_ok=True)
    store = Store.open(f"duckdb://{copy / 'store.duckdb'}", store_dir=copy)
    try:
        log = users.audit_log(store)
    finally:
        store.close()
    def did(email: str, action: str) -> bool:
        return bool(((log["user_email"] == email) & (log["action"] == action)).any())

    assert did(OFFICER[1], "sign_in") and did(ANALYST[1], "sign_in")
    assert did(OFFICER[1], "open_profile") and did(ANALYST[1], "refused")
    assert did(OFFICER[1], "download_personal") and did(ANALYST[1], "download_personal")
    assert did(STRANGER[1], "refused")
    assert did(OFFICER[1], "case_edit")
