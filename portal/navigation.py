"""Where people land: the page that is "home" for each kind of user."""

from __future__ import annotations

from flask import url_for

from portal.models import DEPARTMENT_ROLES, User
from portal.permissions import INTAKE_ROLES


def home_for(user: User) -> str:
    """Clients: their own requests; staff: their work queue; officials: the home page."""
    if user.is_client:
        return url_for("cases.my_requests")
    if user.role in INTAKE_ROLES:
        return url_for("cases.queue", name="unassigned")
    if user.role in DEPARTMENT_ROLES and user.department_id:
        return url_for("cases.queue", name="department")
    return url_for("main.index")
