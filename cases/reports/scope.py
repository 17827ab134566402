"""Who reads which figures (issue 13, "who sees what"), as predicates and SQL.

Officials, supervisors and admins read the whole city; a department head their own
department (and its place in the ranking); a handler their own figures (as a staff
member); clients and clerks no report. Drill-down lists go through the cases room's one
rule (``cases.visibility.visible_cases``) as well, so no list shows a case its reader may
not open.
"""

from __future__ import annotations

import enum

from sqlalchemy import ColumnElement, true

from cases.models import Case
from portal.models import Role, User
from portal.permissions import is_signed_in

CITY_READERS = frozenset({Role.OFFICIAL, Role.SUPERVISOR, Role.ADMIN})


class ReportReach(enum.Enum):
    NONE = "none"
    SELF = "self"  # a handler: their own figures
    DEPARTMENT = "department"  # a department head: their department
    CITY = "city"


def report_reach(user: User) -> ReportReach:
    if not is_signed_in(user):
        return ReportReach.NONE
    if user.role in CITY_READERS:
        return ReportReach.CITY
    if user.role is Role.DEPARTMENT_HEAD and user.department_id is not None:
        return ReportReach.DEPARTMENT
    if user.role is Role.HANDLER and user.department_id is not None:
        return ReportReach.SELF
    return ReportReach.NONE


def may_read_reports(user: User) -> bool:
    return report_reach(user) is not ReportReach.NONE


def may_read_city(user: User) -> bool:
    return report_reach(user) is ReportReach.CITY


def department_filter(user: User) -> int | None:
    """The one department a reader is held to (None: any, for the city's readers)."""
    reach = report_reach(user)
    if reach in (ReportReach.DEPARTMENT, ReportReach.SELF):
        return user.department_id
    return None


def case_scope(user: User) -> ColumnElement[bool]:
    """The cases a reader's figures are computed over (SQL on ``cases``).

    The city's readers: every case; a department head: the cases their department leads
    (figures by department then count the department's own work); a handler: theirs.
    """
    reach = report_reach(user)
    if reach is ReportReach.CITY:
        return true()
    if reach is ReportReach.DEPARTMENT:
        return Case.department_id == user.department_id
    if reach is ReportReach.SELF:
        return Case.assignee_id == user.id
    return Case.id.is_(None)
