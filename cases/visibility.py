"""Who sees which case, and who may know who filed it: the one rule, in two forms.

Each rule is written twice, side by side, from the same small description (``REACH``):
a predicate on a loaded case (for pages, attachments, services) and an SQL clause for any
query (lists, counts, the client pages). ``docs/VISIBILITY.md`` holds the rule as tables;
``tests/test_visibility.py`` checks both forms against them, cell by cell.
"""

from __future__ import annotations

import enum

from sqlalchemy import ColumnElement, and_, exists, false, or_, true
from sqlalchemy.sql.elements import True_

from cases.models import Case, CaseAssist, CaseType
from portal.models import DEPARTMENT_ROLES, Role, User
from portal.permissions import INTAKE_ROLES, is_signed_in


class Reach(enum.Enum):
    """How far a user's sight goes among cases."""

    NONE = "none"  # no case (signed out, disabled, or a role without cases)
    OWN = "own"  # the cases of their own client record (a firm's representatives share it)
    DEPARTMENT = "department"  # cases their department leads or assists
    CITY = "city"  # every case


REACH: dict[Role, Reach] = {
    Role.CITIZEN: Reach.OWN,
    Role.ENTERPRISE: Reach.OWN,
    Role.CLERK: Reach.CITY,
    Role.HANDLER: Reach.DEPARTMENT,
    Role.DEPARTMENT_HEAD: Reach.DEPARTMENT,
    Role.SUPERVISOR: Reach.CITY,
    Role.OFFICIAL: Reach.CITY,
    Role.ADMIN: Reach.CITY,
}
# Besides the reporter, who knows who filed an anonymous tip-off.
KNOW_ANONYMOUS_REPORTERS = frozenset({Role.SUPERVISOR})


def reach(user: User) -> Reach:
    """``user``'s reach; a client without a record or staff without a department see none."""
    if not is_signed_in(user):
        return Reach.NONE
    found = REACH.get(user.role, Reach.NONE)
    if found is Reach.OWN and user.client_id is None:
        return Reach.NONE
    if found is Reach.DEPARTMENT and user.department_id is None:
        return Reach.NONE
    return found


# --- the case: who sees it ----------------------------------------------------------


def is_assisting(user: User, case: Case) -> bool:
    """Whether ``user``'s department assists on ``case``."""
    return user.department_id is not None and any(
        a.department_id == user.department_id for a in case.assists
    )


def can_view_case(user: User, case: Case) -> bool:
    """Predicate form of the case rule (``visible_cases`` is its SQL twin)."""
    scope = reach(user)
    if scope is Reach.CITY:
        return True
    if scope is Reach.OWN:
        return case.client_id == user.client_id
    if scope is Reach.DEPARTMENT:
        return case.department_id == user.department_id or is_assisting(user, case)
    return False


def visible_cases(user: User) -> ColumnElement[bool]:
    """SQL form of the case rule (``can_view_case`` is its predicate twin)."""
    scope = reach(user)
    if scope is Reach.CITY:
        return true()
    if scope is Reach.OWN:
        return Case.client_id == user.client_id
    if scope is Reach.DEPARTMENT:
        assisting = exists().where(
            CaseAssist.case_id == Case.id, CaseAssist.department_id == user.department_id
        )
        return or_(Case.department_id == user.department_id, assisting)
    return false()


# --- the reporter of an anonymous tip-off -------------------------------------------


def knows_anonymous_reporters(user: User) -> bool:
    return is_signed_in(user) and user.role in KNOW_ANONYMOUS_REPORTERS


def is_reporter_hidden(user: User, case: Case) -> bool:
    """Whether ``case`` is an anonymous tip-off whose reporter ``user`` may not know."""
    if not case.anonymous or knows_anonymous_reporters(user):
        return False
    return not (reach(user) is Reach.OWN and case.client_id == user.client_id)


def reporter_hidden(user: User) -> ColumnElement[bool]:
    """SQL twin of ``is_reporter_hidden``: the tip-offs whose reporter ``user`` may not know.

    Lists leave these out and counts subtract them, so a count never exceeds what the
    viewer can list and nothing hints that a client filed a tip-off. Returns a literal
    ``false()`` for whoever knows every reporter, so callers can skip the work.
    """
    if knows_anonymous_reporters(user):
        return false()
    if reach(user) is Reach.OWN:
        return and_(Case.anonymous.is_(True), Case.client_id != user.client_id)
    return Case.anonymous.is_(True)


def can_see_reporter(user: User, case: Case) -> bool:
    """Who filed ``case``: whoever sees it, unless it is a tip-off hidden from them."""
    return can_view_case(user, case) and not is_reporter_hidden(user, case)


def reporter_shown(user: User) -> ColumnElement[bool]:
    """``NOT reporter_hidden(user)``, spelt so an index on ``anonymous`` serves it."""
    if knows_anonymous_reporters(user):
        return true()
    if reach(user) is Reach.OWN:
        return or_(Case.anonymous.is_(False), Case.client_id == user.client_id)
    return Case.anonymous.is_(False)


def reporter_known(user: User) -> ColumnElement[bool]:
    """SQL twin of ``can_see_reporter``: the cases ``user`` sees and may tie to their client
    (what the client pages list and count)."""
    return and_(visible_cases(user), reporter_shown(user))


# --- the scope a user acts in (``cases.workflow``) ----------------------------------


def in_scope(user: User, case: Case, scope: str) -> bool:
    """Whether ``user`` acts in ``scope`` on ``case``: intake, lead department or owner."""
    if scope == "intake":
        return user.role in INTAKE_ROLES
    if scope == "department":
        return (
            user.role in DEPARTMENT_ROLES
            and user.department_id is not None
            and case.department_id == user.department_id
        )
    if scope == "owner":
        return user.role.is_client and user.client_id == case.client_id
    if scope == "any":
        return in_scope(user, case, "intake") or in_scope(user, case, "department")
    return False


def scope_clause(user: User, scope: str) -> ColumnElement[bool]:
    """SQL twin of ``in_scope`` (the staff queues are scoped with ``"any"``)."""
    if scope == "intake":
        return true() if user.role in INTAKE_ROLES else false()
    if scope == "department":
        if user.role in DEPARTMENT_ROLES and user.department_id is not None:
            return Case.department_id == user.department_id
        return false()
    if scope == "owner":
        if user.role.is_client and user.client_id is not None:
            return Case.client_id == user.client_id
        return false()
    if scope == "any":  # the intake and department roles do not overlap
        intake = scope_clause(user, "intake")
        return intake if isinstance(intake, True_) else scope_clause(user, "department")
    return false()


# --- the same rule as search keys (``search.sources.cases``) -------------------------
# A case's index document carries the keys of everyone who may find it; a viewer brings
# their own. They share a key exactly when ``can_view_case`` says yes (one key per reach:
# ``tests/test_search_access.py`` checks every viewer of the VISIBILITY.md scene).
CITY_KEY = "city"


def case_access_keys(case: Case) -> tuple[str, ...]:
    """Who may find ``case``: the whole city, its client's users, its departments; and
    ``PUBLIC_MATTER_KEY`` on a public matter (held only by a duplicates look-up for a
    client filing, never by the search page: see ``mention_keys``)."""
    keys = [CITY_KEY, f"client:{case.client_id}"]
    if case.department_id is not None:
        keys.append(f"dept:{case.department_id}")
    keys.extend(f"dept:{a.department_id}" for a in case.assists)
    if is_public_matter(case):
        keys.append(PUBLIC_MATTER_KEY)
    return tuple(dict.fromkeys(keys))


def viewer_case_keys(user: User) -> tuple[str, ...]:
    """The keys ``user`` finds cases with, from their reach (none: finds nothing)."""
    scope = reach(user)
    if scope is Reach.CITY:
        return (CITY_KEY,)
    if scope is Reach.OWN:
        return (f"client:{user.client_id}",)
    if scope is Reach.DEPARTMENT:
        return (f"dept:{user.department_id}",)
    return ()


# --- what may be mentioned to someone filing about the same matter ------------------
# Duplicates while filing (``cases.duplicates``): a client filing may be reminded of their
# own cases, and of other clients' *public matters*: complaints and suggestions that are
# not anonymous, about a public place (night-time noise, a broken road) whose titles say
# nothing of a person. Never another client's tip-off (its title names a suspect and would
# tell a neighbour that someone reported them), nor enquiries, requests for help or
# praise (about a person's own circumstances). Staff are reminded of what they see.
# Three forms, side by side: predicate, SQL, search keys (``tests/test_duplicates.py``
# holds them equal for every role).
PUBLIC_MATTER_TYPES = (CaseType.COMPLAINT, CaseType.SUGGESTION)
# A case document's key for "may be mentioned to another client filing about the same
# matter"; only ``mention_keys`` hands it out (the search page never does).
PUBLIC_MATTER_KEY = "matter:public"


def is_public_matter(case: Case) -> bool:
    """Whether ``case`` may be mentioned to another client filing about the same matter."""
    return case.type in PUBLIC_MATTER_TYPES and not case.anonymous


def public_matters() -> ColumnElement[bool]:
    """SQL twin of ``is_public_matter``."""
    return and_(Case.type.in_(PUBLIC_MATTER_TYPES), Case.anonymous.is_(False))


def may_mention_case(user: User, case: Case) -> bool:
    """Whether ``case`` may be mentioned to ``user`` filing a request (as a possible
    duplicate): what they see, and for a client also other clients' public matters."""
    if can_view_case(user, case):
        return True
    return reach(user) is Reach.OWN and is_public_matter(case)


def mentionable_cases(user: User) -> ColumnElement[bool]:
    """SQL twin of ``may_mention_case``."""
    if reach(user) is Reach.OWN:
        return or_(visible_cases(user), public_matters())
    return visible_cases(user)


def mention_keys(user: User) -> tuple[str, ...]:
    """Search-key twin of ``may_mention_case``: ``viewer_case_keys`` and, for a client,
    ``PUBLIC_MATTER_KEY``."""
    keys = viewer_case_keys(user)
    if reach(user) is Reach.OWN:
        return (*keys, PUBLIC_MATTER_KEY)
    return keys
