"""The rendered figures of the report pages, kept per process (issue 16).

The dashboard and the workload tables are opened again and again by many officials while
their figures change only when cases do, so the HTML of a page's figures part (tables,
charts, hot spots: never the header, the period form, the alerts or anything holding a
CSRF token) is kept in a small LRU per process, under

- the page and its normalised arguments (the period, the grouping),
- what decides what the reader may see (``reader_key``: the city, a department, or one
  handler's own figures), the locale and the time zone,
- a data stamp: the head of the change feed, the reference-data stamp and the local
  minute (figures of "now", overdue say, roll over; a write the feed misses, in another
  process, is seen at most a minute late).

Writes the reports read that the feed does not follow (the report settings, staff
accounts' names, roles and departments, the derived report tables rebuilt through the
session) record ``("reports", 0)`` in the feed themselves (``_record_report_writes``).
``REPORTS_CACHE_SECONDS`` bounds an entry's age (0: off; None: 60, or off when TESTING).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g
from flask_babel import get_locale, get_timezone
from markupsafe import Markup
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session

from cases.reports.models import (
    DailyCaseFlow,
    DailyCaseTotal,
    MonthlyCaseTotal,
    RatingMonth,
    ReportDuration,
    ReportDurationCount,
    ReportSettings,
)
from cases.reports.scope import ReportReach, report_reach
from portal import refdata
from portal.changes import UPDATE, record_change
from portal.db import db
from portal.models import ChangeRecord, Role, User

MAX_ENTRIES = 128  # pages × periods × scopes × languages most read at once
MAX_CHARS = 16_000_000  # and at most this much HTML (a dashboard is ~0.2 MB)
DEFAULT_SECONDS = 60
ENTITY = "reports"  # the change record of a write the reports read and the feed misses
_EXTENSION = "reports.page_cache"
# A staff account's columns the figures read (rows by staff, a head's staff, labels).
USER_COLUMNS = ("role", "display_name", "department_id", "active")
# Tables written by statements (``session.execute``) that change figures: the report
# settings and the derived tables ``flask reports rebuild-totals`` rewrites.
STATEMENT_TABLES = frozenset(model.__table__.name for model in (
    ReportSettings, DailyCaseTotal, MonthlyCaseTotal, DailyCaseFlow, ReportDuration,
    ReportDurationCount, RatingMonth))
_HEAD = select(func.max(ChangeRecord.id))  # built once: its cache key is kept
_clock = time.monotonic  # an entry's age (tests move it)


class PageCache:
    """An LRU of rendered HTML with a stamp and a birth time per entry (thread-safe)."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_chars: int = MAX_CHARS) -> None:
        self.max_entries, self.max_chars = max_entries, max_chars
        self._entries: OrderedDict[Hashable, tuple[Hashable, float, Markup]] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, stamp: Hashable, max_age: float) -> Markup | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != stamp or _clock() - entry[1] >= max_age:
                return None
            self._entries.move_to_end(key)
            return entry[2]

    def put(self, key: Hashable, stamp: Hashable, html: Markup) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._chars -= len(old[2])
            self._entries[key] = (stamp, _clock(), html)
            self._chars += len(html)
            while self._entries and (len(self._entries) > self.max_entries
                                     or self._chars > self.max_chars):
                _key, (_stamp, _born, gone) = self._entries.popitem(last=False)
                self._chars -= len(gone)

    def __len__(self) -> int:
        return len(self._entries)


def max_age() -> int:
    """``REPORTS_CACHE_SECONDS``; None means 60, or 0 (off) under TESTING."""
    value = current_app.config.get("REPORTS_CACHE_SECONDS")
    if value is None:
        return 0 if current_app.testing else DEFAULT_SECONDS
    return int(value)


def page_cache() -> PageCache:
    store = current_app.extensions.get(_EXTENSION)
    if store is None:
        store = current_app.extensions.setdefault(_EXTENSION, PageCache())
    return store


def forget(app: Any | None = None) -> None:
    """Drop every kept page (tests that empty the tables behind the ORM call this)."""
    (app if app is not None else current_app).extensions.pop(_EXTENSION, None)


def reader_key(user: User) -> tuple:
    """Exactly what decides which figures ``user`` reads (``scope``): two readers with the
    same key get the same figures, link for link."""
    reach = report_reach(user)
    if reach is ReportReach.CITY:
        return (reach.value,)
    if reach is ReportReach.DEPARTMENT:
        return (reach.value, user.department_id)
    return (reach.value, user.department_id, user.id)  # a handler's own figures


def local_minute() -> str:
    """The local minute now (``2026-12-01 09:30``): figures of "now" roll over with it."""
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y-%m-%d %H:%M")


def as_of() -> str:
    """The local time the figures are computed at, as the page says it (``09:30``)."""
    return local_minute()[-5:]


def data_stamp() -> tuple:
    """The feed's head, the reference-data stamp and the local minute (once a request)."""
    held = g.get("_reports_data_stamp")
    if held is None:
        held = g._reports_data_stamp = (db.session.scalar(_HEAD), refdata.stamp(),
                                        local_minute())
    return held


def cached_figures(page: str, args: tuple, user: User,
                   render: Callable[[], str]) -> Markup:
    """The figures part of ``page`` for ``args`` as ``user`` reads them: kept, or
    ``render()``-ed now (and kept unless the cache is off or it holds a form)."""
    seconds = max_age()
    if seconds <= 0:
        return Markup(render())  # noqa: S704 (a rendered template)
    key = (page, args, reader_key(user), str(get_locale()), str(get_timezone()))
    stamp, cache = data_stamp(), page_cache()
    html = cache.get(key, stamp, seconds)
    if html is None:
        html = Markup(render())  # noqa: S704 (a rendered template)
        if 'name="csrf_token"' not in html:  # a form is never shared between readers
            cache.put(key, stamp, html)
    return html


# --- writes the reports read and the feed does not follow ---------------------------------


def _counted_change(obj: Any, kind: str) -> bool:
    """Whether a flushed object changes what the reports read and the feed misses: report
    settings changed or removed (the row made with the defaults on first use changes no
    figure), a staff account made or removed, or its role, name, department or state."""
    if isinstance(obj, ReportSettings):
        return kind != "new"
    if not isinstance(obj, User):
        return False
    if kind != "dirty":
        return obj.role is not None and not Role(obj.role).is_client
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in USER_COLUMNS)


def _record_report_writes(session: Session, _context: Any, _instances: Any) -> None:
    """Before a flush: such a change writes ``("reports", 0)`` (once per transaction: the
    feed keeps one record per entity and transaction)."""
    for kind, objects in (("new", session.new), ("dirty", session.dirty),
                          ("deleted", session.deleted)):
        if any(_counted_change(obj, kind) for obj in objects):
            record_change(ENTITY, 0, UPDATE, session)
            return


def _record_report_statements(state: ORMExecuteState) -> None:
    """A statement writing a report table through the session (a rebuild) writes
    ``("reports", 0)`` too."""
    if state.is_select or not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in STATEMENT_TABLES:
        record_change(ENTITY, 0, UPDATE, state.session)


for _name, _listener in (("before_flush", _record_report_writes),
                         ("do_orm_execute", _record_report_statements)):
    if not event.contains(Session, _name, _listener):
        event.listen(Session, _name, _listener)
