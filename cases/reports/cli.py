"""``flask reports``: jobs of the officials' desk (``rebuild-totals``)."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from cases.reports.totals import rebuild_totals
from portal.db import db

reports_cli = AppGroup("reports", help="The officials' reports.")


@reports_cli.command("rebuild-totals")
def rebuild_totals_command() -> None:
    """Recompute the daily totals of filings from the cases (one GROUP BY)."""
    started = time.monotonic()
    rows = rebuild_totals()
    db.session.commit()
    click.echo(f"{rows} daily totals rebuilt in {time.monotonic() - started:.1f} s.")
