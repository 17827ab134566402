"""The list of ratings ``/ratings``: a department reads its own, the city-wide roles all.

Filters (department for the city-wide roles, level, 差评 only, solved, source, dates) are
query-string arguments; a value that is not one of the list's is ignored. The figures
above the list count the filtered ratings: the satisfaction rate (基本满意 or better) is
shown with defaulted ratings and without them, and set-aside ratings never count.
"""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from cases.satisfaction import bp
from cases.satisfaction.queries import (
    RatingFilter,
    may_list_ratings,
    ratings_figures,
    ratings_query,
    sees_all_departments,
)
from cases.satisfaction.visibility import may_read_ledger
from cases.satisfaction.vocabulary import (
    LEVELS,
    RATING_SOURCE_LABELS,
    SOLVED_LABELS,
    RatingSource,
    Solved,
    level_label,
)
from portal.db import db
from portal.models import Department
from portal.pagination import paginate
from portal.params import arg_int, page_arg

bp.add_app_template_global(may_list_ratings, "may_list_ratings")
bp.add_app_template_global(may_read_ledger, "may_read_ledger")


def _enum(name: str, enum_cls):
    value = request.args.get(name)
    return enum_cls(value) if value in enum_cls._value2member_map_ else None


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat((request.args.get(name) or "").strip())
    except ValueError:
        return None


def filter_from_args() -> RatingFilter:
    level = arg_int("level")
    return RatingFilter(
        department_id=arg_int("department") if sees_all_departments(current_user) else None,
        level=level if level in LEVELS else None,
        bad_only=request.args.get("bad") == "1",
        solved=_enum("solved", Solved),
        source=_enum("source", RatingSource),
        since=_day("since"),
        until=_day("until"),
    )


def filter_args(filters: RatingFilter) -> dict[str, object]:
    """The filters as query-string arguments (the pager's links keep them)."""
    values = {
        "department": filters.department_id,
        "level": filters.level,
        "bad": "1" if filters.bad_only else None,
        "solved": filters.solved.value if filters.solved else None,
        "source": filters.source.value if filters.source else None,
        "since": filters.since.isoformat() if filters.since else None,
        "until": filters.until.isoformat() if filters.until else None,
    }
    return {key: value for key, value in values.items() if value is not None}


@bp.route("/ratings")
@login_required
def ratings():
    if not may_list_ratings(current_user):
        abort(403)
    filters = filter_from_args()
    pagination = paginate(
        ratings_query(current_user, filters), page_arg(), current_app.config["PAGE_SIZE"]
    )
    departments = (
        db.session.scalars(select(Department).order_by(Department.sort_key, Department.id))
        if sees_all_departments(current_user)
        else []
    )
    return render_template(
        "satisfaction/ratings.html",
        pagination=pagination,
        filters=filters,
        figures=ratings_figures(current_user, filters),
        department_options=[(d.id, d.name) for d in departments],
        levels=[(n, level_label(n)) for n in sorted(LEVELS, reverse=True)],
        solved_options=[(s.value, label) for s, label in SOLVED_LABELS.items()],
        source_options=[(s.value, label) for s, label in RATING_SOURCE_LABELS.items()],
        solved_labels=SOLVED_LABELS,
        source_labels=RATING_SOURCE_LABELS,
        args=filter_args(filters),
    )
