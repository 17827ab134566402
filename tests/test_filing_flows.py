"""A filing and the steps after it keep the reports' rows equal to the live figures, and
filing costs a fixed number of statements (issue 16, fourth pass).

Filing routes a case in the transaction that inserts it, and several steps of one case
often share a transaction: the daily flows, the kept durations and their histograms must
come out as a rebuild from the cases would make them, also when a savepoint is rolled back
in between (``step_flows`` keeps what each flush left and starts the next one from it).
"""

from __future__ import annotations

from sqlalchemy import select

from cases.models import Case, RoutingRule
from cases.services import ActionInput, perform
from portal.db import db
from portal.models import Department, Role, User
from tests.factories import make_case, make_user
from tests.test_report_flows import (
    counted_durations,
    kept,
    kept_counts,
    kept_durations,
    live,
    live_durations,
)


def route_noise_to_urban(app, world) -> None:
    with app.app_context():
        db.session.add(RoutingRule(category_id=world.noise.id, department_id=world.urban.id))
        db.session.commit()


def all_equal_live() -> None:
    assert kept() == live()
    assert kept_durations() == live_durations()
    assert kept_counts() == counted_durations()


def test_a_case_routed_as_it_is_filed_counts_in_its_department(database, world):
    route_noise_to_urban(database, world)
    citizen = make_user(database, Role.CITIZEN)
    case = make_case(database, citizen, world)
    with database.app_context():
        all_equal_live()
        filed = {row for row in kept() if row[0] == "department" and row[3] == "filed"}
        assert {row[2] for row in filed} == {world.urban.id}, case.number


def test_steps_sharing_a_transaction_keep_the_rows(database, world):
    route_noise_to_urban(database, world)
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    other = make_user(database, Role.HANDLER, department_id=world.transport.id)
    first, second = make_case(database, citizen, world), make_case(database, citizen, world)
    with database.app_context():
        actors = {u.id: db.session.get(User, u.id) for u in (clerk, handler, other)}
        one = db.session.get(Case, first.id)
        # Sign for, a reply rolled back with its savepoint, the reply, closed: one commit.
        perform(one, "sign_for", actors[handler.id], ActionInput())
        savepoint = db.session.begin_nested()
        perform(one, "reply", actors[handler.id], ActionInput(note="草稿"))
        savepoint.rollback()
        perform(one, "reply", actors[handler.id], ActionInput(note="已处理完毕。"))
        perform(one, "close", actors[clerk.id], ActionInput())
        # The other case: signed for, transferred, signed for by the new department.
        two = db.session.get(Case, second.id)
        transport = db.session.get(Department, world.transport.id)
        perform(two, "sign_for", actors[handler.id], ActionInput())
        perform(two, "transfer", actors[clerk.id], ActionInput(department=transport,
                                                               note="转办"))
        perform(two, "sign_for", actors[other.id], ActionInput())
        db.session.commit()
        all_equal_live()
        assert {row[0] for row in kept_durations()} == {"sign", "close", "answer"}
        # A staff member who changes department takes their steps along.
        db.session.get(User, handler.id).department_id = world.transport.id
        db.session.commit()
        all_equal_live()


def test_a_filing_inside_a_longer_transaction(database, world):
    """Filed, then changed by hand before the commit (columns set after the insert)."""
    route_noise_to_urban(database, world)
    citizen = make_user(database, Role.CITIZEN)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    case = make_case(database, citizen, world)
    with database.app_context():
        stored = db.session.scalar(select(Case).where(Case.number == case.number))
        stored.assignee_id = handler.id
        db.session.flush()
        stored.category_id = world.potholes.id
        db.session.commit()
        all_equal_live()


def test_a_claim_between_flushes_of_one_transaction(database, world):
    """A Core UPDATE (the claim, ``recounted``) between two flushes of the same case: what
    the first flush left is no longer the table's, and the next flush reads it again."""
    route_noise_to_urban(database, world)
    citizen = make_user(database, Role.CITIZEN)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    case = make_case(database, citizen, world)
    with database.app_context():
        actor = db.session.get(User, handler.id)
        stored = db.session.get(Case, case.id)
        perform(stored, "sign_for", actor, ActionInput())  # flushed: its rows are kept
        stored.assignee_id = None
        db.session.flush()
        perform(stored, "claim", actor, ActionInput())  # a conditional Core UPDATE
        perform(stored, "reply", actor, ActionInput(note="已处理。"))
        db.session.commit()
        all_equal_live()


def test_a_case_removed_after_its_steps_in_one_transaction(database, world):
    route_noise_to_urban(database, world)
    citizen = make_user(database, Role.CITIZEN)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    case, other = make_case(database, citizen, world), make_case(database, citizen, world)
    with database.app_context():
        stored = db.session.get(Case, case.id)
        perform(stored, "sign_for", db.session.get(User, handler.id), ActionInput())
        db.session.delete(stored)
        db.session.commit()
        all_equal_live()
        assert db.session.get(Case, other.id) is not None
