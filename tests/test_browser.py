"""The first slice in a real browser: file, reply, close, read the answer.

Chromium (Debian's, at /usr/bin/chromium) is driven through Playwright's sync API
against the app served on a free local port. Fields and buttons are found by their
labels and roles, so the test also checks that the labels are tied to the fields.

Label and button texts are looked up in the app's own catalogue (Chinese, the
default language), so the test passes whether or not the translations are done.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from sqlalchemy import select

from cases.models import Case, CaseStatus
from portal.db import db
from portal.models import Role
from tests.factories import PASSWORD, World, make_user
from tests.live_server import live_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path("/tmp/browser-case.png")
NUMBER_RE = re.compile(r"^\d{4}-\d{6}$")
TIMEOUT_MS = 10_000

TITLE = "五一路夜间施工噪音扰民"
DESCRIPTION = "每天晚上十一点以后仍在施工，严重影响附近居民休息。"
REPLY = "已联系施工单位，夜间十点后停止施工。"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="chromium not installed: browser tests skipped"
    ),
]


def ui(app: Flask, msgid: str, **variables: object) -> str:
    """``msgid`` as the pages show it in Chinese (the English text while untranslated)."""
    with app.test_request_context(), force_locale("zh_CN"):
        return gettext(msgid, **variables)


@pytest.fixture
def sqlite_only(request: pytest.FixtureRequest) -> None:
    """One browser run is enough: skip the PostgreSQL parametrization of ``app``."""
    callspec = getattr(request.node, "callspec", None)
    backend = callspec.params.get("app") if callspec else "sqlite"
    if backend != "sqlite":
        pytest.skip(f"browser test runs on SQLite only (not {backend})")


@pytest.fixture
def base_url(sqlite_only: None, database: Flask) -> Iterator[str]:
    with live_server(database) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Browser]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright not installed: browser tests skipped"
    )
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    # Accept-Language zh-CN: anonymous visitors and accounts without a stored
    # language get the portal's default language, Chinese.
    context = browser.new_context(base_url=base_url, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Page, app: Flask, username: str) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label(ui(app, "Username"), exact=True).fill(username)
    page.get_by_label(ui(app, "Password"), exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name=ui(app, "Sign in"), exact=True).click()
    expect(sign_out_button(page, app)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def sign_out_button(page: Page, app: Flask):
    return page.get_by_role("banner").get_by_role("button", name=ui(app, "Sign out"), exact=True)


def sign_out(page: Page, app: Flask) -> None:
    from playwright.sync_api import expect

    button = sign_out_button(page, app)
    assert button.evaluate("b => b.form.getAttribute('action')") == "/logout"
    button.click()
    banner = page.get_by_role("banner")
    expect(banner.get_by_role("link", name=ui(app, "Sign in"), exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(ui(app, "You have signed out."))


def case_row(page: Page, number: str):
    """The table row that links to case ``number``."""
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=number, exact=True))


def test_citizen_files_clerk_replies_and_closes_citizen_reads(
    page: Page, base_url: str, database: Flask, world: World
) -> None:
    from playwright.sync_api import expect

    app = database
    citizen = make_user(app, Role.CITIZEN)
    clerk = make_user(app, Role.CLERK)

    # The citizen files a complaint.
    sign_in(page, app, citizen.username)
    page.goto("/requests/new")
    page.get_by_label(ui(app, "Type of request"), exact=True).select_option("complaint")
    page.get_by_label(ui(app, "Category"), exact=True).select_option(str(world.noise.id))
    page.get_by_label(ui(app, "District"), exact=True).select_option(str(world.gulou.id))
    page.get_by_label(ui(app, "Title"), exact=True).fill(TITLE)
    page.get_by_label(ui(app, "Description"), exact=True).fill(DESCRIPTION)
    page.get_by_role("button", name=ui(app, "Submit the request"), exact=True).click()

    page.wait_for_url(re.compile(r"/cases/\d{4}-\d{6}$"))
    number = page.locator(".tracking-number").inner_text().strip()
    assert NUMBER_RE.match(number), number
    assert page.url == f"{base_url}/cases/{number}"
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_role("status")).to_contain_text(number)

    # The clerk finds it in the unassigned queue, replies and closes it.
    sign_out(page, app)
    sign_in(page, app, clerk.username)
    page.goto("/queues/unassigned")
    row = case_row(page, number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(TITLE)
    row.get_by_role("link", name=number, exact=True).click()
    page.wait_for_url(f"**/cases/{number}")

    page.get_by_label(ui(app, "Public reply"), exact=True).fill(REPLY)
    page.get_by_role("button", name=ui(app, "Publish the reply"), exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(ui(app, "Your reply is published."))
    expect(page.locator(".reply .prose")).to_have_text(REPLY)

    close = page.get_by_role("button", name=ui(app, "Close"), exact=True)
    assert close.evaluate("b => b.form.getAttribute('action')") == f"/cases/{number}/close"
    close.click()
    expect(page.locator(".case__header .badge")).to_have_class(re.compile(r"\bbadge--closed\b"))
    expect(page.get_by_role("button", name=ui(app, "Close"), exact=True)).to_have_count(0)

    # The citizen sees the case closed and reads the reply.
    sign_out(page, app)
    sign_in(page, app, citizen.username)
    page.goto("/requests")
    row = case_row(page, number)
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text(re.compile(r"^\s*(已办结|Closed)\s*$"))
    row.get_by_role("link", name=number, exact=True).click()
    page.wait_for_url(f"**/cases/{number}")
    expect(page.locator(".tracking-number")).to_have_text(number)
    expect(page.get_by_text(REPLY, exact=True)).to_be_visible()
    expect(page.get_by_label(ui(app, "Public reply"), exact=True)).to_have_count(0)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        assert case.status == CaseStatus.CLOSED and case.closed_at is not None
        assert [e.action for e in case.events] == ["file", "reply", "close"]
        db.session.remove()
