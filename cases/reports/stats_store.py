"""The public statistics page's snapshot: ``/stats`` serves the figures last stored in
``report_public_stats`` and never computes them in a visitor's request.

The sweep (``flask cases sweep``) stores them again once they are older than half of
``REPORTS_STATS_CACHE_SECONDS`` (600 by default); a request that finds them older than the
whole interval serves them as they are and starts one refresh in a background thread
(``REPORTS_STATS_REFRESH``: "thread", or "off"). Refreshing is claimed with a conditional
``UPDATE`` of ``claimed_at``, so of several processes one computes and the others go on
serving the stored figures. Only before the very first computation (a new portal whose
sweep has not run yet) does a request compute them itself. ``flask reports refresh-stats``
stores them on demand (after a deploy). Each process keeps the parsed figures while the
stored ETag is unchanged: a request costs one primary-key read (docs/REPORTS.md, "The
public statistics page").
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cases.reports.models import PublicStatsSnapshot
from cases.reports.stats import compute_public_stats
from portal.db import db, utcnow

log = logging.getLogger(__name__)

DEFAULT_CACHE_SECONDS = 600
CLAIM_SECONDS = 900  # a refresh claimed longer ago than this died with its process
SNAPSHOT = 1  # the one row
HELD = "reports_public_stats"  # the parsed figures in ``app.extensions``
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)  # "stale": refreshed at the next chance
SNAP = PublicStatsSnapshot.__table__

_refreshing = threading.Lock()  # one background refresh per process at a time
_threads: list[threading.Thread] = []


@dataclass(frozen=True)
class PublicStats:
    """The stored figures (JSON-able ``data``), their tag for HTTP revalidation and when
    they were computed."""

    data: dict[str, Any]
    etag: str
    computed_at: datetime


def cache_seconds(app: Flask | None = None) -> int:
    return int((app or current_app).config.get("REPORTS_STATS_CACHE_SECONDS",
                                               DEFAULT_CACHE_SECONDS))


def store_public_stats() -> PublicStats:
    """Compute the figures now and store them as the snapshot (one upsert; flushes, the
    caller commits)."""
    data = compute_public_stats()
    text = json.dumps(data, sort_keys=True, ensure_ascii=False)
    etag = hashlib.sha256(text.encode()).hexdigest()[:32]
    now = utcnow()
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(SNAP).values(id=SNAPSHOT, computed_at=now, etag=etag, data=text,
                               claimed_at=None)
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=[SNAP.c.id],
        set_={"computed_at": now, "etag": etag, "data": text, "claimed_at": None}))
    return PublicStats(json.loads(text), etag, now)


def _claim(now: datetime) -> bool:
    """Take the refresh (one process wins: a conditional ``UPDATE``); commits the claim."""
    taken = db.session.execute(
        update(SNAP).where(SNAP.c.id == SNAPSHOT, or_(
            SNAP.c.claimed_at.is_(None),
            SNAP.c.claimed_at < now - timedelta(seconds=CLAIM_SECONDS)))
        .values(claimed_at=now)
    ).rowcount == 1
    db.session.commit()
    return taken


def refresh_public_stats(older_than: float | None = None) -> bool:
    """Store the figures again if missing or computed more than ``older_than`` seconds ago
    (None: half the interval, the sweep's rule; 0: now) and no other process is at it.
    Commits; True if this call stored them."""
    now = utcnow()
    seconds = cache_seconds() / 2 if older_than is None else older_than
    computed = db.session.scalar(select(SNAP.c.computed_at).where(SNAP.c.id == SNAPSHOT))
    if computed is not None and computed > now - timedelta(seconds=seconds):
        db.session.rollback()
        return False
    if computed is not None and not _claim(now):
        return False
    try:
        store_public_stats()
        db.session.commit()
    except Exception:
        db.session.rollback()
        db.session.execute(update(SNAP).where(SNAP.c.id == SNAPSHOT).values(claimed_at=None))
        db.session.commit()
        raise
    return True


def sweep_public_stats() -> bool:
    """The sweep's part: refresh when due; a failure is logged, never stops the sweep."""
    try:
        return refresh_public_stats()
    except Exception:
        log.exception("the public statistics could not be refreshed")
        return False


def public_stats() -> PublicStats:
    """The stored figures (parsed once per stored version and process). Stale ones are
    served while one background refresh stores new ones."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    row = db.session.execute(select(SNAP.c.computed_at, SNAP.c.etag)
                             .where(SNAP.c.id == SNAPSHOT)).first()
    if row is None:  # never computed: a new portal before its first sweep
        held = store_public_stats()
        app.extensions[HELD] = held
        return held
    held = app.extensions.get(HELD)
    if held is None or held.etag != row.etag:
        text = db.session.scalar(select(SNAP.c.data).where(SNAP.c.id == SNAPSHOT))
        held = PublicStats(json.loads(text), row.etag, row.computed_at)
        app.extensions[HELD] = held
    if row.computed_at <= utcnow() - timedelta(seconds=cache_seconds(app)):
        start_refresh(app)
    return held


def start_refresh(app: Flask) -> None:
    """Refresh the stored figures in a thread of this process (unless one is running)."""
    if app.config.get("REPORTS_STATS_REFRESH", "thread") == "off":
        return
    if not _refreshing.acquire(blocking=False):
        return
    try:
        thread = threading.Thread(target=_refresh_in_context, args=(app,),
                                  name="public-stats", daemon=True)
        _threads.append(thread)
        thread.start()
    except Exception:
        _refreshing.release()
        raise


def _refresh_in_context(app: Flask) -> None:
    try:
        with app.app_context():
            try:
                refresh_public_stats(older_than=cache_seconds(app))
            except Exception:
                log.exception("the public statistics could not be refreshed")
            finally:
                db.session.remove()
    finally:
        _refreshing.release()


def wait_for_refresh(timeout: float = 60.0) -> None:
    """Wait for this process's background refreshes (tests, the bench)."""
    while _threads:
        _threads.pop().join(timeout)


def mark_public_stats_stale() -> None:
    """The stored figures no longer hold (the counting rules changed): the next reader or
    sweep refreshes them. Flushes."""
    db.session.execute(update(SNAP).where(SNAP.c.id == SNAPSHOT).values(computed_at=LONG_AGO))


def forget_public_stats(app: Flask) -> None:
    """Drop the stored figures and this process's copy (tests, the bench)."""
    app.extensions.pop(HELD, None)
    with app.app_context():
        db.session.execute(delete(SNAP))
        db.session.commit()
