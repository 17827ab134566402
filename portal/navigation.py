"""Where people land: the page that is "home" for each kind of user, and ``done``
(flash what happened, redirect) for the end of a successful POST."""

from __future__ import annotations

from flask import flash, redirect, url_for
from werkzeug.wrappers import Response

from portal.models import DEPARTMENT_ROLES, Role, User
from portal.permissions import INTAKE_ROLES


def home_for(user: User) -> str:
    """Clients: their own requests; staff: their work queue; officials: the reports."""
    if user.is_client:
        return url_for("cases.my_requests")
    if user.role in INTAKE_ROLES:
        return url_for("cases.queue", name="unassigned")
    if user.role in DEPARTMENT_ROLES and user.department_id:
        return url_for("cases.queue", name="department")
    if user.role is Role.OFFICIAL:
        return url_for("reports.dashboard")  # the reports are the official's desk (issue 13)
    return url_for("main.index")


def done(message: str, target: str, category: str = "success", **values: object) -> Response:
    """Say what happened and go on: flash ``message``, redirect to ``target``.

    ``target`` is an endpoint (``"admin.users"``, built with ``values``) or a URL our own
    code built (``home_for(user)``); never a ``next`` taken from the request.
    """
    flash(message, category)
    is_url = target.startswith("/") or "://" in target
    return redirect(target if is_url else url_for(target, **values))
