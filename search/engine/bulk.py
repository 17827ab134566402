"""Full rebuilds of the index (``flask search reindex``): analysis in a pool of processes,
one bulk writer.

Chinese analysis (jieba, bigrams) costs ~0.8 ms a document and is pure Python, so one
process analyses ~1,300 documents a second: a million cases would take ~13 minutes on
analysis alone. So the main process reads the sources' documents from the database (in
chunks, in order) and hands each chunk to a worker (``procs``, default: the machine's
cores up to 4; ``SEARCH_REINDEX_PROCS``), and writes the analysed chunks back in the same
order to the backend's bulk writer:

- Whoosh: the one writer, held for the whole rebuild, every document added (no per-document
  commit or replace), the workers' tokens taken as they are (``whoosh_backend.Analysed``);
- PostgreSQL: the kind's rows replaced in one transaction, loaded with COPY.

Workers are forked (the parent has jieba's dictionary loaded already) and only analyse:
they never touch the database. The result is the same index a single process builds.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import delete

from portal.db import db
from search.engine import registry
from search.engine.indexer import BATCH, Progress, _chunks, _cursor, _last_change_id
from search.engine.models import SearchCursor
from search.engine.text import index_tokens, warm_up
from search.engine.types import Document, SearchBackend, Source
from search.engine.whoosh_backend import whoosh_fields

BULK_LIMIT_MB = 256  # Whoosh's in-memory postings pool during a rebuild
MIN_POOLED = 5_000  # fewer documents: analysed in the main process, one compound segment
Analyse = Callable[[Document], dict[str, Any]]


def default_procs() -> int:
    """``SEARCH_REINDEX_PROCS``, else the machine's cores (at most 4)."""
    configured = current_app.config.get("SEARCH_REINDEX_PROCS") if has_app_context() else None
    return max(1, int(configured or min(4, os.cpu_count() or 1)))


# --- Whoosh: tokens made in a worker, postings in the one writer ----------------------


class Analysed(str):
    """A text field's value with its ``index_tokens`` computed elsewhere (another
    process of a bulk rebuild): the tokenizer takes them instead of analysing again."""

    tokens: list[tuple[str, int]]


def analysed_fields(document: Document) -> dict[str, Any]:
    """``document``'s Whoosh fields with each text's tokens (``_tokens_t_<name>``):
    the analysis half of a bulk rebuild, run in a worker process."""
    fields = whoosh_fields(document)
    for name in [n for n in fields if n.startswith("t_")]:
        fields[f"_tokens_{name}"] = index_tokens(fields[name])
    return fields


def _with_tokens(fields: dict[str, Any]) -> dict[str, Any]:
    """``analysed_fields``'s output as ``add_document`` keywords: the stored value is the
    plain text, the indexed one carries its tokens."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name.startswith("_tokens_"):
            continue
        tokens = fields.get(f"_tokens_{name}")
        if tokens is not None:
            analysed = Analysed(value)
            analysed.tokens = tokens
            out[name] = analysed
            out[f"_stored_{name}"] = value
        else:
            out[name] = value
    return out


def add_analysed(writer: Any, rows: Iterable[dict[str, Any]]) -> None:
    """Add documents analysed by ``analysed_fields`` to a Whoosh writer (a rebuild: no
    old copies to replace)."""
    for fields in rows:
        writer.add_document(**_with_tokens(fields))


# --- the rebuild ---------------------------------------------------------------------------


@contextmanager
def _bulk_writer(backend: SearchBackend, big: bool) -> Iterator[Any]:
    """The backend's exclusive writer (Whoosh), holding more postings in memory before
    it spills a sorted run to disk, the big segment in files of its own (see
    ``WhooshBackend.writer``) if it is ``big``; None for a backend without one."""
    opener = getattr(backend, "writer", None)
    if opener is None:
        yield None
        return
    with opener(limitmb=BULK_LIMIT_MB, compound=not big) as writer:
        yield writer


def _analyse_all(analyse: Analyse, documents: list[Document]) -> list[dict[str, Any]]:
    return [analyse(document) for document in documents]


def _analyser(backend: SearchBackend) -> Analyse | None:
    """The backend's analysis half, a module-level function (workers get it by name)."""
    if backend.name == "whoosh":
        return analysed_fields
    if backend.name == "postgresql":
        from search.engine.postgres_backend import row_of

        return row_of
    return None


def _analysed(source: Source, ids: list[int], analyse: Analyse, pool: Any,
              depth: int) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """(ids in the chunk, analysed documents) in id order; up to ``depth`` chunks are
    analysed in the pool while the main process reads the next from the database."""
    pending: deque[tuple[int, Any]] = deque()
    for chunk in _chunks(ids, BATCH):
        documents = source.documents(chunk)
        if pool is None:
            yield len(chunk), _analyse_all(analyse, documents)
            continue
        pending.append((len(chunk), pool.apply_async(_analyse_all, (analyse, documents))))
        while len(pending) > depth:
            size, result = pending.popleft()
            yield size, result.get()
    while pending:
        size, result = pending.popleft()
        yield size, result.get()


def reindex(backend: SearchBackend, progress: Progress | None = None,
            kinds: Iterable[str] | None = None, procs: int | None = None) -> int:
    """Rebuild the index from the database (every registered source, or ``kinds``);
    how many documents. The cursor moves to where the feed stood when it began."""
    wanted = set(kinds) if kinds is not None else None
    sources = [s for s in registry.sources() if wanted is None or s.kind in wanted]
    procs = default_procs() if procs is None else max(1, procs)
    analyse = _analyser(backend)
    mark = _last_change_id()
    plans = [(source, list(source.all_ids())) for source in sources]
    big = sum(len(i) for _s, i in plans) >= MIN_POOLED
    pooled = analyse is not None and procs > 1 and big
    pool = None
    count = 0
    try:
        if pooled:
            warm_up()  # once, before the fork: every worker has the dictionary
            pool = multiprocessing.get_context("fork").Pool(procs)
        with _bulk_writer(backend, big) as writer:
            for source, ids in plans:
                count += _rebuild(backend, writer, source, ids, analyse, pool, procs, progress)
            cursor = _cursor(backend.name)
            cursor.last_change_id = max(cursor.last_change_id, mark)
            db.session.execute(delete(SearchCursor).where(
                SearchCursor.name.startswith(f"{backend.name}:gap:")
            ))
            db.session.flush()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    return count


def _rebuild(backend: Any, writer: Any, source: Source, ids: list[int],
             analyse: Analyse | None, pool: Any, procs: int,
             progress: Progress | None) -> int:
    """One source's documents into the index; how many."""
    count = 0
    if analyse is None:  # a backend without a bulk path: its own index()
        backend.clear(source.kind)
        for chunk in _chunks(ids, BATCH):
            documents = source.documents(chunk)
            backend.index(documents)
            count += len(documents)
            if progress is not None:
                progress(len(chunk))
        return count

    def chunks() -> Iterator[list[dict[str, Any]]]:
        nonlocal count
        for size, rows in _analysed(source, ids, analyse, pool, depth=procs * 2):
            yield rows
            count += len(rows)
            if progress is not None:
                progress(size)

    if writer is None:
        backend.replace_kind(source.kind, chunks())
    else:
        writer.delete_by_term("kind", source.kind)
        for rows in chunks():
            add_analysed(writer, rows)
    return count
