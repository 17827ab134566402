"""The deadline sweep (twice in a row, and from two workers at once) and concurrent claims."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from cases.models import Case, CaseEvent, DueState
from cases.services import TransitionRefused, claim_case
from cases.sweep import sweep_deadlines
from portal.db import db, utcnow
from portal.models import Role, User
from tests.factories import make_case, make_user
from tests.test_lifecycle import step


def set_case(app, number, **values):
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        for key, value in values.items():
            setattr(case, key, value)
        db.session.commit()


def events(app, action):
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.action == action)
        )


@pytest.fixture
def dispatched(database, world):
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    numbers = []
    for _ in range(4):
        case = make_case(database, citizen, world)
        step(database, case.number, "dispatch", clerk, department=world.urban.id)
        numbers.append(case.number)
    return numbers


def test_sweep_marks_and_escalates_once(database, dispatched):
    now = utcnow()
    late, soon, fine, redone = dispatched
    set_case(database, late, due_at=now - timedelta(hours=1))
    set_case(database, soon, due_at=now + timedelta(hours=2),
             due_soon_at=now - timedelta(minutes=1))
    set_case(database, fine, due_at=now + timedelta(days=5), due_soon_at=now + timedelta(days=4))
    set_case(database, redone, redo_count=3, due_at=now + timedelta(days=5),
             due_soon_at=now + timedelta(days=4))

    with database.app_context():
        first = sweep_deadlines(now)
    assert first.overdue == [late] and first.due_soon == [soon]
    assert sorted(first.escalated) == sorted([late, redone])

    with database.app_context():
        second = sweep_deadlines(now)
    assert (second.overdue, second.due_soon, second.escalated) == ([], [], [])
    assert events(database, "overdue") == 1 and events(database, "escalate") == 2
    with database.app_context():
        case = db.session.scalar(select(Case).where(Case.number == late))
        assert case.due_state == DueState.OVERDUE and case.escalation_reason == "overdue"
        other = db.session.scalar(select(Case).where(Case.number == redone))
        assert other.escalation_reason == "redone"


def test_sweep_escalates_after_three_departments(database, dispatched, world):
    number = dispatched[0]
    set_case(database, number, departments_passed=3)
    with database.app_context():
        assert sweep_deadlines().escalated == [number]


def test_a_new_deadline_can_be_marked_again(database, dispatched, world):
    number = dispatched[0]
    now = utcnow()
    set_case(database, number, due_at=now - timedelta(minutes=5))
    with database.app_context():
        sweep_deadlines(now)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    step(database, number, "sign_for", handler)  # the reply clock runs: a fresh deadline
    set_case(database, number, due_at=now - timedelta(minutes=1))
    with database.app_context():
        assert sweep_deadlines(now).overdue == [number]
        assert sweep_deadlines(now).escalated == []  # escalated once, already
    assert events(database, "overdue") == 2 and events(database, "escalate") == 1


def test_sweep_command(database, dispatched):
    set_case(database, dispatched[0], due_at=utcnow() - timedelta(hours=1))
    result = database.test_cli_runner().invoke(args=["cases", "sweep"])
    assert result.exit_code == 0 and "overdue: 1" in result.output
    again = database.test_cli_runner().invoke(args=["cases", "sweep"])
    assert "overdue: 0" in again.output and "escalated: 0" in again.output


def run_together(app, work, count=2):
    """Run ``work(i)`` in ``count`` threads, each with its own app context and connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(i):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = work(i)
            except Exception as error:  # collected and asserted by the test
                db.session.rollback()
                results[i] = error

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_sweeps_at_once_mark_each_case_once(database, dispatched):
    now = utcnow()
    for number in dispatched:
        set_case(database, number, due_at=now - timedelta(hours=1))
    results = run_together(database, lambda i: sweep_deadlines(now))
    assert not any(isinstance(r, Exception) for r in results), results
    marked = sorted(n for r in results for n in r.overdue)
    assert marked == sorted(dispatched)
    assert events(database, "overdue") == 4 and events(database, "escalate") == 4


def test_two_concurrent_claims_exactly_one_wins(database, world):
    citizen = make_user(database, Role.CITIZEN)
    clerks = [make_user(database, Role.CLERK), make_user(database, Role.CLERK)]
    case = make_case(database, citizen, world)
    hold = threading.Event()

    def claim(i):
        user = db.session.get(User, clerks[i].id)
        target = db.session.get(Case, case.id)
        if i == 1:
            hold.wait(5)  # claim while the first claimant's transaction is still open
        claim_case(target, user)
        if i == 0:
            hold.set()
            threading.Event().wait(0.3)  # keep the row locked a moment longer
        db.session.commit()
        return user.id

    results = run_together(database, claim)
    winners = [r for r in results if isinstance(r, int)]
    # The loser is refused by the claim's condition or by the case's version check.
    losers = [r for r in results if isinstance(r, TransitionRefused | StaleDataError)]
    assert len(winners) == 1 and len(losers) == 1, results
    with database.app_context():
        stored = db.session.get(Case, case.id)
        assert stored.assignee_id == winners[0]
        assert db.session.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.action == "claim")
        ) == 1
