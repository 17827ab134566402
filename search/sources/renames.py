"""Names that documents carry: a renamed department, district or category is a change.

A case document holds the names of its category (and the parent's), lead department and
district; a client document its district's; an answer its category's. The change feed
(``portal.changes.TRACKED``) follows the rows documents are made of, not the catalogue,
so this listener records a catalogue row in the feed (entities ``department``,
``district``, ``category``) when a flush changes what documents show of it: a name, or a
category's parent. Reordering or switching a row off changes no document, so it records
nothing (a department's rename reindexes every case it leads). The sources' ``affected``
turn these entities into their documents.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from cases.catalogue.models import Category
from portal.changes import UPDATE, record_changes
from portal.db import db
from portal.models import Department, District

NAMED = "name_zh", "name_en"
# model -> (entity in the feed, the attributes documents show)
WATCHED: dict[type, tuple[str, tuple[str, ...]]] = {
    Department: ("department", NAMED),
    District: ("district", NAMED),
    Category: ("category", (*NAMED, "parent_id")),
}


def _changed(obj: Any, attributes: tuple[str, ...]) -> bool:
    state = inspect(obj)
    for name in attributes:
        history = state.attrs[name].history
        if history.added and history.deleted and history.added[0] != history.deleted[0]:
            return True
    return False


def _record_renames(session: Session, _context: Any, _instances: Any) -> None:
    found: dict[str, list[int]] = {}
    for obj in session.dirty:
        watched = WATCHED.get(type(obj))
        if watched is None or obj.id is None or not _changed(obj, watched[1]):
            continue
        found.setdefault(watched[0], []).append(obj.id)
    for entity, ids in found.items():
        record_changes(entity, ids, UPDATE, session)


if not event.contains(Session, "before_flush", _record_renames):
    event.listen(Session, "before_flush", _record_renames)


def category_subtree(ids: list[int], depth: int = 8) -> set[int]:
    """``ids`` and every category below them (a document names its category's parents)."""
    found = set(ids)
    level = set(ids)
    while level and depth > 0:
        level = set(db.session.scalars(
            select(Category.id).where(Category.parent_id.in_(sorted(level)))
        )) - found
        found |= level
        depth -= 1
    return found
