"""Who sees which ratings and who acts on them: each rule as a predicate and as SQL.

Built on the cases room's one rule (``cases.visibility``): a rating is seen by whoever
sees the answer it rates, except that department staff see only their own department's
ratings (an assisting department does not read how the lead one was judged). Clients see
their own. Nothing here copies the case rule; it narrows it.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from cases.satisfaction.models import BadReview, Rating
from cases.visibility import Reach, reach
from portal.models import Role, User
from portal.permissions import is_signed_in

INTAKE = frozenset({Role.CLERK, Role.SUPERVISOR, Role.ADMIN})
SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})
DEPARTMENT = frozenset({Role.HANDLER, Role.DEPARTMENT_HEAD})
# The 差评 ledger: the city's supervisors and officials, and each department's head.
LEDGER_READERS = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.OFFICIAL, Role.DEPARTMENT_HEAD})


def can_view_rating(user: User, rating: Rating) -> bool:
    """Predicate twin of ``visible_ratings``."""
    scope = reach(user)
    if scope is Reach.CITY:
        return True
    if scope is Reach.OWN:
        return rating.client_id == user.client_id
    if scope is Reach.DEPARTMENT:
        return rating.department_id == user.department_id
    return False


def visible_ratings(user: User) -> ColumnElement[bool]:
    """SQL twin of ``can_view_rating`` (a WHERE clause on ``ratings``)."""
    scope = reach(user)
    if scope is Reach.CITY:
        return true()
    if scope is Reach.OWN:
        return Rating.client_id == user.client_id
    if scope is Reach.DEPARTMENT:
        return Rating.department_id == user.department_id
    return false()


def may_rate(user: User, rating: Rating) -> bool:
    """Only the client whose answer it is rates it, signed in (the link needs no sign-in)."""
    return reach(user) is Reach.OWN and rating.client_id == user.client_id


def may_follow_up(user: User) -> bool:
    """The service centre calls clients back (回访) and records what they say."""
    return is_signed_in(user) and user.role in INTAKE


def may_read_ledger(user: User) -> bool:
    if not is_signed_in(user) or user.role not in LEDGER_READERS:
        return False
    return user.role is not Role.DEPARTMENT_HEAD or user.department_id is not None


def ledger_scope(user: User) -> ColumnElement[bool]:
    """The bad reviews ``user`` reads in the ledger (SQL on ``bad_reviews``)."""
    if not may_read_ledger(user):
        return false()
    if user.role is Role.DEPARTMENT_HEAD:
        return BadReview.department_id == user.department_id
    return true()


def may_handle_bad_review(user: User, review: BadReview) -> bool:
    """Verify, fix, rectify, explain or appeal: the department whose answer it was (the
    service centre for an answer at intake), and supervisors."""
    if not is_signed_in(user):
        return False
    if user.role in SUPERVISORS:
        return True
    if review.department_id is None:
        return user.role is Role.CLERK
    return user.role in DEPARTMENT and user.department_id == review.department_id


def may_decide_appeal(user: User) -> bool:
    """Only a supervisor sets a rating aside, or refuses to."""
    return is_signed_in(user) and user.role in SUPERVISORS
