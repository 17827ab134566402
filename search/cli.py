"""``flask search``: reindex, verify [--repair], catch-up [--every N]."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

from search import engine
from search.engine import registry

search_cli = AppGroup("search", help="Build and check the search index.")


def _total() -> int:
    """How many documents the sources hold (the progress bar's length)."""
    total = 0
    for source in registry.sources():
        count = getattr(source, "count", None)
        total += count() if count is not None else sum(1 for _ in source.all_ids())
    return total


@search_cli.command("reindex")
@click.option("--if-empty", is_flag=True, help="Only if there is no index yet (make run).")
@click.option("--procs", type=click.IntRange(1, 64), default=None,
              help="Processes analysing documents (default: the cores, at most 4).")
def reindex_command(if_empty: bool, procs: int | None) -> None:
    """Rebuild the index from the database (a progress bar while it runs)."""
    if procs is not None:
        current_app.config["SEARCH_REINDEX_PROCS"] = procs
    exists = getattr(engine.backend(), "exists", None)
    if if_empty and exists is not None and exists():
        click.echo("the index exists: catching up instead")
        click.echo(f"took {engine.catch_up()} changes into the index")
        return
    started = time.monotonic()
    with click.progressbar(length=max(_total(), 1), label="Indexing", show_pos=True) as bar:
        count = engine.reindex(progress=bar.update)
    click.echo(f"indexed {count} documents in {time.monotonic() - started:.1f} s "
               f"({current_app.config['SEARCH_BACKEND']})")


@search_cli.command("verify")
@click.option("--repair", is_flag=True, help="Index what is missing or stale, drop extras.")
def verify_command(repair: bool) -> None:
    """Report documents missing from the index, stale, or extra (and fix them)."""
    report = engine.verify(repair=repair)
    for kind, found in sorted(report.kinds.items()):
        click.echo(f"{kind}: {len(found.missing)} missing, {len(found.stale)} stale, "
                   f"{len(found.extra)} extra")
        for label, ids in (("missing", found.missing), ("stale", found.stale),
                           ("extra", found.extra)):
            if ids:
                shown = ", ".join(str(i) for i in ids[:20])
                click.echo(f"  {label}: {shown}{' ...' if len(ids) > 20 else ''}")
    if report.ok:
        click.echo("the index is true to the database")
    elif repair:
        click.echo("repaired")
    else:
        raise SystemExit(1)


@search_cli.command("catch-up")
@click.option("--every", type=click.FloatRange(min=0.1), default=None,
              help="Keep catching up every so many seconds (until stopped).")
def catch_up_command(every: float | None) -> None:
    """Take the change feed into the index (once, or in a loop with --every)."""
    while True:
        try:
            taken = engine.catch_up()
            if every is None or taken:
                click.echo(f"took {taken} changes into the index")
        except Exception as error:  # a loop must outlive one failed round
            if every is None:
                raise
            click.echo(f"catch-up failed: {error}", err=True)
        if every is None:
            return
        time.sleep(every)
