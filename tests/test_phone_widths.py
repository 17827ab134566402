"""Phones (360 px wide): "my requests", the queues, the supervisor's list and the case page
fit the screen; nothing scrolls sideways except inside a table's own box.

Chromium (Debian's, at /usr/bin/chromium) through Playwright, like tests/test_browser.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask

from portal.db import utcnow
from portal.models import Role
from tests.factories import PASSWORD, make_case, make_user
from tests.live_server import live_server
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS
from tests.test_lifecycle import step
from tests.test_sweep import set_case

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

WIDTH, HEIGHT = 360, 740
SHOTS = Path("/tmp/phone-widths")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed: skipped"),
]


@pytest.fixture
def phone(request: pytest.FixtureRequest, database: Flask) -> Iterator[tuple[Browser, str]]:
    callspec = getattr(request.node, "callspec", None)
    if callspec and callspec.params.get("app") != "sqlite":
        pytest.skip("browser test runs on SQLite only")
    sync_api = pytest.importorskip("playwright.sync_api")
    with live_server(database) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=[*CHROMIUM_ARGS, "--headless"])
        try:
            yield browser, url
        finally:
            browser.close()


def phone_page(browser: Browser, base_url: str, username: str) -> Page:
    """A phone-sized page in its own context, signed in as ``username``."""
    context = browser.new_context(base_url=base_url, locale="zh-CN",
                                  viewport={"width": WIDTH, "height": HEIGHT})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/login")
    assert_fits(page, "/login", "login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def assert_fits(page: Page, path: str, name: str) -> None:
    page.goto(path)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5
                           && !e.closest('.table-wrap'))
              .slice(0, 5).map(e => e.tagName + '.' + e.className)"""
    )
    assert width <= WIDTH, f"{path} is {width} px wide at {WIDTH} px: {wide}"
    # A list of cases stays readable: no value squeezed into a sliver of a column.
    narrow = page.evaluate(
        """() => [...document.querySelectorAll('table.cases td[data-label]')]
              .filter(td => td.getBoundingClientRect().width < 200)
              .slice(0, 3).map(td => td.dataset.label)"""
    )
    assert not narrow, f"{path}: squeezed columns {narrow}"


def test_pages_fit_a_phone(phone, database, world):
    browser, base_url = phone
    citizen = make_user(database, Role.CITIZEN, display_name="手机用户")
    clerk = make_user(database, Role.CLERK)
    supervisor = make_user(database, Role.SUPERVISOR)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    numbers = [make_case(database, citizen, world,
                         title=f"五一路夜间施工噪音扰民，附近居民无法休息{i}").number
               for i in range(3)]
    busy = numbers[0]
    step(database, busy, "dispatch", clerk, department=world.urban.id)
    step(database, busy, "sign_for", handler)
    step(database, busy, "extension", handler, days=3, note="需要协调施工单位，另行安排夜间巡查")
    step(database, numbers[1], "dispatch", clerk, department=world.urban.id)
    step(database, numbers[1], "sign_for", handler)
    step(database, numbers[1], "reply", handler, note="已责令施工单位夜间停工。")
    set_case(database, busy, supervised=True, escalated_at=utcnow() - timedelta(hours=1),
             escalation_reason="overdue")

    page = phone_page(browser, base_url, citizen.username)
    assert_fits(page, "/requests", "my-requests")
    assert_fits(page, f"/cases/{busy}", "case-client")

    page = phone_page(browser, base_url, clerk.username)
    assert_fits(page, "/queues/unassigned", "queue-unassigned")
    assert_fits(page, "/queues/answered", "queue-answered")
    assert_fits(page, f"/cases/{busy}", "case-clerk")

    page = phone_page(browser, base_url, handler.username)
    assert_fits(page, "/queues/department", "queue-department")
    assert_fits(page, f"/cases/{busy}", "case-handler")

    page = phone_page(browser, base_url, supervisor.username)
    assert_fits(page, "/supervision", "supervision")
