"""The supervisor's list at /supervision, and its count in the navigation."""

from __future__ import annotations

from flask import abort, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from cases import bp
from cases.supervision import (
    ESCALATION_REASONS,
    LIST_LIMIT,
    can_supervise,
    supervision_list,
    waiting_count,
)
from portal.db import utcnow


@bp.app_context_processor
def supervision_globals() -> dict:
    """``can_supervise`` and ``supervision_nav_label()`` for the navigation."""
    return {"can_supervise": can_supervise, "supervision_nav_label": supervision_nav_label}


def supervision_nav_label() -> str:
    """"Supervision (3 waiting)": counts only when a page shows the link."""
    try:
        count = waiting_count(current_user, utcnow())
    except SQLAlchemyError:  # the navigation must not take an error page down with it
        return _("Supervision")
    return _("Supervision (%(count)d waiting)", count=count) if count else _("Supervision")


@bp.route("/supervision")
@login_required
def supervision():
    """What waits for a supervisor: extension requests, escalations, near deadlines."""
    if not can_supervise(current_user):
        abort(403)
    now = utcnow()
    return render_template(
        "cases/supervision.html",
        waiting=supervision_list(current_user, now),
        limit=LIST_LIMIT,
        escalation_reasons=ESCALATION_REASONS,
        now=now,
    )
