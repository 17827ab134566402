"""Rate-limit counters in the portal's database: shared by every worker without Redis.

Flask-Limiter keeps its counters in the storage ``RATELIMIT_STORAGE_URI`` names. The
``memory://`` storage counts per process, so two gunicorn workers would each let the full
limit through. ``db://`` (the default) keeps fixed-window counters in the table
``rate_limit_counters`` of the current application's database; Redis
(``PORTAL_REDIS_URL``) is used instead when it is configured.

Every operation runs in its own short transaction on the application's engine, never in
the request's ``db.session``: a counter must count even when the request rolls back, and
must not wait for the request's commit. Incrementing is one atomic
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (SQLite ≥ 3.35, PostgreSQL), so concurrent
processes never lose a hit.
"""

from __future__ import annotations

import random
import time

from limits.storage import Storage
from sqlalchemy import Float, Integer, String, bindparam, delete, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from portal.db import db
from portal.models import RateLimitCounter

COUNTERS = RateLimitCounter.__table__
# One atomic upsert, the same SQL on SQLite (>= 3.35) and PostgreSQL. Written out, not
# built with the dialects' ``insert().on_conflict_do_update()``: those carry no cache key,
# so every limited request compiled the statement again (~0.5 ms of CPU a hit).
INCREMENT = text(
    'INSERT INTO rate_limit_counters ("key", count, expires_at)'
    " VALUES (:key, :amount, :expires)"
    ' ON CONFLICT ("key") DO UPDATE SET'
    " count = CASE WHEN rate_limit_counters.expires_at <= :now THEN :amount"
    " ELSE rate_limit_counters.count + :amount END,"
    " expires_at = CASE WHEN rate_limit_counters.expires_at <= :now THEN :expires"
    " ELSE rate_limit_counters.expires_at END"
    " RETURNING count"
).bindparams(
    bindparam("key", type_=String), bindparam("amount", type_=Integer),
    bindparam("now", type_=Float), bindparam("expires", type_=Float),
).columns(count=Integer)
# Expired counters are deleted by one increment in so many (a scan of a small table).
PRUNE_CHANCE = 0.01


class DatabaseStorage(Storage):
    """A ``limits`` storage over ``rate_limit_counters`` (fixed-window strategy)."""

    STORAGE_SCHEME = ["db"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    @staticmethod
    def _engine() -> Engine:
        # The engine of the application handling this request or command: one limiter
        # object serves every app the factory builds (tests build several).
        return db.engine

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add ``amount`` to ``key``'s counter; a new or expired window starts now."""
        now = time.time()
        with self._engine().begin() as conn:
            count = conn.execute(INCREMENT, {"key": key, "amount": amount, "now": now,
                                             "expires": now + expiry}).scalar_one()
            if random.random() < PRUNE_CHANCE:  # noqa: S311 (not security-relevant)
                conn.execute(delete(COUNTERS).where(COUNTERS.c.expires_at <= now))
        return count

    def get(self, key: str) -> int:
        stmt = select(COUNTERS.c.count).where(
            COUNTERS.c.key == key, COUNTERS.c.expires_at > time.time()
        )
        with self._engine().connect() as conn:
            return conn.execute(stmt).scalar() or 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        stmt = select(COUNTERS.c.expires_at).where(
            COUNTERS.c.key == key, COUNTERS.c.expires_at > now
        )
        with self._engine().connect() as conn:
            return conn.execute(stmt).scalar() or now

    def check(self) -> bool:
        try:
            with self._engine().connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._engine().begin() as conn:
            return conn.execute(delete(COUNTERS)).rowcount

    def clear(self, key: str) -> None:
        with self._engine().begin() as conn:
            conn.execute(delete(COUNTERS).where(COUNTERS.c.key == key))
