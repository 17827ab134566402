"""The index follower: one background thread per process catches the index up after commits.

A commit that wrote change records only calls ``wake(app)``: it sets an event and returns,
so no request waits for the index (a Whoosh commit took ~50 ms of every write). The thread,
started lazily in the process that first wakes it (after a fork, e.g. a gunicorn worker,
the parent's thread did not come along: the pid tells, and the child starts its own),
waits for the event, then runs ``catch_up`` in an application context of its own until
nothing is left. Wakes during a round are not lost: the event is cleared before the round
reads the feed, so a commit landing meanwhile makes one more round.

Failures never kill the thread. A Whoosh writer held by another process (``IndexBusy``:
the ``flask search catch-up --every`` loop, a reindex, another worker) is retried with
backoff, doubling up to ``MAX_BACKOFF`` seconds, until the round gets through; any other
error is logged and retried ``ERROR_RETRIES`` times, then left to the next wake (and to
the ``--every`` loop, which catches up whatever any process left).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable

from flask import Flask

log = logging.getLogger(__name__)

FIRST_BACKOFF = 0.2  # seconds
MAX_BACKOFF = 10.0
ERROR_RETRIES = 3
EXIT_WAIT = 5.0  # seconds a process leaving waits for a round in flight

_KEY = "search.engine.follower"
_MAKING = threading.Lock()  # two requests' first commits make one follower


class Follower:
    """The background catch-up of one application in one process."""

    def __init__(self, app: Flask, catch_up: Callable[[], int]) -> None:
        self.app = app
        self.catch_up = catch_up
        self._reset()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        # After a fork the parent's thread is gone and its locks may be in any state.
        self._pid: int | None = None
        self._start_lock = threading.Lock()
        self._state = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None
        self.rounds = 0  # rounds completed (tests and logs)

    def wake(self) -> None:
        """Ask for a catch-up soon (returns at once)."""
        self._ensure_thread()
        with self._state:
            self._idle.clear()
            self._wake.set()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no catch-up is asked for or running; False on timeout."""
        if self._thread is None or self._pid != os.getpid():
            return True
        return self._idle.wait(timeout)

    def _ensure_thread(self) -> None:
        pid = os.getpid()
        if self._pid == pid and self._thread is not None and self._thread.is_alive():
            return
        if self._pid is not None and self._pid != pid:  # forked without the hook
            self._reset()
        with self._start_lock:
            self._pid = pid
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="search-follower", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            try:
                self._round()
            except Exception:  # never let the thread die; the next wake retries
                log.exception("search catch-up round failed")
            with self._state:
                if not self._wake.is_set():
                    self._idle.set()

    def _round(self) -> None:
        delay = FIRST_BACKOFF
        errors = 0
        while True:
            try:
                with self.app.app_context():  # a session of its own
                    self.catch_up()
                self.rounds += 1
                return
            except Exception as error:
                if type(error).__name__ == "IndexBusy":
                    log.info("search index busy: retrying in %.1f s", delay)
                else:
                    errors += 1
                    log.exception("search catch-up failed (attempt %d)", errors)
                    if errors >= ERROR_RETRIES:
                        return
            time.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)


def follower(app: Flask, catch_up: Callable[[], int]) -> Follower:
    """``app``'s follower (made on first use)."""
    held = app.extensions.get(_KEY)
    if held is None:
        with _MAKING:
            held = app.extensions.get(_KEY)
            if held is None:
                held = app.extensions[_KEY] = Follower(app, catch_up)
                atexit.register(held.wait_idle, EXIT_WAIT)  # a CLI's last writes land
    return held


def wait_idle(app: Flask, timeout: float = 10.0) -> bool:
    """Wait until ``app``'s follower (if any) has nothing to do; False on timeout."""
    held = app.extensions.get(_KEY)
    return True if held is None else held.wait_idle(timeout)
