"""Work that waits for the transaction: run after it commits, or undo outside it on rollback.

The one after-commit mechanism of the portal. Code that does something the database
cannot take back (sends a message, writes or deletes a file, feeds an index) registers
it on the transaction of the session it works in:

- ``after_commit(fn)``: ``fn()`` runs once the outermost transaction has committed, in
  the order registered. An error is logged, never raised: the change is committed.
- ``after_rollback(fn)``: ``fn()`` runs if the work does not commit (rolled back, or the
  session closed first), e.g. to delete a file written for it.

The work is kept in ``session.info``, keyed by the transaction, so sessions and threads
never see each other's. A SAVEPOINT (``begin_nested``) is a transaction of its own: when
it is released its work passes to the enclosing transaction; when it rolls back its
``after_rollback`` work runs at once and its ``after_commit`` work is dropped.

Callbacks run when the transaction has ended, with its connection released; a callback
that needs the database opens a session of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from portal.db import db

log = logging.getLogger(__name__)

Callback = Callable[[], object]

_KEY = "portal.aftercommit"  # session.info: {transaction: _Work}


@dataclass
class _Work:
    on_commit: list[Callback] = field(default_factory=list)
    on_rollback: list[Callback] = field(default_factory=list)
    committed: bool = False


def after_commit(fn: Callback, session: Session | None = None) -> None:
    """Run ``fn()`` once the current transaction of ``session`` (``db.session``) commits."""
    _work(session).on_commit.append(fn)


def after_rollback(fn: Callback, session: Session | None = None) -> None:
    """Run ``fn()`` if the current transaction (or savepoint) of ``session`` does not commit."""
    _work(session).on_rollback.append(fn)


def _work(session: Session | None) -> _Work:
    session = session if session is not None else db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:  # nothing happened yet: start the transaction the work joins
        transaction = session.begin()
    pending: dict[SessionTransaction, _Work] = session.info.setdefault(_KEY, {})
    return pending.setdefault(transaction, _Work())


def _enclosing(transaction: SessionTransaction) -> SessionTransaction | None:
    """The savepoint or outermost transaction ``transaction`` belongs to (skips a flush's)."""
    parent = transaction.parent
    while parent is not None and not parent.nested and parent.parent is not None:
        parent = parent.parent
    return parent


def _run(callbacks: list[Callback], when: str) -> None:
    for fn in callbacks:
        try:
            fn()
        except Exception:  # the transaction is over: report, never break the caller
            log.exception("%s callback %r failed", when, fn)


def _note_commit(session: Session) -> None:
    pending = session.info.get(_KEY)
    if not pending:
        return
    transaction = session.get_nested_transaction() or session.get_transaction()
    work = pending.get(transaction) if transaction is not None else None
    if work is not None:
        work.committed = True


def _end(session: Session, transaction: SessionTransaction) -> None:
    pending = session.info.get(_KEY)
    if not pending:
        return
    if transaction.nested:
        work = pending.pop(transaction, None)
        if work is None:
            return
        if work.committed:  # a savepoint released: the enclosing transaction decides
            outer = _enclosing(transaction)
            if outer is not None:
                into = pending.setdefault(outer, _Work())
                into.on_commit.extend(work.on_commit)
                into.on_rollback.extend(work.on_rollback)
                return
        _run(work.on_rollback, "after_rollback")
        return
    if transaction.parent is not None:  # a flush's inner transaction: not ours
        return
    work = pending.pop(transaction, None)
    leftovers = list(pending.values())  # savepoints this transaction ended unreleased
    pending.clear()
    for left in leftovers:
        _run(left.on_rollback, "after_rollback")
    if work is None:
        return
    if work.committed:
        _run(work.on_commit, "after_commit")
    else:
        _run(work.on_rollback, "after_rollback")


# On the Session class: every session (db.session and the ones workers open) takes part.
for _name, _listener in (("after_commit", _note_commit), ("after_transaction_end", _end)):
    if not event.contains(Session, _name, _listener):
        event.listen(Session, _name, _listener)
