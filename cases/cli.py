"""``flask cases ...``: the deadline sweep, once or as a scheduler loop."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

from cases.sweep import sweep_deadlines
from portal.notifications.delivery import deliver_due

cases_cli = AppGroup("cases", help="Case engine jobs.")


@cases_cli.command("sweep")
@click.option("--every", type=int, default=0,
              help="Repeat every N seconds (a scheduler process); 0 runs once.")
def sweep(every: int) -> None:
    """Mark due-soon and overdue cases and escalate those that need it."""
    while True:
        with current_app.app_context():  # a fresh context: calendar and session per pass
            result = sweep_deadlines()
            deliver_due()  # notifications due: retries, and any the commit hooks missed
        click.echo(result.summary())
        if not every:
            return
        time.sleep(every)
