"""Deadlines of real cases on the working-day calendar, with a frozen clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from cases.calendar import seed_calendar
from cases.models import Case, CaseStatus, Category, DueState, RoutingRule, TimeUnit
from cases.sweep import sweep_deadlines
from portal.db import db
from portal.models import Role
from tests.conftest import sign_in
from tests.factories import make_case, make_user, make_world
from tests.test_lifecycle import step
from tests.test_migrations import empty_app  # noqa: F401  (the fixture)

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def routed(database, world):
    """Noise goes to the urban department: 4 working hours to sign for, 3 days to reply."""
    with database.app_context():
        category = db.session.get(Category, world.noise.id)
        category.sign_amount, category.sign_unit = 4, TimeUnit.HOURS
        category.reply_amount, category.reply_unit = 3, TimeUnit.DAYS
        db.session.add(RoutingRule(category_id=world.noise.id, department_id=world.urban.id))
        seed_calendar([2026])
        db.session.commit()
    return world


def deadlines(app, number):
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        return (
            case.status,
            case.sign_due_at and case.sign_due_at.astimezone(SH),
            case.reply_due_at and case.reply_due_at.astimezone(SH),
            case.due_at and case.due_at.astimezone(SH),
        )


def test_deadlines_cross_a_weekend_and_a_pause(database, routed):
    citizen = make_user(database, Role.CITIZEN)
    handler = make_user(database, Role.HANDLER, department_id=routed.urban.id)
    with time_machine.travel(at(2026, 11, 20, 16, 0), tick=False):  # a Friday
        case = make_case(database, citizen, routed)
    status, sign, reply, due = deadlines(database, case.number)
    assert status == CaseStatus.DISPATCHED
    assert sign == at(2026, 11, 23, 12, 0)  # Fri 16-17, Mon 9-12
    assert reply == at(2026, 11, 25, 16, 0)  # 24 working hours: Fri 1 + Mon 8 + Tue 8 + Wed 7
    assert due == sign

    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        step(database, case.number, "sign_for", handler)
    assert deadlines(database, case.number)[3] == reply

    with time_machine.travel(at(2026, 11, 23, 11, 0), tick=False):
        step(database, case.number, "request_info", handler, note="请补充照片")
    status, _, _, due = deadlines(database, case.number)
    assert status == CaseStatus.WAITING and due is None  # the clock is paused

    with time_machine.travel(at(2026, 11, 25, 11, 0), tick=False):
        step(database, case.number, "resume", handler)
    _, _, reply, due = deadlines(database, case.number)
    # Paused 16 working hours (Mon 11-17, Tue 9-17, Wed 9-11): the deadline moves as much.
    assert reply == at(2026, 11, 27, 16, 0) and due == reply


def test_deadlines_skip_spring_festival_and_count_make_up_days(database, routed):
    citizen = make_user(database, Role.CITIZEN)
    with time_machine.travel(at(2026, 2, 13, 16, 0), tick=False):  # Friday before the festival
        case = make_case(database, citizen, routed)
    _, sign, reply, _ = deadlines(database, case.number)
    # Saturday 14 February is a make-up working day (调休).
    assert sign == at(2026, 2, 14, 12, 0)
    # Fri 1 h + Sat 14th 8 h; 15th-23rd are weekend and holidays; Tue 24th 8 h, Wed 25th 7 h.
    assert reply == at(2026, 2, 25, 16, 0)


def test_unpublished_year_counts_weekends_only(database, routed):
    citizen = make_user(database, Role.CITIZEN)
    with time_machine.travel(at(2027, 2, 5, 16, 0), tick=False):  # a Friday; 2027 unpublished
        case = make_case(database, citizen, routed)
    _, sign, reply, _ = deadlines(database, case.number)
    assert sign == at(2027, 2, 8, 12, 0)  # Spring Festival 2027 is not known: plain Monday
    assert reply == at(2027, 2, 10, 16, 0)


def test_redo_restarts_the_reply_clock(database, routed):
    citizen = make_user(database, Role.CITIZEN)
    handler = make_user(database, Role.HANDLER, department_id=routed.urban.id)
    clerk = make_user(database, Role.CLERK)
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        case = make_case(database, citizen, routed)
        step(database, case.number, "sign_for", handler)
        step(database, case.number, "reply", handler, note="已处理")
    assert deadlines(database, case.number)[3] is None  # replied: nothing runs
    with time_machine.travel(at(2026, 11, 30, 14, 0), tick=False):  # Monday a week later
        step(database, case.number, "redo", clerk, note="未解决")
    status, _, reply, due = deadlines(database, case.number)
    assert status == CaseStatus.IN_PROGRESS
    assert reply == at(2026, 12, 3, 14, 0) and due == reply


def test_queue_rows_show_deadline_and_time_left(client, database, routed):
    citizen = make_user(database, Role.CITIZEN)
    handler = make_user(database, Role.HANDLER, department_id=routed.urban.id)
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        case = make_case(database, citizen, routed)
    # Sign in inside the frozen clock: a session cookie from the future is refused.
    with time_machine.travel(at(2026, 11, 23, 11, 0), tick=False):
        sign_in(client, handler.username)
        html = client.get("/queues/department").get_data(as_text=True)
        assert case.number in html and "2小时后" in html
        assert case.number not in client.get("/queues/overdue").get_data(as_text=True)
    with time_machine.travel(at(2026, 11, 23, 15, 0), tick=False):
        html = client.get("/queues/overdue").get_data(as_text=True)
        assert case.number in html and "已超期2小时" in html


@pytest.fixture
def short_sign(database, routed):
    """Noise: 2 working hours to sign for, 15 working days to reply."""
    with database.app_context():
        category = db.session.get(Category, routed.noise.id)
        category.sign_amount, category.sign_unit = 2, TimeUnit.HOURS
        category.reply_amount, category.reply_unit = 15, TimeUnit.DAYS
        db.session.commit()
    return routed


def test_due_soon_is_proportional_to_the_deadline(database, short_sign):
    """A quarter of a short clock at most; DUE_SOON_HOURS (24 h) of a long one."""
    citizen = make_user(database, Role.CITIZEN)
    handler = make_user(database, Role.HANDLER, department_id=short_sign.urban.id)
    start = at(2026, 11, 23, 10, 0)  # a Monday: to sign for by 12:00
    with time_machine.travel(start, tick=False):
        case = make_case(database, citizen, short_sign)
    with database.app_context():
        row = db.session.scalar(select(Case).where(Case.number == case.number))
        assert row.due_at.astimezone(SH) == at(2026, 11, 23, 12, 0)
        assert row.due_soon_at.astimezone(SH) == at(2026, 11, 23, 11, 30)
        assert sweep_deadlines(start + timedelta(seconds=23)).due_soon == []
        assert sweep_deadlines(start + timedelta(hours=1, minutes=40)).due_soon == [case.number]

    with time_machine.travel(at(2026, 11, 23, 11, 45), tick=False):
        step(database, case.number, "sign_for", handler)  # 15 working days to reply
    with database.app_context():
        row = db.session.scalar(select(Case).where(Case.number == case.number))
        reply_due = row.due_at
        assert row.due_soon_at == reply_due - timedelta(hours=24)
        assert row.due_state == DueState.ON_TIME
        assert sweep_deadlines(reply_due - timedelta(hours=25)).due_soon == []
        assert sweep_deadlines(reply_due - timedelta(hours=23)).due_soon == [case.number]

    with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
        step(database, case.number, "reply", handler, note="已处理")
    with database.app_context():
        row = db.session.scalar(select(Case).where(Case.number == case.number))
        assert row.due_at is None and row.due_soon_at is None  # cleared with the deadline


def test_migration_fills_due_soon_for_running_deadlines(empty_app):  # noqa: F811
    """Migration 0007 marks existing running deadlines near 24 hours ahead."""
    with empty_app.app_context():
        upgrade()
    world = make_world(empty_app)
    citizen = make_user(empty_app, Role.CITIZEN)
    running = make_case(empty_app, citizen, world)
    stopped = make_case(empty_app, citizen, world)
    due = at(2026, 12, 1, 17, 0)
    with empty_app.app_context():
        db.session.get(Case, running.id).due_at = due
        db.session.commit()
        downgrade(revision="e0057c97fd09")  # before 0007: no due_soon_at
        upgrade()
        rows = dict(db.session.execute(select(Case.id, Case.due_soon_at)).all())
        assert rows[running.id] == due - timedelta(hours=24)
        assert rows[stopped.id] is None
        db.session.remove()
        db.engine.dispose()
