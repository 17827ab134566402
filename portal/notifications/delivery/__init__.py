"""Delivering the outbox: after the commit, exactly once, retried with backoff.

How a message travels:

1. A service adds an ``OutboxMessage`` to the caller's transaction. A listener on
   ``db.session`` notes its id when it is flushed and asks ``portal.aftercommit`` to
   keep it once the transaction commits; a rollback drops it: nothing is said about
   a change that did not happen.
2. After the commit, ``dispatch_committed`` (run by an ``after_request`` hook and when
   an app context ends, e.g. a CLI command) hands the ids on: with ``REDIS_URL`` it
   enqueues one RQ job per id on the queue ``notifications``; otherwise it delivers
   them inline (``NOTIFY_INLINE``, the default), in a session of its own. A failure
   there is logged, never raised: the request has already succeeded.
3. ``deliver_message`` claims the row with a conditional UPDATE (pending and due →
   sending), commits the claim, sends, then marks it sent. A failure puts it back to
   pending with exponential backoff, or ``failed`` after ``NOTIFY_MAX_ATTEMPTS``. A
   ``sending`` claim older than ``NOTIFY_LEASE_SECONDS`` (a worker died) is taken over.
4. ``deliver_due`` sends everything due: retries, and anything the inline or RQ path
   missed. ``flask cases sweep --every`` runs it on each pass; ``flask notifications
   deliver`` runs it once.

How a message goes out on each channel: ``portal.notifications.delivery.channels``.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import and_, event, or_, select, update
from sqlalchemy.orm import Session

from portal.aftercommit import after_commit
from portal.db import db, utcnow
from portal.notifications import bp
from portal.notifications.delivery.channels import PermanentDeliveryError, send
from portal.notifications.models import OutboxMessage, OutboxStatus

if TYPE_CHECKING:
    from redis import Redis

log = logging.getLogger(__name__)

QUEUE_NAME = "notifications"
_COMMITTED = "notifications.committed"  # session.info: outbox ids committed, to hand on


# --- claiming, sending, marking -------------------------------------------------------


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"  # failed this time; pending again with a later next_attempt_at
    FAILED = "failed"  # gave up
    SKIPPED = "skipped"  # not due, or someone else has it


@dataclass
class DeliveryCounts:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    skipped: int = 0

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)

    def summary(self) -> str:
        return (
            f"sent: {self.sent}, retry later: {self.retry}, failed: {self.failed}, "
            f"skipped: {self.skipped}"
        )


def _claimable(now: datetime):
    """Rows a worker may claim at ``now``: pending and due, or a claim past its lease."""
    lease = timedelta(seconds=current_app.config["NOTIFY_LEASE_SECONDS"])
    return or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now),
        and_(
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_at < now - lease,
        ),
    )


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: 1, 2, 4 … minutes, capped."""
    base = current_app.config["NOTIFY_RETRY_BASE_SECONDS"]
    cap = current_app.config["NOTIFY_RETRY_MAX_SECONDS"]
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def deliver_message(message_id: int, now: datetime | None = None) -> Outcome:
    """Claim, send and mark one outbox message; ``SKIPPED`` if it is not ours to send.

    Works in a session of its own (never the caller's unit of work) and commits the
    claim before sending, so of several workers exactly one sends.
    """
    claimed_at = now or utcnow()
    with Session(db.engine, expire_on_commit=False) as session:
        claimed = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, _claimable(claimed_at))
            .values(status=OutboxStatus.SENDING, claimed_at=claimed_at)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            session.rollback()
            return Outcome.SKIPPED
        message = session.get(OutboxMessage, message_id)
        session.commit()
        assert message is not None

        ours = and_(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_at == claimed_at,
        )
        try:
            send(message)
        except Exception as error:  # any failure of a gateway is a failed try
            outcome, values = _failure(message, error, now or utcnow())
        else:
            outcome = Outcome.SENT
            values = {"status": OutboxStatus.SENT, "sent_at": now or utcnow(), "sealed_body": None}
        marked = session.execute(
            update(OutboxMessage).where(ours).values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
    if not marked:
        log.warning("outbox %s: claim expired while sending (%s)", message_id, outcome)
    if outcome == Outcome.SENT:
        log.info("outbox %s: %s sent (%s)", message_id, message.channel, message.event)
    return outcome


def _failure(message: OutboxMessage, error: Exception, now: datetime) -> tuple[Outcome, dict]:
    attempts = message.attempts + 1
    text = f"{type(error).__name__}: {error}"[:1000]
    permanent = isinstance(error, PermanentDeliveryError)
    if permanent or attempts >= current_app.config["NOTIFY_MAX_ATTEMPTS"]:
        log.error("outbox %s: %s failed for good after %d attempts: %s",
                  message.id, message.channel, attempts, text)
        return Outcome.FAILED, {
            "status": OutboxStatus.FAILED, "attempts": attempts, "last_error": text,
            "claimed_at": None, "sealed_body": None,
        }
    delay = retry_delay(attempts)
    log.warning("outbox %s: %s attempt %d failed (%s); next try in %s",
                message.id, message.channel, attempts, text, delay)
    return Outcome.RETRY, {
        "status": OutboxStatus.PENDING, "attempts": attempts, "last_error": text,
        "claimed_at": None, "next_attempt_at": now + delay,
    }


def deliver_ids(ids: Iterable[int], now: datetime | None = None) -> DeliveryCounts:
    counts = DeliveryCounts()
    for message_id in ids:
        counts.add(deliver_message(message_id, now))
    return counts


def deliver_due(now: datetime | None = None, limit: int = 100) -> DeliveryCounts:
    """Deliver every message due at ``now`` (at most ``limit``): first tries and retries.

    Safe to run from several processes at once: each message is claimed by one.
    """
    moment = now or utcnow()
    with Session(db.engine) as session:
        ids = session.scalars(
            select(OutboxMessage.id)
            .where(_claimable(moment))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        ).all()
    counts = deliver_ids(ids, now)
    if ids:
        log.info("notifications: %s", counts.summary())
    return counts


# --- after the commit: inline or through RQ -----------------------------------------


def _note_flushed(session: Session, flush_context: Any) -> None:
    ids = [obj.id for obj in session.new if isinstance(obj, OutboxMessage)]
    if ids:  # kept once the transaction commits; a rollback drops them with their rows
        after_commit(lambda: session.info.setdefault(_COMMITTED, []).extend(ids), session)


if not event.contains(db.session, "after_flush", _note_flushed):
    event.listen(db.session, "after_flush", _note_flushed)


def committed_ids() -> list[int]:
    """Take the ids of outbox rows committed by this app context's session so far."""
    if not db.session.registry.has():
        return []
    return db.session.info.pop(_COMMITTED, None) or []


def dispatch_committed() -> None:
    """Hand the just-committed messages on: enqueue (``REDIS_URL``) or deliver inline.

    Never raises: the change is committed; a message that is not handed on now is
    pending and due, and ``deliver_due`` sends it on the next pass.
    """
    ids = committed_ids()
    if ids:
        hand_on(ids)


def hand_on(ids: list[int]) -> None:
    """Enqueue (``REDIS_URL``) or deliver inline (``NOTIFY_INLINE``); never raises."""
    try:
        if current_app.config.get("REDIS_URL"):
            enqueue(ids)
        elif current_app.config.get("NOTIFY_INLINE", True):
            deliver_ids(ids)
    except Exception:
        log.exception("notifications: could not hand on outbox %s; deliver_due will", ids)


@bp.after_app_request
def _dispatch_after_request(response: Any) -> Any:
    """A request's messages go out once its response has been sent: the person waits
    for what they asked, not for the mail server (the rows are committed already, so a
    worker that dies first leaves them pending for ``deliver_due``)."""
    ids = committed_ids()
    if ids:
        app = current_app._get_current_object()  # type: ignore[attr-defined]

        def deliver_after_response() -> None:
            with app.app_context():
                hand_on(ids)

        response.call_on_close(deliver_after_response)
    return response


@bp.record_once
def _install_teardown(state: Any) -> None:
    # Commits outside a request (CLI commands, jobs, tests) are handed on when their
    # app context ends; registered after Flask-SQLAlchemy's, so it runs before the
    # session is removed.
    state.app.teardown_appcontext(lambda error: dispatch_committed())


# --- RQ -------------------------------------------------------------------------------


def redis_connection() -> Redis:
    """The Redis connection of this app (``REDIS_URL``), made once."""
    from redis import Redis

    url = current_app.config["REDIS_URL"]
    cached = current_app.extensions.get("notifications.redis")
    if cached is None or cached[0] != url:
        connection = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
        cached = (url, connection)
        current_app.extensions["notifications.redis"] = cached
    return cached[1]


def enqueue(ids: Iterable[int]) -> None:
    """One RQ job per message on the ``notifications`` queue."""
    from rq import Queue

    queue = Queue(QUEUE_NAME, connection=redis_connection())
    for message_id in ids:
        queue.enqueue(deliver_job, message_id, description=f"outbox {message_id}")


_job_app: Flask | None = None


def deliver_job(message_id: int) -> str:
    """The RQ job: deliver one message (in the worker's app context, or a new app's)."""
    global _job_app
    if has_app_context():
        return deliver_message(message_id).value
    if _job_app is None:
        from portal import create_app

        _job_app = create_app()
    with _job_app.app_context():
        return deliver_message(message_id).value
