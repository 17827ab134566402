"""The change feed (``portal.changes``) and the after-commit mechanism (``portal.aftercommit``)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cases.models import Case, CaseType
from cases.services import CaseRequest, file_case
from cases.sweep import sweep_deadlines
from citizens.merge import merge_clients
from citizens.models import Client, ClientKind, ContactLog
from citizens.privacy import anonymise_client
from portal.aftercommit import after_commit, after_rollback
from portal.changes import changes_since, prune_changes, record_change, record_changes
from portal.db import db, utcnow
from portal.models import ChangeRecord, Role, User
from tests.factories import make_case, make_user
from tests.test_lifecycle import step


def feed(app=None, after: int = 0) -> set[tuple[str, int, str]]:
    """The change records after ``after``, as (entity, id, op); in the caller's session."""
    if app is not None:
        with app.app_context():
            return feed(None, after)
    return {(r.entity, r.entity_id, r.op) for r in changes_since(after, limit=10_000)}


def last_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(ChangeRecord.id))) or 0


# --- the feed --------------------------------------------------------------------------


def test_filing_records_the_case_client_and_contact_in_its_transaction(database, world):
    citizen = make_user(database, Role.CITIZEN)
    mark = last_id(database)
    with database.app_context():
        user = db.session.get(User, citizen.id)
        request = CaseRequest(type=CaseType.COMPLAINT, category_id=world.noise.id, title="噪音",
                              description="夜间施工", district_id=world.gulou.id)
        case = file_case(db.session.get(Client, user.client_id), user, request)
        contact = db.session.scalar(select(ContactLog).where(ContactLog.case_id == case.id))
        seen = feed(after=mark)  # written already, before the commit
        assert ("case", case.id, "insert") in seen
        assert ("client", user.client_id, "update") in seen  # the counter's bulk UPDATE
        assert ("contact_log", contact.id, "insert") in seen
        assert len(seen) == len({(entity, i) for entity, i, _op in seen})  # once each
        db.session.rollback()
    assert feed(database, after=mark) == set()  # rolled back: no record either


def test_a_life_cycle_step_records_its_case(database, world):
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    case = make_case(database, citizen, world)
    mark = last_id(database)
    step(database, case.number, "accept", clerk)
    assert feed(database, after=mark) == {("case", case.id, "update")}


def test_a_sweep_mark_records_the_case(database, world):
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    case = make_case(database, citizen, world)
    step(database, case.number, "dispatch", clerk, department=world.urban.id)
    with database.app_context():
        db.session.get(Case, case.id).due_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    mark = last_id(database)
    with database.app_context():
        assert sweep_deadlines(utcnow()).overdue == [case.number]
    assert ("case", case.id, "update") in feed(database, after=mark)
    assert {entity for entity, _i, _op in feed(database, after=mark)} == {"case"}


def test_a_client_merge_records_both_records_and_what_moved(database, world):
    clerk = make_user(database, Role.CLERK)
    kept = make_user(database, Role.CITIZEN)
    gone = make_user(database, Role.CITIZEN)
    case = make_case(database, gone, world)
    mark = last_id(database)
    with database.app_context():
        survivor, merged = (db.session.get(Client, u.client_id) for u in (kept, gone))
        merge_clients(survivor, merged, db.session.get(User, clerk.id), "同一人")
        contact = db.session.scalar(select(ContactLog.id).where(ContactLog.case_id == case.id))
        db.session.commit()
    seen = {(entity, i) for entity, i, _op in feed(database, after=mark)}
    assert {("client", kept.client_id), ("client", gone.client_id), ("case", case.id),
            ("contact_log", contact)} <= seen


def test_an_anonymisation_records_the_client_and_its_cases(database, world):
    admin = make_user(database, Role.ADMIN)
    citizen = make_user(database, Role.CITIZEN)
    case = make_case(database, citizen, world)
    mark = last_id(database)
    with database.app_context():
        anonymise_client(db.session.get(Client, citizen.client_id), db.session.get(User, admin.id))
        db.session.commit()
    seen = {(entity, i) for entity, i, _op in feed(database, after=mark)}
    assert {("client", citizen.client_id), ("case", case.id)} <= seen
    assert "contact_log" in {entity for entity, _i in seen}


def test_bulk_records_and_deletes(database):
    mark = last_id(database)
    with database.app_context():
        client = Client(kind=ClientKind.CITIZEN, name="张三")
        db.session.add(client)
        db.session.flush()
        record_changes("client", [client.id, client.id])  # already recorded as inserted
        db.session.delete(client)
        db.session.flush()
        record_change("client", client.id, "delete")  # recorded already by the flush
        db.session.commit()
        rows = changes_since(mark)
    assert [(r.entity, r.op) for r in rows] == [("client", "insert"), ("client", "delete")]
    assert [r.id for r in rows] == sorted(r.id for r in rows)


def test_a_savepoint_rolled_back_takes_its_records_along(database):
    mark = last_id(database)
    with database.app_context():
        client = Client(kind=ClientKind.CITIZEN, name="李四")
        db.session.add(client)
        db.session.flush()
        nested = db.session.begin_nested()
        db.session.execute(update(Client).where(Client.id == client.id).values(name="王五"))
        record_change("client", 999_999)
        nested.rollback()
        record_change("client", 999_999)  # recorded again: the first went with the savepoint
        db.session.commit()
        client_id = client.id
    assert feed(database, after=mark) == {("client", client_id, "insert"),
                                          ("client", 999_999, "update")}


def test_old_records_are_pruned(database):
    with database.app_context():
        record_change("case", 1)
        db.session.flush()
        db.session.execute(update(ChangeRecord).values(created_at=utcnow() - timedelta(days=40)))
        record_change("case", 2)
        assert prune_changes(timedelta(days=30)) == 1
        db.session.commit()
    assert feed(database) == {("case", 2, "update")}


# --- after commit, after rollback ------------------------------------------------------


def test_after_commit_runs_after_the_commit_in_order(database):
    ran: list[str] = []
    with database.app_context():
        after_commit(lambda: ran.append("first"))
        after_rollback(lambda: ran.append("rolled back"))
        after_commit(lambda: ran.append("second"))
        db.session.flush()
        assert ran == []
        db.session.commit()
        assert ran == ["first", "second"]
        db.session.commit()  # the next transaction starts with nothing waiting
        assert ran == ["first", "second"]


def test_after_rollback_runs_on_rollback_and_after_commit_does_not(database):
    ran: list[str] = []
    with database.app_context():
        after_commit(lambda: ran.append("committed"))
        after_rollback(lambda: ran.append("rolled back"))
        db.session.rollback()
        assert ran == ["rolled back"]
        db.session.commit()
        assert ran == ["rolled back"]
    with database.app_context():
        after_rollback(lambda: ran.append("closed"))
    assert ran == ["rolled back", "closed"]  # a session removed uncommitted rolls back


def test_a_failing_callback_is_logged_and_the_rest_run(database, caplog):
    ran: list[str] = []
    with database.app_context():
        after_commit(lambda: 1 / 0)
        after_commit(lambda: ran.append("after"))
        with caplog.at_level(logging.ERROR, logger="portal.aftercommit"):
            db.session.commit()
    assert ran == ["after"] and "ZeroDivisionError" in caplog.text


@pytest.mark.parametrize("outer", ["commit", "rollback"])
def test_savepoints(database, outer):
    ran: list[str] = []
    with database.app_context():
        db.session.execute(select(1))
        with db.session.begin_nested():
            after_commit(lambda: ran.append("released"))
            after_rollback(lambda: ran.append("released, undone"))
        assert ran == []  # a released savepoint waits for the outer transaction
        nested = db.session.begin_nested()
        after_commit(lambda: ran.append("never"))
        after_rollback(lambda: ran.append("savepoint undone"))
        nested.rollback()
        assert ran == ["savepoint undone"]
        getattr(db.session, outer)()
    if outer == "commit":
        assert ran == ["savepoint undone", "released"]
    else:
        assert ran == ["savepoint undone", "released, undone"]


def test_sessions_keep_their_own_work(database):
    ran: list[str] = []
    with database.app_context():
        other = Session(db.engine)
        after_commit(lambda: ran.append("mine"))
        after_commit(lambda: ran.append("other's"), other)
        other.commit()
        assert ran == ["other's"]
        db.session.rollback()
        other.close()
    assert ran == ["other's"]



def test_prune_command(database):
    with database.app_context():
        record_change("case", 1)
        db.session.commit()
    result = database.test_cli_runner().invoke(args=["changes", "prune", "--older-than", "30"])
    assert result.exit_code == 0 and "removed 0 change records" in result.output
    assert feed(database) == {("case", 1, "update")}
