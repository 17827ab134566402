"""``flask api-key create NAME [--scope post] [--rate-limit 60]``: issue an Open311 key.

The command is its own transaction boundary: it commits what the service flushed and
prints the secret, once (only its keyed hash is stored).
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from cases.open311.keys import SCOPES, issue_key
from portal.db import db
from portal.errors import DomainError

api_key_cli = AppGroup("api-key", help="Open311 API keys.")


@api_key_cli.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES), default=("post",),
              show_default=True, help="What the key may do (repeat for several).")
@click.option("--rate-limit", type=click.IntRange(1, 100000), default=60, show_default=True,
              help="Calls a minute.")
def create(name: str, scopes: tuple[str, ...], rate_limit: int) -> None:
    """Issue a key named NAME and print it (shown this once)."""
    try:
        issued = issue_key(name, list(scopes), rate_limit)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(issued.secret)
    click.echo(f"# key {issued.key.id} ({issued.key.prefix}…), scopes: {issued.key.scopes}, "
               f"{issued.key.rate_limit} calls a minute", err=True)
