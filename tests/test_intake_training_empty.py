"""Smart intake with too little history (issue 15): nothing is trained, nothing fails, and
suggestions keep using the catalogue's words."""

from __future__ import annotations

from sqlalchemy import func, select

from cases.smart_intake.models import IntakeModelVersion
from cases.smart_intake.store import retrain_due, retrain_if_due
from cases.sweep import sweep_deadlines
from portal.db import db
from tests.conftest import csrf_token

TOO_FEW = "可供学习的已办结工单太少"  # "Too few closed cases to learn from", as the portal says it


def versions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(IntakeModelVersion.id)))


def test_if_missing_says_so_and_succeeds_without_enough_cases(database, world):
    runner = database.test_cli_runner()
    result = runner.invoke(args=["intake", "train", "--if-missing"])
    assert result.exit_code == 0, result.output
    assert "not trained" in result.output and TOO_FEW in result.output
    refused = runner.invoke(args=["intake", "train", "--min-cases", "1"])
    assert refused.exit_code != 0 and TOO_FEW in refused.output
    assert "No model version yet" in runner.invoke(args=["intake", "versions"]).output
    assert versions(database) == 0


def test_the_sweep_trains_nothing_without_history(database, world):
    with database.app_context():
        assert not retrain_due()
        assert retrain_if_due() is None
        sweep_deadlines()
    assert versions(database) == 0


def test_the_admin_page_without_versions(client, login_as):
    login_as("admin")
    page = client.get("/admin/intake/models/")
    assert page.status_code == 200
    assert "尚无模型" in page.get_data(as_text=True)  # "No model yet", in Chinese
    response = client.post("/admin/intake/models/train",
                           data={"csrf_token": csrf_token(client, "/admin/intake/models/")},
                           follow_redirects=True)
    assert response.status_code == 200
    assert TOO_FEW in response.get_data(as_text=True)
    assert versions(client.application) == 0


def test_only_admins_see_the_models(client, login_as):
    login_as("supervisor")
    assert client.get("/admin/intake/models/").status_code == 403
