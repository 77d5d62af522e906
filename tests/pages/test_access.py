"""Sign-in, roles and areas, and the audit log, through AppTest on the demo store.

An analyst of amphoe 4005 is walked through every page, every URL parameter that names a
place or a household, and every download: nothing of another amphoe's households reaches the
output. Unknown identities, visitors not signed in and other computers without sign-in see
no household row. Users are managed from the command line, and what happens is on record.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.ui import identity
from dashboard.ui.registry import PAGES
from domain.access import checked_user
from loaders import users
from loaders.__main__ import main as cli
from loaders.store import Store
from tests.conftest import ROOT
from tests.page_content import page_content

APP = str(ROOT / "dashboard" / "app.py")
AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x" * 32,
        "client_id": "kusiao", "client_secret": "secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
ANALYST = "analyst.4005@khonkaen.go.th"
OFFICER = "officer@khonkaen.go.th"
ADMIN = "admin@khonkaen.go.th"
DEFAULT_FIRST = sorted(PAGES, key=lambda spec: not spec.default)


@pytest.fixture
def access_store(tmp_path: Path, demo_store_dir: Path, use_store) -> Path:
    """A copy of the demo store with three users."""
    folder = tmp_path / "store"
    shutil.copytree(demo_store_dir, folder)
    store = Store.open(f"duckdb://{folder / 'store.duckdb'}", store_dir=folder)
    for user in (checked_user(ANALYST, "analyst", "ผู้วิเคราะห์ ชุมแพ", amphoe=("4005",)),
                 checked_user(OFFICER, "officer", "เจ้าหน้าที่ จังหวัด"),
                 checked_user(ADMIN, "admin", "ผู้ดูแล")):
        users.add_user(store, user, "test")
    store.close()
    use_store(folder)
    return folder


def signed_in(email: str | None, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.secrets["auth"] = AUTH
    at.user = ({"is_logged_in": True, "email": email, "name": email} if email
               else {"is_logged_in": False})
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def shown_text(at: AppTest, typed: str = "") -> str:
    """Everything the page shows, less the link's own parameters and what the user typed
    (a household ID typed into the profile box is the user's, not the data's)."""
    record = page_content(at)
    record.pop("query_params", None)
    text = json.dumps(record, ensure_ascii=False)
    return text.replace(typed, "") if typed else text


def other_amphoe(folder: Path) -> tuple[set[str], set[str], set[str]]:
    """Household IDs, heads' names and citizen IDs of every household outside 4005."""
    store = Store.open(f"duckdb://{folder / 'store.duckdb'}", store_dir=folder)
    try:
        rows = store.table("household").execute()
    finally:
        store.close()
    rows = rows[rows["amphoe_code"] != "4005"]
    return (set(rows["household_id"]), set(rows["head_name"]),
            set(rows["head_citizen_id"].dropna()))


def leaks(text: str, ids: set[str], names: set[str], citizen_ids: set[str]) -> list[str]:
    found = [i for i in re.findall(r"KK-\d{4}-\d{4}", text) if i in ids]
    found += [n for n in names if n and n in text]
    digits = re.sub(r"\D", "", text)
    found += [c for c in citizen_ids if c in digits]
    return found


def test_an_analyst_of_one_amphoe_sees_nothing_of_another(
        access_store: Path, downloads: dict[str, bytes],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard.briefing import slides as briefing

    # the briefing files are still made; their chart pictures are not searched for names,
    # and drawing them in Chromium cost more than the rest of the test (test_presenter.py
    # tests the pictures)
    monkeypatch.setattr(briefing, "chart_browser", lambda: None)
    ids, names, citizen_ids = other_amphoe(access_store)
    assert len(ids) > 1000  # the demo: 1,174 households in 26 amphoe
    one_of_them = sorted(ids)[0]
    queries = [{"agency": "CDD"},
               {"amphoe": "4001", "tambon": "400101", "household": one_of_them}]
    for query in queries:
        at = signed_in(ANALYST, query)  # on the default page; one session walks every
        for spec in DEFAULT_FIRST:  # page, each opened with the link's parameters
            if spec.admin:
                continue  # not offered to an analyst (tested below)
            if not spec.default:
                at.query_params = dict(query)
                at.switch_page(f"../pages/{spec.file}").run()
            assert not at.exception, (spec.file, query, at.exception)
            text = shown_text(at, query.get("household", ""))
            assert not leaks(text, ids, names, citizen_ids), (spec.file, query)
            if spec.file == "households.py" and "household" in query:
                assert at.session_state["household"] == one_of_them  # asked for, and
                assert "ไม่พบ" in at.info[0].value  # not found: outside the area
    assert downloads, "the pages offered downloads"
    for name, data in downloads.items():
        text = data.decode("utf-8-sig", errors="ignore") if name.endswith(".csv") else ""
        assert not leaks(text, ids, names, citizen_ids), name


def test_the_analyst_is_offered_only_their_amphoe(access_store: Path) -> None:
    at = signed_in(ANALYST, {"amphoe": "4001"})
    amphoe = at.selectbox(key="f_amphoe")
    assert amphoe.options[1:] == ["ชุมแพ"]  # "every amphoe" of theirs, then 4005 itself
    assert amphoe.value == ""  # 4001 in the link is not theirs: ignored
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert "ผู้วิเคราะห์ ชุมแพ" in sidebar and "ชุมแพ" in sidebar


def test_an_unknown_identity_gets_a_message_and_nothing_else(access_store: Path) -> None:
    at = signed_in("stranger@example.org")
    assert "stranger@example.org" in at.error[0].value
    assert not at.metric and not at.dataframe and not at.get("plotly_chart")
    log = audit(access_store)
    assert ((log["user_email"] == "stranger@example.org") & (log["action"] == "refused")).any()


def test_a_visitor_not_signed_in_sees_the_sign_in_screen_only(access_store: Path) -> None:
    at = signed_in(None, {"household": "KK-4005-0007"})
    assert [b.key for b in at.button] == ["sign_in"]
    assert not at.metric and not at.dataframe and not at.get("plotly_chart")


@pytest.mark.parametrize(("address", "local"), [
    (None, True), ("127.0.0.1", True), ("::1", True),
    ("::ffff:127.0.0.1", True),  # 127.0.0.1 as a server on every interface sees it
    ("203.0.113.7", False), ("::ffff:203.0.113.7", False), ("2001:db8::1", False),
    ("not an address", False)])
def test_this_machine_is_recognised_however_the_server_listens(address: str | None,
                                                              local: bool) -> None:
    assert identity.is_local(address) is local


def test_another_computer_without_sign_in_sees_no_household_row(
        demo_store_dir: Path, use_store, monkeypatch: pytest.MonkeyPatch) -> None:
    use_store(demo_store_dir)
    monkeypatch.setenv("KUSIAO_ROLE", "officer")
    monkeypatch.setattr(identity, "client_address", lambda: "203.0.113.7")
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["household"] = "KK-4005-0007"
    at.run()  # on the default page; one session walks every page, each opened with the link
    for spec in DEFAULT_FIRST:
        if spec.admin:
            continue
        if not spec.default:
            at.query_params = {"household": "KK-4005-0007"}
            at.switch_page(f"../pages/{spec.file}").run()
        assert not at.exception, spec.file
        assert "KK-4005-0007" not in shown_text(at), spec.file
        assert "ไม่ได้ตั้งค่าการเข้าสู่ระบบ" in at.sidebar.warning[0].value
    households = AppTest.from_file(APP, default_timeout=90).run()
    households.switch_page("../pages/households.py").run()
    assert not households.dataframe  # aggregates only


def audit(folder: Path):
    store = Store.open(f"duckdb://{folder / 'store.duckdb'}", store_dir=folder)
    try:
        return users.audit_log(store)
    finally:
        store.close()


def test_opening_a_profile_and_downloading_rows_are_on_record(
        access_store: Path, downloads: dict[str, bytes]) -> None:
    at = signed_in(OFFICER, {"household": "KK-4005-0007"})
    at.switch_page("../pages/households.py").run()
    assert not at.exception
    at.run()  # a rerun does not put the same opening on record again
    at.switch_page("../pages/coverage.py").run()  # its lists offer personal rows
    from dashboard import store

    store.close()  # let the test read the file the app wrote
    log = audit(access_store)
    mine = log[log["user_email"] == OFFICER]
    assert (mine["action"] == "sign_in").sum() == 1
    opened = mine[mine["action"] == "open_profile"]
    assert list(opened["object"]) == ["household KK-4005-0007"]
    assert (mine["action"] == "download_personal").any()


def test_the_admin_page_lists_users_and_the_log_to_admins_only(access_store: Path) -> None:
    at = signed_in(ADMIN)
    at.switch_page("../pages/admin.py").run()
    assert not at.exception
    assert ANALYST in at.dataframe[0].value.iloc[:, 0].tolist()
    at.text_input(key="admin_email").set_value("new.one@khonkaen.go.th")
    at.selectbox(key="admin_role").set_value("analyst")
    at.multiselect(key="admin_amphoe").set_value(["4005", "4001"])
    at.button[0].click().run()  # save
    assert not at.exception and at.success
    at.run()
    assert "new.one@khonkaen.go.th" in at.dataframe[0].value.iloc[:, 0].tolist()
    analyst = signed_in(ANALYST)
    with pytest.raises(ValueError, match=r"admin\.py"):  # not offered to an analyst at all
        analyst.switch_page("../pages/admin.py")


def test_users_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KUSIAO_STORE_URL", f"duckdb://{tmp_path / 's.duckdb'}")
    monkeypatch.setenv("KUSIAO_STORE_DIR", str(tmp_path))
    assert cli(["users", "add", "Som@KhonKaen.go.th", "--role", "analyst",
                "--amphoe", "4005"]) == 0
    assert cli(["users", "add", "som@khonkaen.go.th", "--role", "officer"]) == 2
    assert cli(["users", "add", "x@y.th", "--role", "analyst", "--amphoe", "9999"]) == 2
    assert cli(["users", "add", "x@y.th", "--role", "analyst", "--amphoe", "4005",
                "--agency", "CDD"]) == 2
    assert cli(["--lang", "en", "users", "set", "som@khonkaen.go.th", "--agency", "CDD"]) == 0
    assert cli(["users", "list"]) == 0
    out = capsys.readouterr()
    assert "som@khonkaen.go.th" in out.out and "CDD" in out.out
    assert "ไม่รู้จักรหัสพื้นที่: 9999" in out.err
    assert cli(["users", "remove", "som@khonkaen.go.th"]) == 0
    assert cli(["users", "remove", "som@khonkaen.go.th"]) == 2
    store = Store.open(f"duckdb://{tmp_path / 's.duckdb'}", store_dir=tmp_path)
    try:
        actions = list(users.audit_log(store)["action"])[::-1]
    finally:
        store.close()
    assert actions == ["user_add", "user_set", "user_remove"]


def test_the_briefing_files_hold_the_area_only(access_store: Path, downloads: dict[str, bytes],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The PowerPoint an analyst of amphoe 4005 downloads counts that amphoe's households
    (72), not the province's (1,174)."""
    import io

    from pptx import Presentation

    from dashboard.briefing import slides as briefing

    monkeypatch.setattr(briefing, "chart_browser", lambda: None)  # no pictures: quicker
    at = signed_in(ANALYST, {"present": "1"})
    assert not at.exception
    deck = next(data for name, data in downloads.items() if name.endswith(".pptx"))
    text = " ".join(shape.text_frame.text for slide in Presentation(io.BytesIO(deck)).slides
                    for shape in slide.shapes if shape.has_text_frame)
    assert "72" in text and "1,174" not in text
