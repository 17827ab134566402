"""Commands of the cases room: ``flask cases sweep`` (the deadline sweep, once or as a
scheduler loop), ``flask cases hotspots`` (the hot-spot early warning once) and
``flask demo load|logins`` (demo data across the rooms)."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

from cases.sweep import sweep_deadlines
from portal.db import db
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


@cases_cli.command("hotspots")
@click.option("--window", "window_days", type=click.IntRange(1, 31), default=3,
              show_default=True, help="Days counted (today so far included).")
@click.option("--baseline", "baseline_days", type=click.IntRange(7, 366), default=28,
              show_default=True, help="Days before the window the baseline is taken from.")
def hotspots(window_days: int, baseline_days: int) -> None:
    """Raise hot-spot alerts once (the sweep does it on every pass) and tell supervisors."""
    from cases.reports.hotspot_alerts import detect_spikes

    alerts = detect_spikes(window_days=window_days, baseline_days=baseline_days)
    db.session.commit()
    deliver_due()
    for alert in alerts:
        click.echo(f"alert {alert.id}: district {alert.district_id}, category "
                   f"{alert.category_id}: {alert.count} cases {alert.window_start}.."
                   f"{alert.window_end} (baseline {alert.baseline:.1f}, needed "
                   f"{alert.threshold:.1f})")
    click.echo(f"hot-spot alerts: {len(alerts)} new")


@click.group("demo", cls=AppGroup, help="Demo data.")
def demo_cli() -> None:
    pass


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True,
              help="Do nothing (and succeed) when the database has users.")
@click.option("--cases", "case_count", default=240, show_default=True)
@click.option("--seed", default=2026, show_default=True)
def load_demo(if_empty: bool, case_count: int, seed: int) -> None:
    """Load a demo city into an empty database: departments and their staff, the
    catalogue, routing rules, reply templates, clients and a few weeks of requests."""
    from cases.demo import database_is_empty, load_demo_data

    if not database_is_empty():
        message = "The database already has data; demo data not loaded."
        if not if_empty:
            raise click.ClickException(message)
        click.echo(message)
    else:
        started = time.monotonic()
        load_demo_data(case_count=case_count, seed=seed)
        db.session.commit()
        click.echo(
            f"Demo data loaded ({case_count} requests) in {time.monotonic() - started:.1f} s; "
            "`flask cases sweep` marks the overdue ones (`make run` runs it)."
        )
    print_demo_logins()


@demo_cli.command("logins")
def demo_logins() -> None:
    """Print the demo logins."""
    print_demo_logins()


def print_demo_logins() -> None:
    from cases.demo import DEMO_PASSWORD, DEMO_USERS, staff_specs

    click.echo("Demo logins (role: username / password):")
    for spec in DEMO_USERS:
        click.echo(f"  {spec.role.value}: {spec.username} / {DEMO_PASSWORD}")
    click.echo(f"Staff of the other departments and intake (password {DEMO_PASSWORD}):")
    for spec in staff_specs():
        click.echo(f"  {spec.role.value}: {spec.username} ({spec.department or 'intake'})")
