"""The smart intake admin pages (issue 15): urgency words kept (add, edit, remove; 422 on
an empty or duplicate word), the auto-routing settings validated, and the accuracy in use
by surface with the recent decisions."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import delete, select

from cases.smart_intake.models import IntakeSettings, UrgencyWord
from cases.vocabulary import Priority
from portal.db import db
from portal.models import AdminAction
from tests.conftest import csrf_token, submit
from tests.test_intake_suggest_api import NOISE, no_words, session_post
from tests.test_intake_suggest_filing import citizen_files, clerk_files, filed

WORDS = "/admin/intake/urgency-words"
SETTINGS = "/admin/intake/settings"


def words(app: Flask) -> dict[str, tuple[str, bool]]:
    with app.app_context():
        return {w.word: (w.priority.value, w.is_active)
                for w in db.session.scalars(select(UrgencyWord))}


def word_id(app: Flask, word: str) -> int:
    with app.app_context():
        return db.session.scalar(select(UrgencyWord.id).where(UrgencyWord.word == word))


def test_admin_keeps_the_urgency_words(client, database, world, login_as):
    no_words(database)
    login_as("admin")
    assert client.get(WORDS).status_code == 200
    response = submit(client, WORDS, {"word": " 燃气泄漏 ", "priority": "urgent"})
    assert response.status_code == 302
    assert words(database) == {"燃气泄漏": ("urgent", True)}
    assert "燃气泄漏" in client.get(WORDS).get_data(as_text=True)
    # Empty and duplicate words are refused with 422, nothing added.
    assert submit(client, WORDS, {"word": "  ", "priority": "urgent"}).status_code == 422
    assert submit(client, WORDS, {"word": "燃气泄漏", "priority": "high"}).status_code == 422
    assert submit(client, WORDS, {"word": "坠落", "priority": "nope"}).status_code == 422
    assert submit(client, WORDS, {"word": "x" * 51, "priority": "high"}).status_code == 422
    assert len(words(database)) == 1
    # Edit: priority and whether it is used (an unticked box is "not in use").
    wid = word_id(database, "燃气泄漏")
    response = submit(client, WORDS, {"word_id": wid, "priority": "high"},
                      action=f"{WORDS}/save")
    assert response.status_code == 302
    assert words(database) == {"燃气泄漏": ("high", False)}
    assert submit(client, WORDS, {"word_id": wid, "priority": "bad"},
                  action=f"{WORDS}/save").status_code == 422
    assert submit(client, WORDS, {"word_id": 999999, "priority": "high"},
                  action=f"{WORDS}/save").status_code == 404
    # Remove.
    assert submit(client, WORDS, {"word_id": wid}, action=f"{WORDS}/remove").status_code == 302
    assert words(database) == {}
    with database.app_context():
        actions = set(db.session.scalars(select(AdminAction.action)))
    assert {"urgency_word.create", "urgency_word.update", "urgency_word.delete"} <= actions


def test_an_inactive_word_flags_nothing(client, database, world, login_as):
    no_words(database)
    with database.app_context():
        db.session.add(UrgencyWord(word="坠落", priority=Priority.URGENT, is_active=False))
        db.session.commit()
    login_as("clerk")
    data = session_post(client, "/intake/new", {"title": "高空坠落物"}).get_json()
    assert data["urgent"] is False


def test_settings_are_validated(client, database, world, login_as):
    with database.app_context():  # the migration's row (the first test of a session)
        db.session.execute(delete(IntakeSettings))
        db.session.commit()
    login_as("admin")
    page = client.get(SETTINGS)
    assert page.status_code == 200
    with database.app_context():  # reading the page stored nothing
        assert db.session.get(IntakeSettings, 1) is None
    for bad in ("0.4", "1.01", "abc", ""):
        response = submit(client, SETTINGS, {"auto_route": "y", "auto_route_threshold": bad})
        assert response.status_code == 422, bad
    with database.app_context():
        assert db.session.get(IntakeSettings, 1) is None
    response = submit(client, SETTINGS, {"auto_route": "y", "auto_route_threshold": "0.75"})
    assert response.status_code == 302
    with database.app_context():
        settings = db.session.get(IntakeSettings, 1)
        assert settings.auto_route is True and settings.auto_route_threshold == 0.75
    assert submit(client, SETTINGS, {"auto_route_threshold": "1"}).status_code == 302
    with database.app_context():
        settings = db.session.get(IntakeSettings, 1)
        assert settings.auto_route is False and settings.auto_route_threshold == 1.0


def test_usage_page_counts_by_surface(client, database, world, login_as):
    login_as("citizen")
    token = session_post(client, "/requests/new", NOISE).get_json()["token"]
    filed(database, citizen_files(client, world, NOISE, token, "1"))
    session_post(client, "/requests/new", NOISE)  # shown, never filed
    login_as("clerk")
    token = session_post(client, "/intake/new", NOISE).get_json()["token"]
    case = filed(database, clerk_files(client, world, NOISE, token,
                                       category=str(world.potholes.id)))
    login_as("admin")
    response = client.get("/admin/intake?days=7")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert case.number in page
    from cases.smart_intake.usage import usage

    with database.app_context():
        by_surface = {u.surface: u for u in usage(7)}
    citizen, clerk, total = by_surface["citizen"], by_surface["clerk"], by_surface[None]
    assert (citizen.shown, citizen.decided, citizen.taken_first, citizen.top1) == (2, 1, 1, 1.0)
    assert (clerk.shown, clerk.overridden, clerk.top3) == (1, 1, 0.0)
    assert (total.shown, total.decided, total.top1) == (3, 2, 0.5)
    # The admin overview links the page.
    assert "/admin/intake" in client.get("/admin/").get_data(as_text=True)
    assert csrf_token(client, SETTINGS)
