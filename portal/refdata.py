"""Reference data (departments, districts, the catalogue), cached per process.

Nearly every page reads it (choice lists, names on lists and timelines) and an admin
changes it a few times a year, so each process keeps *snapshots* of it: plain frozen
rows, never ORM instances (those belong to one session) and never anything of one user.

Whether a snapshot is still true is asked once per request, in one small indexed query.
A flush that inserts, changes or deletes a row of a registered model
(``register_models``) writes the change record ``("reference", 0)`` in its own
transaction (``portal.changes``); the stamp is ``count(*), max(id)`` of those records.
Both, because a transaction that commits late holds a lower id than one already seen,
but still adds to the count. The feed writes that record once per transaction, so the
process that makes a change also drops its own snapshots at once. Another process sees
an admin's change on its next request. Rows changed behind the ORM's back (SQL typed by
hand) are seen when any reference row next changes, or after ``MAX_AGE`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app, g, has_app_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from portal.changes import UPDATE, record_change
from portal.db import db
from portal.i18n import LocalisedName
from portal.models import ChangeRecord, Department, District

ENTITY = "reference"
MAX_AGE = 300.0  # seconds: a safety net for changes made outside the application
T = TypeVar("T")

_models: set[type] = set()
_lock = threading.Lock()


def register_models(*models: type) -> None:
    """Rows of these models are reference data: changing one refreshes every snapshot."""
    _models.update(models)


@dataclass(frozen=True)
class NamedRow(LocalisedName):
    """A department, district or category as the snapshots hold it (``.name`` localised)."""

    id: int
    name_zh: str
    name_en: str
    is_active: bool = True
    parent: NamedRow | None = None

    @property
    def path_name(self) -> str:
        """``Parent › Child``, in the page's language (as ``Category.path_name``)."""
        return f"{self.parent.name} › {self.name}" if self.parent else self.name


# --- the cache ----------------------------------------------------------------------------


def _store() -> dict[str, Any]:
    return current_app.extensions.setdefault("portal.refdata", {})


# Built once (every request asks it; a statement keeps its SQLAlchemy cache key).
_STAMP = select(func.count(), func.max(ChangeRecord.id)).where(ChangeRecord.entity == ENTITY)


def stamp() -> tuple[int, int | None]:
    """This request's view of the reference records: ``(count, max id)``, asked once."""
    held = g.get("_reference_stamp")
    if held is None:
        count, last = db.session.execute(_STAMP).one()
        held = g._reference_stamp = (count, last)
    return held


def cached(key: str, load: Callable[[], T]) -> T:
    """``load()``'s snapshot, kept per process while no reference row changes."""
    if not has_app_context():
        return load()
    now, seen = time.monotonic(), stamp()
    store = _store()
    entry = store.get(key)
    if entry is not None and entry[0] == seen and now - entry[1] < MAX_AGE:
        return entry[2]
    value = load()
    with _lock:
        store[key] = (seen, now, value)
    return value


def forget(app: Any | None = None) -> None:
    """Drop every snapshot (tests that empty tables behind the ORM call this)."""
    target = app if app is not None else current_app
    target.extensions.pop("portal.refdata", None)


def _record_reference_changes(session: Session, _context: Any, _instances: Any) -> None:
    if not _models:
        return
    # ``session.dirty`` is a new set at each access: which list is which goes by a flag (a
    # dirty row counts only when its columns really changed).
    for objects, dirty in ((session.new, False), (session.deleted, False),
                           (session.dirty, True)):
        for obj in objects:
            if type(obj) in _models and (not dirty or session.is_modified(obj)):
                record_change(ENTITY, 0, UPDATE, session)
                _forget_request_stamp()
                if has_app_context():  # the feed writes one record per transaction: a
                    forget()           # second change in it must not find a fresh copy
                return


def refresh() -> None:
    """Ask again, in this request, whether reference rows changed (after a change)."""
    _forget_request_stamp()


def _forget_request_stamp() -> None:
    # The writer's own request reads its change at once (a later page in the same request).
    if has_app_context():
        g.pop("_reference_stamp", None)


if not event.contains(Session, "before_flush", _record_reference_changes):
    event.listen(Session, "before_flush", _record_reference_changes)


# --- the core's reference data -------------------------------------------------------------

register_models(Department, District)


def all_departments() -> dict[int, NamedRow]:
    """Every department, active or not, by id (names for timelines and lists)."""
    return {row.id: row for row in _departments()}


def department_options() -> list[NamedRow]:
    """The active departments, in pinyin order of their Chinese names."""
    return [row for row in _departments() if row.is_active]


def _departments() -> list[NamedRow]:
    def load() -> list[NamedRow]:
        rows = db.session.execute(
            select(Department.id, Department.name_zh, Department.name_en, Department.is_active)
            .order_by(Department.sort_key, Department.id)
        )
        return [NamedRow(i, zh, en, bool(active)) for i, zh, en, active in rows]

    return cached("departments", load)


def district_options() -> list[NamedRow]:
    """Every district, in pinyin order (as a Chinese reader looks for a name)."""

    def load() -> list[NamedRow]:
        rows = db.session.execute(
            select(District.id, District.name_zh, District.name_en)
            .order_by(District.sort_key, District.id)
        )
        return [NamedRow(i, zh, en) for i, zh, en in rows]

    return cached("districts", load)
