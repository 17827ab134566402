"""``flask cases import FILE [--create-categories]``, ``flask cases import-categories FILE``
and ``flask cases import-pending`` (imports a dead process left behind)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from cases.cli import cases_cli
from cases.imports.models import CaseImport
from cases.imports.runner import RUNNING, pick_up_pending, run_import
from portal.db import db, utcnow


def _run(path: Path, kind: str, create_categories: bool) -> None:
    started = time.monotonic()
    imp = CaseImport(kind=kind, file_name=path.name, status=RUNNING,
                     create_categories=create_categories, started_at=utcnow())
    db.session.add(imp)
    db.session.commit()
    run_import(imp, path.read_bytes())
    seconds = time.monotonic() - started
    click.echo(f"import {imp.id} ({kind}, {path.name}): {imp.status}; rows {imp.total_rows}, "
               f"created {imp.created_rows}, skipped {imp.skipped_rows}, errors "
               f"{imp.error_count} in {seconds:.1f} s")
    if imp.status != "done":
        for error in imp.errors or []:
            click.echo(f"  line {error['line']}: {error['reason']}", err=True)
        raise click.ClickException("nothing was imported")


@cases_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--create-categories", is_flag=True,
              help="Make the categories of paths the catalogue lacks.")
def import_cases(file: Path, create_categories: bool) -> None:
    """Import cases (and their clients) from a CSV or .xlsx file (see docs/IMPORTS.md)."""
    _run(file, "cases", create_categories)


@cases_cli.command("import-categories")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_categories(file: Path) -> None:
    """Import a category tree (columns category, department, keywords, name_en)."""
    _run(file, "categories", False)


@cases_cli.command("import-pending")
@click.option("--stalled-minutes", type=click.IntRange(min=1), default=60, show_default=True,
              help="Run again an import left running this long (its process died).")
def import_pending(stalled_minutes: int) -> None:
    """Run uploaded imports that no process has finished."""
    from datetime import timedelta

    ran = pick_up_pending(timedelta(0), timedelta(minutes=stalled_minutes))
    click.echo(f"imports run: {len(ran)}")
