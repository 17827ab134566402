"""Admin pages of the Open311 keys: the list, issuing a key (its secret shown once),
revoking one, and each key's use log. Admins only; the rules live in ``keys``."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from cases.models import Case
from cases.open311 import keys_bp
from cases.open311.forms import ApiKeyForm
from cases.open311.keys import issue_key, revoke_key
from cases.open311.models import ApiKey, ApiKeyUse
from portal.admin.audit import add_action_label, record_action
from portal.db import db, get_or_404
from portal.models import Role
from portal.pagination import paginate
from portal.params import page_arg
from portal.permissions import role_required
from portal.transactions import form_errors

add_action_label("api_key.create", _l("Issued an Open311 key"))
add_action_label("api_key.revoke", _l("Revoked an Open311 key"))


@keys_bp.route("/api-keys")
@role_required(Role.ADMIN)
def index():
    """Every key, newest first, with how often it was used."""
    uses = (
        select(ApiKeyUse.api_key_id, func.count().label("n"))
        .group_by(ApiKeyUse.api_key_id)
        .subquery()
    )
    stmt = (
        select(ApiKey, func.coalesce(uses.c.n, 0))
        .outerjoin(uses, uses.c.api_key_id == ApiKey.id)
        .options(joinedload(ApiKey.created_by))
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    )
    rows = db.session.execute(stmt.limit(500)).all()
    return render_template("open311/keys.html", rows=rows)


@keys_bp.route("/api-keys/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new():
    """Issue a key: on success the page shows the secret, this once."""
    form = ApiKeyForm()
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            issued = issue_key(form.name.data, form.scopes.data or ["post"],
                               form.rate_limit.data, current_user)
            record_action("api_key.create", issued.key,
                          {"name": issued.key.name, "prefix": issued.key.prefix,
                           "scopes": issued.key.scopes, "rate_limit": issued.key.rate_limit})
        if not outcome.refused:
            return render_template("open311/key_issued.html", key=issued.key,
                                   secret=issued.secret)
    status = 422 if form.is_submitted() else 200
    return render_template("open311/key_form.html", form=form), status


@keys_bp.route("/api-keys/<int:key_id>/revoke", methods=["POST"])
@role_required(Role.ADMIN)
def revoke(key_id: int):
    key = get_or_404(ApiKey, key_id)
    with form_errors() as outcome:
        revoke_key(key, current_user)
        record_action("api_key.revoke", key, {"name": key.name, "prefix": key.prefix})
    if outcome.refused:
        flash(str(outcome.error), "error")
    else:
        flash(_("The key %(prefix)s… is revoked.", prefix=key.prefix), "success")
    return redirect(url_for("api_keys.index"))


@keys_bp.route("/api-keys/<int:key_id>/uses")
@role_required(Role.ADMIN)
def uses(key_id: int):
    """The key's use log, newest first, a page at a time."""
    key = get_or_404(ApiKey, key_id)
    stmt = (
        select(ApiKeyUse, Case.number)
        .outerjoin(Case, Case.id == ApiKeyUse.case_id)
        .where(ApiKeyUse.api_key_id == key.id)
        .order_by(ApiKeyUse.used_at.desc(), ApiKeyUse.id.desc())
    )
    count = select(func.count()).select_from(ApiKeyUse).where(ApiKeyUse.api_key_id == key.id)
    pagination = paginate(stmt, page_arg(), current_app.config["PAGE_SIZE"], count=count,
                          scalars=False)
    return render_template("open311/key_uses.html", key=key, pagination=pagination)
