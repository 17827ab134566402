"""``flask notifications ...``: deliver due messages once, or run the RQ worker."""

from __future__ import annotations

import click
from flask import current_app

from portal.db import db
from portal.notifications import bp
from portal.notifications.delivery import QUEUE_NAME, deliver_due, redis_connection


@bp.cli.command("deliver")
@click.option("--limit", default=100, show_default=True, help="At most this many messages.")
def deliver(limit: int) -> None:
    """Send every outbox message that is due (first tries and retries), once."""
    click.echo(deliver_due(limit=limit).summary())


@bp.cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst: bool) -> None:
    """Run an RQ worker for the queue "notifications" (needs REDIS_URL)."""
    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: messages are delivered inline.")
    from rq import Queue, Worker

    connection = redis_connection()
    db.engine.dispose()  # each forked job opens its own database connections
    rq_worker = Worker([Queue(QUEUE_NAME, connection=connection)], connection=connection)
    rq_worker.work(burst=burst)
