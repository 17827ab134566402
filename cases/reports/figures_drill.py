"""The cases behind a figure's cell: the same conditions the figure counts, as a list the
viewer may open (``visible_cases``), with anonymous tip-offs left out for whoever may not
know who filed them (``reporter_shown``), inside the report's scope.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, case, false, func, select, true

from cases.models import Case, CaseEvent
from cases.reports.figures_common import (
    FigureError,
    allowed_keys,
    case_group,
    dispatched_department,
    rows_scope,
)
from cases.reports.figures_rates import (
    counted_ratings,
    response_counts,
    signed_in_time,
    solved_values,
)
from cases.reports.figures_workload import (
    answered_in,
    closed_in,
    not_ended_before,
    open_at,
    overdue_in,
    step_key,
    step_select,
)
from cases.reports.models import DailyCaseFlow
from cases.reports.periods import Period
from cases.reports.scope import ReportReach, report_reach
from cases.reports.settings import report_settings
from cases.satisfaction.models import Rating
from cases.visibility import reporter_shown, visible_cases
from portal.db import db
from portal.models import User
from portal.pagination import MAX_PER_PAGE, Page

# figure → the timeline fact it lists (see figures_workload.STEP_FACTS)
STEP_DRILLS = {"signed": "signed", "redo": "redone", "return": "returned",
               "transfers": "transfers", "extensions": "extensions"}
CASE_DRILLS = ("open", "backlog", "closed", "overdue", "answered", "late")
RATING_DRILLS = ("rated", "bad_ratings", "unsatisfied", "unsolved")
DRILLS = ("received", *CASE_DRILLS, *STEP_DRILLS, "dispatched", "responded", *RATING_DRILLS)


def drill_down(period: Period, figure: str, key: int | None, viewer: User,
               by: str = "department", counting: bool = False) -> Select:
    """``select(Case)`` of the cases behind the cell (``figure``, row ``key``; None: the
    total row) of the table grouped ``by``; newest first, for the page to paginate.
    ``counting``: the same cases, written for counting them all rather than reading the
    newest (the backlog from the ``closed_at`` index). Raises ``FigureError`` for a
    figure or grouping it does not know."""
    if figure not in DRILLS:
        raise FigureError(f"unknown figure {figure!r}")
    if figure in ("dispatched", "responded", *RATING_DRILLS):
        by = "department"  # 三率 are per department
    group = case_group(by)
    keep = allowed_keys(by, viewer)
    if keep is not None and key is not None and key not in keep:
        behind: ColumnElement[bool] = false()
    else:
        behind = _behind(period, figure, key, viewer, by, group, keep, counting)
    newest: ColumnElement = Case.created_at
    if db.engine.dialect.name == "postgresql" and found_from_steps(figure, by):
        # Found from the period's steps or ratings (at most thousands): ordered by an
        # expression, PostgreSQL reads them from there and sorts, instead of walking every
        # case newest first in search of the many matches it estimated (5-7 s at 1M).
        newest = func.coalesce(Case.created_at, Case.created_at)
    return (
        select(Case)
        .where(behind, visible_cases(viewer), reporter_shown(viewer), rows_scope(by, viewer))
        .order_by(newest.desc(), Case.id.desc())
    )


def found_from_steps(figure: str, by: str) -> bool:
    """Whether the list behind ``figure`` is found from the period's steps or ratings (at
    most tens of thousands of cases), not along the cases' own columns."""
    if figure in ("dispatched", "responded", *RATING_DRILLS):
        by = "department"
    return not (figure in CASE_DRILLS or (figure == "received" and by in ("category",
                                                                           "district")))


def drill_page(stmt: Select, page: int, per_page: int, options=()) -> Page:
    """Page ``page`` of ``stmt`` (a ``drill_down`` found from steps or ratings) with the
    count of all its cases, from one pass over them: the matching cases' ids and dates are
    kept once (``MATERIALIZED``), counted and sorted there, and only the page's cases are
    read whole (loaded with ``options``). ``paginate`` would find them twice, once for the
    page and once for the count: reading ~28,000 cases for a department's year."""
    page = max(page, 1)
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    matched = (stmt.with_only_columns(Case.id.label("id"), Case.created_at.label("at"))
               .order_by(None).cte("matched").prefix_with("MATERIALIZED"))
    total = select(func.count()).select_from(matched).scalar_subquery()
    found = db.session.execute(
        select(matched.c.id, total).order_by(matched.c.at.desc(), matched.c.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    if not found:  # a page beyond the last: count them alone
        return Page([], page, per_page, db.session.scalar(
            select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)
    ids = [case_id for case_id, _total in found]
    cases = {c.id: c for c in db.session.scalars(
        select(Case).where(Case.id.in_(ids)).options(*options))}
    # (a case deleted between the two statements is left out of the page)
    return Page([cases[i] for i in ids if i in cases], page, per_page, found[0][1])


def _key_is(column, key: int | None, keep: set | None) -> ColumnElement[bool]:
    if key is not None:
        return column == key
    if keep is not None:
        return column.in_(keep or [0])
    return true()


def _behind(period: Period, figure: str, key, viewer: User, by: str, group, keep,
            counting: bool = False):
    start, end = period.bounds()
    filed = and_(Case.created_at >= start, Case.created_at < end)
    if figure == "received" and by in ("category", "district"):
        return and_(filed, _key_is(group, key, keep))
    if figure in CASE_DRILLS:
        condition = {
            "open": and_(filed, open_at(end)),
            "backlog": and_(Case.created_at < end, _open_at(period, end, counting)),
            "closed": closed_in(start, end),
            "overdue": overdue_in(start, end),
            "answered": answered_in(start, end),
            "late": and_(answered_in(start, end), Case.replied_at > Case.reply_due_at),
        }[figure]
        return and_(condition, _key_is(group, key, keep))
    if figure in ("received", *STEP_DRILLS):
        fact = "received" if figure == "received" else STEP_DRILLS[figure]
        steps = step_select(by, fact, viewer, start, end).where(
            _key_is(step_key(by, fact), key, keep)).subquery()
        return Case.id.in_(select(steps.c.case_id))
    if figure in ("dispatched", "responded"):
        handler = viewer if by == "department" and _is_handler(viewer) else None
        sub = response_counts(start, end, handler).with_only_columns(
            *_case_id_only()).group_by(None)
        sub = sub.where(_key_is(dispatched_department(), key, keep))
        if figure == "responded":
            sub = sub.where(signed_in_time())
        return Case.id.in_(sub)
    settings = report_settings()
    ratings = select(Rating.case_id).where(counted_ratings(start, end, settings),
                                           _key_is(Rating.department_id, key, keep))
    if _is_handler(viewer):
        ratings = ratings.where(Rating.answered_by_id == viewer.id)
    if figure == "bad_ratings":
        ratings = ratings.where(Rating.level <= 2)
    elif figure == "unsatisfied":
        ratings = ratings.where(Rating.level < settings.satisfied_from_level)
    elif figure == "unsolved":
        ratings = ratings.where(Rating.solved.is_not(None),
                                Rating.solved.not_in(solved_values(settings)))
    return Case.id.in_(ratings)


def _open_at(period: Period, end, counting: bool) -> ColumnElement[bool]:
    """Not ended by ``end``, written for the cheaper read on SQLite when counting: along
    ``created_at`` when fewer cases were filed before the period's end than were not ended
    by it (open then, or filed since: old periods), else from the ``closed_at`` index (the
    open cases and those ended since: recent periods); the flows say which. A page of the
    newest is always found walking ``created_at``."""
    if not counting or db.engine.dialect.name != "sqlite":
        return open_at(end)
    f = DailyCaseFlow
    before, every = db.session.execute(
        select(func.sum(case((f.day <= period.last, f.n), else_=0)), func.sum(f.n))
        .where(f.dim == "district", f.fact == "filed")).one()
    ended_before = db.session.scalar(
        select(func.sum(f.n)).where(f.dim == "district", f.fact == "ended",
                                    f.day <= period.last))
    if (before or 0) < (every or 0) - (ended_before or 0):
        return open_at(end)
    return not_ended_before(end)


def _case_id_only():
    return (CaseEvent.case_id,)


def _is_handler(viewer: User) -> bool:
    return report_reach(viewer) is ReportReach.SELF
