"""Early warning: a category in a district far above its own recent baseline.

``detect_spikes`` counts, in one grouped query, the cases of every (district, category) in
the last ``window_days`` local days (today so far included) and in the ``baseline_days``
before them; the baseline is the mean per window of that length. A pair is *far above*
when all three hold (``docs/REPORTS.md``, "Hot spots and early warning", has the reasons and
a worked example):

- ``count >= MIN_COUNT`` (5): fewer cases are not something anyone can act on;
- ``count >= mean + 3·sqrt(max(mean, 1))``: a Poisson z-score of at least 3 (the floor of
  1 keeps a quiet category from alarming on two or three cases);
- ``count >= 2·mean``: busy categories vary more than Poisson says (weather, weekdays), so
  they must at least double.

Each spike is written once as a ``HotspotAlert`` (unique per district, category and last
day: a second sweep, or two sweeping processes at once, add nothing) and told to the
supervisors (``hotspot_alert``: inbox, e-mail and SMS as each chose). While an alert's
window still overlaps the current one, the pair is not alerted again. Alerts are
acknowledged with a note by the city's readers (``acknowledge``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from cases.models import Case, Category
from cases.reports.models import HotspotAlert
from cases.reports.scope import may_read_city
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import District, User

log = logging.getLogger(__name__)

WINDOW_DAYS = 3
BASELINE_DAYS = 28
MIN_COUNT = 5
Z_SCORE = 3.0
MIN_RATIO = 2.0
MAX_NOTE = 2000


@dataclass(frozen=True)
class Spike:
    district_id: int
    category_id: int
    count: int
    baseline: float  # the mean count per window over the baseline days
    threshold: float  # the count it had to reach


def threshold(baseline: float) -> float:
    """The count a window must reach to be far above a baseline of ``baseline`` per window."""
    z_rule = baseline + Z_SCORE * math.sqrt(max(baseline, 1.0))
    return max(float(MIN_COUNT), z_rule, MIN_RATIO * baseline)


def _local_day(value: datetime) -> date:
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, ZoneInfo(current_app.config["TIMEZONE"]))


def find_spikes(now: datetime, window_days: int = WINDOW_DAYS,
                baseline_days: int = BASELINE_DAYS) -> tuple[date, date, list[Spike]]:
    """The window's first and last local day and the pairs far above their baseline.

    One grouped query over the window and its baseline. No judgement before the portal
    holds cases older than the baseline's start: a new portal (or one that imported only
    recent cases) would otherwise see every busy category as a spike.
    """
    last = _local_day(now)
    first = last - timedelta(days=window_days - 1)
    window_start = _day_start(first)
    baseline_start = _day_start(first - timedelta(days=baseline_days))
    oldest = db.session.scalar(select(func.min(Case.created_at)))
    if oldest is None or oldest >= baseline_start:
        return first, last, []
    in_window = func.sum(case((Case.created_at >= window_start, 1), else_=0))
    in_baseline = func.sum(case((Case.created_at < window_start, 1), else_=0))
    rows = db.session.execute(
        select(Case.district_id, Case.category_id, in_window.label("count"),
               in_baseline.label("before"))
        .where(Case.created_at >= baseline_start, Case.created_at <= now)
        .group_by(Case.district_id, Case.category_id)
        .having(in_window >= MIN_COUNT)
    )
    spikes = []
    for row in rows:
        mean = int(row.before or 0) * window_days / baseline_days
        needed = threshold(mean)
        if row.count >= needed:
            spikes.append(Spike(row.district_id, row.category_id, int(row.count),
                                round(mean, 2), round(needed, 2)))
    return first, last, spikes


def detect_spikes(now: datetime | None = None, window_days: int = WINDOW_DAYS,
                  baseline_days: int = BASELINE_DAYS) -> list[HotspotAlert]:
    """Write an alert for each new spike and tell the supervisors; the alerts written.

    Idempotent: a pair already alerted for a window overlapping this one is skipped, and
    the unique (district, category, last day) row settles a race between two processes
    (the loser's savepoint rolls back; it tells nobody). Flushes, never commits.
    """
    now = now or utcnow()
    first, last, spikes = find_spikes(now, window_days, baseline_days)
    if not spikes:
        return []
    recent = set(db.session.execute(
        select(HotspotAlert.district_id, HotspotAlert.category_id)
        .where(HotspotAlert.window_end >= first)
    ).tuples())
    written = []
    for spike in spikes:
        if (spike.district_id, spike.category_id) in recent:
            continue
        alert = HotspotAlert(
            district_id=spike.district_id, category_id=spike.category_id,
            window_start=first, window_end=last, count=spike.count,
            baseline=spike.baseline, threshold=spike.threshold, detected_at=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(alert)
        except IntegrityError:  # another process wrote it a moment ago: it tells
            continue
        tell_supervisors(alert)
        written.append(alert)
    if written:
        log.info("hot spots: %d new alerts", len(written))
    return written


def tell_supervisors(alert: HotspotAlert) -> None:
    """The ``hotspot_alert`` message to the supervisors (the admins when there are none)."""
    # Imported here: the cases room's notifications are not needed to read figures.
    from cases.notifications import notify_staff
    from cases.staff_recipients import hotspot_watchers
    from portal.notifications.services import absolute_url

    district = db.session.get(District, alert.district_id)
    category = db.session.get(Category, alert.category_id)
    values = {
        "count": str(alert.count),
        "baseline": f"{alert.baseline:.1f}",
        "alerts_url": absolute_url("reports.alerts", "/reports/alerts"),
    }

    def localised(locale: str) -> dict[str, str]:
        english = locale == "en"
        joiner = " to " if english else " 至 "
        return {
            "district": _name(district, english),
            "category": _name(category, english),
            "window": f"{alert.window_start.isoformat()}{joiner}{alert.window_end.isoformat()}",
        }

    notify_staff(None, "hotspot_alert", hotspot_watchers(), None, values, localised)


def _name(row, english: bool) -> str:
    if row is None:
        return ""
    return row.name_en if english and row.name_en else row.name_zh


# --- reading and acknowledging ---------------------------------------------------------


# What an alert's line shows, loaded with the alerts (not a query per alert).
_LOADED = (
    selectinload(HotspotAlert.district),
    selectinload(HotspotAlert.category),
    selectinload(HotspotAlert.acknowledged_by),
)


def may_acknowledge(user: User) -> bool:
    """Supervisors, officials and admins (the city's readers) acknowledge alerts."""
    return may_read_city(user)


def open_alerts(user: User, limit: int = 20) -> list[HotspotAlert]:
    """The unacknowledged alerts, newest first (none for those who may not read them)."""
    if not may_read_city(user):
        return []
    return list(db.session.scalars(
        select(HotspotAlert)
        .options(*_LOADED)
        .where(HotspotAlert.acknowledged_at.is_(None))
        .order_by(HotspotAlert.detected_at.desc(), HotspotAlert.id.desc())
        .limit(limit)
    ))


def all_alerts():
    """Every alert, the unacknowledged first, then newest first (a query to paginate)."""
    return select(HotspotAlert).options(*_LOADED).order_by(
        HotspotAlert.acknowledged_at.is_not(None),
        HotspotAlert.detected_at.desc(),
        HotspotAlert.id.desc(),
    )


class AlreadyAcknowledged(DomainError):
    """Someone acknowledged the alert first (the view answers 409)."""


def acknowledge(alert: HotspotAlert, user: User, note: str | None) -> HotspotAlert:
    """Acknowledge ``alert`` with ``note``; a conditional UPDATE, so of two people at once
    one wins and the other is refused. Flushes, never commits."""
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Say what is being done about it."), field="note")
    if len(note) > MAX_NOTE:
        raise DomainError(_("The note is too long."), field="note")
    changed = db.session.execute(
        update(HotspotAlert)
        .where(and_(HotspotAlert.id == alert.id, HotspotAlert.acknowledged_at.is_(None)))
        .values(acknowledged_at=utcnow(), acknowledged_by_id=user.id, note=note)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(alert)
    if changed != 1:
        raise AlreadyAcknowledged(_("Someone else acknowledged this alert meanwhile."))
    return alert
