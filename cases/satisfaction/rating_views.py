"""The rating link /rate/<token> and the signed-in owner's rating on the case page.

The link needs no sign-in: it shows the case's number, title and the answer rated, nothing
personal, and the form. A forged or unknown link is a 404 page, an expired or used one a
410 page (a used one thanks the client). The case page shows its owner the same form for
the pending rating and everyone the ratings they may see (``visibility``).
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from cases.models import Case
from cases.satisfaction import bp
from cases.satisfaction.forms import RatingForm, rating_form, stored_dimensions
from cases.satisfaction.models import Rating
from cases.satisfaction.services import give_rating
from cases.satisfaction.tokens import LinkState, read_token
from cases.satisfaction.visibility import can_view_rating, may_rate
from cases.satisfaction.vocabulary import RatingSource, RatingStatus
from cases.views import load_case, render_case
from portal.db import db
from portal.extensions import limiter
from portal.i18n import current_language
from portal.models import User
from portal.transactions import form_errors

LINK_STATUS = {LinkState.INVALID: 404, LinkState.EXPIRED: 410, LinkState.USED: 410}


def rating_limit() -> str:
    return current_app.config["RATING_RATE_LIMIT"]


def rating_key() -> str:
    """Signed in: per account; the link: per address (the limiter's default)."""
    from flask_limiter.util import get_remote_address

    if current_user.is_authenticated:
        return f"user:{current_user.get_id()}"
    return get_remote_address()


# --- the link -------------------------------------------------------------------------


def _link_page(rating: Rating | None, state: LinkState, form: RatingForm | None = None,
               status: int | None = None, done: bool = False):
    return (
        render_template(
            "satisfaction/rate.html",
            rating=rating,
            case=rating.case if rating is not None and state is not LinkState.INVALID else None,
            state=state.value,
            form=form,
            done=done,
        ),
        status or LINK_STATUS.get(state, 200),
    )


@bp.route("/rate/<token>", methods=["GET", "POST"])
@limiter.limit(rating_limit, key_func=rating_key, methods=["POST"])
def rate(token: str):
    """Rate an answer by its link: no sign-in, single-purpose, expiring."""
    rating, state = read_token(token)
    if state is not LinkState.OPEN:
        return _link_page(rating, state)
    form = rating_form()
    if not form.is_submitted():
        return _link_page(rating, state, form)
    if not form.validate():
        return _link_page(rating, state, form, 422)
    with form_errors(form) as outcome:
        give_rating(rating, form.rating_input(), RatingSource.LINK)
    if outcome.refused:
        if outcome.error.field is None:  # a racing second submission: rated meanwhile
            return _link_page(db.session.get(Rating, rating.id), LinkState.USED, status=409)
        return _link_page(rating, state, form, 422)
    return _link_page(rating, LinkState.USED, status=200, done=True)


# --- the case page --------------------------------------------------------------------


# Built once (see ``cases.queries``: a kept statement keeps its cache key).
_CASE_RATINGS = (
    select(Rating)
    .where(Rating.case_id == bindparam("case_id"))
    .options(
        joinedload(Rating.recorded_by),
        joinedload(Rating.bad_review),
        joinedload(Rating.reply),
    )
    .order_by(Rating.id)
)


def _loaded_ratings(case_id: int) -> list[Rating]:
    """Every rating of the case with what the page shows of it, in one query."""
    return list(db.session.scalars(_CASE_RATINGS, {"case_id": case_id}).unique())


def case_rating_context(case: Case, user: User, form: RatingForm | None = None) -> dict:
    """What ``satisfaction/_case_ratings.html`` needs: the ratings ``user`` may see
    (newest first), the pending one the owner may give, and its form."""
    ratings = _loaded_ratings(case.id)
    visible = [r for r in ratings if can_view_rating(user, r)]
    pending = next(
        (r for r in reversed(ratings) if r.status is RatingStatus.PENDING), None
    )
    rateable = pending if pending is not None and may_rate(user, pending) else None
    if rateable is not None and form is None:
        form = rating_form(rating=str(rateable.id))
    dimension_names = {}
    if any(r.dimensions for r in visible) or form is not None:
        locale = current_language()
        dimension_names = {d.key: d.name(locale) for d in stored_dimensions()}
    return {
        "case_ratings": list(reversed(visible)),
        "rateable_rating": rateable,
        "rating_form": form if rateable is not None else None,
        # A refusal of a rating no longer open (rated meanwhile): said above the list.
        "rating_refusals": list(form.form_errors) if form is not None and rateable is None
        else [],
        "rating_dimension_names": dimension_names,
    }


def _posted_rating(case: Case, value: str | None) -> Rating:
    """The rating the form names; it must be one of this case's (else as if unknown)."""
    try:
        rating_id = int(value or "")
    except ValueError:
        abort(404)
    rating = db.session.get(Rating, rating_id)
    if rating is None or rating.case_id != case.id:
        abort(404)
    return rating


@bp.route("/cases/<number>/rate", methods=["POST"])
@login_required
@limiter.limit(rating_limit, key_func=rating_key, methods=["POST"])
def rate_on_case_page(number: str):
    """The signed-in owner rates the answer on the case page."""
    case = load_case(number)
    form = rating_form()
    rating = _posted_rating(case, form.rating.data)
    if not may_rate(current_user, rating):
        abort(403)
    if rating.status is not RatingStatus.PENDING:
        form.form_errors.append(_("This answer has already been rated."))
        return render_case(case, rating_form=form, status=409)
    if not form.validate_on_submit():
        return render_case(case, rating_form=form, status=422)
    with form_errors(form) as outcome:
        give_rating(rating, form.rating_input(), RatingSource.CASE_PAGE, current_user)
    if outcome.refused:
        status = 409 if outcome.error.field is None else 422
        return render_case(load_case(number), rating_form=form, status=status)
    flash(_("Thank you for rating the answer."), "success")
    return redirect(url_for("cases.show", number=number, _anchor="ratings-heading"))
