"""The public status lookup at /track (no sign-in): the PUBLIC face of ``cases.public``."""

from __future__ import annotations

import math
import time
from datetime import timedelta

from flask import current_app, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from cases import bp
from cases.public import Audience, face
from cases.tracking import find_tracked_case, normalise_number
from portal.db import utcnow
from portal.errors import render_error
from portal.extensions import limiter
from portal.forms import PortalForm


class TrackForm(PortalForm):
    number = StringField(
        _l("Tracking number"),
        filters=[normalise_number],
        validators=[DataRequired(message=_l("Enter the tracking number.")), Length(max=20)],
    )
    code = StringField(
        _l("Lookup code"),
        validators=[DataRequired(message=_l("Enter the lookup code.")), Length(max=20)],
    )


def guessing() -> bool:
    """Only attempts count against the limit, not opening the empty form."""
    return not (request.values.get("number") or request.values.get("code"))


def attempted() -> bool:
    """A submitted form (even an empty one) or a lookup link; not the bare page."""
    return request.method == "POST" or "number" in request.args or "code" in request.args


def track_form() -> TrackForm:
    # The fixed point: `number` and `code` as query arguments or form fields.
    if request.method == "GET":
        return TrackForm(request.args, meta={"csrf": False})
    return TrackForm()


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["TRACK_RATE_LIMIT"], exempt_when=guessing)
def track():
    form = track_form()
    case = None
    status = 200
    if attempted():
        if form.validate():
            case = find_tracked_case(form.number.data, form.code.data)
            if case is None:
                form.code.errors = [_("No request matches this tracking number and code.")]
                status = 404
        else:
            status = 422
    return (
        render_template(
            "cases/track.html",
            form=form,
            case=case,
            face=face(case, Audience.PUBLIC) if case else None,
            rate_link=open_rating_link(case) if case else None,
        ),
        status,
    )


def open_rating_link(case) -> str | None:
    """The rating link of the answer waiting for a rating, while the link works: whoever
    holds the number and the lookup code is the client, the link's own reader."""
    # Imported here: satisfaction builds on the cases room, not the other way round.
    from cases.satisfaction.services import pending_rating
    from cases.satisfaction.tokens import rating_token

    rating = pending_rating(case.id)
    if rating is None or rating.link_expires_at <= utcnow():
        return None
    return url_for("satisfaction.rate", token=rating_token(rating))


def seconds_to_wait() -> int:
    """How long until the breached limit lets this address try again (at least 1 s)."""
    limit = limiter.current_limit
    if limit is None:
        return 60
    return max(1, math.ceil(limit.reset_at - time.time()))


@bp.errorhandler(429)
def too_many_lookups(error):
    """/track's own 429 page: the form again, and how long to wait before the next try.
    Other pages of the room keep the portal's generic page."""
    if request.endpoint != "cases.track":
        return render_error(429)
    wait = seconds_to_wait()
    message = _(
        "Too many look-ups from your address. Try again in %(wait)s.",
        wait=format_timedelta(timedelta(seconds=wait), threshold=1, add_direction=False),
    )
    page = render_template("cases/track.html", form=track_form(), case=None, face=None,
                           wait_message=message)
    return page, 429, {"Retry-After": str(wait)}
