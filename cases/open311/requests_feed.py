"""Reading service requests: the standard's filters, the 90-day window, pages, and a case
as a ``request`` element.

Only *public matters* are served (``cases.visibility.public_matters``: complaints and
suggestions that are not anonymous): never a tip-off, an enquiry, a request for help or
praise, which concern a person. Of a public matter the feed says what ``cases.public``
lets the public read (number, state, title, category, dates) plus where it is, which
department leads it and when the running deadline falls; never who filed it or the
description they wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Row, Select, select
from sqlalchemy.orm import aliased

from cases.models import CASE_STATUS_LABELS, Case, CaseStatus, Category, TimeUnit
from cases.open311.formats import DAYS_90, Open311Error, parse_w3c, w3c, zone
from cases.open311.service_list import localised
from cases.open311.statuses import (
    CLOSED,
    OPEN,
    basic_status,
    closed_statuses,
    open_statuses,
    setting,
)
from cases.visibility import public_matters
from portal.db import db, utcnow
from portal.models import Department
from portal.params import parse_int

MAX_IDS = 1000


@dataclass(frozen=True)
class RequestFilter:
    """What a ``GET requests`` asks for, checked."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()
    page: int = 1
    page_size: int = 1000


def _list(value: str | None) -> tuple[str, ...]:
    items = [v.strip() for v in (value or "").split(",")]
    return tuple(dict.fromkeys(v for v in items if v))


def date_window(start_text: str | None, end_text: str | None,
                now: datetime | None = None) -> tuple[datetime, datetime]:
    """The standard's window: the most recent 90 days when neither date is given; 90 days
    from ``start_date`` or up to ``end_date`` when one is; never more than 90 days."""
    start = parse_w3c(start_text) if start_text else None
    end = parse_w3c(end_text) if end_text else None
    if start_text and start is None:
        raise Open311Error(400, _("start_date is not a W3C datetime (2010-01-01T00:00:00Z)."))
    if end_text and end is None:
        raise Open311Error(400, _("end_date is not a W3C datetime (2010-01-01T00:00:00Z)."))
    if start is None and end is None:
        end = now or utcnow()
    if start is None:
        start = end - DAYS_90
    if end is None:
        end = start + DAYS_90
    if start > end:
        raise Open311Error(400, _("start_date is after end_date."))
    if end - start > DAYS_90:
        raise Open311Error(400, _("start_date and end_date may not span more than 90 days."))
    return start, end


def parse_filter(args: Mapping[str, str]) -> RequestFilter:
    """The query string of ``GET requests``: a 400 error for what is not understood.

    ``service_request_id`` overrides every other filter, as the standard says.
    """
    limit = int(setting("OPEN311_MAX_REQUESTS"))
    page = parse_int(args.get("page") or "1", 1, 10**6)
    size = parse_int(args.get("page_size") or str(limit), 1, limit)
    if page is None:
        raise Open311Error(400, _("page is a whole number from 1."))
    if size is None:
        raise Open311Error(400, _("page_size is a whole number from 1 to %(max)d.", max=limit))
    ids = _list(args.get("service_request_id"))
    if len(ids) > MAX_IDS:
        raise Open311Error(400, _("At most %(max)d service_request_id values.", max=MAX_IDS))
    if ids:
        return RequestFilter(ids=ids, page=page, page_size=size)
    statuses = _list((args.get("status") or "").lower())
    if any(s not in (OPEN, CLOSED) for s in statuses):
        raise Open311Error(400, _("status is open, closed or both (comma-separated)."))
    start, end = date_window(args.get("start_date"), args.get("end_date"))
    return RequestFilter(
        service_codes=_list(args.get("service_code")),
        start=start, end=end, statuses=statuses, page=page, page_size=size,
    )


# --- the query: columns only, one statement ---------------------------------------------

Lead = aliased(Department)


def feed_columns() -> Select:
    """Every column a ``request`` element needs, from the case, its category and lead."""
    return (
        select(
            Case.id, Case.number, Case.status, Case.title, Case.created_at, Case.updated_at,
            Case.closed_at, Case.due_at, Case.address, Case.address_id, Case.latitude,
            Case.longitude, Category.code.label("service_code"),
            Category.name_zh.label("service_zh"), Category.name_en.label("service_en"),
            Category.reply_amount, Category.reply_unit,
            Lead.name_zh.label("lead_zh"), Lead.name_en.label("lead_en"),
        )
        .join(Category, Category.id == Case.category_id)
        .outerjoin(Lead, Lead.id == Case.department_id)
        .where(public_matters())
    )


def find_requests(query: RequestFilter) -> list[Row]:
    """The page of public matters the filter asks for, newest first."""
    stmt = feed_columns()
    if query.ids:
        stmt = stmt.where(Case.number.in_(query.ids))
    else:
        if query.service_codes:
            # The ids as values (not a subquery): the planner reads the category's cases
            # through its index instead of every case of the 90 days.
            category_ids = list(db.session.scalars(
                select(Category.id).where(Category.code.in_(query.service_codes))))
            if not category_ids:
                return []
            stmt = stmt.where(Case.category_id.in_(category_ids))
        stmt = stmt.where(Case.created_at >= query.start, Case.created_at <= query.end)
        if set(query.statuses) == {OPEN}:
            stmt = stmt.where(Case.status.in_(open_statuses()))
        elif set(query.statuses) == {CLOSED}:
            stmt = stmt.where(Case.status.in_(closed_statuses()))
    stmt = (
        stmt.order_by(Case.created_at.desc(), Case.id.desc())
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    )
    return db.session.connection().execute(stmt).all()  # Core: no ORM work per row


def find_request(number: str) -> Row | None:
    """One public matter by its number (a request id), or None."""
    if not number or len(number) > 20:
        return None
    return db.session.connection().execute(feed_columns().where(Case.number == number)).first()


# --- a case as a ``request`` element --------------------------------------------------------


def service_notice(row: Row | Category, locale: str) -> str:
    """What the client may expect: the category's time to reply (a feed row or a category
    has ``reply_amount`` and ``reply_unit``)."""
    with force_locale(locale):
        return _notice(row.reply_amount, row.reply_unit)


def _notice(amount: int, unit: TimeUnit) -> str:
    if unit == TimeUnit.HOURS:
        return _("A reply is due within %(num)d working hours.", num=amount)
    return _("A reply is due within %(num)d working days.", num=amount)


class Wording:
    """The feed's words in one language and time zone, each worded once per answer."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.tz = zone()
        self.statuses: dict[CaseStatus, str] = {}
        self.notices: dict[tuple[int, TimeUnit], str] = {}

    def status(self, status: CaseStatus) -> str:
        if status not in self.statuses:
            self.statuses[status] = str(CASE_STATUS_LABELS[status])
        return self.statuses[status]

    def notice(self, amount: int, unit: TimeUnit) -> str:
        if (amount, unit) not in self.notices:
            self.notices[amount, unit] = _notice(amount, unit)
        return self.notices[amount, unit]


def request_entries(rows: list[Row], locale: str) -> list[dict]:
    """The rows as ``request`` elements, worded in ``locale``."""
    wording = Wording(locale)
    with force_locale(locale):
        return [request_entry(row, wording) for row in rows]


def request_entry(row: Row, wording: Wording) -> dict:
    """The standard's ``request``: nothing of the person who filed it."""
    (_id, number, status, title, created, updated, closed, due, address, address_id, lat,
     lng, code, service_zh, service_en, amount, unit, lead_zh, lead_en) = row
    status = CaseStatus(status)
    locale, tz = wording.locale, wording.tz
    return {
        "service_request_id": number,
        "status": basic_status(status),
        "status_notes": wording.status(status),
        "service_name": localised(service_zh, service_en, locale),
        "service_code": code,
        "description": title,
        "agency_responsible": localised(lead_zh, lead_en, locale) if lead_zh else None,
        "service_notice": wording.notice(amount, TimeUnit(unit)),
        "requested_datetime": w3c(created, tz),
        "updated_datetime": w3c(closed if not status.is_open and closed else updated, tz),
        "expected_datetime": w3c(due, tz) if status.is_open else None,
        "address": address,
        "address_id": address_id,
        "zipcode": None,
        "lat": lat,
        "long": lng,
        "media_url": None,
    }
