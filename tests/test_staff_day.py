"""A working day without dead ends (issue 10), in a real browser, without typing a URL.

Each person opens the portal's front page once and from there only follows links and
buttons: a citizen files, a clerk dispatches, the handler is told (inbox) and signs for
it, asks for an extension that the supervisor finds on their list and approves, the
handler is told and replies, the clerk is told and finds the answered case in the
service centre's queue and closes it, and the citizen reads the answer.

The pages are read in English (the browser asks for ``en``; the accounts store no
language), so the test reads like the steps a person takes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from sqlalchemy import select

from cases.models import Case, CaseStatus, ExtensionStatus
from portal.db import db
from portal.models import Role
from tests.factories import PASSWORD, World, make_user
from tests.test_browser import (  # noqa: F401  (fixtures, found by pytest by name)
    CHROMIUM,
    base_url,
    browser,
    sqlite_only,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="chromium not installed: browser tests skipped"
    ),
]

TITLE = "Street light out on Wuyi Road"
DESCRIPTION = "The street light at the corner of Wuyi Road has been dark for a week."
EXTENSION_REASON = "The lamp post must be replaced; the part arrives next week."
REPLY = "The lamp post was replaced and the light works again."


@pytest.fixture
def person(browser: Browser, base_url: str) -> Iterator[Callable[[], Page]]:  # noqa: F811
    """A browser window of its own (own cookies, own session), reading English."""
    contexts = []

    def _open() -> Page:
        context = browser.new_context(base_url=base_url, locale="en-US")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def sign_in(page: Page, username: str) -> None:
    """Open the front page, follow "Sign in", sign in: the portal takes you home."""
    from playwright.sync_api import expect

    page.goto("/")  # the one address a person types: the portal's own
    page.get_by_role("banner").get_by_role("link", name="Sign in", exact=True).click()
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_visible()


def nav(page: Page, name: str | re.Pattern) -> None:
    """Follow a link of the header's main navigation."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def open_case_from(page: Page, number: str) -> None:
    """Follow the link to case ``number`` on the page shown (a queue, list or inbox)."""
    from playwright.sync_api import expect

    page.get_by_role("main").get_by_role("link", name=re.compile(re.escape(number))).first.click()
    page.wait_for_url(f"**/cases/{number}")
    expect(page.locator(".tracking-number")).to_have_text(number)


def primary_form(page: Page, action: str) -> Locator:
    """The case page's primary action: open at once, with the filled button."""
    from playwright.sync_api import expect

    form = page.locator(f"form.action--{action}")
    expect(form).to_be_visible()  # not hidden in a disclosure: the next likely step
    expect(form.locator("button.button:not(.button--secondary)")).to_have_count(1)
    return form


def open_disclosure(page: Page, action: str) -> Locator:
    """An everyday step one click away: open its disclosure, return its form."""
    from playwright.sync_api import expect

    form = page.locator(f"form.action--{action}")
    expect(form).to_be_hidden()
    page.locator(f"details.action-disclosure--{action} > summary").click()
    expect(form).to_be_visible()
    return form


def expect_done(page: Page, number: str, text: str, status: str) -> None:
    from playwright.sync_api import expect

    page.wait_for_url(f"**/cases/{number}")
    expect(page.locator(".flashes .alert--success")).to_contain_text(text)
    expect(page.locator(".case__flags .badge").first).to_have_text(status)


def told_about(page: Page, number: str) -> None:
    """The inbox (reached from the header, which counts the unread) links to the case."""
    from playwright.sync_api import expect

    nav(page, re.compile(r"^Inbox \(\d+ unread\)$"))
    message = page.locator("li.reply--unread").filter(
        has=page.get_by_role("link", name=f"Request {number}", exact=True)
    )
    expect(message.first).to_be_visible()
    open_case_from(page, number)


def test_a_day_of_every_role_without_typing_a_url(
    person: Callable[[], Page], database: Flask, world: World
) -> None:
    from playwright.sync_api import expect

    app = database
    citizen = make_user(app, Role.CITIZEN)
    clerk = make_user(app, Role.CLERK)
    handler = make_user(app, Role.HANDLER, department_id=world.urban.id)
    supervisor = make_user(app, Role.SUPERVISOR)

    # 1. The citizen signs in, lands on their requests and files one.
    citizen_page = person()
    sign_in(citizen_page, citizen.username)
    expect(citizen_page).to_have_url(re.compile(r"/requests$"))
    nav(citizen_page, "File a request")
    citizen_page.get_by_label("Type of request", exact=True).select_option("complaint")
    citizen_page.get_by_label("Category", exact=True).select_option(str(world.noise.id))
    citizen_page.get_by_label("District", exact=True).select_option(str(world.gulou.id))
    citizen_page.get_by_label("Title", exact=True).fill(TITLE)
    citizen_page.get_by_label("Description", exact=True).fill(DESCRIPTION)
    citizen_page.get_by_role("button", name="Submit the request", exact=True).click()
    citizen_page.wait_for_url(re.compile(r"/cases/\d{4}-\d{6}$"))
    number = citizen_page.locator(".tracking-number").inner_text().strip()
    # The citizen's useful step comes first; withdrawing is one deliberate click away.
    expect(citizen_page.locator("details.action-disclosure--withdraw")).to_have_count(1)
    expect(citizen_page.locator("form.action--withdraw")).to_be_hidden()

    # 2. The clerk lands on the unassigned queue, opens the case and dispatches it.
    clerk_page = person()
    sign_in(clerk_page, clerk.username)
    open_case_from(clerk_page, number)
    dispatch = primary_form(clerk_page, "dispatch")
    dispatch.get_by_label("Department", exact=True).select_option(str(world.urban.id))
    dispatch.get_by_role("button", name="Dispatch", exact=True).click()
    expect_done(clerk_page, number, f"dispatched to {world.urban.name_en}", "Dispatched")

    # 3. The handler is told: the inbox links to the case; they sign for it.
    handler_page = person()
    sign_in(handler_page, handler.username)
    told_about(handler_page, number)
    primary_form(handler_page, "sign_for").get_by_role(
        "button", name="Sign for", exact=True
    ).click()
    expect_done(handler_page, number, "signed for", "In progress")

    # ... and asks for an extension (one click away: it is not the usual next step).
    extension = open_disclosure(handler_page, "extension")
    extension.get_by_label("Working days", exact=True).fill("3")
    extension.get_by_label("Reason", exact=True).fill(EXTENSION_REASON)
    extension.get_by_role("button", name="Request an extension", exact=True).click()
    expect_done(handler_page, number, "a supervisor will decide", "In progress")

    # 4. The supervisor finds it on their list (the header counts what waits) and approves.
    supervisor_page = person()
    sign_in(supervisor_page, supervisor.username)
    nav(supervisor_page, re.compile(r"^Supervision \(\d+ waiting\)$"))
    requests = supervisor_page.locator("section, div").filter(
        has=supervisor_page.get_by_role("heading", name=re.compile("^Extension requests"))
    ).last
    expect(requests).to_contain_text(EXTENSION_REASON)
    open_case_from(supervisor_page, number)
    decide = primary_form(supervisor_page, "decide_extension")
    decide.get_by_label("Approve").check()
    decide.get_by_role("button", name="Decide on the extension", exact=True).click()
    expect_done(supervisor_page, number, "Extension approved", "In progress")

    # 5. The handler is told of the decision and replies.
    handler_page.reload()
    told_about(handler_page, number)
    reply = primary_form(handler_page, "reply")
    reply.get_by_label("Public reply", exact=True).fill(REPLY)
    reply.get_by_role("button", name="Reply", exact=True).click()
    expect_done(handler_page, number, "", "Replied")

    # 6. The clerk who dispatched it is told, and the service centre's queue of answered
    #    cases holds it; the clerk closes it from the case page.
    clerk_page.reload()
    nav(clerk_page, re.compile(r"^Inbox \(\d+ unread\)$"))
    told = clerk_page.get_by_role("link", name=f"Request {number}", exact=True)
    expect(told.first).to_be_visible()
    nav(clerk_page, "Queues")
    clerk_page.get_by_role("navigation", name="Queues").get_by_role(
        "link", name="Answered — to close or follow up"
    ).click()
    open_case_from(clerk_page, number)
    primary_form(clerk_page, "close").get_by_role("button", name="Close", exact=True).click()
    expect_done(clerk_page, number, "", "Closed")

    # 7. The citizen reads the answer from their list of requests.
    nav(citizen_page, "My requests")
    open_case_from(citizen_page, number)
    expect(citizen_page.locator(".reply .prose").first).to_have_text(REPLY)

    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        assert case.status == CaseStatus.CLOSED
        assert [r.status for r in case.extension_requests] == [ExtensionStatus.APPROVED]
        actions = [e.action for e in case.events]
        db.session.remove()
    for step in ("file", "dispatch", "sign_for", "extension", "extension_approved", "reply",
                 "close"):
        assert step in actions, (step, actions)
