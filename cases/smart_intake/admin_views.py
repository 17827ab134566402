"""Admin pages of smart intake (``/admin/intake``): the suggestions' accuracy in use,
the auto-routing settings and the urgency words. Admins only; every change is an admin
action; bad input is shown again with 422."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from cases.catalogue.models import Category
from cases.smart_intake.forms import (
    IntakeSettingsForm,
    UrgencyWordEditForm,
    UrgencyWordForm,
    UrgencyWordRemoveForm,
)
from cases.smart_intake.models import UrgencyWord
from cases.smart_intake.predict import category_path
from cases.smart_intake.settings import intake_settings, update_intake_settings
from cases.smart_intake.suggestions import outcome_label, surface_label
from cases.smart_intake.urgency import (
    add_urgency_word,
    remove_urgency_word,
    update_urgency_word,
    urgency_words,
)
from cases.smart_intake.usage import DEFAULT_DAYS, PERIODS, decisions_query, usage
from cases.vocabulary import Priority
from portal.db import db
from portal.models import Role
from portal.navigation import done
from portal.pagination import paginate
from portal.params import page_arg
from portal.permissions import role_required
from portal.transactions import form_errors

bp = Blueprint("intake_admin", __name__, url_prefix="/admin/intake")
DECISIONS_PER_PAGE = 25


@bp.record_once
def _list_in_admin(state) -> None:
    from portal.admin import add_section

    add_section(state.app, "intake_admin.usage_page", _l("Smart intake"),
                _l("How often suggestions are taken; auto-routing; urgency words."))


# --- accuracy in use --------------------------------------------------------------------


def _days() -> int:
    value = request.args.get("days", type=int)
    return value if value in PERIODS else DEFAULT_DAYS


@bp.route("")
@role_required(Role.ADMIN)
def usage_page():
    days = _days()
    decisions = paginate(decisions_query(days), page_arg(), DECISIONS_PER_PAGE, scalars=False)
    wanted = {item["category_id"] for row, _number, _chosen in decisions.items
              for item in (row.suggested or [])[:1]}
    found = db.session.scalars(select(Category).where(Category.id.in_(wanted))) if wanted else []
    names = {c.id: category_path(c) for c in found}
    return render_template(
        "smart_intake/usage.html", days=days, periods=PERIODS, rows=usage(days),
        decisions=decisions, names=names, settings=intake_settings(), path=category_path,
        surface_label=surface_label, outcome_label=outcome_label,
    )


# --- settings ---------------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def settings():
    page = "smart_intake/settings.html"
    if request.method == "GET":
        return render_template(page, form=IntakeSettingsForm(formdata=None, obj=intake_settings()))
    form = IntakeSettingsForm()
    if not form.validate_on_submit():
        return render_template(page, form=form), 422
    with form_errors(form) as outcome:
        update_intake_settings(bool(form.auto_route.data),
                               float(form.auto_route_threshold.data), current_user)
    if outcome.refused:
        return render_template(page, form=form), 422
    return done(_("The smart intake settings are saved."), "intake_admin.settings")


# --- urgency words ----------------------------------------------------------------------

WORDS_PAGE = "smart_intake/urgency_words.html"


def _words_page(form: UrgencyWordForm, status: int = 200,
                edit: UrgencyWordEditForm | None = None):
    return render_template(WORDS_PAGE, form=form, words=urgency_words(), edit=edit,
                           priorities=list(Priority)), status


@bp.route("/urgency-words", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def urgency_words_page():
    if request.method == "GET":
        return _words_page(UrgencyWordForm(formdata=None))
    form = UrgencyWordForm()
    if not form.validate_on_submit():
        return _words_page(form, 422)
    with form_errors(form) as outcome:
        row = add_urgency_word(form.word.data, Priority(form.priority.data), current_user)
    if outcome.refused:
        return _words_page(form, 422)
    return done(_("“%(word)s” is on the list.", word=row.word), "intake_admin.urgency_words_page")


def _word(word_id: int | None) -> UrgencyWord:
    row = db.session.get(UrgencyWord, word_id) if word_id else None
    if row is None:
        abort(404)
    return row


@bp.route("/urgency-words/save", methods=["POST"])
@role_required(Role.ADMIN)
def save_urgency_word():
    form = UrgencyWordEditForm()
    row = _word(form.word_id.data)
    if not form.validate_on_submit():
        return _words_page(UrgencyWordForm(formdata=None), 422, form)
    update_urgency_word(row, Priority(form.priority.data), bool(form.is_active.data),
                        current_user)
    return done(_("“%(word)s” is saved.", word=row.word), "intake_admin.urgency_words_page")


@bp.route("/urgency-words/remove", methods=["POST"])
@role_required(Role.ADMIN)
def remove_urgency_word_view():
    form = UrgencyWordRemoveForm()
    row = _word(form.word_id.data)
    if not form.validate_on_submit():
        abort(400)
    word = row.word
    remove_urgency_word(row, current_user)
    return done(_("“%(word)s” is off the list.", word=word), "intake_admin.urgency_words_page")
