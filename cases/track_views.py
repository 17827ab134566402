"""The public status lookup at /track (no sign-in): the PUBLIC face of ``cases.public``."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from cases import bp
from cases.public import Audience, face
from cases.tracking import find_tracked_case
from portal.extensions import limiter
from portal.forms import PortalForm


class TrackForm(PortalForm):
    number = StringField(
        _l("Tracking number"),
        validators=[DataRequired(message=_l("Enter the tracking number.")), Length(max=20)],
    )
    code = StringField(
        _l("Lookup code"),
        validators=[DataRequired(message=_l("Enter the lookup code.")), Length(max=20)],
    )


def guessing() -> bool:
    """Only attempts count against the limit, not opening the empty form."""
    return not (request.values.get("number") or request.values.get("code"))


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["TRACK_RATE_LIMIT"], exempt_when=guessing)
def track():
    # The fixed point: `number` and `code` as query arguments or form fields.
    if request.method == "GET":
        form = TrackForm(request.args, meta={"csrf": False})
    else:
        form = TrackForm()
    case = None
    status = 200
    if request.values.get("number") or request.values.get("code"):
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
        ),
        status,
    )
