"""The case engine in a real browser: filing, intake, departments, closing.

Chromium (Debian's, at /usr/bin/chromium) is driven through Playwright's sync API
against the app served on a free local port. Fields and buttons are found by their
labels and roles, so the tests also check that the labels are tied to the fields.

Every step on a case is a ``<form class="action action--<action>">`` on the case page
posting to ``/cases/<number>/<action>``; the tests scope their locators to that form.

Label and button texts are looked up in the app's own catalogue (Chinese, the
default language), so the tests pass whether or not the translations are done.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from sqlalchemy import select

from cases.models import Case, CaseStatus
from cases.tracking import CODE_ALPHABET, CODE_LENGTH
from cases.workflow import EVENT_LABELS, TRANSITIONS
from portal.db import db
from portal.models import Role, User
from tests.factories import PASSWORD, World, make_user
from tests.live_server import live_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, FilePayload, Locator, Page

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
ENGINE_SCREENSHOT = Path("/tmp/browser-engine.png")
TRACK_SCREENSHOT = Path("/tmp/browser-track.png")
NUMBER_RE = re.compile(r"^\d{4}-\d{6}$")
CODE_RE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
TIMEOUT_MS = 10_000

TITLE = "五一路夜间施工噪音扰民"
DESCRIPTION = "每天晚上十一点以后仍在施工，严重影响附近居民休息。"
ANSWER = "已联系施工单位，夜间十点后停止施工。"
RETURN_REASON = "噪声扰民不属于交通运输局职责，请改派城市管理局。"
REPLY = "城管执法人员已到现场核查，责令施工单位夜间停工并处以罚款。"
PHOTO_NAME = "现场照片.png"

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


def label_of(app: Flask, lazy: object) -> str:
    """A lazy label (transition, event, status) as the Chinese pages show it."""
    with app.test_request_context(), force_locale("zh_CN"):
        return str(lazy)


def status_label(app: Flask, status: CaseStatus) -> str:
    with app.test_request_context(), force_locale("zh_CN"):
        return status.label


# --- fixtures ---------------------------------------------------------------------


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
def new_page(browser: Browser, base_url: str) -> Iterator[Callable[[], Page]]:
    """Open a page in a fresh browser context: its own cookies, so its own session."""
    contexts = []

    def _new_page() -> Page:
        # Accept-Language zh-CN: anonymous visitors and accounts without a stored
        # language get the portal's default language, Chinese.
        context = browser.new_context(base_url=base_url, locale="zh-CN")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    try:
        yield _new_page
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    return new_page()


# --- helpers ----------------------------------------------------------------------


def sign_in(page: Page, app: Flask, username: str) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label(ui(app, "Username"), exact=True).fill(username)
    page.get_by_label(ui(app, "Password"), exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name=ui(app, "Sign in"), exact=True).click()
    expect(sign_out_button(page, app)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def sign_out_button(page: Page, app: Flask) -> Locator:
    return page.get_by_role("banner").get_by_role("button", name=ui(app, "Sign out"), exact=True)


def sign_out(page: Page, app: Flask) -> None:
    from playwright.sync_api import expect

    button = sign_out_button(page, app)
    assert button.evaluate("b => b.form.getAttribute('action')") == "/logout"
    button.click()
    banner = page.get_by_role("banner")
    expect(banner.get_by_role("link", name=ui(app, "Sign in"), exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(ui(app, "You have signed out."))


def signed_in_page(new_page: Callable[[], Page], app: Flask, user: User) -> Page:
    """A page in its own browser context, signed in as ``user``."""
    page = new_page()
    sign_in(page, app, user.username)
    return page


def case_row(page: Page, number: str) -> Locator:
    """The table row that links to case ``number``."""
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=number, exact=True))


def tiny_png() -> bytes:
    """A real 1x1 PNG (one red pixel): signature, IHDR, IDAT, IEND with their CRCs."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte, then R G B
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def file_request(
    page: Page,
    app: Flask,
    world: World,
    base_url: str,
    files: list[FilePayload] | None = None,
) -> str:
    """File a noise complaint in Gulou through /requests/new; return its tracking number.

    ``files`` are chosen in the form's file input (found by its label) before submitting.
    """
    from playwright.sync_api import expect

    page.goto("/requests/new")
    page.get_by_label(ui(app, "Type of request"), exact=True).select_option("complaint")
    page.get_by_label(ui(app, "Category"), exact=True).select_option(str(world.noise.id))
    page.get_by_label(ui(app, "District"), exact=True).select_option(str(world.gulou.id))
    page.get_by_label(ui(app, "Title"), exact=True).fill(TITLE)
    page.get_by_label(ui(app, "Description"), exact=True).fill(DESCRIPTION)
    if files:
        chooser = page.get_by_label(ui(app, "Attachments (optional)"), exact=True)
        expect(chooser).to_have_attribute("name", "attachments")
        chooser.set_input_files(files)
    page.get_by_role("button", name=ui(app, "Submit the request"), exact=True).click()

    page.wait_for_url(re.compile(r"/cases/\d{4}-\d{6}$"))
    number = page.locator(".tracking-number").inner_text().strip()
    assert NUMBER_RE.match(number), number
    assert page.url == f"{base_url}/cases/{number}"
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    filed = ui(app, "Your request is filed. Its tracking number is %(number)s.", number=number)
    expect(page.get_by_role("status").filter(has_text=filed)).to_have_count(1)
    return number


def open_from_queue(page: Page, queue: str, number: str) -> None:
    """Find case ``number`` in ``/queues/<queue>`` and follow its link."""
    from playwright.sync_api import expect

    page.goto(f"/queues/{queue}")
    row = case_row(page, number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(TITLE)
    row.get_by_role("link", name=number, exact=True).click()
    page.wait_for_url(f"**/cases/{number}")
    expect(page.locator(".tracking-number")).to_have_text(number)


def reveal(page: Page, action: str) -> None:
    """Open the disclosures around ``action``'s form (the next step's form is open already)."""
    form = page.locator(f"form.action--{action}")
    for details in (
        page.locator("details.action-more").filter(has=form),
        page.locator(f"details.action-disclosure--{action}"),
    ):
        if details.count() and not details.evaluate("d => d.open"):
            details.locator(":scope > summary").click()  # one click, as a person would


def action_form(page: Page, app: Flask, number: str, action: str) -> Locator:
    """The case page's form for ``action``, shown and checked for its target and heading."""
    from playwright.sync_api import expect

    form = page.locator(f"form.action--{action}")
    expect(form).to_have_count(1)
    reveal(page, action)
    expect(form).to_be_visible()
    expect(form).to_have_attribute("action", f"/cases/{number}/{action}")
    expect(form).to_have_attribute("method", "post")
    expect(form.get_by_role("heading", level=3)).to_have_text(
        label_of(app, TRANSITIONS[action].label)
    )
    return form


def submit_action(form: Locator, app: Flask, action: str) -> None:
    form.get_by_role("button", name=label_of(app, TRANSITIONS[action].label), exact=True).click()


def expect_status(page: Page, app: Flask, status: CaseStatus) -> None:
    """The case page's header shows ``status`` (and only that status badge)."""
    from playwright.sync_api import expect

    badge = page.locator(".case__flags").locator(f".badge--{status.value}")
    expect(badge).to_have_text(status_label(app, status))


def expect_done(page: Page, app: Flask, number: str, status: CaseStatus) -> None:
    """Back on the case page after an action, with what was done said and the new status."""
    from playwright.sync_api import expect

    page.wait_for_url(f"**/cases/{number}")
    expect(page.locator(".flashes .alert--success")).to_have_count(1)
    expect(page.get_by_role("status")).not_to_have_text("")
    expect_status(page, app, status)


def fact(page: Page, app: Flask, term: str) -> Locator:
    """The value (``<dd>``) of the case page's fact named ``term`` (its ``<dt>``)."""
    pair = page.locator("dl.facts > div").filter(
        has=page.locator("dt").get_by_text(ui(app, term), exact=True)
    )
    return pair.locator("dd")


def timeline_actions(page: Page) -> list[str]:
    return [t.strip() for t in page.locator(".timeline .timeline__action").all_inner_texts()]


def lookup_refused(page: Page, status: int) -> str:
    """Why a /track submission did not get its answer: the status and the page's message."""
    main = " ".join(page.get_by_role("main").inner_text().split())
    return f"/track answered {status}: {main}"


def case_events(app: Flask, number: str) -> tuple[Case, list[str]]:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        actions = [e.action for e in case.events]
        db.session.expunge_all()
        db.session.remove()
    return case, actions


# --- tests ------------------------------------------------------------------------


def test_citizen_files_clerk_answers_at_intake_and_closes_citizen_reads(
    page: Page, base_url: str, database: Flask, world: World
) -> None:
    from playwright.sync_api import expect

    app = database
    citizen = make_user(app, Role.CITIZEN)
    clerk = make_user(app, Role.CLERK)

    # The citizen files a complaint.
    sign_in(page, app, citizen.username)
    number = file_request(page, app, world, base_url)

    # The clerk finds it in the unassigned queue, answers it at intake and closes it.
    sign_out(page, app)
    sign_in(page, app, clerk.username)
    open_from_queue(page, "unassigned", number)
    expect_status(page, app, CaseStatus.SUBMITTED)

    answer = action_form(page, app, number, "answer")
    answer.get_by_label(ui(app, "Public reply"), exact=True).fill(ANSWER)
    submit_action(answer, app, "answer")
    expect_done(page, app, number, CaseStatus.REPLIED)
    expect(page.locator(".reply .prose")).to_have_text(ANSWER)
    expect(page.locator("form.action--answer")).to_have_count(0)

    close = action_form(page, app, number, "close")
    # Closing needs no text: the form is its heading and its button.
    expect(close.locator("textarea, select, input:not([type=hidden])")).to_have_count(0)
    submit_action(close, app, "close")
    expect_done(page, app, number, CaseStatus.CLOSED)
    expect(page.locator("form.action--close")).to_have_count(0)

    # The citizen sees the case closed and reads the answer.
    sign_out(page, app)
    sign_in(page, app, citizen.username)
    page.goto("/requests")
    row = case_row(page, number)
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text(status_label(app, CaseStatus.CLOSED))
    row.get_by_role("link", name=number, exact=True).click()
    page.wait_for_url(f"**/cases/{number}")
    expect(page.locator(".tracking-number")).to_have_text(number)
    expect_status(page, app, CaseStatus.CLOSED)
    expect(page.locator(".reply .prose")).to_have_text(ANSWER)
    expect(page.locator("form.action")).to_have_count(0)  # nothing left to do for the citizen
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    case, actions = case_events(app, number)
    assert case.status == CaseStatus.CLOSED and case.closed_at is not None
    assert case.department_id is None  # answered at intake: no department involved
    assert actions == ["file", "answer", "close"]


def test_case_engine_dispatch_return_redispatch_sign_for_reply_close(
    new_page: Callable[[], Page], base_url: str, database: Flask, world: World
) -> None:
    from playwright.sync_api import expect

    app = database
    citizen = make_user(app, Role.CITIZEN)
    clerk = make_user(app, Role.CLERK)
    transport_handler = make_user(app, Role.HANDLER, department_id=world.transport.id)
    urban_handler = make_user(app, Role.HANDLER, department_id=world.urban.id)
    # Each actor works in a browser context (a session) of their own.
    citizen_page = signed_in_page(new_page, app, citizen)
    clerk_page = signed_in_page(new_page, app, clerk)
    transport_page = signed_in_page(new_page, app, transport_handler)
    urban_page = signed_in_page(new_page, app, urban_handler)

    # The citizen files; no routing rule matches, so the case waits at intake.
    number = file_request(citizen_page, app, world, base_url)
    expect_status(citizen_page, app, CaseStatus.SUBMITTED)

    # The clerk dispatches it to the transport bureau.
    open_from_queue(clerk_page, "unassigned", number)
    dispatch = action_form(clerk_page, app, number, "dispatch")
    department = dispatch.get_by_label(ui(app, "Department"), exact=True)
    expect(department).to_have_attribute("name", "department")
    department.select_option(label=world.transport.name_zh)
    expect(department).to_have_value(str(world.transport.id))
    submit_action(dispatch, app, "dispatch")
    expect_done(clerk_page, app, number, CaseStatus.DISPATCHED)
    expect(fact(clerk_page, app, "Handling department")).to_have_text(world.transport.name_zh)

    # The transport handler finds it in the department's queue and returns it.
    open_from_queue(transport_page, "department", number)
    expect_status(transport_page, app, CaseStatus.DISPATCHED)
    back = action_form(transport_page, app, number, "return")
    reason = back.get_by_label(ui(app, "Reason"), exact=True)
    expect(reason).to_have_attribute("name", "note")
    reason.fill(RETURN_REASON)
    with transport_page.expect_navigation():
        submit_action(back, app, "return")
    # Where the handler lands is not checked: the case page, where the app sends them,
    # is no longer theirs to see (a 404 today). The step is done, and the case has
    # left the transport bureau: it is no longer in its queue.
    expect(transport_page.get_by_role("status")).to_have_text(
        ui(app, "Case %(number)s returned to the service centre for dispatch.", number=number)
    )
    transport_page.goto("/queues/department")
    expect(case_row(transport_page, number)).to_have_count(0)

    # Back at intake, the clerk reads the reason and re-dispatches to urban management.
    open_from_queue(clerk_page, "unassigned", number)
    expect_status(clerk_page, app, CaseStatus.ACCEPTED)
    expect(clerk_page.locator(".timeline")).to_contain_text(RETURN_REASON)
    dispatch = action_form(clerk_page, app, number, "dispatch")
    dispatch.get_by_label(ui(app, "Department"), exact=True).select_option(
        label=world.urban.name_zh
    )
    submit_action(dispatch, app, "dispatch")
    expect_done(clerk_page, app, number, CaseStatus.DISPATCHED)
    expect(fact(clerk_page, app, "Handling department")).to_have_text(world.urban.name_zh)

    # The urban handler finds it in the department's queue, signs for it and replies.
    open_from_queue(urban_page, "department", number)
    sign_for = action_form(urban_page, app, number, "sign_for")
    submit_action(sign_for, app, "sign_for")
    expect_done(urban_page, app, number, CaseStatus.IN_PROGRESS)
    expect(urban_page.locator("form.action--sign_for")).to_have_count(0)

    reply = action_form(urban_page, app, number, "reply")
    text = reply.get_by_label(ui(app, "Public reply"), exact=True)
    expect(text).to_have_attribute("name", "note")
    text.fill(REPLY)
    # From the text, the keyboard's next stop is the form's button; Enter sends it.
    text.press("Tab")
    button = reply.get_by_role("button", name=label_of(app, TRANSITIONS["reply"].label))
    expect(button).to_be_focused()
    button.press("Enter")
    expect_done(urban_page, app, number, CaseStatus.REPLIED)
    expect(urban_page.locator(".reply .prose")).to_have_text(REPLY)
    urban_page.screenshot(path=str(ENGINE_SCREENSHOT), full_page=True)

    # The clerk closes it.
    clerk_page.reload()
    expect_status(clerk_page, app, CaseStatus.REPLIED)
    submit_action(action_form(clerk_page, app, number, "close"), app, "close")
    expect_done(clerk_page, app, number, CaseStatus.CLOSED)

    steps = ["file", "dispatch", "return", "dispatch", "sign_for", "reply", "close"]
    expected_timeline = [label_of(app, EVENT_LABELS[step]) for step in steps]
    assert timeline_actions(clerk_page) == expected_timeline

    # The citizen sees it closed, with the department's reply and every public step.
    citizen_page.goto("/requests")
    row = case_row(citizen_page, number)
    expect(row.locator(".badge")).to_have_text(status_label(app, CaseStatus.CLOSED))
    row.get_by_role("link", name=number, exact=True).click()
    citizen_page.wait_for_url(f"**/cases/{number}")
    expect_status(citizen_page, app, CaseStatus.CLOSED)
    expect(citizen_page.locator(".reply .prose")).to_have_text(REPLY)
    assert timeline_actions(citizen_page) == expected_timeline
    expect(citizen_page.locator(".timeline")).not_to_contain_text(RETURN_REASON)

    case, actions = case_events(app, number)
    assert actions == steps
    assert case.status == CaseStatus.CLOSED and case.closed_at is not None
    assert case.department_id == world.urban.id
    assert case.assignee_id == urban_handler.id
    assert case.departments_passed == 2


def test_filing_with_photo_then_logged_out_lookup_by_number_and_code(
    new_page: Callable[[], Page], base_url: str, database: Flask, world: World
) -> None:
    from playwright.sync_api import expect

    app = database
    citizen = make_user(app, Role.CITIZEN)
    clerk = make_user(app, Role.CLERK)
    photo = tiny_png()

    # The citizen files a complaint with a photo.
    citizen_page = signed_in_page(new_page, app, citizen)
    number = file_request(
        citizen_page,
        app,
        world,
        base_url,
        files=[{"name": PHOTO_NAME, "mimeType": "image/png", "buffer": photo}],
    )

    # The lookup code is shown once, with the tracking number.
    code_box = citizen_page.get_by_role("status").filter(has=citizen_page.locator(".tracking-code"))
    expect(code_box).to_contain_text(number)
    code = citizen_page.locator(".tracking-code").inner_text().strip()
    assert CODE_RE.match(code), code

    # The photo is listed and its link downloads the very bytes that were sent.
    files = citizen_page.locator("section.attachments")
    photo_link = citizen_page.get_by_role("link", name=PHOTO_NAME, exact=True)
    link = files.locator(photo_link)
    expect(link).to_have_attribute("href", re.compile(rf"^/cases/{number}/attachments/\d+$"))
    expect(link).to_have_attribute("download", "")
    expect(files.get_by_role("row").filter(has=photo_link)).to_contain_text(ui(app, "PNG image"))
    href = link.get_attribute("href")
    download = citizen_page.request.get(f"{base_url}{href}")
    try:
        assert download.status == 200
        assert download.headers["content-type"] == "image/png"
        disposition = download.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert f"filename*=UTF-8''{quote(PHOTO_NAME)}" in disposition
        assert download.body() == photo
    finally:
        download.dispose()
    citizen_page.reload()
    expect(citizen_page.locator(".tracking-number")).to_have_text(number)
    expect(citizen_page.locator(".tracking-code")).to_have_count(0)  # ... and only once

    # The clerk finds it at intake, sees the photo, and answers at intake.
    clerk_page = signed_in_page(new_page, app, clerk)
    open_from_queue(clerk_page, "unassigned", number)
    expect_status(clerk_page, app, CaseStatus.SUBMITTED)
    expect(
        clerk_page.locator("section.attachments").get_by_role("link", name=PHOTO_NAME, exact=True)
    ).to_have_attribute("href", href)
    answer = action_form(clerk_page, app, number, "answer")
    reply_text = answer.get_by_label(ui(app, "Public reply"), exact=True)
    expect(reply_text).to_have_attribute("name", "note")
    reply_text.fill(ANSWER)
    submit_action(answer, app, "answer")
    expect_done(clerk_page, app, number, CaseStatus.REPLIED)

    # A visitor who is not signed in looks it up at /track.
    visitor = new_page()
    visitor.goto("/track")
    expect(
        visitor.get_by_role("banner").get_by_role("link", name=ui(app, "Sign in"), exact=True)
    ).to_be_visible()
    number_field = visitor.get_by_label(ui(app, "Tracking number"), exact=True)
    code_field = visitor.get_by_label(ui(app, "Lookup code"), exact=True)
    look_up = visitor.get_by_role("button", name=ui(app, "Look up"), exact=True)

    # A wrong code finds nothing and shows nothing of the case.
    wrong = next(c * CODE_LENGTH for c in CODE_ALPHABET if c * CODE_LENGTH != code)
    number_field.fill(number)
    code_field.fill(wrong)
    with visitor.expect_navigation() as miss:
        look_up.click()
    assert miss.value is not None
    assert miss.value.status == 404, lookup_refused(visitor, miss.value.status)
    no_match = ui(app, "No request matches this tracking number and code.")
    expect(code_field).to_have_attribute("aria-invalid", "true")
    expect(code_field).to_have_accessible_description(re.compile(re.escape(no_match)))
    expect(visitor.locator(".case, .tracking-number, .badge, .reply")).to_have_count(0)
    expect(visitor.get_by_role("main")).not_to_contain_text(TITLE)

    # The right code (typed in lower case) shows the status and the public reply only.
    number_field.fill(number)
    code_field.fill(code.lower())
    with visitor.expect_navigation() as hit:
        look_up.click()
    assert hit.value is not None
    assert hit.value.status == 200, lookup_refused(visitor, hit.value.status)
    result = visitor.get_by_role("main")
    expect(result.locator(".tracking-number")).to_have_text(number)
    expect(result.get_by_role("heading", level=2, name=TITLE)).to_be_visible()
    expect(result.locator(".badge--replied")).to_have_text(status_label(app, CaseStatus.REPLIED))
    expect(result.locator(".reply .prose")).to_have_text(ANSWER)
    for private in (citizen.display_name, DESCRIPTION, "13800138000", "138****8000", PHOTO_NAME):
        expect(result).not_to_contain_text(private)
    expect(result).not_to_contain_text(code)
    visitor.screenshot(path=str(TRACK_SCREENSHOT), full_page=True)

    # Without signing in, the photo itself stays out of reach.
    blocked = visitor.request.get(f"{base_url}{href}", max_redirects=0)
    try:
        assert blocked.status == 302 and "/login" in blocked.headers["location"]
    finally:
        blocked.dispose()

    case, actions = case_events(app, number)
    assert case.status == CaseStatus.REPLIED and case.department_id is None
    assert actions == ["file", "answer"]
