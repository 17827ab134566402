"""The follow-up call queue (回访) ``/ratings/follow-up`` and one call's page.

The service centre calls clients back: an answer still waiting for its rating gets the
rating the client gives on the phone (the one door, ``give_rating``, as a phone follow-up
recorded by the clerk), or a "could not reach" attempt. A 差评 to verify is done on the
case page (the bad-review loop). A second, racing submission is refused with 409.
"""

from __future__ import annotations

from flask import abort, current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from cases.satisfaction import bp
from cases.satisfaction.follow_up import follow_up_page, follow_up_rating
from cases.satisfaction.models import FollowUpCall, Rating
from cases.satisfaction.services import (
    MAX_COMMENT,
    RatingInput,
    give_rating,
    record_unreachable,
)
from cases.satisfaction.settings import active_dimensions
from cases.satisfaction.visibility import may_follow_up
from cases.satisfaction.vocabulary import (
    LEVELS,
    SOLVED_LABELS,
    RatingSource,
    RatingStatus,
    level_label,
)
from portal.db import db
from portal.forms import PortalForm
from portal.navigation import done
from portal.params import page_arg
from portal.transactions import form_errors

bp.add_app_template_global(may_follow_up, "may_follow_up")

MAX_NOTE = 1000


class PhoneRatingForm(PortalForm):
    """The rating form's fields, filled in by the clerk from the call."""

    level = RadioField(
        _l("How satisfied is the client?"),
        coerce=int,
        choices=[],  # per request: the labels are in the reader's language
        validators=[InputRequired(message=_l("Choose how satisfied the client is."))],
    )
    solved = RadioField(
        _l("Was the problem solved?"),
        choices=[SelectChoice(solved.value, label) for solved, label in SOLVED_LABELS.items()],
        validators=[Optional()],
    )
    comment = TextAreaField(
        _l("What the client said"),
        validators=[Optional(), Length(max=MAX_COMMENT)],
    )


class UnreachableForm(PortalForm):
    note = TextAreaField(
        _l("Note (when, which number, what happened)"),
        validators=[Optional(), Length(max=MAX_NOTE)],
    )


def level_choices(blank: str | None = None) -> list[SelectChoice]:
    """★5 … ★1 in the reader's language (after ``blank`` if given)."""
    levels = [SelectChoice(n, level_label(n)) for n in sorted(LEVELS, reverse=True)]
    return ([SelectChoice("", blank)] if blank else []) + levels


def phone_rating_form(**kwargs) -> PhoneRatingForm:
    """The form with one field per active dimension, named by its key."""
    locale = str(get_locale() or "zh_CN")

    class Form(PhoneRatingForm):
        pass

    Form.dimension_keys = []
    for dimension in active_dimensions():
        setattr(Form, dimension.key, SelectField(
            dimension.name(locale), choices=level_choices(_("Not asked")),
            validators=[Optional()],
        ))
        Form.dimension_keys.append(dimension.key)
    form = Form(**kwargs)
    form.level.choices = level_choices()
    return form


def rating_input(form: PhoneRatingForm) -> RatingInput:
    dimensions = {
        key: int(form[key].data) for key in form.dimension_keys if form[key].data
    }
    return RatingInput(form.level.data, form.solved.data or None, dimensions, form.comment.data)


def require_follow_up() -> None:
    if not may_follow_up(current_user):
        abort(403)


@bp.route("/ratings/follow-up")
@login_required
def follow_up():
    require_follow_up()
    pagination = follow_up_page(current_user, page_arg(), current_app.config["PAGE_SIZE"])
    return render_template("satisfaction/follow_up.html", pagination=pagination)


def load_rating(rating_id: int) -> Rating:
    require_follow_up()
    rating = follow_up_rating(current_user, rating_id)
    if rating is None:
        abort(404)
    return rating


def render_call(rating: Rating, *, rating_form=None, unreachable_form=None, status=200):
    calls = db.session.scalars(
        select(FollowUpCall)
        .where(FollowUpCall.rating_id == rating.id)
        .options(joinedload(FollowUpCall.caller))
        .order_by(FollowUpCall.created_at, FollowUpCall.id)
    ).all()
    pending = rating.status is RatingStatus.PENDING
    return render_template(
        "satisfaction/follow_up_call.html",
        rating=rating,
        calls=calls,
        rating_form=(rating_form or phone_rating_form(formdata=None)) if pending else None,
        unreachable_form=(unreachable_form or UnreachableForm(formdata=None))
        if pending else None,
    ), status


@bp.route("/ratings/follow-up/<int:rating_id>")
@login_required
def follow_up_call(rating_id: int):
    return render_call(load_rating(rating_id))


@bp.route("/ratings/follow-up/<int:rating_id>/rating", methods=["POST"])
@login_required
def record_phone_rating(rating_id: int):
    rating = load_rating(rating_id)
    if rating.status is not RatingStatus.PENDING:
        abort(409)
    form = phone_rating_form()
    if not form.validate_on_submit():
        return render_call(rating, rating_form=form, status=422)
    with form_errors(form) as outcome:
        give_rating(rating, rating_input(form), RatingSource.PHONE, current_user)
    if outcome.refused:
        db.session.expire_all()
        if db.session.get(Rating, rating_id).status is not RatingStatus.PENDING:
            abort(409)  # rated meanwhile (a second click, another clerk): nothing changed
        return render_call(db.session.get(Rating, rating_id), rating_form=form, status=422)
    return done(_("The rating from the call is recorded."), "satisfaction.follow_up")


@bp.route("/ratings/follow-up/<int:rating_id>/unreachable", methods=["POST"])
@login_required
def record_unreachable_call(rating_id: int):
    rating = load_rating(rating_id)
    if rating.status is not RatingStatus.PENDING:
        abort(409)
    form = UnreachableForm()
    if not form.validate_on_submit():
        return render_call(rating, unreachable_form=form, status=422)
    with form_errors(form) as outcome:
        record_unreachable(rating, current_user, form.note.data)
    if outcome.refused:
        abort(409)
    return done(
        _("Recorded: the client could not be reached (%(n)d attempts).",
          n=rating.unreachable_count),
        "satisfaction.follow_up",
    )
