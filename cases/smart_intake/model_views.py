"""Admin pages of the trained intake models (``/admin/intake/models``): every version with
its held-out figures and the baseline's, activate one (roll back), train now; and each
version's per-category accuracy and confusions. Admins only.

"Train now" trains after the request commits, in a thread of this process
(``INTAKE_TRAIN_RUN``: "thread", or "inline" to train before the response, as tests do);
the new version is listed when it is done.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from cases.catalogue.models import Category
from cases.smart_intake.jobs import start_training, training_running
from cases.smart_intake.models import IntakeModelVersion
from cases.smart_intake.predict import category_path
from cases.smart_intake.store import (
    MIN_CASES,
    activate,
    closed_count,
    model_dir,
)
from portal.db import db
from portal.models import Role
from portal.navigation import done
from portal.permissions import role_required
from portal.transactions import form_errors

log = logging.getLogger(__name__)
bp = Blueprint("intake_models", __name__, url_prefix="/admin/intake/models")


@bp.record_once
def _list_in_admin(state) -> None:
    from portal.admin import add_section

    add_section(state.app, "intake_models.index", _l("Intake models"),
                _l("Models that suggest where a request belongs: accuracy, versions, "
                   "roll back, train now."))


@bp.route("/")
@role_required(Role.ADMIN)
def index():
    """Every version, newest first."""
    rows = db.session.scalars(
        select(IntakeModelVersion).options(joinedload(IntakeModelVersion.trained_by))
        .order_by(IntakeModelVersion.version.desc()).limit(200)).all()
    return render_template("smart_intake/models.html", rows=rows, closed=closed_count(),
                           min_cases=MIN_CASES, training=training_running())


def _paths(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    categories = db.session.scalars(
        select(Category).where(Category.id.in_(ids))
        .options(joinedload(Category.parent).joinedload(Category.parent))).unique().all()
    return {c.id: category_path(c) for c in categories}


@bp.route("/<int:version>")
@role_required(Role.ADMIN)
def version_page(version: int):
    """One version: per-category top-1 on its test slice and the confusion pairs."""
    row = db.session.scalar(
        select(IntakeModelVersion).where(IntakeModelVersion.version == version))
    if row is None:
        abort(404)
    per_category = {int(k): v for k, v in (row.per_category or {}).items()}
    confusions = row.confusions or []
    paths = _paths(set(per_category) | {c["actual"] for c in confusions}
                   | {c["predicted"] for c in confusions})
    categories = sorted(per_category.items(), key=lambda kv: (-kv[1]["cases"], kv[0]))
    return render_template("smart_intake/models_version.html", row=row, paths=paths,
                           categories=categories, confusions=confusions,
                           file_present=(model_dir() / row.file_name).is_file())


@bp.route("/<int:version>/activate", methods=["POST"])
@role_required(Role.ADMIN)
def activate_version(version: int):
    """Make this version the one suggestions use (a roll-back when it is older)."""
    if db.session.scalar(select(IntakeModelVersion.id)
                         .where(IntakeModelVersion.version == version)) is None:
        abort(404)
    with form_errors() as outcome:
        activate(version, current_user)
    if outcome.refused:
        return done(str(outcome.error), "intake_models.index", "error")
    return done(_("Version %(version)d is active: suggestions use it from now on.",
                  version=version), "intake_models.index")


@bp.route("/train", methods=["POST"])
@role_required(Role.ADMIN)
def train():
    """Train a new version from the closed cases (after this request commits)."""
    if training_running():
        return done(_("A training is already running; its version appears here when "
                      "it is done."), "intake_models.index", "warning")
    count = closed_count()
    if count < MIN_CASES:
        return done(_("Too few closed cases to learn from: %(count)d (at least %(min)d).",
                      count=count, min=MIN_CASES), "intake_models.index", "error")
    start_training(current_user.id)
    if current_app.config.get("INTAKE_TRAIN_RUN", "thread") == "inline":
        message = _("Training is done; the new version is listed below.")
    else:
        message = _("Training started; the new version appears here when it is done "
                    "(usually within a minute).")
    return done(message, "intake_models.index")
