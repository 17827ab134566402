"""How 三率 and the composite score are counted: the one settings row admins keep.

The migration seeds it; an emptied database (tests) gets the defaults back on first use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from cases.reports.models import ReportSettings
from portal.admin.audit import add_action_label, add_field_label, changes, record_action
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import User

SATISFIED_LEVELS = (3, 4, 5)  # 基本满意, 满意, 非常满意


def report_settings() -> ReportSettings:
    """The settings row (made with the defaults when missing)."""
    found = db.session.get(ReportSettings, 1)
    if found is None:
        try:
            with db.session.begin_nested():  # two processes at once: one row, no error
                db.session.add(ReportSettings(
                    id=1, weight_response=30, weight_resolution=35, weight_satisfaction=35,
                    satisfied_from_level=3, partly_counts_as_solved=False,
                    count_defaulted=True,
                ))
        except IntegrityError:
            pass
        found = db.session.get(ReportSettings, 1)
    return found


def weights(settings: ReportSettings) -> dict[str, int]:
    """The composite's weights by rate (they sum to 100)."""
    return {
        "response": settings.weight_response,
        "resolution": settings.weight_resolution,
        "satisfaction": settings.weight_satisfaction,
    }


# --- admins change them --------------------------------------------------------------

for _action, _label in (("report_settings.update", _l("Changed how the ranking is counted")),):
    add_action_label(_action, _label)
for _key, _label in (
    ("weight_response", _l("Weight of the response rate")),
    ("weight_resolution", _l("Weight of the resolution rate")),
    ("weight_satisfaction", _l("Weight of the satisfaction rate")),
    ("satisfied_from_level", _l("Satisfied from level")),
    ("partly_counts_as_solved", _l("Partly solved counts as solved")),
    ("count_defaulted", _l("Defaulted ratings count")),
):
    add_field_label(_key, _label)


class ReportSettingsRefused(DomainError):
    """The change breaks a rule; nothing changed."""


@dataclass
class RankingRules:
    weight_response: int
    weight_resolution: int
    weight_satisfaction: int
    satisfied_from_level: int
    partly_counts_as_solved: bool
    count_defaulted: bool


def rules_of(settings: ReportSettings) -> RankingRules:
    return RankingRules(**{name: getattr(settings, name)
                           for name in RankingRules.__dataclass_fields__})


def update_report_settings(data: RankingRules, admin: User) -> ReportSettings:
    """Save how 三率 and the composite are counted (every report from now on reads them);
    the weights must add up to 100."""
    weights_given = (data.weight_response, data.weight_resolution, data.weight_satisfaction)
    if any(w < 0 or w > 100 for w in weights_given) or sum(weights_given) != 100:
        raise ReportSettingsRefused(
            _("The three weights must each be 0 to 100 and add up to 100 (now %(sum)d).",
              sum=sum(weights_given)),
            field="weight_response",
        )
    if data.satisfied_from_level not in SATISFIED_LEVELS:
        raise ReportSettingsRefused(_("Choose level 3, 4 or 5."), field="satisfied_from_level")
    settings = report_settings()
    before = asdict(rules_of(settings))
    for name, value in asdict(data).items():
        setattr(settings, name, value)
    settings.updated_by_id = admin.id
    settings.updated_at = utcnow()
    changed = changes(before, asdict(data))
    if changed:
        record_action("report_settings.update", settings, changed, actor=admin)
        from cases.reports.stats_store import mark_public_stats_stale  # it reads these rules

        mark_public_stats_stale()
    db.session.flush()
    return settings
