"""The background follower (``SEARCH_CATCH_UP = "thread"``): a commit only wakes it, a
filed case is found within a second, a busy index or a failing round neither kills the
thread nor makes it spin, and a forked process (a gunicorn worker) starts its own."""

from __future__ import annotations

import os
import threading
import time

import pytest
from flask import Flask

from portal.models import Role
from search import engine
from search.engine import follower as follower_module
from search.engine.follower import Follower
from tests.factories import make_user
from tests.test_knowledge import file_case
from tests.test_lifecycle import as_user

JSON = {"Accept": "application/json", "Accept-Language": "en"}


@pytest.fixture
def thread_mode(database: Flask, tmp_path):
    database.config["SEARCH_CATCH_UP"] = "thread"
    with database.app_context():
        engine.backend().clear()
    yield database
    with database.app_context():
        assert engine.wait_until_caught_up(10.0)
    database.config["SEARCH_CATCH_UP"] = "off"


def test_a_case_filed_through_http_is_found_within_a_second(client, thread_mode, world):
    citizen = make_user(thread_mode, Role.CITIZEN)
    as_user(client, citizen)
    started = time.monotonic()
    file_case(client, world, title="地下车库排风扇异响")
    numbers: list[str] = []
    while time.monotonic() - started < 5.0:  # poll: the request did not wait for the index
        response = client.get("/search", query_string={"q": "排风扇"}, headers=JSON)
        assert response.status_code == 200
        numbers = [r["number"] for r in response.get_json()["results"]]
        if numbers:
            break
        time.sleep(0.02)
    assert len(numbers) == 1
    print(f"filed to found: {time.monotonic() - started:.3f} s")  # shown with -s


def test_a_commit_in_thread_mode_does_not_catch_up_in_the_request(thread_mode, monkeypatch):
    seen: list[str] = []
    real = engine.indexer.catch_up

    def recording(backend, *args, **kw):
        seen.append(threading.current_thread().name)
        return real(backend, *args, **kw)

    monkeypatch.setattr(engine.indexer, "catch_up", recording)
    make_user(thread_mode, Role.CITIZEN)  # a client row: a change record
    with thread_mode.app_context():
        assert engine.wait_until_caught_up(10.0)
    assert seen and set(seen) == {"search-follower"}


def test_the_mode_follows_the_settings(app, monkeypatch):
    config = app.config
    monkeypatch.setitem(config, "SEARCH_CATCH_UP", None)
    assert engine.catch_up_mode(app) == "inline"  # a TESTING app reads what it wrote
    monkeypatch.setattr(app, "testing", False)
    assert engine.catch_up_mode(app) == "thread"
    monkeypatch.setitem(config, "SEARCH_CATCH_UP_AFTER_COMMIT", False)
    assert engine.catch_up_mode(app) == "off"
    monkeypatch.setitem(config, "SEARCH_CATCH_UP_AFTER_COMMIT", True)
    monkeypatch.setitem(config, "SEARCH_CATCH_UP", "sometimes")
    with pytest.raises(RuntimeError):
        engine.catch_up_mode(app)


class IndexBusy(Exception):
    """Named as the Whoosh backend's: the follower retries it."""


def scripted(app: Flask, outcomes: list) -> tuple[Follower, list[float]]:
    """A follower whose catch-up raises or returns the next of ``outcomes``."""
    calls: list[float] = []

    def catch_up() -> int:
        calls.append(time.monotonic())
        outcome = outcomes.pop(0) if outcomes else 0
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return Follower(app, catch_up), calls


def test_a_busy_index_is_retried_with_backoff_until_it_gets_through(app, monkeypatch):
    monkeypatch.setattr(follower_module, "FIRST_BACKOFF", 0.05)
    background, calls = scripted(app, [IndexBusy(), IndexBusy(), IndexBusy(), 3])
    background.wake()
    assert background.wait_idle(10.0)
    assert len(calls) == 4 and background.rounds == 1
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert gaps[0] >= 0.05 and gaps[2] >= 0.2  # doubling: no spinning on a held lock


def test_a_failing_round_is_logged_and_the_thread_lives_on(app, monkeypatch, caplog):
    monkeypatch.setattr(follower_module, "FIRST_BACKOFF", 0.01)
    boom = [RuntimeError("boom")] * follower_module.ERROR_RETRIES
    background, calls = scripted(app, [*boom, 1])
    background.wake()
    assert background.wait_idle(10.0)
    assert len(calls) == follower_module.ERROR_RETRIES and background.rounds == 0
    assert "search catch-up failed" in caplog.text
    background.wake()  # the next commit's wake gets through
    assert background.wait_idle(10.0)
    assert background.rounds == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_starts_a_follower_of_its_own(app):
    background, calls = scripted(app, [1, 1])
    background.wake()
    assert background.wait_idle(10.0)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's thread did not come along
        ok = 0
        try:
            background.wake()
            ok = int(background.wait_idle(5.0) and background.rounds == 1)
        finally:
            os.write(write, str(ok).encode())
            os._exit(0)
    os.close(write)
    answer = os.read(read, 8)
    os.waitpid(pid, 0)
    assert answer == b"1"
