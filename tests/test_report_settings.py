"""The admins' report rules (``/admin/reports``): weights adding up to 100, the satisfied
level, partly solved, defaulted ratings; every change is an admin action."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cases.reports.settings import report_settings
from portal.db import db
from portal.models import AdminAction
from tests.conftest import submit

RULES = {"weight_response": "20", "weight_resolution": "40", "weight_satisfaction": "40",
         "satisfied_from_level": "4", "partly_counts_as_solved": "y"}


def test_admin_changes_the_rules(client, login_as, database):
    login_as("admin")
    assert client.get("/admin/reports").status_code == 200
    assert "/admin/reports" in client.get("/admin/").get_data(as_text=True)
    assert submit(client, "/admin/reports", RULES).status_code == 302
    with database.app_context():
        saved = report_settings()
        assert (saved.weight_response, saved.weight_resolution, saved.weight_satisfaction,
                saved.satisfied_from_level, saved.partly_counts_as_solved,
                saved.count_defaulted) == (20, 40, 40, 4, True, False)
        action = db.session.scalar(select(AdminAction).where(
            AdminAction.action == "report_settings.update"))
        assert action is not None and action.details["weight_response"] == [30, 20]
    for bad in ({"weight_response": "30"}, {"weight_response": "-5"},
                {"satisfied_from_level": "2"}, {"weight_satisfaction": "x"}):
        response = submit(client, "/admin/reports", {**RULES, **bad})
        assert response.status_code == 422, bad
    with database.app_context():
        assert report_settings().weight_response == 20


@pytest.mark.parametrize("role", ["official", "supervisor", "department_head", "handler",
                                  "clerk", "citizen"])
def test_only_admins_keep_the_rules(client, login_as, role):
    login_as(role)
    assert client.get("/admin/reports").status_code == 403
    assert client.post("/admin/reports", data=RULES).status_code in (400, 403)


def test_rules_need_a_signed_in_admin(client):
    assert client.get("/admin/reports").status_code in (302, 401)
