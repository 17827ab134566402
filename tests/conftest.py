"""Fixtures: one app per database backend, a clean database per test, ``login_as``.

Every test that uses ``app`` runs on SQLite and, when ``PORTAL_TEST_DATABASE_URL``
is set, on PostgreSQL too.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, text

from portal import create_app, refdata
from portal.db import db
from portal.extensions import limiter
from portal.models import Role, User
from search.engine import wait_until_caught_up
from tests.factories import PASSWORD, World, make_user, make_world


def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own
    (``<name>_gw0``, ``<name>_gw1``...), made on first use: the suite empties and rebuilds
    its schema, which workers sharing one database would do under each other's feet."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    mine = base.set(database=f"{base.database}_{worker}")
    server = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": mine.database}
        ).first()
        if found is None:
            conn.execute(text(f'CREATE DATABASE "{mine.database}"'))
    server.dispose()
    return mine.render_as_string(hide_password=False)


PG_URL = _worker_database(os.environ.get("PORTAL_TEST_DATABASE_URL"))
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
SESSION_COOKIE = "portal_session"
CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'type="hidden" name="csrf_token" value="([^"]+)"'
)


def _judge_the_factory_password_once() -> None:
    """zxcvbn takes ~5 ms a password, and the factories make thousands of users with the
    one ``PASSWORD``: judge it once per process (any other password still goes to zxcvbn;
    the strength rules have tests of their own)."""
    from portal.auth import strength

    real = strength.estimate
    judged: dict[str, dict] = {}

    def estimate(password: str, user_inputs=()) -> dict:
        if password != PASSWORD:
            return real(password, user_inputs)
        if PASSWORD not in judged:
            judged[PASSWORD] = real(password, user_inputs)
        return judged[PASSWORD]

    strength.estimate = estimate


_judge_the_factory_password_once()


def app_config(tmp_path_factory: pytest.TempPathFactory, backend: str) -> dict:
    instance = tmp_path_factory.mktemp(f"instance-{backend}")
    url = PG_URL if backend == "postgresql" else f"sqlite:///{instance / 'test.db'}"
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "TRACKING_CODE_HASH_METHOD": "pbkdf2:sha256:1000",
        # The limiter runs in every test with generous limits; a test tightens one
        # through the app's config to see it bite.
        "RATELIMIT_ENABLED": True,
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "REGISTER_RATE_LIMIT": "1000 per minute",
        "FILING_RATE_LIMIT": "1000 per minute",
        "TRACK_RATE_LIMIT": "1000 per minute",
        "RATING_RATE_LIMIT": "1000 per minute",
        "PHONE_CODE_RATE_LIMIT": "1000 per minute",
        "SERVER_NAME": None,
        # Delivery is tested on its own (test_notifications); elsewhere the outbox is
        # written but not sent, so no test waits on a mail server.
        "NOTIFY_INLINE": False,
        "LOG_LEVEL": "WARNING",
        # Tests do not need each commit on disk before the next step: PostgreSQL skips
        # the wait for the WAL flush (durability, not correctness, is what it trades).
        **(
            {"SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": True,
                "connect_args": {"options": "-c synchronous_commit=off"},
            }}
            if backend == "postgresql"
            else {}
        ),
    }


def reset_schema(app: Flask) -> None:
    """Empty the database completely, then build it with the migrations."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        db.engine.dispose()


def _sqlite_without_fsync(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=OFF")


class ClosingClient(FlaskClient):
    """A test client that closes each response once it has read it, as a server does
    once the response is sent: work registered with ``call_on_close`` (delivering the
    request's messages) runs then, not whenever the response is garbage-collected."""

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().open(*args, **kwargs)
        response.get_data()
        response.close()
        return response


@pytest.fixture(scope="session", params=BACKENDS)
def app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    application = create_app(app_config(tmp_path_factory, request.param))
    application.test_client_class = ClosingClient
    if request.param == "sqlite":
        with application.app_context():
            # As on PostgreSQL (synchronous_commit=off): no fsync at each test commit.
            event.listen(db.engine, "connect", _sqlite_without_fsync)
    reset_schema(application)
    yield application
    with application.app_context():
        db.engine.dispose()


def empty_tables(app: Flask) -> None:
    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # DELETE and a sequence reset take ~7 ms; TRUNCATE of 30 tables ~115 ms.
                for name in tables:
                    conn.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608 (our table names)
                sequences = conn.execute(
                    text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
                ).scalars().all()
                if sequences:
                    resets = ", ".join(f"setval('{seq}', 1, false)" for seq in sequences)
                    conn.execute(text(f"SELECT {resets}"))  # noqa: S608
            else:
                for name in tables:
                    conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608 (our own table names)
        db.session.remove()
    refdata.forget(app)  # the tables were emptied behind the ORM's back


@pytest.fixture
def database(
    app: Flask, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Flask]:
    """A clean database for one test (tables emptied afterwards), and an empty search
    index of its own (``SEARCH_INDEX_DIR`` in the test's temporary folder). The index
    follows every commit only in tests marked ``search``: elsewhere that work (a Whoosh
    commit per write) would double the suite's time for nothing it checks."""
    with app.app_context():
        limiter.reset()
    app.config["SEARCH_INDEX_DIR"] = str(tmp_path / "search-index")
    # Inline (in the request, after the commit): a test reads the index right after.
    app.config["SEARCH_CATCH_UP_AFTER_COMMIT"] = True
    app.config["SEARCH_CATCH_UP"] = (
        "inline" if request.node.get_closest_marker("search") is not None else "off"
    )
    yield app
    with app.app_context():  # a test in "thread" mode: its follower is done first
        wait_until_caught_up(10.0)
    empty_tables(app)


@pytest.fixture
def client(database: Flask) -> FlaskClient:
    return database.test_client()


@pytest.fixture
def world(database: Flask) -> World:
    return make_world(database)


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token of the form on ``url`` (as a browser would read it)."""
    page = client.get(url)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({page.status_code})"
    token = match.group(1) or match.group(2)
    # The session's CSRF secret lives as long as its cookie (sign-in and sign-out keep it):
    # ``submit`` reuses the token instead of fetching a page only to read it again.
    client._portal_csrf = (token, time.time(), client.get_cookie(SESSION_COOKIE))
    return token


def _known_token(client: FlaskClient) -> str | None:
    """The token this client read last, while it is still good (same session cookie
    value or one derived from it, and minutes old, not the hour a token lives; a test
    that moves the clock fetches a fresh one)."""
    known = getattr(client, "_portal_csrf", None)
    if known is None or client.get_cookie(SESSION_COOKIE) is None:
        return None
    token, at, _cookie = known
    return token if abs(time.time() - at) < 600 else None


def submit(client: FlaskClient, form_url: str, data: dict, action: str | None = None, **kw):
    """Post ``data`` with the CSRF token read from ``form_url`` (to ``action`` if given);
    the token this client read before is reused (the form page is fetched only once)."""
    token = _known_token(client) or csrf_token(client, form_url)
    return client.post(action or form_url, data={"csrf_token": token, **data}, **kw)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD, **kw):
    return submit(client, "/login", {"username": username, "password": password}, **kw)


@pytest.fixture
def login_as(client: FlaskClient, database: Flask, world: World) -> Callable[..., User]:
    """``login_as("clerk")`` creates a user of that role, signs in through /login, returns it."""

    def _login(role: str | Role, **kw) -> User:
        role = Role(role)
        if role in (Role.HANDLER, Role.DEPARTMENT_HEAD):
            kw.setdefault("department_id", world.urban.id)
        user = make_user(database, role, **kw)
        if client.get_cookie(SESSION_COOKIE) is not None:
            # Someone may be signed in already: sign them out first (a fresh client has
            # no session yet, and skips the two requests).
            client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
        response = sign_in(client, user.username)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    return _login


def pytest_report_header(config: pytest.Config) -> list[str]:
    browser = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else "missing (skipped)"
    return [f"database backends: {', '.join(BACKENDS)}", f"browser: {browser}"]
