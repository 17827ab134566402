"""Self-service pages: registration, the client's account, data, deletion.

``/register`` (anyone): a client record and its web account. ``/account`` (clients):
profile, notification preferences, language, e-mail and phone verification, a copy of
their data (``/account/export``) and a deletion request. ``/admin/deletion-requests``
(admins): carry out or refuse deletion requests. Passwords are the core's
(``portal.auth.views``).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from citizens import bp, log
from citizens.account_forms import (
    ActionOnlyForm,
    DeletionDecisionForm,
    DeletionRequestForm,
    PhoneCodeForm,
    ProfileForm,
    RegisterForm,
)
from citizens.account_services import (
    Profile,
    carry_out_deletion,
    handled_deletion_requests,
    notify_choice,
    pending_deletion,
    pending_deletion_requests,
    refuse_deletion,
    request_deletion,
    update_profile,
)
from citizens.data_export import export_json
from citizens.identifiers import normalise_id
from citizens.models import Client, ClientKind, DeletionRequest
from citizens.phone_verification import PhoneCodeLimit, check_phone_code, send_phone_code
from citizens.registration import (
    claim_matching_record,
    register_client,
    send_email_verification,
    verify_email,
)
from portal.admin.audit import add_action_label, record_action
from portal.auth.sessions import open_session
from portal.db import get_or_404, utcnow
from portal.extensions import limiter
from portal.i18n import current_language
from portal.models import Role
from portal.navigation import done, home_for
from portal.permissions import role_required
from portal.transactions import form_errors, keep_on_error
from portal.validators import normalise_phone


def own_client() -> Client:
    """The signed-in client's record; 403 for staff and for accounts without one."""
    if not current_user.is_client or current_user.client is None:
        abort(403)
    return current_user.client


def render_account(client: Client, status: int = 200, **forms):
    forms.setdefault("profile_form", profile_form_for(client))
    forms.setdefault("deletion_form", DeletionRequestForm())
    return render_template(
        "account/index.html",
        client=client,
        is_enterprise=client.kind == ClientKind.ENTERPRISE,
        pending=pending_deletion(client),
        **forms,
    ), status


def profile_form_for(client: Client) -> ProfileForm:
    form = ProfileForm()
    form.enterprise = client.kind == ClientKind.ENTERPRISE
    if not form.is_submitted():
        form.name.data = client.name
        form.contact_person.data = client.contact_person
        form.phone.data = client.phone
        form.email.data = client.email
        form.notify.data = notify_choice(client)
        form.locale.data = client.locale if client.locale in ("zh_CN", "en") else "zh_CN"
    return form


# --- registration ----------------------------------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT"], methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = RegisterForm()
    if not form.is_submitted() and request.args.get("kind") == ClientKind.ENTERPRISE.value:
        form.kind.data = ClientKind.ENTERPRISE.value
    form.for_kind()
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            user = register_client(
                kind=ClientKind(form.kind.data),
                username=form.username.data,
                password=form.password.data,
                name=form.name.data,
                email=(form.email.data or "").strip() or None,
                phone=normalise_phone(form.phone.data) or None,
                contact_person=form.contact_person.data if form.is_enterprise else None,
                credit_code=normalise_id(form.credit_code.data or "") or None
                if form.is_enterprise
                else None,
                locale=current_language(),
            )
        if outcome.refused:
            return render_template("account/register.html", form=form), 422
        if user.client is not None and user.client.email:
            # Verifying the address attaches the account to a record the service centre
            # made for the same person (see claim_matching_record).
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
    return render_template("account/register.html", form=form), status


# --- the account page ------------------------------------------------------------------------


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    if current_user.is_staff:
        return redirect(url_for("auth.change_password"))
    client = own_client()
    form = profile_form_for(client)
    if form.validate_on_submit():
        profile = Profile(
            name=form.name.data,
            phone=form.phone.data,
            email=form.email.data,
            contact_person=form.contact_person.data,
            notify=form.notify.data,
            locale=form.locale.data,
        )
        with form_errors(form) as outcome:
            changed = update_profile(current_user, client, profile)
        if outcome.refused:
            return render_account(client, 422, profile_form=form)
        session["locale"] = profile.locale
        if changed:
            flash(_("Your details are saved."), "success")
        else:
            flash(_("Nothing has changed."), "info")
        return redirect(url_for("citizens.account"))
    if form.is_submitted():
        return render_account(client, 422, profile_form=form)
    return render_account(client, profile_form=form)


@bp.route("/account/verify-email", methods=["POST"])
@login_required
def send_verification():
    client = own_client()
    form = ActionOnlyForm()
    if not form.validate_on_submit():
        abort(400)
    with form_errors() as outcome:
        send_email_verification(current_user, current_language())
    if outcome.refused:
        flash(outcome.error.message, "error")
        return redirect(url_for("citizens.account"))
    flash(
        _("We have sent a link to %(email)s. Open it to confirm the address.", email=client.email),
        "success",
    )
    return redirect(url_for("citizens.account"))


@bp.route("/account/verify-email/<token>", endpoint="verify_email")
def verify_email_link(token: str):
    with form_errors() as outcome:
        user, claimed = verify_email(token)
    if outcome.refused:  # the link is tampered with, expired or used (TokenInvalid)
        return render_template("auth/link_invalid.html", message=outcome.error.message), 400
    flash(_("Your e-mail address is verified."), "success")
    if claimed is not None:
        flash(
            _(
                "We found the record the service centre keeps for you: the requests you made "
                "by phone or at a service window are now in your account."
            ),
            "success",
        )
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(url_for("citizens.account"))
    return redirect(url_for("auth.login"))


@bp.route("/account/export")
@login_required
def export_data():
    client = own_client()
    body = export_json(client)
    today = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
    log.info("client %s downloaded their data through account %s", client.id, current_user.id)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="my-data-{today.isoformat()}.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/account/delete", methods=["POST"])
@login_required
def ask_deletion():
    client = own_client()
    form = DeletionRequestForm()
    if not form.validate_on_submit():
        return render_account(client, 422, deletion_form=form)
    with form_errors() as outcome:
        request_deletion(client, current_user, form.reason.data)
    if outcome.refused:
        form.form_errors.append(outcome.error.message)
        return render_account(client, 409, deletion_form=form)
    flash(
        _("Your request is recorded. An administrator will carry it out or tell you why not."),
        "success",
    )
    return redirect(url_for("citizens.account"))


# --- admins: deletion requests ---------------------------------------------------------------


def render_deletion_requests(form: DeletionDecisionForm, failed: int | None = None, status=200):
    return render_template(
        "citizens/deletion_requests.html",
        pending=pending_deletion_requests(),
        handled=handled_deletion_requests(),
        form=form,
        failed=failed,
    ), status


@bp.route("/admin/deletion-requests")
@role_required(Role.ADMIN)
def deletion_requests():
    return render_deletion_requests(DeletionDecisionForm(formdata=None))


add_action_label("deletion.carry_out", _l("Carried out a deletion request (anonymised)"))
add_action_label("deletion.refuse", _l("Refused a deletion request"))


@bp.route("/admin/deletion-requests/<int:request_id>", methods=["POST"])
@role_required(Role.ADMIN)
def decide_deletion(request_id: int):
    deletion = get_or_404(DeletionRequest, request_id)
    form = DeletionDecisionForm()
    if not form.validate_on_submit():
        return render_deletion_requests(form, request_id, 422)
    with form_errors(form) as outcome:
        record_action(f"deletion.{form.decision.data}", target_type="client",
                      target_id=deletion.client_id)
        if form.decision.data == "carry_out":
            client = carry_out_deletion(deletion, current_user)
            message = _("Client #%(id)d is anonymised; their cases stay in the figures.",
                        id=client.id)
        else:
            refuse_deletion(deletion, current_user, form.note.data)
            message = _("The request is refused; the client is told why.")
    if outcome.refused:
        return render_deletion_requests(form, request_id, 409)
    return done(message, "citizens.deletion_requests")




# --- verifying the phone by text message -----------------------------------------------------


CLAIMED_MESSAGE = _l(
    "We found the record the service centre keeps for you: the requests you made "
    "by phone or at a service window are now in your account."
)


@bp.route("/account/verify-phone", methods=["POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["PHONE_CODE_RATE_LIMIT"],
    key_func=lambda: f"phone-code:{current_user.get_id()}",
)
def send_phone_verification():
    client = own_client()
    if not ActionOnlyForm().validate_on_submit():
        abort(400)
    with form_errors() as outcome:
        send_phone_code(current_user, current_language())
    if outcome.refused:
        flash(outcome.error.message, "error")
        if isinstance(outcome.error, PhoneCodeLimit):
            return render_account(client, 429)
        return redirect(url_for("citizens.account"))
    return done(_("We have sent a code by text message. Enter it below."), "citizens.verify_phone")


@bp.route("/account/verify-phone/code", methods=["GET", "POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["PHONE_GUESS_RATE_LIMIT"],
    key_func=lambda: f"phone-guess:{current_user.get_id()}",
    methods=["POST"],
)
def verify_phone():
    client = own_client()
    form = PhoneCodeForm()
    status = 200
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            proven = check_phone_code(current_user, form.code.data)
        if outcome.refused:
            status = 429 if isinstance(outcome.error, PhoneCodeLimit) else 409
        elif proven is None:
            keep_on_error()  # the wrong guess stays counted, though the answer is a 422
            form.code.errors = [_("This code is not right. Check the text message.")]
            status = 422
        else:
            claimed = claim_matching_record(current_user, proven_phone=proven)
            flash(_("Your phone number is verified."), "success")
            if claimed is not None:
                flash(str(CLAIMED_MESSAGE), "success")
            return redirect(url_for("citizens.account"))
    elif form.is_submitted():
        status = 422
    return render_template("account/verify_phone.html", form=form, client=client), status
