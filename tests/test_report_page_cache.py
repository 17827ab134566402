"""The kept figures of the report pages (issue 16, ``cases/reports/page_cache.py``): the
second request is served from the cache, a change recomputes, no reader ever gets another
scope's or language's HTML, the minute rolls over.

The cache is off under TESTING (tests write with statements that bypass the change feed);
the ``cache_on`` fixture turns it on for these tests only. Each check compares what the
cache served with what the page computes with the cache off, on the same data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event, func, select

from cases.reports import page_cache
from cases.reports.settings import report_settings, rules_of, update_report_settings
from portal.db import db
from portal.models import ChangeRecord, Role, User
from tests.conftest import csrf_token
from tests.factories import make_user
from tests.test_report_pages import (
    EN,
    Desk,
    desk,  # noqa: F401  (the fixture)
    enter,
)

ZH = {"Accept-Language": "zh-CN"}
DASHBOARD, WORKLOAD = "/reports", "/reports/workload?by=department"
STAFF = "/reports/workload?by=staff"


@pytest.fixture
def people(desk: Desk) -> Desk:  # noqa: F811  (the imported fixture)
    """test_report_pages' four cases and every role (``desk``)."""
    return desk


@pytest.fixture
def cache_on(database) -> Iterator[None]:
    with database.app_context():  # made on first use otherwise: a write of its own
        report_settings()
        db.session.commit()
    database.config["REPORTS_CACHE_SECONDS"] = 60
    page_cache.forget(database)
    yield
    database.config.pop("REPORTS_CACHE_SECONDS", None)
    page_cache.forget(database)


@contextmanager
def counted(app) -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    statements: list[str] = []

    def listen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def figures(html: str) -> str:
    """The kept part of a page: from the "figures as of" line to the end of the content."""
    assert 'class="hint report-as-of"' in html, html[:300]
    part = html.split('<p class="hint report-as-of">', 1)[1].split("</main>", 1)[0]
    assert "csrf_token" not in part
    return part


def page(client, path: str, headers: dict | None = None) -> str:
    response = client.get(path, headers=headers or EN)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def uncached(app, client, path: str, headers: dict | None = None) -> str:
    """The page's figures computed now, the cache off for one request."""
    app.config["REPORTS_CACHE_SECONDS"] = 0
    try:
        return figures(page(client, path, headers))
    finally:
        app.config["REPORTS_CACHE_SECONDS"] = 60


def _as_of(html: str) -> str:
    return re.search(r'report-as-of">[^<]*?(\d\d:\d\d)', html).group(1)


# --- served from the cache -------------------------------------------------------------


@pytest.mark.parametrize("path", [DASHBOARD, WORKLOAD, STAFF])
def test_the_second_request_is_served_from_the_cache(client, database, people, cache_on,
                                                     path):
    enter(client, people.official)
    with counted(database) as first:
        html = page(client, path)
    with counted(database) as second:
        again = page(client, path)
    assert figures(again) == figures(html)
    assert len(second) <= 8 < len(first), (len(first), len(second))
    assert figures(again) == uncached(database, client, path)


def test_off_by_default_under_testing_and_with_zero_seconds(client, database, people):
    assert database.config.get("REPORTS_CACHE_SECONDS") is None  # TESTING: off
    enter(client, people.official)
    page(client, DASHBOARD)
    with counted(database) as again:
        page(client, DASHBOARD)
    assert len(again) > 8
    with database.app_context():
        assert page_cache.max_age() == 0
        database.config["REPORTS_CACHE_SECONDS"] = 0
        try:
            assert page_cache.max_age() == 0
        finally:
            database.config.pop("REPORTS_CACHE_SECONDS")


def test_another_query_string_for_the_same_period_shares_the_entry(client, database, people,
                                                                   cache_on):
    enter(client, people.official)
    html = page(client, WORKLOAD)
    month = re.search(r'name="date" value="([^"]+)"', html).group(1)
    with counted(database) as statements:
        same = page(client, f"{WORKLOAD}&period=month&date={month}")
    assert figures(same) == figures(html) and len(statements) <= 8


# --- changes recompute -----------------------------------------------------------------


def test_a_step_through_http_changes_the_figures_on_the_next_request(client, database, people,
                                                                     world, cache_on):
    enter(client, people.official)
    before = {path: figures(page(client, path)) for path in (DASHBOARD, WORKLOAD)}
    enter(client, people.clerk)
    number = people.numbers["intake"]
    for action, data in (("accept", {}), ("dispatch", {"department": str(world.urban.id)})):
        token = csrf_token(client, f"/cases/{number}")
        response = client.post(f"/cases/{number}/{action}", data={"csrf_token": token, **data})
        assert response.status_code == 302, action
    enter(client, people.official)
    for path, old in before.items():
        now = figures(page(client, path))
        assert now != old, path
        assert now == uncached(database, client, path), path


def test_changed_report_settings_and_staff_names_recompute(client, database, people, cache_on):
    enter(client, people.head)
    assert "王办理" in figures(page(client, STAFF))
    dashboard = figures(page(client, DASHBOARD))
    with database.app_context():  # as the admin pages do: ORM writes, no case touched
        user = db.session.get(User, people.handler.id)
        user.display_name = "王新名"
        db.session.commit()
    assert "王新名" in figures(page(client, STAFF))
    with database.app_context():
        changed = replace(rules_of(report_settings()), weight_response=40,
                          weight_resolution=30, weight_satisfaction=30)
        update_report_settings(changed, db.session.get(User, people.admin.id))
        db.session.commit()
    now = figures(page(client, DASHBOARD))
    assert now != dashboard
    assert now == uncached(database, client, DASHBOARD)


def test_rebuilding_the_totals_moves_the_feed(database, people, cache_on):
    """``flask reports rebuild-totals`` rewrites what the figures read, past the ORM's
    unit of work: it records ``("reports", 0)``, so every process recomputes."""
    with database.app_context():
        before = db.session.scalar(select(func.max(ChangeRecord.id)))
    result = database.test_cli_runner().invoke(args=["reports", "rebuild-totals"])
    assert result.exit_code == 0, result.output
    with database.app_context():
        written = db.session.scalars(select(ChangeRecord).where(ChangeRecord.id > before))
        assert [(r.entity, r.entity_id) for r in written] == [("reports", 0)]


def test_the_minute_rolls_over(client, database, people, cache_on):
    enter(client, people.official)
    start = (datetime.now(UTC) + timedelta(minutes=2)).replace(second=5, microsecond=0)
    with time_machine.travel(start, tick=False):
        first = page(client, DASHBOARD)
        with counted(database) as hit:
            assert figures(page(client, DASHBOARD)) == figures(first)
    with time_machine.travel(start + timedelta(seconds=50), tick=False), \
            counted(database) as still:
        page(client, DASHBOARD)
    with time_machine.travel(start + timedelta(minutes=1), tick=False), \
            counted(database) as rolled:
        later = page(client, DASHBOARD)
    assert (len(hit), len(still)) <= (8, 8) and len(rolled) > 8
    assert _as_of(later) != _as_of(first)


def test_an_entry_older_than_the_setting_is_recomputed(client, database, people, cache_on,
                                                       monkeypatch):
    enter(client, people.official)
    database.config["REPORTS_CACHE_SECONDS"] = 10
    clock = [1000.0]
    monkeypatch.setattr(page_cache, "_clock", lambda: clock[0])
    page(client, WORKLOAD)
    clock[0] += 9
    with counted(database) as young:
        page(client, WORKLOAD)
    clock[0] += 2
    with counted(database) as old:
        page(client, WORKLOAD)
    assert len(young) <= 8 < len(old)


# --- never another reader's HTML -------------------------------------------------------


def test_each_scope_gets_its_own_figures(client, database, people, world, cache_on):
    readers = {"official": people.official, "head": people.head, "handler": people.handler,
               "other_handler": people.other_handler, "supervisor": people.supervisor}
    served: dict[str, dict[str, str]] = {}
    for name, user in readers.items():  # each after the others have filled the cache
        enter(client, user)
        served[name] = {path: figures(page(client, path)) for path in (DASHBOARD, WORKLOAD,
                                                                      STAFF)}
        for path, html in served[name].items():
            assert html == uncached(database, client, path), (name, path)
    for path in (DASHBOARD, WORKLOAD, STAFF):
        for one, other in (("official", "head"), ("head", "other_handler"),
                           ("handler", "other_handler"), ("official", "handler")):
            assert served[one][path] != served[other][path], (path, one, other)
        assert served["supervisor"][path] == served["official"][path]  # both the city
    assert "李交通" not in served["head"][STAFF] and "李交通" in served["official"][STAFF]
    assert 'id="red-list"' not in served["head"][DASHBOARD]


def test_readers_of_one_scope_share_and_handlers_do_not(client, database, people, world,
                                                        cache_on):
    second_head = make_user(database, Role.DEPARTMENT_HEAD, department_id=world.urban.id)
    colleague = make_user(database, Role.HANDLER, department_id=world.urban.id,
                          display_name="赵同事")
    enter(client, people.head)
    mine = figures(page(client, STAFF))
    enter(client, second_head)
    with counted(database) as statements:
        assert figures(page(client, STAFF)) == mine
    assert len(statements) <= 8
    assert mine == uncached(database, client, STAFF)  # what the second head would get
    enter(client, people.handler)
    own = figures(page(client, STAFF))
    enter(client, colleague)
    theirs = figures(page(client, STAFF))
    assert theirs != own and "王办理" in own and "王办理" not in theirs
    assert theirs == uncached(database, client, STAFF)


def test_each_language_gets_its_own(client, database, people, cache_on):
    enter(client, people.official)
    english = figures(page(client, DASHBOARD, EN))
    chinese = figures(page(client, DASHBOARD, ZH))
    assert english != chinese
    assert "Download this table:" in english and "Download this table:" not in chinese
    assert chinese == uncached(database, client, DASHBOARD, ZH)
    assert figures(page(client, DASHBOARD, EN)) == english


# --- the LRU ---------------------------------------------------------------------------


def test_the_lru_keeps_its_bounds():
    cache = page_cache.PageCache(max_entries=3, max_chars=100)
    for n in range(5):
        cache.put(("page", n), "stamp", page_cache.Markup("x" * 10))
    assert len(cache) == 3 and cache.get(("page", 0), "stamp", 60) is None
    assert cache.get(("page", 4), "stamp", 60) == "x" * 10
    assert cache.get(("page", 4), "another stamp", 60) is None
    cache.put(("page", 9), "stamp", page_cache.Markup("y" * 95))
    assert len(cache) == 1 and cache.get(("page", 9), "stamp", 60) is not None
