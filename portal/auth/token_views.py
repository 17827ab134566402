"""``/account/tokens``: everyone signed in lists, makes and revokes their personal access
tokens for the JSON API (``portal.auth.token_services``). A new token is shown once, on
the response to the form that made it (never through the session or a redirect)."""

from __future__ import annotations

from flask import make_response, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.auth import bp
from portal.auth.token_services import (
    MAX_DAYS,
    NAME_LENGTH,
    create_token,
    is_live,
    revoke_token,
    tokens_of,
)
from portal.forms import PortalForm, int_or_none
from portal.navigation import done
from portal.transactions import form_errors


class TokenForm(PortalForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(message=_l("Give the token a name, to know later what uses "
                                            "it.")),
                    Length(max=NAME_LENGTH, message=_l("The name is too long."))],
    )
    scopes = SelectField(
        _l("May"),
        choices=[SelectChoice("read", _l("Read only")),
                 SelectChoice("read write", _l("Read and take steps"))],
        default="read",
    )
    days = IntegerField(
        _l("Valid for (days)"),
        default=90,
        validators=[Optional(), NumberRange(min=1, max=MAX_DAYS,
                                            message=_l("A token lasts 1 to 366 days."))],
    )


class RevokeForm(PortalForm):
    token_id = HiddenField(filters=[int_or_none])


def render_tokens(form: TokenForm | None = None, new_token: str | None = None,
                  status: int = 200):
    response = make_response(render_template(
        "auth/tokens.html", form=form or TokenForm(formdata=None),
        revoke_form=RevokeForm(formdata=None), tokens=tokens_of(current_user),
        is_live=is_live, new_token=new_token,
    ), status)
    response.headers["Cache-Control"] = "no-store"  # a new token is on this page, once
    return response


@bp.route("/account/tokens", methods=["GET"])
@login_required
def tokens():
    return render_tokens()


@bp.route("/account/tokens/new", methods=["POST"])
@login_required
def new_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return render_tokens(form, status=422)
    with form_errors(form) as outcome:
        _row, token = create_token(current_user, form.name.data, form.scopes.data,
                                   form.days.data)
    if outcome.refused:
        return render_tokens(form, status=422)
    return render_tokens(new_token=token)


@bp.route("/account/tokens/revoke", methods=["POST"])
@login_required
def revoke():
    form = RevokeForm()
    if not form.validate_on_submit() or form.token_id.data is None:
        return render_tokens(status=422)
    with form_errors() as outcome:
        revoke_token(current_user, form.token_id.data)
    if outcome.refused:
        return render_tokens(status=404)
    return done(_("The token is revoked: it opens nothing any more."), "auth.tokens")
