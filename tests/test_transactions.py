"""One transaction per request (portal.transactions): the boundary commits or rolls back.

Views never commit or roll back (a source scan says so); the boundary commits what a
page or redirect did, rolls back what an error answer or an exception did, keeps a write
only when the request asks (``keep_on_error``), and a commit that fails is an error page,
never the success redirect with its "Done".
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Blueprint, Flask, flash, jsonify, redirect, session
from sqlalchemy import event, func, select
from sqlalchemy.orm.exc import StaleDataError
from wtforms import StringField

from portal import create_app
from portal.db import db
from portal.errors import DomainError
from portal.forms import PortalForm
from portal.models import ChangeRecord
from portal.transactions import form_errors, keep_on_error

ROOT = Path(__file__).resolve().parent.parent
MARK = "transactions-test"  # the entity name of the rows these tests write


def view_modules() -> list[Path]:
    modules = [ROOT / "portal" / "main.py"]
    for package in ("portal", "cases", "citizens", "search"):
        modules += [p for p in (ROOT / package).rglob("*views.py") if "migrations" not in p.parts]
    return modules


def test_no_view_commits_or_rolls_back():
    """The request boundary ends the transaction; a view that does it itself is a bug."""
    found = []
    modules = view_modules()
    assert len(modules) > 5 and all(p.exists() for p in modules)
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("commit", "rollback")
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.attr}()")
    assert not found, found


# --- the boundary, on an app with a few views of its own ----------------------------------


class NameForm(PortalForm):
    name = StringField()


def write() -> None:
    db.session.add(ChangeRecord(entity=MARK, entity_id=1, op="insert"))
    db.session.flush()


def boundary_views() -> Blueprint:
    bp = Blueprint("txn_test", __name__, url_prefix="/txn-test")

    @bp.route("/error-answer")
    def error_answer():
        write()
        return "shown again with errors", 422

    @bp.route("/raises")
    def raises():
        write()
        raise RuntimeError("boom")

    @bp.route("/redirect")
    def redirect_after_write():
        write()
        flash("Done.", "success")
        return redirect("/")

    @bp.route("/kept")
    def kept():
        write()
        keep_on_error()
        return "counted, and refused", 422

    @bp.route("/refused")
    def refused():
        form = NameForm(meta={"csrf": False})
        with form_errors(form) as outcome:
            write()
            raise DomainError("Not this name.", field="name")
        return jsonify(refused=outcome.refused, errors=form.name.errors), 200

    @bp.route("/race")
    def race():
        form = NameForm(meta={"csrf": False})
        with form_errors(form, race=True) as outcome:
            write()
            raise StaleDataError("someone else was first")
        return jsonify(lost=outcome.lost_race, errors=form.form_errors), 200

    @bp.route("/uncaught")
    def uncaught():
        write()
        raise DomainError("Not now, because of the rule.")

    @bp.route("/commit-fails")
    def commit_fails():
        db.session.add(ChangeRecord(entity=None, entity_id=1, op="insert"))  # NOT NULL at commit
        session["issued"] = "for the success page"
        flash("Done.", "success")
        return redirect("/")

    @bp.route("/commit-loses-race")
    def commit_loses_race():
        write()
        db.session.info["txn_test_stale"] = True
        flash("Done.", "success")
        return redirect("/")

    return bp



def _stale_at_commit(session) -> None:
    if session.info.pop("txn_test_stale", False):
        raise StaleDataError("UPDATE statement on table expected to update 1 row(s); 0 matched")


@pytest.fixture(scope="module")
def side_app(app: Flask) -> Iterator[Flask]:
    # The limiter is one object for every app: the same settings, or the other tests'
    # limits change under them.
    keys = ("TESTING", "INSTANCE_PATH", "DATABASE_URL", "SECRET_KEY", "SERVER_NAME",
            "NOTIFY_INLINE", "PASSWORD_HASH_METHOD", "RATELIMIT_ENABLED",
            "RATELIMIT_STORAGE_URI")
    config = {key: app.config[key] for key in keys}
    # Errors answered as a real server does (the 500 page), not re-raised into the test.
    config.update(PROPAGATE_EXCEPTIONS=False, LOG_LEVEL="CRITICAL")
    side = create_app(config)
    side.register_blueprint(boundary_views())
    event.listen(db.session, "before_commit", _stale_at_commit)
    yield side
    event.remove(db.session, "before_commit", _stale_at_commit)
    with side.app_context():
        db.engine.dispose()


def rows(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(ChangeRecord).where(ChangeRecord.entity == MARK)
        )
        db.session.remove()
        return count


def flashes(client) -> list:
    with client.session_transaction() as stored:
        return list(stored.get("_flashes", []))


def test_an_error_answer_after_a_write_leaves_nothing(database, side_app):
    response = side_app.test_client().get("/txn-test/error-answer")
    assert response.status_code == 422
    assert rows(side_app) == 0


def test_an_exception_after_a_write_leaves_nothing(database, side_app):
    response = side_app.test_client().get("/txn-test/raises")
    assert response.status_code == 500
    assert rows(side_app) == 0


def test_a_redirect_after_a_write_is_committed(database, side_app):
    client = side_app.test_client()
    response = client.get("/txn-test/redirect")
    assert response.status_code == 302
    assert rows(side_app) == 1
    assert flashes(client) == [("success", "Done.")]


def test_keep_on_error_commits_an_error_answer(database, side_app):
    response = side_app.test_client().get("/txn-test/kept")
    assert response.status_code == 422
    assert rows(side_app) == 1


def test_a_refusal_rolls_back_and_lands_on_its_field(database, side_app):
    response = side_app.test_client().get("/txn-test/refused")
    assert response.status_code == 200  # the view decides the answer; the write is gone
    assert response.get_json() == {"refused": True, "errors": ["Not this name."]}
    assert rows(side_app) == 0


def test_a_lost_race_is_a_refusal_when_the_view_asks(database, side_app):
    response = side_app.test_client().get("/txn-test/race")
    body = response.get_json()
    assert body["lost"] is True and len(body["errors"]) == 1
    assert rows(side_app) == 0


def test_an_uncaught_refusal_is_a_409_page_with_its_reason(database, side_app):
    response = side_app.test_client().get("/txn-test/uncaught", headers={"Accept-Language": "en"})
    assert response.status_code == 409
    assert "Not now, because of the rule." in response.get_data(as_text=True)
    assert rows(side_app) == 0


def test_a_failing_commit_is_the_error_page_not_the_redirect(database, side_app):
    client = side_app.test_client()
    response = client.get("/txn-test/commit-fails")
    assert response.status_code == 500
    assert "Done." not in response.get_data(as_text=True)
    assert flashes(client) == []  # nobody is told "Done" on the next page either
    with client.session_transaction() as stored:
        assert "issued" not in stored
    assert rows(side_app) == 0


def test_a_commit_that_loses_a_race_is_the_409_page(database, side_app):
    client = side_app.test_client()
    response = client.get("/txn-test/commit-loses-race")
    assert response.status_code == 409
    assert flashes(client) == []
    assert rows(side_app) == 0
