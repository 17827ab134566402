"""What the search page asks the engine, and what it shows of the answer.

``case_request`` / ``client_request`` turn the query string into a ``SearchRequest`` for
the signed-in user: their access keys (``cases.visibility.viewer_case_keys``,
``citizens.visibility.viewer_client_keys``), the fields they may search (a client never
searches internal notes), the filters, the sort and the page. ``load_cases`` /
``load_clients`` read the hits' rows in ranked order, through the rooms' SQL visibility
rules once more, so a page never shows a row the database would not (an index a moment
behind the database cannot widen what a user sees).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cases.models import Case, CaseStatus, CaseType, Category, Channel
from cases.visibility import viewer_case_keys, visible_cases
from citizens.models import Client, ClientKind
from citizens.visibility import viewer_client_keys, visible_clients
from portal.db import db
from portal.models import User
from portal.params import parse_int
from portal.permissions import can_see_internal
from search.engine.types import FilterValue, Hit, SearchRequest
from search.sources import cases as case_source
from search.sources import clients as client_source

MAX_QUERY = 200
PER_PAGE = 20
MAX_PER_PAGE = 100
SORTS = ("relevance", "newest", "oldest")
CASE_FACETS = ("status", "type", "channel", "category_id", "department_id", "district_id",
               "overdue")
CLIENT_FACETS = ("kind", "district_id")
# Query-string name -> (document filter field, allowed values or int for ids).
CASE_FILTERS: dict[str, tuple[str, frozenset[str] | type[int]]] = {
    "status": ("status", frozenset(s.value for s in CaseStatus)),
    "type": ("type", frozenset(t.value for t in CaseType)),
    "channel": ("channel", frozenset(c.value for c in Channel)),
    "category": ("category_id", int),
    "department": ("department_id", int),
    "district": ("district_id", int),
}
CLIENT_FILTERS: dict[str, tuple[str, frozenset[str] | type[int]]] = {
    "kind": ("kind", frozenset(k.value for k in ClientKind)),
    "district": ("district_id", int),
}
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MARK = re.compile(r"</?mark>")


class BadFilter(ValueError):
    """A filter value the page cannot read (a malformed date): a 400 with a message."""


@dataclass(frozen=True)
class Choices:
    """What the user asked for, parsed (echoed back into the form and the links)."""

    q: str = ""
    sort: str = "relevance"
    page: int = 1
    per_page: int = PER_PAGE
    filters: Mapping[str, tuple[FilterValue, ...]] = field(default_factory=dict)
    selected: Mapping[str, list[str]] = field(default_factory=dict)  # query-string values
    date_from: str = ""
    date_to: str = ""
    overdue: bool = False


def _values(args: Mapping, name: str, allowed: frozenset[str] | type[int]) -> list[FilterValue]:
    raw = [v.strip() for v in args.getlist(name) if v.strip()]
    if allowed is int:
        numbers = (parse_int(v, minimum=1) for v in raw)
        return list(dict.fromkeys(n for n in numbers if n is not None))
    return list(dict.fromkeys(v for v in raw if v in allowed))  # type: ignore[operator]


def local_day_start(day: date) -> datetime:
    """Midnight of ``day`` in the portal's time zone, as UTC (what the index stores)."""
    zone = ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai"))
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def parse_day(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        if not DATE_RE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError as exc:
        raise BadFilter(value) from exc


def parse_choices(
    args: Mapping, filters: Mapping, page: int, per_page: int | None, *, with_overdue: bool
) -> Choices:
    """The page's choices from the query string (``BadFilter`` for a malformed date)."""
    q = " ".join(args.get("q", "").split())[:MAX_QUERY]
    sort = args.get("sort", "")
    if sort not in SORTS:
        sort = "relevance" if q else "newest"
    chosen: dict[str, tuple[FilterValue, ...]] = {}
    selected: dict[str, list[str]] = {}
    for name, (target, allowed) in filters.items():
        values = _values(args, name, allowed)
        if values:
            chosen[target] = tuple(values)
            selected[name] = [str(v) for v in values]
    overdue = with_overdue and args.get("overdue") == "1"
    if overdue:
        chosen["overdue"] = ("yes",)
    date_from, date_to = args.get("from", "").strip(), args.get("to", "").strip()
    parse_day(date_from), parse_day(date_to)  # noqa: B018  (raises BadFilter if malformed)
    return Choices(
        q=q, sort=sort, page=page,
        per_page=min(max(per_page or PER_PAGE, 1), MAX_PER_PAGE),
        filters=chosen, selected=selected, date_from=date_from, date_to=date_to,
        overdue=overdue,
    )


def date_range(choices: Choices) -> tuple[datetime | None, datetime | None] | None:
    start, end = parse_day(choices.date_from), parse_day(choices.date_to)
    if start is None and end is None:
        return None
    return (
        local_day_start(start) if start else None,
        local_day_start(end + timedelta(days=1)) if end else None,  # the whole last day
    )


def case_fields(user: User) -> tuple[str, ...]:
    """The text fields ``user`` searches: internal notes for staff only."""
    if can_see_internal(user):
        return case_source.TEXT_FIELDS
    return case_source.PUBLIC_FIELDS


def case_request(user: User, choices: Choices) -> SearchRequest:
    fields = case_fields(user)
    dates = date_range(choices)
    return SearchRequest(
        kind=case_source.KIND,
        query=choices.q,
        access=viewer_case_keys(user),
        fields=fields,
        filters=dict(choices.filters),
        date_ranges={"created_at": dates} if dates else {},
        sort=choices.sort,
        page=choices.page,
        per_page=choices.per_page,
        facets=CASE_FACETS,
        highlight=tuple(f for f in ("title", "body", "replies", "notes") if f in fields),
    )


def client_request(user: User, choices: Choices) -> SearchRequest:
    dates = date_range(choices)
    return SearchRequest(
        kind=client_source.KIND,
        query=choices.q,  # a whole phone or ID number matches its keyed hash (exact_forms)
        access=viewer_client_keys(user),
        fields=client_source.TEXT_FIELDS,
        filters=dict(choices.filters),
        date_ranges={"created_at": dates} if dates else {},
        sort=choices.sort,
        page=choices.page,
        per_page=choices.per_page,
        facets=CLIENT_FACETS,
        highlight=("name", "tags"),
    )


def safe_snippet(html: str) -> Markup:
    """The engine's snippet as markup if it is escaped text with ``<mark>`` only; anything
    else is escaped whole (a backend bug must not become a script on the page)."""
    if "<" in _MARK.sub("", html):
        return escape(html)
    return Markup(html)  # noqa: S704  (checked above: escaped text and <mark> only)


@dataclass(frozen=True)
class Row:
    """One result: the loaded row and its highlighted snippets (field -> markup)."""

    item: object
    highlights: dict[str, Markup]


def _rows(hits: list[Hit], loaded: Mapping[int, object]) -> list[Row]:
    return [
        Row(loaded[hit.id], {k: safe_snippet(v) for k, v in hit.highlights.items()})
        for hit in hits
        if hit.id in loaded
    ]


def load_cases(user: User, hits: list[Hit]) -> list[Row]:
    """The hits' cases, in the engine's order, that ``user`` may see (per the database)."""
    ids = [hit.id for hit in hits]
    if not ids:
        return []
    stmt = (
        select(Case)
        .where(Case.id.in_(ids), visible_cases(user))
        .options(
            selectinload(Case.category).selectinload(Category.parent),
            selectinload(Case.department),
            selectinload(Case.district),
        )
    )
    return _rows(hits, {case.id: case for case in db.session.scalars(stmt)})


def load_clients(user: User, hits: list[Hit]) -> list[Row]:
    """The hits' client records, in order, that ``user`` may open (per the database)."""
    ids = [hit.id for hit in hits]
    if not ids:
        return []
    stmt = (
        select(Client)
        .where(Client.id.in_(ids), visible_clients(user), Client.anonymised_at.is_(None),
               Client.merged_into_id.is_(None))
        .options(selectinload(Client.tags), selectinload(Client.district))
    )
    return _rows(hits, {client.id: client for client in db.session.scalars(stmt)})
