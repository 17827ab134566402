"""``flask --app wsgi ...`` commands of the core: users and the change feed.

Migrations are ``flask db``; each room registers its own commands (``flask cases``,
``flask demo``) from its ``init_app``.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from portal.db import db
from portal.errors import DomainError
from portal.models import Department, Role


def register_commands(app: Flask) -> None:
    from portal.changes import changes_cli

    app.cli.add_command(users_cli)
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
