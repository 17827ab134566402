"""Deadline clocks of a case, counted on the working-day calendar.

Two deadlines per case: signing for (from each dispatch) and replying (from the first
dispatch, moved by pauses, approved extensions and redos). ``case.due_at`` mirrors
whichever one runs now, so queues and the sweep need only that indexed column.

``case.due_soon_at`` is when the running deadline counts as near: ``DUE_SOON_HOURS``
before it, but never more than a quarter of the time the clock runs, so a 2-hour
sign-for deadline is near after 1 h 30, not at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from cases.calendar import load_calendar
from cases.models import Case, CaseStatus, DueState, TimeUnit
from portal.db import utcnow

DUE_SOON_SHARE = 0.25  # at most this share of the clock's length counts as "due soon"


def due_soon_at(due: datetime, start: datetime, hours: float | None = None) -> datetime:
    """When a deadline ``due`` running from ``start`` counts as near.

    ``due - min(DUE_SOON_HOURS, 25 % of (due - start))``; a deadline already past (or
    starting at its end) is near at once.
    """
    if hours is None:
        hours = current_app.config["DUE_SOON_HOURS"]
    length = max(due - start, timedelta(0))
    return due - min(timedelta(hours=hours), length * DUE_SOON_SHARE)


def _run(case: Case, due: datetime | None, start: datetime | None = None) -> None:
    """``due`` is the running deadline from ``start`` (default: now); None stops it."""
    case.due_at = due
    case.due_soon_at = due_soon_at(due, start or utcnow()) if due is not None else None
    case.due_state = DueState.ON_TIME


def start_sign_clock(case: Case, now: datetime) -> None:
    """A (re)dispatch: the department has the category's sign-for time from now."""
    category = case.category
    case.sign_due_at = load_calendar().add(now, category.sign_amount, category.sign_unit)
    if case.reply_due_at is None:
        case.reply_due_at = load_calendar().add(now, category.reply_amount, category.reply_unit)
    _run(case, case.sign_due_at, now)


def start_reply_clock(case: Case) -> None:
    """Signed for: the reply deadline runs."""
    _run(case, case.reply_due_at)


def restart_reply_clock(case: Case, now: datetime) -> None:
    """Sent back to redo: a fresh handling period from now."""
    category = case.category
    case.reply_due_at = load_calendar().add(now, category.reply_amount, category.reply_unit)
    _run(case, case.reply_due_at, now)


def stop_clock(case: Case) -> None:
    """Replied, closed, returned, withdrawn: nothing runs."""
    _run(case, None)


def pause_clock(case: Case, now: datetime) -> None:
    """Waiting for the client: the clock stops until the case resumes."""
    case.paused_at = now
    _run(case, None)


def resume_clock(case: Case, now: datetime) -> None:
    """Back from waiting: the reply deadline moves by the working time spent paused."""
    calendar = load_calendar()
    if case.paused_at is not None and case.reply_due_at is not None:
        paused = calendar.working_minutes_between(case.paused_at, now)
        case.reply_due_at = calendar.add_working_minutes(case.reply_due_at, paused)
    case.paused_at = None
    _run(case, case.reply_due_at, now)


def extend_reply_deadline(case: Case, working_days: int) -> None:
    """An approved extension: the reply deadline moves by ``working_days``."""
    if case.reply_due_at is None:
        return
    case.reply_due_at = load_calendar().add(case.reply_due_at, working_days, TimeUnit.DAYS)
    if case.status == CaseStatus.IN_PROGRESS:
        _run(case, case.reply_due_at)
