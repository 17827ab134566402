"""Reference data cached per process (portal/refdata.py): read once, true after a change.

A second application object on the same database stands for a second gunicorn worker:
its cache is its own (``app.extensions``), as another process's would be.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event as sa_event

from portal import create_app, refdata
from portal.db import db
from portal.models import Department, District
from tests.conftest import empty_tables


def statements_of(app, fetch) -> tuple[list[str], object]:
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def listen(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    sa_event.listen(engine, "before_cursor_execute", listen)
    try:
        result = fetch()
    finally:
        sa_event.remove(engine, "before_cursor_execute", listen)
    return seen, result


@pytest.fixture
def other_worker(database):
    keys = ("TESTING", "INSTANCE_PATH", "DATABASE_URL", "SECRET_KEY", "LOG_LEVEL",
            "PASSWORD_HASH_METHOD", "TRACKING_CODE_HASH_METHOD", "SQLALCHEMY_ENGINE_OPTIONS")
    other = create_app({k: database.config[k] for k in keys if k in database.config})
    yield other
    with other.app_context():
        db.engine.dispose()


def test_a_warm_page_reads_no_reference_table(client, database, world, login_as):
    login_as("citizen")
    assert client.get("/requests/new").status_code == 200  # warms the snapshots
    seen, page = statements_of(database, lambda: client.get("/requests/new"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and world.gulou.name_zh in html
    assert world.noise.name_zh in html
    assert not [s for s in seen if "FROM departments" in s or "FROM districts" in s
                or "FROM categories" in s]
    assert len([s for s in seen if "FROM change_records" in s]) == 1  # the one freshness check


def test_another_workers_rename_is_seen_on_the_next_request(client, database, world,
                                                            login_as, other_worker):
    login_as("citizen")
    assert world.gulou.name_zh in client.get("/requests/new").get_data(as_text=True)
    with other_worker.app_context():  # "another process" renames the district
        db.session.get(District, world.gulou.id).name_zh = "鼓楼新区"
        db.session.commit()
    html = client.get("/requests/new").get_data(as_text=True)
    assert "鼓楼新区" in html


def test_a_new_department_appears_in_the_choices(database, world, other_worker):
    with database.test_request_context():
        assert "水务局" not in [d.name_zh for d in refdata.department_options()]
    with other_worker.app_context():
        db.session.add(Department(code="water", name_zh="水务局", name_en="Water Bureau"))
        db.session.commit()
    with database.test_request_context():
        assert "水务局" in [d.name_zh for d in refdata.department_options()]


def test_a_rolled_back_change_is_not_kept(database, world):
    with database.test_request_context():
        assert [d.name_zh for d in refdata.district_options()].count("鼓楼区") == 1
        db.session.get(District, world.gulou.id).name_zh = "未提交的名字"
        db.session.flush()  # the flush records the change: this request re-reads at once
        assert "未提交的名字" in [d.name_zh for d in refdata.district_options()]
        db.session.rollback()
    with database.test_request_context():
        names = [d.name_zh for d in refdata.district_options()]
        assert "未提交的名字" not in names and "鼓楼区" in names


def test_snapshots_hold_no_orm_rows(database, world):
    with database.test_request_context():
        rows = refdata.department_options() + refdata.district_options()
        assert rows and all(isinstance(r, refdata.NamedRow) for r in rows)


def test_emptied_tables_are_forgotten(database, world):
    with database.test_request_context():
        assert refdata.district_options()
    empty_tables(database)
    with database.test_request_context():
        assert refdata.district_options() == []


def test_a_row_set_to_what_it_holds_records_no_change(database, world):
    """A reference row in the session's dirty set whose columns did not really change (a
    form saved as it was) writes no change record; a real change writes one."""
    from sqlalchemy import func, select

    from portal.models import ChangeRecord

    def records() -> int:
        return db.session.scalar(select(func.count()).select_from(ChangeRecord)
                                 .where(ChangeRecord.entity == refdata.ENTITY))

    with database.app_context():
        before = records()
        district = db.session.get(District, world.gulou.id)
        district.name_zh = district.name_zh  # dirty, not modified
        assert district in db.session.dirty and not db.session.is_modified(district)
        db.session.commit()
        assert records() == before
        db.session.get(District, world.gulou.id).name_zh = "鼓楼区（新）"
        db.session.commit()
        assert records() == before + 1
