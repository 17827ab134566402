"""Checking the rows of a case import against the portal's reference data, all in memory.

``Reference.load`` reads categories, departments, districts and the words of the
vocabularies once; ``check_rows`` turns every row into a ``Row`` (or a line and a reason)
with no query per row. A row's ``key`` hashes its normalised content: the same row in the
same or another file has the same key, which ``cases.import_key`` holds once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cases.catalogue.models import Category, TimeUnit
from cases.imports.words import enum_words, level_words
from cases.vocabulary import CaseStatus, CaseType, Channel
from citizens.identifiers import is_valid_resident_id, normalise_id
from portal.db import db, utcnow
from portal.models import Department, District
from portal.validators import PHONE_RE, normalise_phone

COLUMNS = ("title", "description", "category", "department", "district", "type", "channel",
           "filed_at", "closed_at", "status", "reply", "rating")
CLIENT_COLUMNS = ("name", "phone", "id_number")
REQUIRED = ("title", "description", "category")
OPEN_STATUSES = (CaseStatus.SUBMITTED, CaseStatus.ACCEPTED, CaseStatus.DISPATCHED,
                 CaseStatus.IN_PROGRESS, CaseStatus.WAITING)
WITH_DEPARTMENT = (CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS, CaseStatus.WAITING)
ANSWERED = (CaseStatus.REPLIED, CaseStatus.CLOSED)
IMPORTABLE = tuple(s for s in CaseStatus if s != CaseStatus.MERGED)
DEFAULT_TYPE, DEFAULT_CHANNEL, DEFAULT_STATUS = CaseType.COMPLAINT, Channel.PHONE, CaseStatus.CLOSED
MAX_TITLE = 200
MAX_DEPTH = 3


@dataclass
class Node:
    """A category as the import needs it (existing, or to be made)."""

    path: tuple[str, ...]
    id: int | None
    department_id: int | None
    sign: tuple[int, TimeUnit] = (4, TimeUnit.HOURS)
    reply: tuple[int, TimeUnit] = (10, TimeUnit.DAYS)


@dataclass
class Row:
    line: int
    key: str
    title: str
    description: str
    path: tuple[str, ...]
    department_id: int | None
    district_id: int | None  # None: the placeholder district
    type: CaseType
    channel: Channel
    status: CaseStatus
    filed_at: datetime
    closed_at: datetime | None
    reply: str | None
    rating: int | None
    client: tuple[str, str | None, str | None] | None  # (name, phone, id number)
    department_name: str = ""


@dataclass
class Reference:
    categories: dict[tuple[str, ...], Node]
    departments: dict[str, int]
    districts: dict[str, int]
    statuses: dict[str, CaseStatus]
    types: dict[str, CaseType]
    channels: dict[str, Channel]
    levels: dict[str, int]
    zone: ZoneInfo
    created: list[tuple[str, ...]] = field(default_factory=list)  # paths to make

    @classmethod
    def load(cls) -> Reference:
        rows = db.session.execute(select(
            Category.id, Category.parent_id, Category.name_zh, Category.department_id,
            Category.sign_amount, Category.sign_unit, Category.reply_amount, Category.reply_unit,
        )).all()
        by_id = {r.id: r for r in rows}
        categories: dict[tuple[str, ...], Node] = {}
        for r in rows:
            path, at, seen = [], r, set()
            while at is not None and at.id not in seen:
                seen.add(at.id)
                path.insert(0, at.name_zh.strip())
                at = by_id.get(at.parent_id)
            key = tuple(path)
            if key not in categories:  # two same-named siblings: the first one counts
                categories[key] = Node(key, r.id, r.department_id, (r.sign_amount, r.sign_unit),
                                       (r.reply_amount, r.reply_unit))
        return cls(
            categories=categories,
            departments=_names(Department),
            districts=_names(District),
            statuses=enum_words(CaseStatus, IMPORTABLE),
            types=enum_words(CaseType, tuple(CaseType)),
            channels=enum_words(Channel, tuple(Channel)),
            levels=level_words(),
            zone=ZoneInfo(current_app.config["TIMEZONE"]),
        )


def _names(model) -> dict[str, int]:
    found: dict[str, int] = {}
    for row in db.session.execute(select(model.id, model.code, model.name_zh, model.name_en)):
        for word in (row.code, row.name_zh, row.name_en):
            if word:
                found.setdefault(word.strip().lower(), row.id)
    return found


def split_path(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in str(text).split("/"))


def parse_moment(value: object, zone: ZoneInfo) -> datetime:
    """An ISO 8601 date or date and time; local (``zone``) when it names no zone; in UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        moment = datetime.fromisoformat(str(value).strip())  # ValueError when it is not
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


class RowError(ValueError):
    """One row's problem, already in the reader's language."""


def _word(table: dict, value: object, default, message: str):
    text = str(value or "").strip()
    if not text:
        return default
    found = table.get(text.lower())
    if found is None:
        raise RowError(str(message) % {"value": text})
    return found


def _client(cells: dict[str, object]) -> tuple[str, str | None, str | None] | None:
    name = str(cells.get("name") or "").strip()
    phone = normalise_phone(str(cells.get("phone") or "")) or None
    ident = normalise_id(str(cells.get("id_number") or "")) or None
    if phone and not PHONE_RE.match(phone):
        raise RowError(_("The phone number %(value)s is not valid.", value=phone))
    if ident and not is_valid_resident_id(ident):
        raise RowError(_("The ID number is not a valid resident ID number."))
    if not (name or phone or ident):
        return None
    return (name[:200] or (phone or ident or ""), phone, ident)


def check_row(line: int, cells: dict[str, object], ref: Reference, create: bool) -> Row:
    """One row as a ``Row``; ``RowError`` says what is wrong with it."""
    title = str(cells.get("title") or "").strip()
    description = str(cells.get("description") or "").strip()
    if not title:
        raise RowError(_("The title is empty."))
    if len(title) > MAX_TITLE:
        raise RowError(_("The title is longer than %(num)d characters.", num=MAX_TITLE))
    if not description:
        raise RowError(_("The description is empty."))
    path = split_path(cells.get("category") or "")
    if not path or any(not part for part in path) or len(path) > MAX_DEPTH:
        raise RowError(_("The category must be a path of one to three names separated by /."))
    department_name = str(cells.get("department") or "").strip()
    department_id = None
    if department_name:
        department_id = _word(ref.departments, department_name, None,
                              _l("There is no department named %(value)s."))
    node = ref.categories.get(path)
    if node is None and not create:
        raise RowError(_("There is no category %(path)s.", path="/".join(path)))
    district_id = _word(ref.districts, cells.get("district"), None,
                        _l("There is no district named %(value)s."))
    case_type = _word(ref.types, cells.get("type"), DEFAULT_TYPE,
                      _l("%(value)s is not a type of request."))
    channel = _word(ref.channels, cells.get("channel"), DEFAULT_CHANNEL,
                    _l("%(value)s is not a channel."))
    status = _word(ref.statuses, cells.get("status"), DEFAULT_STATUS,
                   _l("%(value)s is not a state a case can be imported in."))
    filed_at = _moment(cells.get("filed_at"), ref.zone, "filed_at") or utcnow()
    closed_at = _moment(cells.get("closed_at"), ref.zone, "closed_at")
    if closed_at is not None and closed_at < filed_at:
        raise RowError(_("closed_at is before filed_at."))
    if closed_at is not None and status in OPEN_STATUSES:
        raise RowError(_("closed_at is given but the case is still open."))
    reply = str(cells.get("reply") or "").strip() or None
    rating = _word(ref.levels, cells.get("rating"), None,
                   _l("%(value)s is not a rating (1 to 5, or a satisfaction level)."))
    if rating is not None and status not in ANSWERED:
        raise RowError(_("Only a replied or closed case can have a rating."))
    if department_id is None and node is not None:
        department_id = node.department_id
    if status in WITH_DEPARTMENT and department_id is None:
        raise RowError(_("A case in this state needs a department."))
    client = _client(cells)
    values = ("/".join(path), title, description, str(department_id or ""),
              str(district_id or ""), case_type.value, channel.value, filed_at.isoformat(),
              closed_at.isoformat() if closed_at else "", status.value, reply or "",
              str(rating or ""), *(client or ("", "", "")))
    key = hashlib.sha256("\x1f".join(str(v or "") for v in values).encode()).hexdigest()
    return Row(line, key, title, description, path, department_id, district_id, case_type,
               channel, status, filed_at, closed_at, reply, rating, client, department_name)


def _moment(value: object, zone: ZoneInfo, column: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return parse_moment(value, zone)
    except ValueError:
        raise RowError(_("%(column)s is not a date and time such as 2020-01-06 12:09:38.",
                         column=column)) from None


def check_rows(table_rows: list[tuple[int, dict[str, object]]], ref: Reference, create: bool,
               limit: int = 1000) -> tuple[list[Row], list[dict], int]:
    """The good rows, up to ``limit`` errors ``{"line", "reason"}``, and the error count."""
    good: list[Row] = []
    errors: list[dict] = []
    count = 0
    for line, cells in table_rows:
        try:
            row = check_row(line, cells, ref, create)
        except RowError as exc:
            count += 1
            if len(errors) < limit:
                errors.append({"line": line, "reason": str(exc)})
            continue
        good.append(row)
        if row.path not in ref.categories:  # made by --create-categories
            for depth in range(1, len(row.path) + 1):
                prefix = row.path[:depth]
                if prefix not in ref.categories:
                    ref.categories[prefix] = Node(prefix, None, row.department_id)
                    ref.created.append(prefix)
    return good, errors, count


def with_locale(locale: str | None):
    """``force_locale`` when a locale is named, else a no-op context."""
    from contextlib import nullcontext

    return force_locale(locale) if locale else nullcontext()
