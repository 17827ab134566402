"""Admins change the rating rules and the rated dimensions; each change is recorded.

The forms check each value's range; the rules that tie values together, and the ones
about dimensions (a key is a form field's name, forever; a dimension with ratings is
never deleted), are decided here. Every change is an admin action (``record_action``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, func, select

from cases.satisfaction.models import Rating, RatingDimension, SatisfactionSettings
from cases.satisfaction.settings import all_dimensions, current_settings
from portal.admin.audit import add_action_label, add_field_label, changes, record_action
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.forms import PortalForm
from portal.models import User

KEY_RE = re.compile(r"[a-z][a-z0-9_]{1,39}")
# The rating form's own fields: a dimension may not take their names.
RESERVED_KEYS = frozenset({"level", "solved", "comment", "rating", "csrf_token", "submit", "note"})

for _action, _label in (
    ("satisfaction_settings.update", _l("Changed the rating rules")),
    ("rating_dimension.create", _l("Added a rated aspect")),
    ("rating_dimension.update", _l("Changed a rated aspect")),
    ("rating_dimension.delete", _l("Deleted a rated aspect")),
):
    add_action_label(_action, _label)
for _key, _label in (
    ("remind_after_days", _l("Reminder after (days)")),
    ("default_after_days", _l("Default rating after (days)")),
    ("default_working_days", _l("Counted in working days")),
    ("default_level", _l("Default level")),
    ("link_valid_days", _l("Link valid for (days)")),
    ("verify_working_days", _l("Days to verify a bad review")),
    ("rectify_working_days", _l("Days to rectify")),
    ("key", _l("Key")),
):
    add_field_label(_key, _label)


class SettingsRefused(DomainError):
    """The change breaks a rule; nothing changed."""


@dataclass
class RulesData:
    remind_after_days: int
    default_after_days: int
    default_working_days: bool
    default_level: int | None
    link_valid_days: int
    verify_working_days: int
    rectify_working_days: int


def rules_of(settings: SatisfactionSettings) -> RulesData:
    return RulesData(**{name: getattr(settings, name) for name in RulesData.__dataclass_fields__})


def update_rules(data: RulesData, admin: User) -> SatisfactionSettings:
    """Save the rating rules (answers asked from now on follow them)."""
    if data.remind_after_days and data.remind_after_days >= data.default_after_days:
        raise SettingsRefused(
            _("The reminder must go out before the rating period ends."),
            field="remind_after_days",
        )
    if not data.default_working_days and data.link_valid_days < data.default_after_days:
        raise SettingsRefused(
            _("The link must stay valid at least until the rating period ends."),
            field="link_valid_days",
        )
    settings = current_settings()
    before = asdict(rules_of(settings))
    for name, value in asdict(data).items():
        setattr(settings, name, value)
    settings.updated_by_id = admin.id
    settings.updated_at = utcnow()
    changed = changes(before, asdict(data))
    if changed:
        record_action("satisfaction_settings.update", settings, changed, actor=admin)
    db.session.flush()
    return settings


@dataclass
class DimensionData:
    name_zh: str
    name_en: str
    position: int
    is_active: bool = True


def _check_names(data: DimensionData, current_id: int | None) -> None:
    taken = db.session.scalar(
        select(RatingDimension.id).where(
            RatingDimension.name_zh == data.name_zh, RatingDimension.id != (current_id or 0)
        )
    )
    if taken:
        raise SettingsRefused(_("Another aspect has this name."), field="name_zh")


def add_dimension(key: str, data: DimensionData, admin: User) -> RatingDimension:
    """A new aspect on the rating form; ``key`` names its field and never changes."""
    all_dimensions()  # the defaults first, so a new one never hides them
    key = (key or "").strip().lower()
    if not KEY_RE.fullmatch(key) or key in RESERVED_KEYS or hasattr(PortalForm, key):
        raise SettingsRefused(
            _("Use 2 to 40 lower-case letters, digits or _, starting with a letter "
              "(not level, solved or comment)."),
            field="key",
        )
    if db.session.scalar(select(RatingDimension.id).where(RatingDimension.key == key)):
        raise SettingsRefused(_("This key is taken."), field="key")
    _check_names(data, None)
    dimension = RatingDimension(key=key, **asdict(data))
    db.session.add(dimension)
    db.session.flush()
    record_action("rating_dimension.create", dimension, {"key": key, **asdict(data)},
                  actor=admin)
    return dimension


def update_dimension(dimension: RatingDimension, data: DimensionData, admin: User
                     ) -> RatingDimension:
    """Rename, reorder, deactivate or reactivate an aspect (its key and ratings stay)."""
    _check_names(data, dimension.id)
    before = {name: getattr(dimension, name) for name in asdict(data)}
    for name, value in asdict(data).items():
        setattr(dimension, name, value)
    changed = changes(before, asdict(data))
    if changed:
        record_action("rating_dimension.update", dimension, {"key": dimension.key, **changed},
                      actor=admin)
    db.session.flush()
    return dimension


def dimension_in_use(key: str) -> bool:
    """Whether any rating rated this aspect (the JSON holds ``"key": n``)."""
    found = db.session.scalar(
        select(func.count())
        .select_from(Rating)
        .where(cast(Rating.dimensions, String).like(f'%"{key}"%'))
    )
    return bool(found)


def delete_dimension(dimension: RatingDimension, admin: User) -> None:
    """Delete an aspect nobody rated yet; one with ratings is deactivated instead."""
    if dimension_in_use(dimension.key):
        raise SettingsRefused(
            _("Ratings use this aspect: deactivate it instead, so they keep their meaning.")
        )
    record_action("rating_dimension.delete", dimension, {"key": dimension.key}, actor=admin)
    db.session.delete(dimension)
    db.session.flush()
