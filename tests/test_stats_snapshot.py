"""/stats' stored figures: the sweep stores them, they equal the live computation and are
refreshed when due; a visitor's request never computes them once stored (stale ones are
served while one background refresh runs); one process refreshes at a time."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from cases.reports import stats_store
from cases.reports.models import PublicStatsSnapshot
from cases.reports.settings import RankingRules, update_report_settings
from cases.reports.stats import compute_public_stats
from cases.sweep import sweep_deadlines
from portal.db import db, utcnow
from portal.models import Role, User
from tests.factories import make_case, make_user
from tests.test_stats import city  # noqa: F401 (the fixture)


def live() -> dict:
    data = compute_public_stats()
    data.pop("generated_at")
    return data


def stored() -> dict:
    row = db.session.get(PublicStatsSnapshot, stats_store.SNAPSHOT)
    db.session.refresh(row)
    data = json.loads(row.data)
    data.pop("generated_at")
    return data


def age(app, seconds: float) -> None:
    """Date the stored figures ``seconds`` back."""
    with app.app_context():
        db.session.execute(update(PublicStatsSnapshot).values(
            computed_at=utcnow() - timedelta(seconds=seconds)))
        db.session.commit()


@pytest.fixture
def quiet(database):
    """No background refresh (the test says when figures are refreshed)."""
    database.config["REPORTS_STATS_REFRESH"] = "off"
    yield database
    database.config.pop("REPORTS_STATS_REFRESH", None)


def test_the_sweep_stores_figures_equal_to_the_live_computation(database, city):  # noqa: F811
    app = database
    with app.test_request_context():
        sweep_deadlines()
        assert stored() == live()
        first = db.session.get(PublicStatsSnapshot, 1).computed_at
    citizen = make_user(app, Role.CITIZEN)
    make_case(app, citizen, city)
    with app.test_request_context():
        sweep_deadlines()  # not due yet (stored just now): nothing computed
        assert db.session.get(PublicStatsSnapshot, 1).computed_at == first
        assert stored() != live()
    age(app, stats_store.cache_seconds(app) / 2 + 1)
    with app.test_request_context():
        sweep_deadlines()  # due: stored again, equal to the live figures again
        assert stored() == live()
        assert stored()["months"][-1]["received"] == 5


def test_a_request_never_computes_stored_figures_even_stale(client, quiet, city):  # noqa: F811
    app = quiet
    with app.test_request_context():
        assert stats_store.refresh_public_stats(older_than=0)
    age(app, 3600)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get("/stats", headers={"Accept-Language": "en"})
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200 and "Urban Management Bureau" in response.text
    assert [s for s in statements if "cases" in s or "ratings" in s] == []
    assert len(statements) <= 4  # the stored row (and the page's own reads)


def test_one_process_refreshes_at_a_time(database, city):  # noqa: F811
    app = database
    with app.test_request_context():
        assert stats_store.refresh_public_stats(older_than=0)
    age(app, 3600)
    with app.app_context():  # another process claimed the refresh a minute ago
        db.session.execute(update(PublicStatsSnapshot).values(
            claimed_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    with app.test_request_context():
        assert not stats_store.refresh_public_stats()
    with app.app_context():  # ... or died at it long ago: taken over
        db.session.execute(update(PublicStatsSnapshot).values(
            claimed_at=utcnow() - timedelta(seconds=stats_store.CLAIM_SECONDS + 60)))
        db.session.commit()
    with app.test_request_context():
        assert stats_store.refresh_public_stats()
        row = db.session.get(PublicStatsSnapshot, 1)
        assert row.claimed_at is None
        assert row.computed_at > utcnow() - timedelta(minutes=1)


def test_changed_rules_make_the_figures_stale(database, city):  # noqa: F811
    app = database
    admin = make_user(app, Role.ADMIN)
    with app.test_request_context():
        assert stats_store.refresh_public_stats(older_than=0)
        update_report_settings(RankingRules(30, 35, 35, 4, True, True),
                               db.session.get(User, admin.id))
        db.session.commit()
        assert stats_store.refresh_public_stats()  # the sweep's rule: due at once
        assert stored() == live()
        assert stored()["satisfied_from_level"] == 4


def test_the_command_stores_them(database, city):  # noqa: F811
    result = database.test_cli_runner().invoke(args=["reports", "refresh-stats"])
    assert result.exit_code == 0, result.output
    with database.test_request_context():
        assert db.session.scalar(select(PublicStatsSnapshot.id)) == 1
        assert stored() == live()
