"""Sign-in, sign-out and registration pages."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from citizens.identifiers import normalise_id
from citizens.models import ClientKind
from portal.auth import bp
from portal.auth.forms import LoginForm, RegisterForm
from portal.auth.services import LoginThrottled, authenticate, register_client, safe_next_url
from portal.auth.sessions import end_session, start_session
from portal.extensions import limiter
from portal.i18n import current_language
from portal.models import User
from portal.navigation import home_for
from portal.transactions import form_errors
from portal.validators import normalise_phone


def open_session(user: User) -> None:
    """Sign ``user`` in with a server-side session (see ``portal.auth.sessions``)."""
    token = start_session(user, request.user_agent.string)
    login_user(user)
    # Flask-Login keeps "_user_id" in the cookie and hands it to the user loader: it
    # carries the sign-in's random token, never the bare user id.
    session["_user_id"] = token


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


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT"], methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = RegisterForm()
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            user = register_client(
                kind=ClientKind(form.kind.data),
                username=form.username.data,
                password=form.password.data,
                name=form.name.data,
                email=(form.email.data or "").strip() or None,
                phone=normalise_phone(form.phone.data) or None,
                contact_person=form.contact_person.data,
                credit_code=normalise_id(form.credit_code.data or "") or None
                if form.kind.data == ClientKind.ENTERPRISE.value
                else None,
                locale=current_language(),
            )
        if outcome.refused:
            return render_template("auth/register.html", form=form), 422
        if user.client is not None and user.client.email:
            # Verifying the address attaches the account to a record the service centre
            # made for the same person (see citizens.account_services.claim_matching_record).
            from citizens.account_services import send_email_verification

            send_email_verification(user, current_language())
        open_session(user)
        flash(_("Your account is ready. You can file a request now."), "success")
        if user.client is not None and user.client.email:
            flash(
                _(
                    "We have sent a link to %(email)s. Open it to confirm the address.",
                    email=user.client.email,
                ),
                "info",
            )
        return redirect(url_for("cases.my_requests"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status
