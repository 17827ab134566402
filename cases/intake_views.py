"""Filing on a client's behalf: phone, walk-in, letter and e-mail requests taken by staff."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, Length, Optional

from cases import bp
from cases.actors import Actor
from cases.catalogue.question_forms import filing_answers
from cases.duplicates import similar_open_cases
from cases.filing import file_request
from cases.forms import CaseForm, priority_choices
from cases.models import CHANNEL_LABELS, CaseType, Channel, Priority
from cases.services import CaseRequest
from cases.smart_intake.filing_hook import after_filing
from cases.views import category_choices, district_choices
from citizens import services as client_services  # the module: see cases.filing
from citizens.models import CLIENT_KIND_LABELS, Client, ClientKind
from portal.db import db
from portal.forms import int_or_none
from portal.params import arg_int, arg_text
from portal.permissions import INTAKE_ROLES
from portal.transactions import form_errors

STAFF_CHANNELS = (Channel.PHONE, Channel.WALK_IN, Channel.LETTER, Channel.EMAIL)


class IntakeForm(CaseForm):
    """The filing form plus who asks and how they reached us."""

    channel = SelectField(
        _l("Channel"),
        choices=[SelectChoice(c.value, CHANNEL_LABELS[c]) for c in STAFF_CHANNELS],
        default=Channel.PHONE.value,
    )
    priority = SelectField(_l("Priority"), default=Priority.NORMAL.value)
    client_id = HiddenField(filters=[int_or_none])
    new_kind = SelectField(
        _l("Kind of client"),
        choices=[SelectChoice(k.value, CLIENT_KIND_LABELS[k]) for k in ClientKind],
        default=ClientKind.CITIZEN.value,
    )
    new_name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    new_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    new_id_number = StringField(
        _l("Resident ID number or credit code"), validators=[Optional(), Length(max=18)]
    )
    new_email = StringField(
        _l("E-mail"), validators=[Optional(), Email(check_deliverability=False), Length(max=254)]
    )


def new_client_details(form: IntakeForm) -> client_services.ClientDetails:
    """The caller's details as typed, for a client record made on the spot."""
    return client_services.ClientDetails(
        kind=ClientKind(form.new_kind.data),
        name=form.new_name.data,
        phone=form.new_phone.data,
        email=form.new_email.data,
        identifier=form.new_id_number.data,
    )


def require_intake_staff() -> None:
    if not current_user.is_authenticated or current_user.role not in INTAKE_ROLES:
        abort(403)


@bp.route("/intake/new", methods=["GET", "POST"])
@login_required
def intake():
    """One page: find or create the client, record the channel, file the request."""
    require_intake_staff()
    form = IntakeForm()
    form.category.choices = category_choices(_("Choose a category"))
    form.district.choices = district_choices(_("Choose a district"))
    form.priority.choices = priority_choices()
    chosen_id = arg_int("client") or form.client_id.data
    client = db.session.get(Client, chosen_id) if chosen_id else None
    if client is not None:
        form.client_id.data = client.id
    query = arg_text("q").strip()
    matches = client_services.find_clients(query) if query and client is None else []
    fields = filing_answers(form)  # the category's extra questions
    answers = fields.check() if form.is_submitted() and not fields.waiting else ()
    similar = []
    if not fields.waiting and form.validate_on_submit() and answers is not None:
        if client is None and not (form.new_name.data or "").strip():
            form.new_name.errors = [_("Choose a client from the search, or give a new name.")]
        elif request.form.get("confirm_new") != "1":
            similar = similar_open_cases(
                form.category.data, form.district.data, form.title.data, current_user
            )
        if not form.new_name.errors and not similar:
            with form_errors(form) as outcome:
                filed = file_request(
                    CaseRequest(
                        type=CaseType(form.type.data),
                        category_id=form.category.data,
                        title=form.title.data,
                        description=form.description.data,
                        district_id=form.district.data,
                        channel=Channel(form.channel.data),
                        priority=Priority(form.priority.data),
                        anonymous=form.anonymous.data,
                        answers=answers,
                    ),
                    actor=Actor.staff(current_user),
                    client=client,
                    new_client=None if client is not None else new_client_details(form),
                )
                case, client = filed.case, filed.client
                after_filing(case, current_user, "clerk")  # the suggestion taken, if any
            if not outcome.refused:
                flash(_("Filed as %(number)s for %(name)s.", number=case.number,
                        name=client.name), "success")
                session["issued_code"] = [case.number, filed.tracking_code]
                return redirect(url_for("cases.show", number=case.number))
    status = 422 if form.is_submitted() and not similar and not fields.waiting else 200
    return (
        render_template(
            "cases/intake.html",
            form=form,
            client=client,
            query=query,
            matches=matches,
            similar=similar,
            answers=fields,
        ),
        status,
    )
