"""Rate limits are counted in shared storage (the database, or Redis), not per worker."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from limits import RateLimitItemPerMinute

from portal import create_app
from portal.db import db
from portal.extensions import limiter
from portal.ratelimit import DatabaseStorage

REDIS_URL = "redis://127.0.0.1:6379/14"
LIMIT = RateLimitItemPerMinute(10)
WORKERS, HITS = 3, 8  # 24 hits against a limit of 10


def worker_config(database, storage_uri: str) -> dict:
    keys = ("TESTING", "INSTANCE_PATH", "DATABASE_URL", "SECRET_KEY", "LOG_LEVEL")
    return {**{key: database.config[key] for key in keys}, "RATELIMIT_STORAGE_URI": storage_uri}


def hit_as_a_worker(config: dict, key: str, start, results) -> None:
    """One worker process: its own app, engine and limiter; hits as soon as all are ready."""
    app = create_app(config)
    with app.app_context():
        start.wait(timeout=60)
        allowed = sum(limiter.limiter.hit(LIMIT, key) for _ in range(HITS))
        db.engine.dispose()
    results.put(allowed)


def hits_allowed_across_processes(config: dict, key: str) -> int:
    # Forked, not spawned: the children start in milliseconds, and each builds its own
    # app and engine (nothing of the parent's connections is used).
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(WORKERS), context.Queue()
    workers = [
        context.Process(target=hit_as_a_worker, args=(config, key, start, results))
        for _ in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    allowed = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    return sum(allowed)


def test_the_default_storage_is_the_database(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_REDIS_URL", raising=False)
    monkeypatch.delenv("PORTAL_RATELIMIT_STORAGE_URI", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["RATELIMIT_STORAGE_URI"] == "db://"
    assert isinstance(limiter.storage, DatabaseStorage)


def test_database_counters_are_shared_by_worker_processes(database):
    key = f"test-{uuid.uuid4().hex}"
    assert hits_allowed_across_processes(worker_config(database, "db://"), key) == 10
    with database.app_context():
        assert DatabaseStorage().get(LIMIT.key_for(key)) == WORKERS * HITS


def test_redis_counters_are_shared_by_worker_processes(database):
    from redis import Redis
    from redis.exceptions import RedisError

    connection = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except RedisError:
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    key = f"test-{uuid.uuid4().hex}"
    try:
        assert hits_allowed_across_processes(worker_config(database, REDIS_URL), key) == 10
    finally:
        connection.delete(LIMIT.key_for(key))
        connection.close()


def test_a_database_counter_counts_in_fixed_windows(database):
    with database.app_context():
        storage = DatabaseStorage()
        assert storage.check()
        assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
        assert storage.incr("k", 60, amount=2) == 5 and storage.get("k") == 5
        assert storage.get("other") == 0
        assert time.time() + 55 < storage.get_expiry("k") <= time.time() + 60
        with time_machine.travel(datetime.now(UTC) + timedelta(seconds=61), tick=False):
            assert storage.get("k") == 0
            assert storage.incr("k", 60) == 1  # a new window
        storage.clear("k")
        assert storage.get("k") == 0
        storage.incr("a", 60)
        storage.incr("b", 60)
        assert storage.reset() == 2 and storage.get("a") == 0
