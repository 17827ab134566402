"""Rooms act on each other's rows only through the hooks of ``portal.signals``.

When a client is merged or anonymised, the citizens room sends a signal; the cases
room (and the core's accounts and notifications) change their own rows in receivers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select

import cases.hooks
import portal.auth.hooks
import portal.notifications.hooks
from cases.models import Case
from citizens.merge import merge_clients
from citizens.models import Client
from citizens.privacy import anonymise_client
from portal.db import db
from portal.models import Role, User
from portal.signals import client_anonymised, client_merged
from tests.factories import make_case, make_user

ROOT = Path(__file__).resolve().parent.parent
SENDERS = ("citizens/merge.py", "citizens/privacy.py")
# What the senders may not reach into: the other rooms' tables and the core's accounts
# and messages, which their own receivers change.
FORBIDDEN = ("cases", "portal.notifications", "portal.auth")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_merge_and_anonymisation_import_no_other_rooms_tables():
    for name in SENDERS:
        reached = {
            module
            for module in imported_modules(ROOT / name)
            for room in FORBIDDEN
            if module == room or module.startswith(room + ".")
        }
        assert not reached, f"{name} imports {sorted(reached)}: send a portal.signals hook"


def test_every_room_connects_its_receivers(database):
    anyone = object()  # the receivers listen to every sender
    assert {cases.hooks.move_cases, portal.auth.hooks.move_accounts} <= set(
        client_merged.receivers_for(anyone)
    )
    assert {
        cases.hooks.blank_cases,
        portal.auth.hooks.scrub_accounts,
        portal.notifications.hooks.forget_person,
    } <= set(client_anonymised.receivers_for(anyone))


@contextmanager
def disconnected(signal, receiver) -> Iterator[None]:
    signal.disconnect(receiver)
    try:
        yield
    finally:
        signal.connect(receiver)


def test_without_the_cases_receiver_a_merge_leaves_the_cases_alone(database, world):
    clerk = make_user(database, Role.CLERK)
    kept = make_user(database, Role.CITIZEN)
    gone = make_user(database, Role.CITIZEN)
    case = make_case(database, gone, world)
    with database.app_context(), disconnected(client_merged, cases.hooks.move_cases):
        survivor, merged = (db.session.get(Client, u.client_id) for u in (kept, gone))
        merge = merge_clients(survivor, merged, db.session.get(User, clerk.id), "同一人")
        assert merge.moved_cases == 0 and merge.moved_accounts == 1
        assert db.session.scalar(select(Case.client_id).where(Case.id == case.id)) == gone.client_id
        db.session.rollback()
    with database.app_context():  # connected again: the cases move with the record
        survivor, merged = (db.session.get(Client, u.client_id) for u in (kept, gone))
        merge = merge_clients(survivor, merged, db.session.get(User, clerk.id), "同一人")
        assert merge.moved_cases == 1
        assert db.session.scalar(select(Case.client_id).where(Case.id == case.id)) == kept.client_id
        db.session.rollback()


def test_without_the_cases_receiver_anonymisation_leaves_the_cases_alone(database, world):
    admin = make_user(database, Role.ADMIN)
    citizen = make_user(database, Role.CITIZEN)
    case = make_case(database, citizen, world, title="王五家门口噪音")
    with database.app_context(), disconnected(client_anonymised, cases.hooks.blank_cases):
        anonymise_client(db.session.get(Client, citizen.client_id), db.session.get(User, admin.id))
        assert db.session.get(Case, case.id).title == "王五家门口噪音"
        assert db.session.get(User, citizen.id).active is False  # the accounts' receiver ran
        db.session.rollback()
    with database.app_context():
        anonymise_client(db.session.get(Client, citizen.client_id), db.session.get(User, admin.id))
        assert db.session.get(Case, case.id).title == cases.hooks.REMOVED_TEXT
        db.session.rollback()
