"""Sign-in, sign-out and password pages (change, reset by e-mail) for every account.

The reset by SMS code is the clients room's (``citizens.reset_views``): the phone codes
are kept there.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user

from portal.auth import bp
from portal.auth.forms import LoginForm, PasswordChangeForm, ResetPasswordForm, ResetRequestForm
from portal.auth.passwords import (
    TokenInvalid,
    change_password,
    personal_inputs,
    request_password_reset,
    reset_password,
    user_for_reset_token,
)
from portal.auth.services import LoginThrottled, authenticate, safe_next_url
from portal.auth.sessions import current_session, end_session, open_session
from portal.extensions import limiter
from portal.forms import add_form_error
from portal.i18n import current_language
from portal.navigation import done, home_for
from portal.transactions import form_errors


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        with form_errors() as outcome:
            user = authenticate(form.username.data, form.password.data, get_remote_address())
        if outcome.refused:
            form.password.errors.append(outcome.error.message)
            status = 429 if isinstance(outcome.error, LoginThrottled) else 422
            return render_template("auth/login.html", form=form), status
        open_session(user)
        flash(_("Welcome, %(name)s.", name=user.display_name), "success")
        return redirect(safe_next_url(form.next.data) or home_for(user))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    end_session(session.get("_user_id"))
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("main.index"))


# --- passwords -------------------------------------------------------------------------------


@bp.route("/account/password", methods=["GET", "POST"], endpoint="change_password")
@login_required
def change_password_page():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            change_password(
                current_user,
                form.current_password.data,
                form.password.data,
                keep=current_session(),
            )
        if outcome.refused:
            return render_template("auth/password.html", form=form), 422
        # Clients land on their account page (an endpoint of the clients room, which sends
        # staff on to this page again).
        return done(_("Your password is changed."), "citizens.account")
    status = 422 if form.is_submitted() else 200
    return render_template("auth/password.html", form=form), status


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_RATE_LIMIT"], methods=["POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        request_password_reset(form.login.data, current_language())
        # The same answer whether or not the account exists: nothing to enumerate.
        return render_template("auth/reset_sent.html")
    status = 422 if form.is_submitted() else 200
    return render_template("auth/reset_request.html", form=form), status


@bp.route("/reset/<token>", methods=["GET", "POST"], endpoint="reset_password")
def reset_password_page(token: str):
    try:
        user = user_for_reset_token(token)
    except TokenInvalid as error:
        return render_template("auth/link_invalid.html", message=error.message), 400
    form = ResetPasswordForm()
    form.password_inputs = personal_inputs(user)  # the account's own words are guessable
    if form.validate_on_submit():
        with form_errors() as outcome:
            reset_password(token, form.password.data)
        if isinstance(outcome.error, TokenInvalid):
            return render_template("auth/link_invalid.html", message=outcome.error.message), 400
        if outcome.refused:
            add_form_error(form, outcome.error)
            return render_template("auth/reset_password.html", form=form, token=token), 422
        return done(_("Your new password is set. Sign in with it."), "auth.login")
    status = 422 if form.is_submitted() else 200
    return render_template("auth/reset_password.html", form=form, token=token), status
