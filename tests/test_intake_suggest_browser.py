"""Suggestions while a clerk types (issue 15), in a real browser: on ``/intake/new`` the
suggested categories appear after a pause in the description, with an emergency flag
for an urgency word; one click takes a suggestion (the category select is set, its extra
questions load), another sets the suggested priority; the filed case records the
suggestion as taken at rank 1."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import delete, select

from cases.catalogue.models import CategoryQuestion, QuestionType
from cases.smart_intake.models import IntakeSuggestion, UrgencyWord
from cases.vocabulary import Priority
from portal.db import db
from portal.models import Role
from tests.factories import World, make_user
from tests.test_browser import (  # noqa: F401  (fixtures, found by pytest by name)
    CHROMIUM,
    base_url,
    browser,
    sqlite_only,
)
from tests.test_staff_day import person, sign_in  # noqa: F401  (fixtures by name)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="chromium not installed: browser tests skipped"
    ),
]


def test_a_clerk_takes_a_suggestion_with_one_click(
    person: Callable, database: Flask, world: World  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    app = database
    clerk = make_user(app, Role.CLERK)
    with app.app_context():
        db.session.execute(delete(UrgencyWord))
        db.session.add(UrgencyWord(word="坠落", priority=Priority.URGENT))
        db.session.add(CategoryQuestion(category_id=world.noise.id, code="hours",
                                        kind=QuestionType.TEXT, question_zh="几点开始？",
                                        question_en="Since what time?"))
        db.session.commit()

    page = person()
    sign_in(page, clerk.username)
    page.goto("/intake/new")
    box = page.locator("#intake-suggest")
    expect(box).to_be_visible()  # the script shows it; without script it stays hidden
    page.get_by_label("Title", exact=True).fill("楼下酒吧噪声扰民")
    page.get_by_label("Description", exact=True).fill("深夜音乐很吵，阳台花盆差点坠落。")

    suggestion = box.get_by_role("button", name="城市管理/噪声扰民")
    expect(suggestion).to_be_visible()
    expect(suggestion).to_contain_text("%")
    expect(box.locator("[data-suggest-urgent]")).to_contain_text("坠落")
    category = page.get_by_label("Category", exact=True)
    expect(category).to_have_value("")  # nothing applied without a person

    suggestion.click()
    expect(category).to_have_value(str(world.noise.id))
    expect(suggestion).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_label("Since what time?")).to_be_visible()  # the category's questions
    box.get_by_role("button", name=re.compile("Set the priority")).click()
    expect(page.get_by_label("Priority", exact=True)).to_have_value("urgent")

    page.get_by_label("District", exact=True).select_option(str(world.gulou.id))
    page.get_by_label("Name", exact=True).fill("赵老伯")
    page.get_by_role("button", name="File the request", exact=True).click()
    page.wait_for_url(re.compile(r"/cases/\d{4}-\d{6}$"))
    with app.app_context():
        row = db.session.scalar(select(IntakeSuggestion))
        assert (row.surface, row.outcome, row.taken_rank, row.urgent) == (
            "clerk", "taken", 1, True)
        from cases.models import Case

        assert db.session.get(Case, row.case_id).priority is Priority.URGENT
