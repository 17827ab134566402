"""The deployment's rating rules (one row) and the rated dimensions.

The migration seeds both; an emptied database (tests) gets the defaults back on first use.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from cases.calendar import load_calendar
from cases.models import TimeUnit
from cases.satisfaction.models import RatingDimension, SatisfactionSettings
from portal.db import db

DEFAULT_DIMENSIONS = (
    ("speed", "办理速度", "Speed"),
    ("attitude", "服务态度", "Attitude"),
    ("competence", "业务能力", "Competence"),
)


def current_settings() -> SatisfactionSettings:
    """The settings row (made with the defaults when missing)."""
    found = db.session.get(SatisfactionSettings, 1)
    if found is None:
        try:
            with db.session.begin_nested():  # two processes at once: one row, no error
                db.session.add(SatisfactionSettings(id=1, default_level=3))
        except IntegrityError:
            pass
        found = db.session.get(SatisfactionSettings, 1)
    return found


def all_dimensions() -> list[RatingDimension]:
    """Every dimension, active or not, in their order (the defaults when there are none)."""
    rows = list(db.session.scalars(
        select(RatingDimension).order_by(RatingDimension.position, RatingDimension.id)
    ))
    if not rows and not db.session.scalar(select(func.count()).select_from(RatingDimension)):
        try:
            with db.session.begin_nested():  # another process may seed them at once
                db.session.add_all([
                    RatingDimension(key=key, name_zh=zh, name_en=en, position=i)
                    for i, (key, zh, en) in enumerate(DEFAULT_DIMENSIONS, start=1)
                ])
        except IntegrityError:
            pass
        rows = list(db.session.scalars(
            select(RatingDimension).order_by(RatingDimension.position, RatingDimension.id)
        ))
    return rows


def active_dimensions() -> list[RatingDimension]:
    """The dimensions the rating form asks, in order."""
    return [d for d in all_dimensions() if d.is_active]


def after_days(start: datetime, days: int, working: bool) -> datetime:
    """``days`` natural days after ``start``, or ``days`` working days on the calendar."""
    if working:
        return load_calendar().add(start, days, TimeUnit.DAYS)
    return start + timedelta(days=days)


def default_moment(answered_at: datetime, settings: SatisfactionSettings) -> datetime:
    """When an answer given at ``answered_at`` stops waiting for a rating."""
    return after_days(answered_at, settings.default_after_days, settings.default_working_days)
