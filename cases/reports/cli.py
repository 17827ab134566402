"""``flask reports``: jobs of the officials' desk (``rebuild-totals``, ``refresh-stats``)."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from cases.reports.flows import rebuild_flows
from cases.reports.rating_months import rebuild_rating_months
from cases.reports.totals import rebuild_totals
from portal.db import db

reports_cli = AppGroup("reports", help="The officials' reports.")


@reports_cli.command("rebuild-totals")
def rebuild_totals_command() -> None:
    """Recompute the daily totals of filings (one GROUP BY), the daily flows the workload
    sums, the kept durations and their histograms (one read of the cases and timelines),
    and the monthly counts of ratings 三率 sums (one read of the ratings)."""
    started = time.monotonic()
    rows = rebuild_totals()
    flow_rows = rebuild_flows()
    rating_rows = rebuild_rating_months(db.session.connection())
    db.session.commit()
    click.echo(f"{rows} daily totals, {flow_rows} daily flows and {rating_rows} monthly "
               f"rating counts rebuilt in {time.monotonic() - started:.1f} s.")


@reports_cli.command("refresh-stats")
def refresh_stats_command() -> None:
    """Compute the public statistics page's figures now and store them (``/stats`` serves
    the stored ones; the sweep refreshes them on its own)."""
    from cases.reports.stats_store import refresh_public_stats

    started = time.monotonic()
    refresh_public_stats(older_than=0)
    click.echo(f"The public statistics were computed in {time.monotonic() - started:.1f} s.")
