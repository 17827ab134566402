"""The change feed: which searchable or reportable rows changed, written with the change.

Every transaction that inserts, updates or deletes a tracked row writes a
``change_records`` row (entity, id, op) in the same transaction, so it is there exactly
when the change is. Two paths write it:

- automatically, for ORM changes: a flush listener on every session looks at the rows
  flushed and records those of the tables in ``TRACKED``;
- explicitly, for statements that bypass the unit of work (bulk or conditional
  ``UPDATE``/``DELETE`` with ``synchronize_session=False``): the service calls
  ``record_change`` / ``record_changes`` / ``record_rows`` next to its statement.

One row per (entity, id) per transaction is written (a later delete is recorded too).
Readers (the search index, reports) call ``changes_since(last_id)`` and keep the last id
they handled. Ids are handed out at insert time, so a transaction that commits late can
add a row below a reader's mark: a reader that must miss nothing re-reads a short window
behind its mark (applying a change twice is harmless: it re-reads the entity).

Retention: the rows are only a feed, not an audit trail. ``prune_changes`` (``flask
changes prune --older-than DAYS``) deletes old ones once every reader is past them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import delete, event, insert, inspect, select
from sqlalchemy.orm import Session

from portal.aftercommit import after_rollback
from portal.db import db, utcnow
from portal.models import ChangeRecord

INSERT = "insert"
UPDATE = "update"
DELETE = "delete"

# The one list of what the feed follows: table -> (entity, column holding its id).
# A row that is part of another entity (a timeline event, a tag) records that entity.
TRACKED: dict[str, tuple[str, str]] = {
    "cases": ("case", "id"),
    "case_replies": ("case_reply", "id"),  # public replies and internal notes
    "attachments": ("attachment", "id"),
    "clients": ("client", "id"),
    "contact_logs": ("contact_log", "id"),
    "case_events": ("case", "case_id"),
    "case_assists": ("case", "case_id"),
    "client_flags": ("client", "client_id"),
    "client_tags": ("client", "client_id"),
    "kb_answers": ("answer", "id"),
}

_SEEN = "portal.changes.seen"  # session.info: (transaction, {(entity, id): op})


def record_change(
    entity: str, entity_id: int, op: str = UPDATE, session: Session | None = None
) -> None:
    """Record that ``entity`` ``entity_id`` changed, in the current transaction."""
    _write(session if session is not None else db.session(), [(entity, entity_id, op)])


def record_changes(
    entity: str, ids: Iterable[int], op: str = UPDATE, session: Session | None = None
) -> None:
    """Record a bulk statement's rows (``UPDATE ... RETURNING id`` gives the ids)."""
    _write(session if session is not None else db.session(), [(entity, i, op) for i in ids])


def record_rows(model: Any, ids: Iterable[int], op: str = UPDATE) -> None:
    """``record_changes`` for rows of ``model``, if the feed follows its table."""
    tracked = TRACKED.get(model.__table__.name)
    if tracked is not None and tracked[1] == "id":
        record_changes(tracked[0], ids, op)


def recorded(session: Session | None = None) -> Mapping[tuple[str, int], str]:
    """What the current transaction has recorded so far, ``(entity, id) -> op``, read only
    (whether a case was inserted in it, say)."""
    return MappingProxyType(_seen(session if session is not None else db.session()))


def changes_since(last_id: int = 0, limit: int = 500) -> list[ChangeRecord]:
    """Change records after ``last_id``, oldest first, at most ``limit``."""
    return list(
        db.session.scalars(
            select(ChangeRecord)
            .where(ChangeRecord.id > last_id)
            .order_by(ChangeRecord.id)
            .limit(limit)
        )
    )


def prune_changes(older_than: timedelta) -> int:
    """Delete change records older than ``older_than``; how many went. Flushes only."""
    result = db.session.execute(
        delete(ChangeRecord)
        .where(ChangeRecord.created_at < utcnow() - older_than)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# --- writing, once per entity and transaction -------------------------------------------


def _seen(session: Session) -> dict[tuple[str, int], str]:
    root = session.get_transaction()
    held = session.info.get(_SEEN)
    if held is None or held[0] is not root:  # a new transaction: forget the last one's
        held = (root, {})
        session.info[_SEEN] = held
    return held[1]


def _write(session: Session, changes: Iterable[tuple[str, int | None, str]]) -> None:
    wanted = [change for change in changes if change[1] is not None]
    if not wanted:
        return
    connection = session.connection()  # joins (or begins) the session's transaction
    seen = _seen(session)
    rows: list[dict[str, Any]] = []
    earlier: dict[tuple[str, int], str | None] = {}  # what a savepoint's rollback restores
    for entity, entity_id, op in wanted:
        key = (entity, entity_id)
        before = seen.get(key)
        if before is not None and (before == DELETE or op != DELETE):
            continue
        earlier.setdefault(key, before)
        seen[key] = op
        rows.append({"entity": entity, "entity_id": entity_id, "op": op, "created_at": utcnow()})
    if not rows:
        return
    connection.execute(insert(ChangeRecord.__table__), rows)
    if session.in_nested_transaction():  # a savepoint that rolls back takes its rows along
        after_rollback(lambda: _restore(seen, earlier), session)


def _restore(seen: dict[tuple[str, int], str], earlier: dict[tuple[str, int], str | None]) -> None:
    for key, op in earlier.items():
        if op is None:
            seen.pop(key, None)
        else:
            seen[key] = op


def _column_value(obj: Any, column: str) -> int | None:
    """``obj.<column>`` without loading anything (a deleted row may be expired)."""
    state = inspect(obj)
    value = state.dict.get(column)
    if value is None and state.identity is not None:
        keys = [col.key for col in state.mapper.primary_key]
        if column in keys:
            value = state.identity[keys.index(column)]
    return value


_PRIORITY = {INSERT: 0, DELETE: 1, UPDATE: 2}


def _tracked(objects: Iterable[Any], op: str, session: Session) -> dict[tuple[str, int], str]:
    """(entity, id) -> op for the tracked rows among ``objects``."""
    found: dict[tuple[str, int], str] = {}
    for obj in objects:
        table = getattr(obj, "__table__", None)
        tracked = TRACKED.get(table.name) if table is not None else None
        if tracked is None:
            continue
        if op == UPDATE and not session.is_modified(obj):
            continue
        entity, column = tracked
        entity_id = _column_value(obj, column)
        if entity_id is None:
            continue
        row_op = op if column == "id" else UPDATE  # a part changed: its whole did
        key = (entity, entity_id)
        if key not in found or _PRIORITY[row_op] < _PRIORITY[found[key]]:
            found[key] = row_op
    return found


def _record_changed(session: Session, flush_context: Any, instances: Any) -> None:
    """Before a flush: the tracked rows it will update or delete (their ids are known,
    and an attribute set to a SQL expression still counts as a change here)."""
    found = _tracked(session.deleted, DELETE, session)
    for key, op in _tracked(session.dirty, UPDATE, session).items():
        found.setdefault(key, op)
    if found:
        _write(session, [(entity, entity_id, op) for (entity, entity_id), op in found.items()])


def _record_inserted(session: Session, flush_context: Any) -> None:
    """After a flush: the tracked rows it inserted (now that they have ids)."""
    found = _tracked(session.new, INSERT, session)
    if found:
        _write(session, [(entity, entity_id, op) for (entity, entity_id), op in found.items()])


for _name, _listener in (("before_flush", _record_changed), ("after_flush", _record_inserted)):
    if not event.contains(Session, _name, _listener):
        event.listen(Session, _name, _listener)


# --- flask changes prune --------------------------------------------------------------------


@click.group("changes", cls=AppGroup, help="The change feed.")
def changes_cli() -> None:
    pass


@changes_cli.command("prune")
@click.option("--older-than", "days", type=click.IntRange(min=1), required=True,
              help="Delete records older than this many days.")
def prune_command(days: int) -> None:
    """Delete change records every reader has long passed."""
    removed = prune_changes(timedelta(days=days))
    db.session.commit()
    click.echo(f"removed {removed} change records older than {days} days")
