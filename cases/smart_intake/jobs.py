"""Training started from the admin page: after the request commits, in a thread of its
own (a large history could outlast a web request), or inline (``INTAKE_TRAIN_RUN =
"inline"``, the tests). Its own app context and transaction: this is not a view."""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app

from cases.smart_intake.store import IntakeTrainingRefused, train_version
from portal.aftercommit import after_commit
from portal.db import db
from portal.models import User

log = logging.getLogger(__name__)

_training = threading.Lock()  # one training at a time in this process
_threads: list[threading.Thread] = []


def training_running() -> bool:
    """Whether this process is training now."""
    return _training.locked()


def start_training(user_id: int | None) -> None:
    """Train once the request commits: in a thread, or inline (``INTAKE_TRAIN_RUN``)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("INTAKE_TRAIN_RUN", "thread") == "inline":
        after_commit(lambda: _train_in_context(app, user_id))
        return

    def start() -> None:
        thread = threading.Thread(target=_train_in_context, args=(app, user_id),
                                  name="intake-train", daemon=True)
        _threads.append(thread)
        thread.start()

    after_commit(start)


def _train_in_context(app: Flask, user_id: int | None) -> None:
    if not _training.acquire(blocking=False):
        return
    try:
        with app.app_context():
            try:
                user = db.session.get(User, user_id) if user_id else None
                outcome = train_version(user)
                db.session.commit()
                log.info("smart intake: version %s trained from the admin page",
                         outcome.row.version)
            except IntakeTrainingRefused as refused:
                db.session.rollback()
                log.info("smart intake: not trained: %s", refused.message)
            except Exception:
                db.session.rollback()
                log.exception("smart intake: training from the admin page failed")
            finally:
                db.session.remove()
    finally:
        _training.release()


def wait_for_training(timeout: float = 120.0) -> None:
    """Wait for the trainings this process started (tests, the bench)."""
    while _threads:
        _threads.pop().join(timeout)
