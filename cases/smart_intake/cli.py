"""``flask intake``: train the suggestion model, list its versions, activate one.

    flask --app wsgi intake train                 # last line: top-1 0.912 top-3 0.981
    flask --app wsgi intake train --if-missing    # only when no version exists yet
    flask --app wsgi intake versions
    flask --app wsgi intake activate 3            # roll back (or forward) to version 3
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.db import db

intake_cli = AppGroup("intake", help="Smart intake: train and inspect the suggestion model.")


def _figures(evaluation) -> str:
    return f"top-1 {evaluation.top1:.3f} top-3 {evaluation.top3:.3f}"


@intake_cli.command("train")
@click.option("--if-missing", is_flag=True,
              help="Train only when no model version exists yet (and enough cases are closed).")
@click.option("--min-cases", type=int, default=None,
              help="Closed cases needed to train (default 30).")
def train_command(if_missing: bool, min_cases: int | None) -> None:
    """Learn from the closed cases; print the held-out figures (model and baseline)."""
    from sqlalchemy import func, select

    from cases.smart_intake.models import IntakeModelVersion
    from cases.smart_intake.store import MIN_CASES, IntakeTrainingRefused, train_version

    if if_missing and db.session.scalar(select(func.count(IntakeModelVersion.id))):
        click.echo("smart intake: a model version exists; nothing to train.")
        return
    try:
        outcome = train_version(min_cases=MIN_CASES if min_cases is None else min_cases,
                                progress=lambda line: click.echo(f"smart intake: {line}"))
    except IntakeTrainingRefused as refused:
        db.session.rollback()
        if if_missing:  # `make run` goes on: suggestions use the catalogue's words
            click.echo(f"smart intake: not trained. {refused.message}")
            return
        raise click.ClickException(refused.message) from None
    db.session.commit()
    row = outcome.row
    click.echo(f"trained on {row.trained_cases} older cases, tested on the newest "
               f"{row.tested_cases}")
    for name, (model, baseline) in outcome.levels.items():
        label = "categories" if name == "leaf" else f"level {name}"
        click.echo(f"  {label:12} model {_figures(model)} | baseline {_figures(baseline)}")
    state = "active" if outcome.activated else "not active (the active one did better)"
    click.echo(f"version {row.version} stored ({row.file_name}), {state}")
    click.echo(f"top-1 {row.top1:.3f} top-3 {row.top3:.3f}")


@intake_cli.command("versions")
def versions_command() -> None:
    """Every stored version, newest first."""
    from sqlalchemy import select

    from cases.smart_intake.models import IntakeModelVersion

    rows = db.session.scalars(
        select(IntakeModelVersion).order_by(IntakeModelVersion.version.desc())).all()
    if not rows:
        click.echo("No model version yet: suggestions use the catalogue's words.")
    for row in rows:
        mark = "*" if row.is_active else " "
        click.echo(f"{mark} v{row.version:<4} {row.created_at:%Y-%m-%d %H:%M}  "
                   f"trained {row.trained_cases:>6} tested {row.tested_cases:>5}  "
                   f"top-1 {row.top1 or 0:.3f} top-3 {row.top3 or 0:.3f}  "
                   f"(baseline {row.baseline_top1 or 0:.3f} / {row.baseline_top3 or 0:.3f})")


@intake_cli.command("activate")
@click.argument("version", type=int)
def activate_command(version: int) -> None:
    """Make VERSION the one suggestions use."""
    from cases.smart_intake.store import IntakeTrainingRefused, activate

    try:
        activate(version)
    except IntakeTrainingRefused as refused:
        raise click.ClickException(refused.message) from None
    db.session.commit()
    click.echo(f"version {version} is active")
