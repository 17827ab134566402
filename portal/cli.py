"""``flask --app wsgi ...`` commands: users and demo data (migrations: ``flask db``)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from portal.db import db
from portal.errors import DomainError
from portal.models import Department, Role


def register_commands(app: Flask) -> None:
    from cases.cli import cases_cli
    from portal.changes import changes_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(cases_cli)
    app.cli.add_command(changes_cli)


@click.group("users", cls=AppGroup, help="Manage accounts.")
def users_cli() -> None:
    pass


@users_cli.command("create")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role if r.is_staff]),
    required=True,
    help="Staff role.",
)
@click.option("--department", "department_code", help="Department code (handlers and heads).")
@click.option("--name", "display_name", help="Display name (defaults to the username).")
@click.option("--email", default=None)
@click.password_option(help="Password (asked for when not given).")
def create_user(
    username: str,
    role: str,
    department_code: str | None,
    display_name: str | None,
    email: str | None,
    password: str,
) -> None:
    """Create a staff account."""
    from portal.auth.services import create_staff_user

    department = None
    if department_code:
        department = db.session.scalar(select(Department).where(Department.code == department_code))
        if department is None:
            raise click.ClickException(f"no department with code {department_code!r}")
    try:
        user = create_staff_user(
            username=username,
            password=password,
            role=Role(role),
            display_name=display_name or username,
            department=department,
            email=email,
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"created {user.role.value} {user.username}")


@click.group("demo", cls=AppGroup, help="Demo data.")
def demo_cli() -> None:
    pass


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has users.")
@click.option("--cases", "case_count", default=300, show_default=True)
@click.option("--seed", default=2026, show_default=True)
def load_demo(if_empty: bool, case_count: int, seed: int) -> None:
    """Load departments, categories, districts, demo staff and requests."""
    from portal.demo import database_is_empty, load_demo_data

    if if_empty and not database_is_empty():
        click.echo("The database already has data; demo data not loaded.")
    else:
        load_demo_data(case_count=case_count, seed=seed)
        db.session.commit()
        click.echo(f"Demo data loaded ({case_count} requests).")
    print_demo_logins()


@demo_cli.command("logins")
def demo_logins() -> None:
    """Print the demo logins."""
    print_demo_logins()


def print_demo_logins() -> None:
    from portal.demo import DEMO_PASSWORD, DEMO_USERS

    click.echo("Demo logins (role: username / password):")
    for spec in DEMO_USERS:
        click.echo(f"  {spec.role.value}: {spec.username} / {DEMO_PASSWORD}")
