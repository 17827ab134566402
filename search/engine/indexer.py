"""The indexer: follows the change feed into a backend; rebuilds and verifies the index.

``catch_up`` reads ``portal.changes.changes_since`` from the backend's cursor
(``search_cursors``, one row per backend name), asks each registered source which of its
documents the changed rows touch, and indexes (or deletes) them. The backend is written
first and the cursor committed after, so a process killed in between only makes the next
catch-up apply the same changes again (harmless: a change is re-read from the database).

Late commits: change ids are handed out at insert time, so a transaction that commits
after a reader passed its ids leaves a gap below the mark. Every gap the reader sees is
kept as a row ``<backend>:gap:<id>`` and looked for again at each catch-up until it fills
(then applied) or is older than ``GAP_SECONDS`` (a rolled-back transaction's id).

Several processes: the Whoosh backend's writer (one across processes) is held for the
whole catch-up, so two catch-ups never interleave; on PostgreSQL the cursor row is
locked (``SELECT ... FOR UPDATE``). A catch-up that cannot get the writer in time raises
``IndexBusy`` and leaves the cursor: the next catch-up (the process's follower retrying
with backoff, see ``follower.py``, or the ``flask search catch-up --every N`` loop) takes
the change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.changes import changes_since
from portal.db import db, utcnow
from portal.models import ChangeRecord
from search.engine import registry
from search.engine.models import SearchCursor
from search.engine.types import Document, SearchBackend, Source

BATCH = 500
GAP_SECONDS = 600  # a gap still empty after this long was a rolled-back transaction
MAX_GAPS = 1000  # gaps kept per catch-up (a late commit is one of a few concurrent ones)

Progress = Callable[[int], object]


@contextmanager
def _writing(backend: SearchBackend) -> Iterator[Any]:
    """The backend's exclusive writer if it has one (Whoosh), else None."""
    opener = getattr(backend, "writer", None)
    if opener is None:
        yield None
        return
    with opener() as writer:
        yield writer


def _index(backend: SearchBackend, writer: Any, documents: list[Document]) -> None:
    if writer is None:
        backend.index(documents)
    else:
        backend.index(documents, writer=writer)  # type: ignore[call-arg]


def _delete(backend: SearchBackend, writer: Any, kind: str, ids: list[int]) -> None:
    if writer is None:
        backend.delete(kind, ids)
    else:
        backend.delete(kind, ids, writer=writer)  # type: ignore[call-arg]


def _cursor(name: str) -> SearchCursor:
    row = db.session.get(SearchCursor, name, with_for_update=True)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(SearchCursor(name=name, last_change_id=0))
        except IntegrityError:  # another process made it first
            pass
        row = db.session.get(SearchCursor, name, with_for_update=True)
    assert row is not None
    return row


def _chunks(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    iterator = iter(ids)
    while chunk := list(islice(iterator, size)):
        yield chunk


def apply_changes(backend: SearchBackend, writer: Any, changes: Iterable[tuple[str, int]]) -> int:
    """Re-read the documents that these (entity, id) changes touch; index or delete them.
    Returns how many documents were written or removed."""
    by_entity: dict[str, set[int]] = defaultdict(set)
    for entity, entity_id in changes:
        by_entity[entity].add(entity_id)
    done = 0
    for source in registry.sources():
        wanted: set[int] = set()
        for entity, ids in by_entity.items():
            wanted.update(source.affected(entity, sorted(ids)))
        for chunk in _chunks(sorted(wanted), BATCH):
            documents = source.documents(chunk)
            present = {d.id for d in documents}
            _index(backend, writer, documents)
            _delete(backend, writer, source.kind, [i for i in chunk if i not in present])
            done += len(chunk)
    return done


def catch_up(backend: SearchBackend, limit: int = BATCH) -> int:
    """Take in every change since the backend's cursor; how many change records."""
    total = 0
    while True:
        taken, more = _catch_up_once(backend, limit)
        total += taken
        if not more:
            return total


def _catch_up_once(backend: SearchBackend, limit: int) -> tuple[int, bool]:
    name = backend.name
    prefix = f"{name}:gap:"
    try:
        with _writing(backend) as writer:
            cursor = _cursor(name)
            mark = cursor.last_change_id
            gap_rows = list(db.session.scalars(
                select(SearchCursor).where(SearchCursor.name.startswith(prefix))
            ))
            records: list[ChangeRecord] = []
            if gap_rows:
                gaps = {row.last_change_id: row for row in gap_rows}
                late = list(db.session.scalars(
                    select(ChangeRecord).where(ChangeRecord.id.in_(list(gaps)))
                ))
                records.extend(late)
                old = utcnow() - timedelta(seconds=GAP_SECONDS)
                for record in late:
                    db.session.delete(gaps.pop(record.id))
                for row in gaps.values():
                    if row.updated_at is not None and row.updated_at < old:
                        db.session.delete(row)
            new = changes_since(mark, limit)
            records.extend(new)
            if new:
                top = new[-1].id
                seen = {record.id for record in new}
                missing = [i for i in range(max(mark + 1, top - MAX_GAPS), top) if i not in seen]
                known = {row.last_change_id for row in gap_rows}
                for gap in missing:
                    if gap not in known and mark > 0:  # ids below a fresh cursor: history
                        db.session.add(SearchCursor(name=f"{prefix}{gap}", last_change_id=gap))
                cursor.last_change_id = top
                cursor.updated_at = utcnow()
            apply_changes(backend, writer, ((r.entity, r.entity_id) for r in records))
            db.session.flush()
        db.session.commit()  # after the index committed: a crash between re-applies
    except BaseException:
        db.session.rollback()
        raise
    return len(records), len(new) >= limit


# --- reindex and verify -------------------------------------------------------------------


def _last_change_id() -> int:
    return db.session.scalar(select(func.max(ChangeRecord.id))) or 0


def reindex(backend: SearchBackend, progress: Progress | None = None,
            kinds: Iterable[str] | None = None, procs: int | None = None) -> int:
    """Rebuild the index from the database (every registered source, or ``kinds``);
    how many documents. The cursor moves to where the feed stood when it began.
    Analysis runs in ``procs`` processes (``search.engine.bulk``)."""
    from search.engine import bulk  # bulk imports this module's helpers

    return bulk.reindex(backend, progress, kinds, procs)


@dataclass
class KindReport:
    """What ``verify`` found for one kind (ids)."""

    missing: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    extra: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.extra)


@dataclass
class VerifyReport:
    kinds: dict[str, KindReport] = field(default_factory=dict)
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return all(report.ok for report in self.kinds.values())


def verify(backend: SearchBackend, repair: bool = False,
           progress: Progress | None = None) -> VerifyReport:
    """Compare the index with the database: documents missing, stale (fingerprint
    differs) or extra; with ``repair``, index and delete what differs."""
    report = VerifyReport(repaired=repair)
    for source in registry.sources():
        found = _verify_source(backend, source, repair, progress)
        report.kinds[source.kind] = found
    return report


def _verify_source(backend: SearchBackend, source: Source, repair: bool,
                   progress: Progress | None) -> KindReport:
    indexed = backend.fingerprints(source.kind)
    found = KindReport()
    expected: set[int] = set()
    for chunk in _chunks(source.all_ids(), BATCH):
        documents = source.documents(chunk)
        fix: list[Document] = []
        for document in documents:
            expected.add(document.id)
            have = indexed.get(document.id)
            if have is None:
                found.missing.append(document.id)
                fix.append(document)
            elif have != document.fingerprint():
                found.stale.append(document.id)
                fix.append(document)
        if repair and fix:
            backend.index(fix)
        if progress is not None:
            progress(len(chunk))
    found.extra = sorted(set(indexed) - expected)
    if repair and found.extra:
        backend.delete(source.kind, found.extra)
    return found
