"""The index stays true to the database: a writer killed mid-batch loses nothing that
``verify --repair`` cannot find and fix, and four processes filing at once all land."""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from types import SimpleNamespace as NS

import pytest
from sqlalchemy import select

from cases.models import Case
from portal import create_app
from portal.db import db
from portal.models import Role
from search import engine
from search.engine import registry
from search.engine.types import Document, SearchRequest
from tests.factories import make_case, make_user

# The index follows every commit here, as in production (tests/conftest.py).
pytestmark = pytest.mark.search

CHILD_KEYS = (
    "TESTING", "INSTANCE_PATH", "DATABASE_URL", "SECRET_KEY", "PASSWORD_HASH_METHOD",
    "TRACKING_CODE_HASH_METHOD", "NOTIFY_INLINE", "SEARCH_INDEX_DIR", "FILING_RATE_LIMIT",
    "SQLALCHEMY_ENGINE_OPTIONS", "SEARCH_CATCH_UP", "SEARCH_BACKEND",
)


class FakeSource:
    """Cases as documents of kind ``rfake`` (title, findable by everyone). A title
    starting with "kill" kills the process while the index writer holds a batch; one
    starting with "boom" raises."""

    kind = "rfake"
    text_fields = ("title",)

    def affected(self, entity, ids):
        return ids if entity == "case" else []

    def documents(self, ids):
        rows = list(db.session.execute(
            select(Case.id, Case.title).where(Case.id.in_(list(ids))).order_by(Case.id)
        ))
        if any(title.startswith("boom") for _i, title in rows):
            raise RuntimeError("boom while indexing")
        if any(title.startswith("kill") for _i, title in rows) and os.environ.get("KILL_ME"):
            os.kill(os.getpid(), 9)
        return [Document("rfake", i, {"title": t}, access=("all",)) for i, t in rows]

    def all_ids(self):
        return list(db.session.scalars(select(Case.id).order_by(Case.id)))


@pytest.fixture
def fake(database):
    on_sqlite = database.config["DATABASE_URL"].startswith("sqlite")
    if database.config["SEARCH_BACKEND"] == "postgresql" and on_sqlite:
        pytest.skip("the PostgreSQL backend keeps its index in a PostgreSQL database")
    registry.register_source(FakeSource())
    yield database
    registry.unregister("rfake")


def found(app, query: str) -> set[int]:
    with app.app_context():
        response = engine.search(
            SearchRequest(kind="rfake", query=query, access=("all",), per_page=100)
        )
        return {h.id for h in response.hits}


def child_config(app) -> dict:
    return {k: app.config[k] for k in CHILD_KEYS if k in app.config}


class ForkedChild:
    """A process forked from the test's own (its libraries and the analyser's dictionary
    already loaded, so it starts in milliseconds, not the seconds a fresh interpreter
    takes); like ``subprocess.Popen``: ``communicate`` waits, ``returncode`` is negative
    for a signal."""

    def __init__(self, target, *args, env: dict | None = None) -> None:
        self._errors = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in communicate)
            mode="w+", suffix=".log", delete=False
        )
        self.returncode: int | None = None
        self.pid = os.fork()
        if self.pid == 0:  # the child: its own app, engine and connections (target's)
            code = 1
            try:
                os.environ.update(env or {})
                sys.stderr = self._errors
                target(*args)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                self._errors.flush()
                os._exit(code)  # no exit handlers: the parent's connections stay its own

    def communicate(self, timeout: float) -> tuple[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
                raise TimeoutError(f"child {self.pid} still running after {timeout} s")
            time.sleep(0.02)
        self._errors.seek(0)
        errors = self._errors.read()
        self._errors.close()
        os.unlink(self._errors.name)
        return "", errors


def catch_up_in_a_child(config: dict) -> None:
    from search.engine import indexer

    indexer.BATCH = 1  # one document a chunk: the first ones are in the writer when it dies
    app = create_app(config)
    registry.register_source(FakeSource())
    with app.app_context():
        engine.catch_up()


def test_a_writer_killed_mid_batch_loses_nothing_verify_repair_finds_it(fake, world):
    fake.config["SEARCH_CATCH_UP_AFTER_COMMIT"] = False
    try:
        client = make_user(fake, Role.CITIZEN)
        cases = [make_case(fake, client, world, title=t)
                 for t in ("路面积水", "电梯故障", "kill 噪音扰民")]
        child = ForkedChild(catch_up_in_a_child, child_config(fake), env={"KILL_ME": "1"})
        _out, err = child.communicate(timeout=120)
        assert child.returncode == -9, err  # killed while holding the index writer
        visible = found(fake, "积水") | found(fake, "电梯") | found(fake, "噪音")
        if fake.config["SEARCH_BACKEND"] == "postgresql":
            # Each batch commits on its own: those before the kill are there, true to the
            # database; the cursor did not move, so the next catch-up takes them again.
            assert visible <= {cases[0].id, cases[1].id}
        else:
            assert visible == set()  # one writer commit: nothing half-written is visible
        runner = fake.test_cli_runner()
        report = runner.invoke(args=["search", "verify"])
        assert report.exit_code == 1
        assert f"rfake: {3 - len(visible)} missing, 0 stale, 0 extra" in report.output
        repaired = runner.invoke(args=["search", "verify", "--repair"])
        assert repaired.exit_code == 0, repaired.output
        assert found(fake, "积水") == {cases[0].id}
        assert found(fake, "噪音") == {cases[2].id}
        assert "true to the database" in runner.invoke(args=["search", "verify"]).output
        with fake.app_context():  # the lock died with the process: catch-up goes on
            engine.catch_up()
    finally:
        fake.config["SEARCH_CATCH_UP_AFTER_COMMIT"] = True


def test_an_error_after_part_of_a_batch_leaves_the_cursor_for_the_next_catch_up(fake, world):
    fake.config["SEARCH_CATCH_UP_AFTER_COMMIT"] = False
    try:
        client = make_user(fake, Role.CITIZEN)
        good = make_case(fake, client, world, title="路面积水")
        bad = make_case(fake, client, world, title="boom 电梯")
        with fake.app_context(), pytest.raises(RuntimeError):
            engine.catch_up()
        assert found(fake, "积水") == set()
        with fake.app_context():
            db.session.get(Case, bad.id).title = "电梯故障"
            db.session.commit()
            assert engine.catch_up() >= 2  # the cursor had not moved: nothing lost
            assert engine.verify().ok
        assert found(fake, "积水") == {good.id}
        assert found(fake, "电梯") == {bad.id}
    finally:
        fake.config["SEARCH_CATCH_UP_AFTER_COMMIT"] = True


def file_cases_in_a_child(config: dict, owner: int, category: int, district: int,
                          worker: int, count: int) -> None:
    app = create_app(config)
    registry.register_source(FakeSource())
    world = NS(noise=NS(id=category), gulou=NS(id=district))
    for i in range(count):
        make_case(app, NS(id=owner), world, title=f"并发案件 worker{worker} number{i}")


def test_four_processes_filing_at_once_every_case_is_found(fake, world):
    owners = [make_user(fake, Role.CITIZEN) for _ in range(4)]
    per_process = 5
    children = [
        ForkedChild(file_cases_in_a_child, child_config(fake), owner.id, world.noise.id,
                    world.gulou.id, n, per_process)
        for n, owner in enumerate(owners)
    ]
    for child in children:
        _out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
    with fake.app_context():
        engine.catch_up()  # what the `flask search catch-up --every` loop does
        ids = set(db.session.scalars(select(Case.id)))
        assert len(ids) == 4 * per_process
        assert engine.verify().ok
    assert found(fake, "并发案件") == ids
    for n in range(4):
        assert len(found(fake, f"worker{n}")) == per_process
