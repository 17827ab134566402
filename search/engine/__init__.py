"""The search engine: backends, analysis, the query language, the change-feed indexer.

Imports ``portal`` only, so any room may call it. Public functions:

- ``init_engine(app)``: settings and the after-commit hook (below);
- ``register_source(source)``: a room's documents (``search.sources`` call it);
- ``backend()``: the application's backend (``SEARCH_BACKEND``: ``whoosh`` in
  ``SEARCH_INDEX_DIR``, default ``<instance>/search-index``; or ``postgresql``);
- ``search(request) -> SearchResponse``; ``catch_up()``; ``reindex(progress)``;
  ``verify(repair=False) -> VerifyReport``.

True to the database: every transaction that wrote change records
(``portal.changes``) has the index caught up once it commits (``SEARCH_CATCH_UP``):
``thread`` (the default) wakes the process's background follower (``follower.py``) and
returns; ``inline`` (the default of a TESTING app) catches up right there, in a session
of its own; ``off``
leaves it to ``flask search catch-up --every N`` (``make run``), which also catches up
whatever a busy writer deferred. ``SEARCH_CATCH_UP_AFTER_COMMIT = False`` is ``off``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.aftercommit import after_commit
from search.engine import follower, indexer, models  # noqa: F401  (the tables register)
from search.engine.indexer import VerifyReport
from search.engine.registry import register_source
from search.engine.types import SearchBackend, SearchRequest, SearchResponse

log = logging.getLogger(__name__)

_EXTENSION = "search.engine"
_SEEN = "portal.changes.seen"  # portal.changes keeps a transaction's changes here
_SCHEDULED = "search.engine.scheduled"

__all__ = [
    "VerifyReport", "backend", "catch_up", "catch_up_mode", "init_engine", "register_source",
    "reindex", "search", "verify", "wait_until_caught_up",
]


def init_engine(app: Flask) -> None:
    """Set up the configured backend's settings for ``app`` (``SEARCH_BACKEND``)."""
    app.config.setdefault("SEARCH_BACKEND", "whoosh")
    app.config.setdefault("SEARCH_CATCH_UP", None)
    app.config.setdefault("SEARCH_CATCH_UP_AFTER_COMMIT", True)
    app.config.setdefault("SEARCH_LOCK_TIMEOUT", 5.0)
    catch_up_mode(app)  # a mistyped mode stops the start, not every later write
    if not app.config.get("SEARCH_INDEX_DIR"):
        app.config["SEARCH_INDEX_DIR"] = str(Path(app.instance_path) / "search-index")
    app.extensions[_EXTENSION] = {}


def backend() -> SearchBackend:
    """The current application's backend (one object per process and index folder)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    held: dict[Any, SearchBackend] = app.extensions.setdefault(_EXTENSION, {})
    name = app.config.get("SEARCH_BACKEND", "whoosh")
    if name == "postgresql":
        key: Any = name
        if key not in held:
            from search.engine.postgres_backend import PostgresBackend

            held[key] = PostgresBackend()
        return held[key]
    if name != "whoosh":
        raise RuntimeError(f"unknown SEARCH_BACKEND {name!r} (whoosh or postgresql)")
    directory = str(Path(app.instance_path) / app.config["SEARCH_INDEX_DIR"])
    key = ("whoosh", directory)
    if key not in held:
        from search.engine.whoosh_backend import WhooshBackend

        held[key] = WhooshBackend(directory, float(app.config.get("SEARCH_LOCK_TIMEOUT", 5.0)))
    return held[key]


def search(request: SearchRequest) -> SearchResponse:
    """Answer ``request`` (``QuerySyntaxError`` for a query that cannot be read)."""
    return backend().search(request)


def catch_up() -> int:
    """Take the change feed into the index; how many change records were read.
    ``IndexBusy`` (Whoosh) when another process kept the writer past the timeout."""
    return indexer.catch_up(backend())


def reindex(progress: indexer.Progress | None = None) -> int:
    """Rebuild the index from the database; how many documents."""
    return indexer.reindex(backend(), progress)


def verify(repair: bool = False, progress: indexer.Progress | None = None) -> VerifyReport:
    """Documents missing, stale or extra in the index (fixed with ``repair``)."""
    return indexer.verify(backend(), repair, progress)


# --- after each commit that wrote change records ----------------------------------------


CATCH_UP_MODES = ("thread", "inline", "off")


def catch_up_mode(app: Flask) -> str:
    """How commits catch the index up: ``thread``, ``inline`` or ``off`` (unset:
    ``thread``, or ``inline`` in a TESTING app, so a test reads what it just wrote)."""
    if not app.config.get("SEARCH_CATCH_UP_AFTER_COMMIT", True):
        return "off"
    mode = app.config.get("SEARCH_CATCH_UP") or ("inline" if app.testing else "thread")
    if mode not in CATCH_UP_MODES:
        raise RuntimeError(f"unknown SEARCH_CATCH_UP {mode!r} (thread, inline or off)")
    return mode


def wait_until_caught_up(timeout: float = 10.0) -> bool:
    """Wait for this process's follower to finish what commits asked of it (tests, CLI)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return follower.wait_idle(app, timeout)


def _catch_up_after_commit(app: Flask) -> None:
    with app.app_context():  # a session of its own (Flask-SQLAlchemy scopes by context)
        try:
            catch_up()
        except Exception as error:
            if type(error).__name__ == "IndexBusy":
                log.info("search index busy: the next catch-up takes this change")
                return
            raise


def _schedule(session: Session) -> None:
    """Once per transaction that recorded changes: catch up after it commits."""
    if not has_app_context() or session.get_nested_transaction() is not None:
        return
    held = session.info.get(_SEEN)
    root = session.get_transaction()
    if not held or not held[1] or held[0] is not root or root is None:
        return
    if session.info.get(_SCHEDULED) is root:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if _EXTENSION not in app.extensions:
        return
    mode = catch_up_mode(app)
    if mode == "off":
        return
    session.info[_SCHEDULED] = root
    if mode == "inline":
        after_commit(lambda: _catch_up_after_commit(app), session)
    else:
        background = follower.follower(app, catch_up)
        after_commit(background.wake, session)


def _after_flush(session: Session, _context: Any) -> None:
    _schedule(session)


for _name, _listener in (("before_commit", _schedule), ("after_flush_postexec", _after_flush)):
    if not event.contains(Session, _name, _listener):
        event.listen(Session, _name, _listener)
