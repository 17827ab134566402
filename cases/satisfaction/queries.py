"""Reading ratings: the list ``/ratings`` with its figures, and one client's ratings.

Every query is scoped by ``visibility.visible_ratings``; the client's list also leaves
out anonymous tip-offs whose reporter the reader may not know (``reporter_shown``), as
the client pages do with the cases themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import joinedload

from cases.models import Case
from cases.satisfaction.models import Rating
from cases.satisfaction.visibility import visible_ratings
from cases.satisfaction.vocabulary import (
    BAD_LEVELS,
    SATISFIED_LEVELS,
    RatingSource,
    RatingStatus,
    Solved,
)
from cases.visibility import Reach, reach, reporter_shown
from portal.db import db
from portal.models import User
from portal.pagination import MAX_PER_PAGE, Page
from portal.permissions import is_signed_in

# A given or defaulted rating (the list never shows one still waiting).
SHOWN = (RatingStatus.RATED, RatingStatus.DEFAULTED)


def may_list_ratings(user: User) -> bool:
    """Staff who read ratings: a department its own, the city-wide roles all."""
    return (
        is_signed_in(user)
        and not user.role.is_client
        and reach(user) in (Reach.DEPARTMENT, Reach.CITY)
    )


def sees_all_departments(user: User) -> bool:
    """The city-wide roles read every department's ratings (and filter by department)."""
    return reach(user) is Reach.CITY


@dataclass(frozen=True)
class RatingFilter:
    """The list's filters, each None when not asked."""

    department_id: int | None = None
    level: int | None = None
    bad_only: bool = False
    solved: Solved | None = None
    source: RatingSource | None = None
    since: date | None = None
    until: date | None = None  # inclusive


def rated_on() -> ColumnElement[datetime]:
    """When the rating was given, or when the default applied."""
    return func.coalesce(Rating.rated_at, Rating.default_at)


def _day_start(day: date) -> datetime:
    """Midnight of ``day`` in the portal's time zone, as stored (UTC)."""
    zone = ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai"))
    return datetime.combine(day, time(), zone).astimezone(ZoneInfo("UTC"))


def _conditions(user: User, filters: RatingFilter) -> list[ColumnElement[bool]]:
    where = [visible_ratings(user), Rating.status.in_(SHOWN), Rating.level.is_not(None)]
    if filters.department_id is not None:
        where.append(Rating.department_id == filters.department_id)
    if filters.level is not None:
        where.append(Rating.level == filters.level)
    if filters.bad_only:
        where.append(Rating.level.in_(BAD_LEVELS))
    if filters.solved is not None:
        where.append(Rating.solved == filters.solved)
    if filters.source is not None:
        where.append(Rating.source == filters.source)
    if filters.since is not None:
        where.append(rated_on() >= _day_start(filters.since))
    if filters.until is not None:
        where.append(rated_on() < _day_start(filters.until + timedelta(days=1)))
    return where


def ratings_query(user: User, filters: RatingFilter) -> Select:
    """The ratings ``user`` may read, newest first, with their case and department."""
    return (
        select(Rating)
        .where(*_conditions(user, filters))
        .options(
            joinedload(Rating.case),
            joinedload(Rating.department),
            joinedload(Rating.recorded_by),
        )
        .order_by(rated_on().desc(), Rating.id.desc())
    )


@dataclass(frozen=True)
class RatingFigures:
    """The list's figures. ``counted`` leaves out set-aside ratings; the rate counts 基本满意
    or better, once with defaulted ratings and once with the clients' own only."""

    rated: int
    defaulted: int
    set_aside: int
    bad: int
    counted: int
    satisfied: int
    counted_given: int
    satisfied_given: int

    @property
    def rate(self) -> float | None:
        return self.satisfied / self.counted if self.counted else None

    @property
    def rate_given(self) -> float | None:
        return self.satisfied_given / self.counted_given if self.counted_given else None


def ratings_figures(user: User, filters: RatingFilter) -> RatingFigures:
    """The figures of the filtered list, in one query."""
    counts = Rating.set_aside.is_(False)
    given = Rating.status == RatingStatus.RATED
    satisfied = Rating.level.in_(SATISFIED_LEVELS)

    def tally(*when: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((and_(*when), 1), else_=0)), 0)

    row = db.session.execute(
        select(
            tally(given),
            tally(Rating.status == RatingStatus.DEFAULTED),
            tally(Rating.set_aside.is_(True)),
            tally(counts, Rating.level.in_(BAD_LEVELS)),
            tally(counts),
            tally(counts, satisfied),
            tally(counts, given),
            tally(counts, given, satisfied),
        ).where(*_conditions(user, filters))
    ).one()
    return RatingFigures(*(int(value) for value in row))


def client_ratings_query(client_id: int, user: User) -> Select:
    """A client's ratings across departments as ``user`` may read them, newest first."""
    return (
        select(Rating)
        .join(Case, Case.id == Rating.case_id)
        .where(
            Rating.client_id == client_id,
            Rating.status.in_(SHOWN),
            visible_ratings(user),
            reporter_shown(user),
        )
        .options(joinedload(Rating.case), joinedload(Rating.department))
        .order_by(rated_on().desc(), Rating.id.desc())
    )


def client_ratings_page(client_id: int, user: User, page: int, per_page: int) -> Page[Rating]:
    """One page of ``client_ratings_query`` in one statement (the total rides along as a
    window count), so the 360° page costs one statement for its ratings."""
    page = max(page, 1)
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    stmt = client_ratings_query(client_id, user).add_columns(func.count().over())
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    if rows:
        total = rows[0][1]
    elif page == 1:
        total = 0
    else:  # beyond the last page: counted the usual way
        total = db.session.scalar(
            select(func.count()).select_from(client_ratings_query(client_id, user)
                                              .order_by(None).subquery())
        ) or 0
    return Page([row[0] for row in rows], page, per_page, total)


def client_ratings_for_export(client_id: int) -> list[Rating]:
    """Every rating the client gave or that was given in their name (their data export)."""
    return list(db.session.scalars(
        select(Rating)
        .where(Rating.client_id == client_id, Rating.status.in_(SHOWN))
        .options(joinedload(Rating.case), joinedload(Rating.department))
        .order_by(Rating.requested_at, Rating.id)
    ))
