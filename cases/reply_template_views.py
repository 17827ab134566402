"""Pages where department heads keep their reply templates."""

from __future__ import annotations

from flask import abort, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from cases import bp
from cases.models import ReplyTemplate
from cases.reply_templates import (
    can_edit_template,
    can_manage_templates,
    placeholder_list,
    save_reply_template,
    templates_for,
)
from portal.db import db, get_or_404
from portal.forms import PortalForm, coerce_id
from portal.models import Department, Role
from portal.navigation import done
from portal.refdata import department_options
from portal.transactions import form_errors


class ReplyTemplateForm(PortalForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=100)])
    body = TextAreaField(_l("Reply text"), validators=[DataRequired(), Length(max=5000)])
    department = SelectField(_l("Department"), coerce=coerce_id, validators=[Optional()])
    is_active = BooleanField(_l("Active"), default=True)


def template_form(template: ReplyTemplate | None) -> ReplyTemplateForm:
    form = ReplyTemplateForm(obj=template)
    form.department.choices = [SelectChoice("", _("All departments"))] + [
        SelectChoice(d.id, d.name) for d in department_options()
    ]
    if template is not None and not form.is_submitted():
        form.department.data = template.department_id
    return form


@bp.route("/reply-templates")
@login_required
def reply_templates():
    if not can_manage_templates(current_user):
        abort(403)
    return render_template(
        "cases/reply_templates.html",
        templates=templates_for(current_user, include_inactive=True),
        editable={t.id for t in templates_for(current_user, True)
                  if can_edit_template(current_user, t)},
    )


@bp.route("/reply-templates/new", methods=["GET", "POST"])
@bp.route("/reply-templates/<int:template_id>/edit", methods=["GET", "POST"])
@login_required
def edit_reply_template(template_id: int | None = None):
    if not can_manage_templates(current_user):
        abort(403)
    template = get_or_404(ReplyTemplate, template_id) if template_id else None
    if template is not None and not can_edit_template(current_user, template):
        abort(403)
    form = template_form(template)
    if form.validate_on_submit():
        department = (
            db.session.get(Department, form.department.data) if form.department.data else None
        )
        with form_errors(form) as outcome:
            saved = save_reply_template(
                current_user,
                template,
                title=form.title.data,
                body=form.body.data,
                department=department,
                is_active=form.is_active.data,
            )
        if not outcome.refused:
            return done(
                _("Reply template “%(title)s” saved.", title=saved.title), "cases.reply_templates"
            )
    status = 422 if form.is_submitted() else 200
    return (
        render_template(
            "cases/reply_template_form.html",
            form=form,
            template=template,
            placeholders_text=placeholder_list(),
            fixed_department=current_user.role == Role.DEPARTMENT_HEAD,
        ),
        status,
    )
