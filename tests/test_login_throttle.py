"""Failed sign-ins are throttled per client address and name, the same for every name."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal import create_app
from portal.db import db
from portal.models import RateLimitCounter, Role
from tests.conftest import sign_in
from tests.factories import PASSWORD, make_user

ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}
OFFICE = {"REMOTE_ADDR": "198.51.100.20"}
EN = {"Accept-Language": "en"}
WRONG = "wrong-password"  # noqa: S105
ERROR_RE = re.compile(r'id="password-errors"[^>]*>\s*<li>(.*?)</li>', re.S)


def attempt(client, username, password=WRONG, address=ATTACKER):
    return sign_in(client, username, password, environ_base=address, headers=EN)


def message(response) -> str:
    match = ERROR_RE.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:800]
    return " ".join(match.group(1).split())


def fail_enough(client, database, username):
    for _ in range(database.config["LOGIN_LOCKOUT_THRESHOLD"]):
        response = attempt(client, username)
        assert response.status_code == 422
        assert "The username or password is wrong." in message(response)


def test_known_and_unknown_names_get_the_same_answer(client, database):
    user = make_user(database, Role.ADMIN, username="admin")
    fail_enough(client, database, user.username)
    fail_enough(client, database, "no-such-user")
    known, unknown = attempt(client, "ADMIN"), attempt(client, "no-such-user")
    assert known.status_code == unknown.status_code == 429
    assert message(known) == message(unknown)
    assert message(known) == "Too many failed sign-in attempts. Try again in 15 min."
    for response in (known, unknown):
        text = response.get_data(as_text=True).lower()
        assert "locked" not in text and "disabled" not in text


def test_the_right_password_waits_but_another_address_signs_in(client, database):
    user = make_user(database, Role.ADMIN, username="admin")
    fail_enough(client, database, user.username)
    assert attempt(client, user.username, PASSWORD).status_code == 429
    assert client.get("/admin/users").status_code == 302
    # The real admin, from the office, is not locked out by the attacker.
    office = database.test_client()
    assert attempt(office, user.username, PASSWORD, address=OFFICE).status_code == 302
    assert office.get("/admin/users", environ_base=OFFICE).status_code == 200
    # The attacker may still try other names (the per-address LOGIN_RATE_LIMIT holds them).
    assert attempt(client, "someone-else").status_code == 422


def test_a_successful_sign_in_forgets_earlier_mistakes(client, database):
    user = make_user(database, Role.CLERK)
    threshold = database.config["LOGIN_LOCKOUT_THRESHOLD"]
    for _ in range(threshold - 1):
        assert attempt(client, user.username).status_code == 422
    assert attempt(client, user.username, PASSWORD).status_code == 302
    other = database.test_client()
    for _ in range(threshold - 1):
        assert attempt(other, user.username).status_code == 422
    assert attempt(other, user.username, PASSWORD).status_code == 302


def test_the_throttle_lives_in_shared_storage(database):
    """Failures counted by one app instance (another worker) hold in the next one."""
    config = {
        key: database.config[key]
        for key in ("TESTING", "INSTANCE_PATH", "DATABASE_URL", "SECRET_KEY",
                    "PASSWORD_HASH_METHOD", "LOGIN_RATE_LIMIT", "SERVER_NAME", "LOG_LEVEL")
    }
    config["RATELIMIT_STORAGE_URI"] = "db://"
    user = make_user(database, Role.CLERK)
    worker_a, worker_b = create_app(dict(config)), create_app(dict(config))
    fail_enough(worker_a.test_client(), worker_a, user.username)
    assert attempt(worker_b.test_client(), user.username, PASSWORD).status_code == 429
    with worker_b.app_context():
        keys = db.session.scalars(select(RateLimitCounter.key)).all()
        # The typed name is stored hashed, never as typed.
        assert any(key.startswith("LOGIN-FAILURES/203.0.113.7/") for key in keys)
        assert not any(user.username in key for key in keys)
    for worker in (worker_a, worker_b):
        with worker.app_context():
            db.engine.dispose()
