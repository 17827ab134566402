"""The 差评 loop in a real browser (issue 12): a citizen files, the department answers, the
citizen rates it 不满意 from the link in their inbox with a comment; the department verifies
by a call and sends it to rectification, and sees the case back with its deadline; then the
department appeals and a supervisor upholds the appeal: the rating is set aside, on record.

Pages are read in English (``Dissatisfied`` is 不满意's English name).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from cases.calendar import load_calendar
from cases.models import Case, CaseStatus, TimeUnit
from cases.satisfaction.models import BadReview
from cases.satisfaction.vocabulary import BadReviewStage
from portal.db import db
from portal.models import Role
from tests.factories import World, make_user
from tests.test_browser import (  # noqa: F401  (fixtures, found by pytest by name)
    CHROMIUM,
    base_url,
    browser,
    sqlite_only,
)
from tests.test_lifecycle import step
from tests.test_staff_day import (  # noqa: F401  (fixtures, found by pytest by name)
    expect_done,
    nav,
    open_case_from,
    person,
    primary_form,
    sign_in,
    told_about,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="chromium not installed: browser tests skipped"
    ),
]

ZONE = ZoneInfo("Asia/Shanghai")
TITLE = "Rubbish not collected on Gutian Road"
COMMENT = "Nothing changed: the rubbish is still there."


@pytest.fixture
def served_at(database: Flask, base_url: str):  # noqa: F811
    """Messages point at the portal's external address: here, the test's live server."""
    before = database.config.get("BASE_URL")
    database.config["BASE_URL"] = base_url
    yield base_url
    database.config["BASE_URL"] = before


def test_a_bad_rating_goes_back_to_the_department_and_its_appeal_is_decided(
    person: Callable, database: Flask, world: World, served_at: str  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    app = database
    citizen = make_user(app, Role.CITIZEN)
    clerk = make_user(app, Role.CLERK)
    handler = make_user(app, Role.HANDLER, department_id=world.urban.id)
    supervisor = make_user(app, Role.SUPERVISOR)

    # 1. The citizen files a request.
    citizen_page = person()
    sign_in(citizen_page, citizen.username)
    nav(citizen_page, "File a request")
    citizen_page.get_by_label("Type of request", exact=True).select_option("complaint")
    citizen_page.get_by_label("Category", exact=True).select_option(str(world.noise.id))
    citizen_page.get_by_label("District", exact=True).select_option(str(world.gulou.id))
    citizen_page.get_by_label("Title", exact=True).fill(TITLE)
    citizen_page.get_by_label("Description", exact=True).fill("Bins overflowing for days.")
    citizen_page.get_by_role("button", name="Submit the request", exact=True).click()
    citizen_page.wait_for_url(re.compile(r"/cases/\d{4}-\d{6}$"))
    number = citizen_page.locator(".tracking-number").inner_text().strip()

    # 2. Dispatched and signed for (issue 10's browser walk covers those pages); the
    #    handler answers from the case page.
    step(app, number, "dispatch", clerk, department=world.urban.id)
    step(app, number, "sign_for", handler)
    handler_page = person()
    sign_in(handler_page, handler.username)
    nav(handler_page, "Queues")
    open_case_from(handler_page, number)
    reply = primary_form(handler_page, "reply")
    reply.get_by_label("Public reply", exact=True).fill("The bins were emptied.")
    reply.get_by_role("button", name="Reply", exact=True).click()
    expect_done(handler_page, number, "", "Replied")

    # 3. The citizen is asked to rate: the inbox message links to /rate/<token>.
    citizen_page.reload()
    nav(citizen_page, re.compile(r"^Inbox \(\d+ unread\)$"))
    citizen_page.locator("a[href*='/rate/']").first.click()
    citizen_page.wait_for_url(re.compile(r"/rate/[^/]+$"))
    expect(citizen_page.get_by_role("main")).to_contain_text(TITLE)
    citizen_page.get_by_label(re.compile(r"★2 Dissatisfied")).check()
    citizen_page.get_by_label("Not solved", exact=True).check()
    citizen_page.get_by_label("Comment (optional)", exact=True).fill(COMMENT)
    citizen_page.get_by_role("button", name="Send my rating", exact=True).click()
    expect(citizen_page.get_by_role("main")).to_contain_text(re.compile("[Tt]hank"))

    # 4. The department is told at once; the case page shows ★2 Dissatisfied and the
    #    comment; the handler records the verification call, then sends it to rectify.
    handler_page.reload()
    told_about(handler_page, number)
    ratings = handler_page.locator("section.ratings")
    expect(ratings).to_contain_text("★2 Dissatisfied")
    expect(ratings).to_contain_text(COMMENT)
    panel = handler_page.locator(".bad-review")
    panel.locator("summary", has_text="Record the verification call").click()
    panel.get_by_label("What the call with the client found").fill(
        "Called the client: bins were emptied but refilled the same day."
    )
    panel.get_by_role("button", name="Record the verification call").click()
    handler_page.wait_for_url(f"**/cases/{number}*")
    panel = handler_page.locator(".bad-review")
    panel.locator("summary", has_text="Rectify by a deadline").click()
    panel.get_by_label(re.compile("^What must be rectified")).fill(
        "Collect twice a day for a week."
    )
    panel.get_by_role("button", name="Rectify by a deadline").click()
    handler_page.wait_for_url(f"**/cases/{number}*")
    # The case is back with the department, the rectification deadline running.
    expect(handler_page.locator(".case__flags .badge").first).to_have_text("In progress")
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        review = db.session.scalar(select(BadReview).where(BadReview.case_id == case.id))
        assert case.status is CaseStatus.IN_PROGRESS and case.redo_count == 1
        assert review.stage is BadReviewStage.RECTIFYING
        fifteen = load_calendar().add(review.resolved_at, 15, TimeUnit.DAYS)
        assert abs((case.reply_due_at - fifteen).total_seconds()) < 60
        due = case.reply_due_at
        db.session.remove()
    expect(handler_page.locator(".bad-review")).to_contain_text("Rectify by")
    expect(handler_page.locator(".deadlines")).to_contain_text(
        f"{due.astimezone(ZONE):%-m/%-d/%y}"
    )

    # 5. The department appeals, holding the rating untrue.
    panel = handler_page.locator(".bad-review")
    panel.locator("summary", has_text="Appeal to a supervisor").click()
    panel.get_by_label("Evidence that the rating is malicious or untrue").fill(
        "Photos of the clean street on the day of the rating."
    )
    panel.get_by_role("button", name="Appeal to a supervisor").click()
    handler_page.wait_for_url(f"**/cases/{number}*")
    expect(handler_page.locator(".bad-review")).to_contain_text("Appeal awaiting decision")

    # 6. The supervisor is told, opens the case and upholds the appeal.
    supervisor_page = person()
    sign_in(supervisor_page, supervisor.username)
    told_about(supervisor_page, number)
    panel = supervisor_page.locator(".bad-review")
    panel.locator("summary", has_text="Decide the appeal").click()
    panel.get_by_label(re.compile("^Uphold")).check()
    panel.get_by_label("Reason for the decision").fill("The photos show the street clean.")
    panel.get_by_role("button", name="Decide the appeal").click()
    supervisor_page.wait_for_url(f"**/cases/{number}*")
    expect(supervisor_page.locator(".bad-review")).to_contain_text("Rating set aside")
    # ... and the ledger lists it with its outcome.
    nav(supervisor_page, re.compile("^Ratings"))
    supervisor_page.get_by_role("link", name=re.compile("ledger", re.I)).first.click()
    expect(supervisor_page.get_by_role("main")).to_contain_text(number)

    with app.app_context():
        review = db.session.scalar(select(BadReview))
        assert review.outcome == "set_aside" and review.rating.set_aside
        assert review.rating.level == 2 and review.rating.comment == COMMENT
        db.session.remove()
