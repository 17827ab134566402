"""Whether confident suggestions route a case by themselves, and from which score: the one
settings row admins keep (``/admin/intake/settings``). Made with the defaults on first use
(tests empty the table)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from cases.smart_intake.models import IntakeSettings
from portal.admin.audit import add_action_label, add_field_label, changes, record_action
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import User

THRESHOLD_MIN = 0.5
THRESHOLD_MAX = 1.0

add_action_label("intake_settings.update", _l("Changed the smart intake settings"))
add_field_label("auto_route", _l("Route confident suggestions automatically"))
add_field_label("auto_route_threshold", _l("Auto-routing threshold"))


def _defaults() -> IntakeSettings:
    return IntakeSettings(id=1, auto_route=False, auto_route_threshold=0.9, retrain_every_days=7)


def intake_settings() -> IntakeSettings:
    """The settings as they stand, to read: the row, or the defaults (not stored, so a
    page that reads them writes nothing)."""
    return db.session.get(IntakeSettings, 1) or _defaults()


def _settings_row() -> IntakeSettings:
    """The settings row, made with the defaults when missing."""
    found = db.session.get(IntakeSettings, 1)
    if found is None:
        try:
            with db.session.begin_nested():  # two processes at once: one row, no error
                db.session.add(_defaults())
        except IntegrityError:
            pass
        found = db.session.get(IntakeSettings, 1)
    return found


def update_intake_settings(auto_route: bool, threshold: float | None,
                           admin: User) -> IntakeSettings:
    """Save auto-routing on or off and its threshold (0.5 to 1.0); an admin action."""
    if threshold is None or not THRESHOLD_MIN <= threshold <= THRESHOLD_MAX:
        raise DomainError(
            _("Give a threshold from %(min).2f to %(max).2f.", min=THRESHOLD_MIN,
              max=THRESHOLD_MAX),
            field="auto_route_threshold",
        )
    settings = _settings_row()
    before = {"auto_route": settings.auto_route,
              "auto_route_threshold": settings.auto_route_threshold}
    after = {"auto_route": bool(auto_route), "auto_route_threshold": round(float(threshold), 3)}
    settings.auto_route = after["auto_route"]
    settings.auto_route_threshold = after["auto_route_threshold"]
    settings.updated_by_id = admin.id
    settings.updated_at = utcnow()
    changed = changes(before, after)
    if changed:
        record_action("intake_settings.update", settings, changed, actor=admin,
                      target_type="intake_settings")
    db.session.flush()
    return settings
