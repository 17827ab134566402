"""One transaction per request: the request boundary commits or rolls back, views never do.

``PortalFlask.dispatch_request`` runs the view, then ends the request's transaction on
``db.session`` (so the after-commit and after-rollback hooks of the rooms fire as usual):

- the view returned a response below 400 (a page, a redirect): commit;
- it returned 400 or above (a form shown again, a 409, a 404) or raised: roll back, unless
  the request called ``keep_on_error()`` (a wrong guess that must stay counted).

A commit that fails raises where the view would have raised, so the error handlers answer
it (``StaleDataError`` a 409, anything else the 500 page); the flashes and session keys the
view set for its success page are undone first: nobody reads "Done" on a failure.

``form_errors(form)`` is the one place a service's refusal (``DomainError``) becomes a form
error: it rolls the transaction back, so the page shown again reads the database as it is,
and reports the refusal on the ``Outcome`` it yields. A refusal no view takes up becomes a
409 page (``portal.errors``). CLI commands and the sweep are their own boundary.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, session
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from portal.db import db
from portal.errors import DomainError, concurrent_change_message
from portal.forms import add_form_error

log = logging.getLogger(__name__)

_KEEP_ON_ERROR = "transactions_keep_on_error"


class PortalFlask(Flask):
    """Flask whose every view runs in one transaction, ended when the view is done."""

    def dispatch_request(self) -> ResponseReturnValue:
        before = _session_state()
        try:
            response = self.make_response(super().dispatch_request())
        except BaseException:
            _abandon(before)
            raise
        end_transaction(response, before)
        return response


def end_transaction(response: Response, before: dict[str, Any]) -> None:
    """Commit below 400 (or when kept), else roll back; a failed commit undoes the flashes."""
    keep = bool(g.pop(_KEEP_ON_ERROR, False))
    if not db.session.registry.has():  # the view never touched the database
        return
    if response.status_code >= 400 and not keep:
        db.session.rollback()
        return
    try:
        db.session.commit()
    except BaseException:
        _abandon(before)
        raise


def keep_on_error() -> None:
    """Commit this request's writes even though it answers with an error status.

    For writes that are the very reason of the refusal: a wrong phone code stays counted
    although the page says 422. Nothing else in the request should be left half done.
    """
    setattr(g, _KEEP_ON_ERROR, True)


@dataclass
class Outcome:
    """What came of a ``form_errors`` block: the service's refusal, if it refused."""

    error: DomainError | None = None
    lost_race: bool = False  # someone else changed the same row first (``race=True``)

    @property
    def refused(self) -> bool:
        return self.error is not None


@contextmanager
def form_errors(form: FlaskForm | None = None, *, race: bool = False) -> Iterator[Outcome]:
    """Run a service call; a ``DomainError`` rolls back and lands on ``form`` (if given).

    The block's writes are flushed at its end, so a refusal the database makes at the
    flush is caught here too. With ``race=True`` a lost race (``StaleDataError``) is a
    refusal as well, with the "changed meanwhile" message; otherwise it is the 409 page.
    """
    outcome = Outcome()
    try:
        yield outcome
        db.session.flush()
    except DomainError as error:
        outcome.error = error
    except StaleDataError:
        if not race:
            raise
        outcome.error = DomainError(concurrent_change_message())
        outcome.lost_race = True
    if outcome.error is not None:
        _roll_back()
        g.pop(_KEEP_ON_ERROR, None)  # what was to be kept is rolled back with the rest
        if form is not None:
            add_form_error(form, outcome.error)


def _roll_back() -> None:
    try:
        db.session.rollback()
    except Exception:  # a dead connection: teardown closes it; the answer is an error anyway
        log.exception("rollback failed")


def _session_state() -> dict[str, Any]:
    return copy.deepcopy(dict(session))


def _abandon(before: dict[str, Any]) -> None:
    """Undo the request: its writes, and what it put in the session for a page not shown.

    The CSRF secret stays: the error page's own forms are signed with it already.
    """
    _roll_back()
    g.pop(_KEEP_ON_ERROR, None)
    if dict(session) == before:
        return
    csrf_field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    csrf = session.get(csrf_field)
    session.clear()
    session.update(before)
    if csrf is not None:
        session[csrf_field] = csrf
