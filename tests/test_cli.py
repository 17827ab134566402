"""Command line: staff accounts and demo data."""

from __future__ import annotations

from sqlalchemy import func, select

from cases.demo import DEMO_PASSWORD
from portal.db import db
from portal.models import Role, User
from tests.conftest import sign_in


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_users_create_with_role_and_department(database, world):
    runner = database.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "li-handler",
            "--role",
            "handler",
            "--department",
            "urban",
            "--password",
            "long-enough-pw",
        ]
    )
    assert result.exit_code == 0, result.output
    with database.app_context():
        user = db.session.scalar(select(User).where(User.username == "li-handler"))
        assert user.role == Role.HANDLER and user.department.code == "urban"


def test_users_create_refuses_bad_input(database, world):
    runner = database.test_cli_runner()
    no_dept = runner.invoke(
        args=["users", "create", "h2", "--role", "handler", "--password", "long-enough-pw"]
    )
    assert no_dept.exit_code != 0 and "部门" in no_dept.output
    unknown = runner.invoke(
        args=[
            "users",
            "create",
            "h3",
            "--role",
            "handler",
            "--department",
            "nope",
            "--password",
            "long-enough-pw",
        ]
    )
    assert unknown.exit_code != 0 and "nope" in unknown.output
    short = runner.invoke(args=["users", "create", "c1", "--role", "clerk", "--password", "x"])
    assert short.exit_code != 0
    assert count(database, User) == 0


def test_demo_logins_work(database):
    database.test_cli_runner().invoke(args=["demo", "load", "--cases", "5"])
    client = database.test_client()
    assert sign_in(client, "clerk", DEMO_PASSWORD).status_code == 302
    assert client.get("/queues/unassigned").status_code == 200
