"""Client documents are read a batch at a time: the access keys of a batch of records
come from one query (not one per record) and equal the one client rule's
(``citizens.visibility.client_access_keys``)."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from cases.models import CaseAssist
from citizens.models import Client
from citizens.visibility import client_access_keys
from portal.db import db
from portal.models import Role
from search.sources.clients import source as client_source
from tests.factories import make_case, make_user


@contextmanager
def counted():
    """Count the SQL statements run inside the block."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def clients_with_cases(app, world, count: int) -> list[int]:
    """``count`` clients: some with a case in one department, some assisted by another,
    some only anonymous (no department may find them through it), some with none."""
    ids = []
    for n in range(count):
        user = make_user(app, Role.CITIZEN)
        ids.append(user.client_id)
        if n % 4 == 3:
            continue
        case = make_case(app, user, world, title=f"案件{n}", anonymous=(n % 4 == 2),
                         department_id=world.urban.id if n % 2 else world.transport.id)
        if n % 4 == 1:
            with app.app_context():
                db.session.add(CaseAssist(case_id=case.id, department_id=world.transport.id))
                db.session.commit()
    return ids


def test_a_batch_of_client_documents_reads_its_access_keys_in_one_query(database, world):
    ids = clients_with_cases(database, world, 24)
    with database.app_context():
        db.session.expire_all()
        with counted() as few:
            small = client_source.documents(ids[:3])
        db.session.expire_all()
        with counted() as many:
            large = client_source.documents(ids)
        assert len(small) == 3 and len(large) == 24
        assert len(many) == len(few)  # per batch, not per client
        by_id = {d.id: d.access for d in large}
        for client in db.session.query(Client).filter(Client.id.in_(ids)):
            assert by_id[client.id] == client_access_keys(client), client.id
        # every shape of the scene is there: named, assisted, anonymous-only, none
        assert {len(keys) for keys in by_id.values()} >= {1, 2, 3}
