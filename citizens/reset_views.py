"""Password recovery by SMS code (``/reset/sms``), for every account with a mobile.

Linked from the e-mail reset page (``portal.auth.views``); the phone codes are this
room's (``citizens.phone_verification``), so the pages live here. The same answer is
given whether or not an account has the number.
"""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from citizens import bp
from citizens.account_forms import SmsResetForm, SmsResetRequestForm
from citizens.password_reset import reset_with_code, send_reset_code
from citizens.phone_verification import PhoneCodeLimit
from portal.extensions import limiter
from portal.i18n import current_language
from portal.navigation import done
from portal.transactions import form_errors, keep_on_error


@bp.route("/reset/sms", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_RATE_LIMIT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["PHONE_CODE_RATE_LIMIT"],
    key_func=lambda: f"reset-sms:{get_remote_address()}",
    methods=["POST"],
)
def reset_sms():
    form = SmsResetRequestForm()
    if form.validate_on_submit():
        send_reset_code(form.phone.data, form.username.data, current_language())
        # The same page whether or not a code went out: nothing to enumerate.
        code_form = SmsResetForm(formdata=None)
        code_form.phone.data, code_form.username.data = form.phone.data, form.username.data
        return render_template("auth/reset_sms_code.html", form=code_form, sent=True)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/reset_sms.html", form=form), status


@bp.route("/reset/sms/code", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["PHONE_GUESS_RATE_LIMIT"],
    key_func=lambda: f"reset-guess:{get_remote_address()}",
    methods=["POST"],
)
def reset_sms_code():
    form = SmsResetForm()
    status = 200
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            user = reset_with_code(
                form.phone.data, form.username.data, form.code.data, form.password.data
            )
        if outcome.refused:
            status = 429 if isinstance(outcome.error, PhoneCodeLimit) else 422
        elif user is None:
            keep_on_error()  # the wrong guess stays counted, though the answer is a 422
            form.code.errors = [
                _("This code is not right or no longer valid. Check the text message or ask "
                  "for a new code.")
            ]
            status = 422
        else:
            return done(_("Your new password is set. Sign in with it."), "auth.login")
    elif form.is_submitted():
        status = 422
    return render_template("auth/reset_sms_code.html", form=form, sent=False), status
