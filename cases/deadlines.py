"""Deadline clocks of a case, counted on the working-day calendar.

Two deadlines per case: signing for (from each dispatch) and replying (from the first
dispatch, moved by pauses, approved extensions and redos). ``case.due_at`` mirrors
whichever one runs now, so queues and the sweep need only that indexed column.
"""

from __future__ import annotations

from datetime import datetime

from cases.calendar import load_calendar
from cases.models import Case, CaseStatus, DueState, TimeUnit


def _run(case: Case, due: datetime | None) -> None:
    case.due_at = due
    case.due_state = DueState.ON_TIME


def start_sign_clock(case: Case, now: datetime) -> None:
    """A (re)dispatch: the department has the category's sign-for time from now."""
    category = case.category
    case.sign_due_at = load_calendar().add(now, category.sign_amount, category.sign_unit)
    if case.reply_due_at is None:
        case.reply_due_at = load_calendar().add(now, category.reply_amount, category.reply_unit)
    _run(case, case.sign_due_at)


def start_reply_clock(case: Case) -> None:
    """Signed for: the reply deadline runs."""
    _run(case, case.reply_due_at)


def restart_reply_clock(case: Case, now: datetime) -> None:
    """Sent back to redo: a fresh handling period from now."""
    category = case.category
    case.reply_due_at = load_calendar().add(now, category.reply_amount, category.reply_unit)
    _run(case, case.reply_due_at)


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
    _run(case, case.reply_due_at)


def extend_reply_deadline(case: Case, working_days: int) -> None:
    """An approved extension: the reply deadline moves by ``working_days``."""
    if case.reply_due_at is None:
        return
    case.reply_due_at = load_calendar().add(case.reply_due_at, working_days, TimeUnit.DAYS)
    if case.status == CaseStatus.IN_PROGRESS:
        _run(case, case.reply_due_at)
