"""Pages for attachments and for the client adding information to a case."""

from __future__ import annotations

from urllib.parse import quote

from flask import abort, current_app, g, request, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.utils import secure_filename
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from cases import bp, log
from cases.attachments import (
    MAX_NOTE_LENGTH,
    add_client_information,
    attachment_rules,
    may_add_information,
    storage_path,
)
from cases.models import Attachment
from cases.public import attachments, audience_of
from cases.services import TransitionRefused
from cases.views import filing_key, load_case, render_case
from cases.visibility import in_scope
from portal.db import db
from portal.extensions import limiter
from portal.forms import PortalForm, add_form_error
from portal.navigation import done
from portal.transactions import form_errors
from portal.uploads import UploadRejected, human_size, type_label


class AddInformationForm(PortalForm):
    """The client's note; the files come from ``request.files`` (checked by the service)."""

    note = TextAreaField(
        _l("What you want to add"),
        validators=[
            Optional(),
            Length(
                max=MAX_NOTE_LENGTH, message=_l("The text may have at most 5000 characters.")
            ),
        ],
    )


# Helpers the case page and the filing form use.
bp.add_app_template_filter(human_size, "filesize")
bp.add_app_template_filter(type_label, "file_type_label")
bp.add_app_template_global(attachment_rules, "attachment_rules")
bp.add_app_template_global(may_add_information, "may_add_information")


def content_disposition(attachment: Attachment) -> str:
    """``attachment`` with an ASCII fallback and the RFC 5987 UTF-8 name (Chinese names)."""
    name = attachment.filename
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    fallback = secure_filename(name)
    if not fallback or fallback.lower() == extension.lower():  # nothing left but the extension
        fallback = f"attachment-{attachment.id}.{extension}" if extension else "attachment"
    quoted = quote(name, safe="!#$&+-.^_`|~")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quoted}"


@bp.route("/cases/<number>/attachments/<int:attachment_id>")
@login_required
def attachment(number: str, attachment_id: int):
    """The file, to whoever may see the case (404 otherwise), always as a download."""
    case = load_case(number)
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.case_id != case.id:
        abort(404)
    if item not in attachments(case, audience_of(current_user)):
        abort(404)
    path = storage_path(item.storage_key)
    if not path.is_file():
        log.error("attachment %s of case %s is missing on disk", item.id, case.number)
        abort(404)
    response = send_file(path, mimetype=item.content_type, etag=item.sha256)
    response.headers["Content-Disposition"] = content_disposition(item)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/cases/<number>/add-info", methods=["POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["FILING_RATE_LIMIT"], key_func=filing_key, methods=["POST"]
)
def add_info(number: str):
    """补充材料: the owning client adds a note and files; a waiting case resumes."""
    case = load_case(number)
    if not in_scope(current_user, case, "owner"):
        abort(404)
    form = AddInformationForm()
    if not form.validate_on_submit():
        return show_add_info_errors(case, form, 422)
    with form_errors() as outcome:
        add_client_information(
            case, current_user, form.note.data, request.files.getlist("attachments")
        )
    error = outcome.error
    if isinstance(error, TransitionRefused):
        form.form_errors.append(error.message)
        return show_add_info_errors(load_case(number), form, 409)
    if isinstance(error, UploadRejected):
        form.form_errors.extend(error.messages)
        return show_add_info_errors(load_case(number), form, 422)
    if error is not None:
        add_form_error(form, error)
        return show_add_info_errors(load_case(number), form, 422)
    return done(
        _("Thank you. Your information was added to the case."), "cases.show", number=number
    )


def show_add_info_errors(case, form: AddInformationForm, status: int):
    """The case page again, with the add-information form showing what went wrong."""
    g.add_info_form = form  # read by templates/cases/_add_info.html
    return render_case(case, status=status)
