"""Who opens which client record (the 360° page, the list, the export): the one rule.

Read from the case rule (``cases.visibility``): citywide staff open every record;
department staff a record with a case they see *and* may tie to it (an anonymous tip-off
does not count); clients none (their own record is ``/account``). A predicate on a record
and SQL clauses for queries, side by side; ``tests/test_visibility.py`` checks them
against the table in ``docs/VISIBILITY.md``.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, exists, false, select, true

from cases.models import Case, CaseAssist
from cases.visibility import CITY_KEY, Reach, reach, reporter_known, reporter_shown
from citizens.models import Client
from portal.db import db
from portal.models import User
from portal.permissions import can_list_clients


def _client_reach(user: User) -> Reach:
    """CITY: every record; DEPARTMENT: through the cases; anything else: none."""
    if not can_list_clients(user):
        return Reach.NONE
    found = reach(user)
    return found if found in (Reach.CITY, Reach.DEPARTMENT) else Reach.NONE


def sees_every_client(user: User) -> bool:
    return _client_reach(user) is Reach.CITY


def can_view_client(user: User, client: Client) -> bool:
    """Predicate form of the client rule (``visible_clients`` is its SQL twin)."""
    scope = _client_reach(user)
    if scope is Reach.CITY:
        return True
    if scope is Reach.DEPARTMENT:
        # A record's cases may be thousands: ask the database, with the case rule's SQL form.
        stmt = select(exists().where(Case.client_id == client.id, reporter_known(user)))
        return bool(db.session.scalar(stmt))
    return False


def visible_clients(user: User, *, for_count: bool = False) -> ColumnElement[bool]:
    """SQL form of the client rule (``can_view_client`` is its predicate twin).

    A page reads department staff's records with a correlated EXISTS in the list's order
    (``ix_cases_client_id_*`` per record, stopping after one page); a total
    (``for_count``) with a semi-join on the department's client ids, which does not probe
    every record's cases.
    """
    scope = _client_reach(user)
    if scope is Reach.CITY:
        return true()
    if scope is Reach.DEPARTMENT:
        if for_count:
            return Client.id.in_(department_client_ids(user))
        return exists().where(Case.client_id == Client.id, reporter_known(user))
    return false()


def department_client_ids(user: User) -> Select:
    """Ids of the records with a case ``user``'s department leads or assists, not hidden.

    The department half of ``visible_cases`` as a union: one pass over the department's
    cases (``ix_cases_department_id_*``) and assists (``ix_case_assists_department_id``).
    """
    named = reporter_shown(user)
    lead = select(Case.client_id).where(Case.department_id == user.department_id, named)
    assisted = (
        select(Case.client_id)
        .join(CaseAssist, CaseAssist.case_id == Case.id)
        .where(CaseAssist.department_id == user.department_id, named)
    )
    return lead.union(assisted)


# --- the same rule as search keys (``search.sources.clients``) -----------------------
# A client's index document carries "city" and one key per department that leads or
# assists on a case of the client that the department may tie to the client (an anonymous
# tip-off never counts: ``reporter_shown`` for department staff); a viewer brings the keys
# of their client reach. ``tests/test_search_access.py`` checks them against
# ``can_view_client`` for every viewer of the VISIBILITY.md scene.


def client_access_keys(client: Client) -> tuple[str, ...]:
    """Who may find ``client`` in a search: citywide staff, and the departments above."""
    named = Case.anonymous.is_(False)  # ``reporter_shown`` of department staff
    lead = select(Case.department_id).where(
        Case.client_id == client.id, Case.department_id.is_not(None), named
    )
    assisted = (
        select(CaseAssist.department_id)
        .join(Case, CaseAssist.case_id == Case.id)
        .where(Case.client_id == client.id, named)
    )
    departments = sorted(set(db.session.scalars(lead.union(assisted))))
    return (CITY_KEY, *(f"dept:{d}" for d in departments))


def viewer_client_keys(user: User) -> tuple[str, ...]:
    """The keys ``user`` finds client records with (none: finds none)."""
    scope = _client_reach(user)
    if scope is Reach.CITY:
        return (CITY_KEY,)
    if scope is Reach.DEPARTMENT:
        return (f"dept:{user.department_id}",)
    return ()
