"""Duplicate client records: the list of suspects, merging one into another, the history.

Intake staff only (clerk, supervisor, admin). Nothing here shows a full phone, ID number,
credit code, e-mail address or address.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from citizens import bp, log
from citizens.duplicates import duplicate_groups, is_live, likely_duplicates, reason_label
from citizens.merge import merge_clients, merge_problem
from citizens.merge_forms import MergeForm
from citizens.merge_review import compare, history_entries
from citizens.models import Client
from portal.db import db, get_or_404
from portal.params import arg_int, page_arg
from portal.permissions import INTAKE_ROLES, role_required
from portal.transactions import form_errors


def render(template: str, status: int = 200, **context):
    context.setdefault("reason_label", reason_label)
    return render_template(template, **context), status


@bp.route("/clients/duplicates")
@role_required(*INTAKE_ROLES)
def duplicates():
    """Identifiers shared by several live records: the strongest suspects first."""
    pagination = duplicate_groups(page_arg(), current_app.config["PAGE_SIZE"])
    return render("citizens/duplicates.html", pagination=pagination)


@bp.route("/clients/<int:client_id>/merge", methods=["GET", "POST"])
@role_required(*INTAKE_ROLES)
def merge(client_id: int):
    """Choose a record to merge into this one, compare them, and merge with a reason."""
    survivor = get_or_404(Client, client_id)
    form = MergeForm()
    submitted = form.is_submitted()
    raw = "" if submitted else request.args.get("other", "").strip()
    other_id = form.other.data if submitted else arg_int("other")
    other = db.session.get(Client, other_id) if other_id else None

    if submitted:
        valid = form.validate()
        if other is None and not form.other.errors:
            form.other.errors = [_("There is no client record with this number.")]
            valid = False
        if valid and other is not None:
            with form_errors(form) as outcome:
                done = merge_clients(survivor, other, current_user, form.reason.data)
            if not outcome.refused:
                log.info("merge %s saved by user %s", done.id, current_user.id)
                flash(
                    _(
                        "Record #%(merged)d is merged into record #%(survivor)d.",
                        merged=done.merged_id,
                        survivor=done.survivor_id,
                    ),
                    "success",
                )
                return redirect(url_for("citizens.merge_history", client_id=survivor.id))
    elif other is not None:
        form.other.data = other.id

    problem = merge_problem(survivor, other) if other is not None and not submitted else None
    suggestions = likely_duplicates(survivor) if is_live(survivor) and other is None else []
    return render(
        "citizens/merge.html",
        422 if submitted else 200,
        survivor=survivor,
        other=other,
        not_found=bool(raw) and other is None,
        rows=compare(survivor, other) if other is not None else [],
        problem=problem,
        suggestions=suggestions,
        form=form,
    )


@bp.route("/clients/<int:client_id>/merges")
@role_required(*INTAKE_ROLES)
def merge_history(client_id: int):
    """Who merged what into this record, when and why; the merged record shown masked."""
    client = get_or_404(Client, client_id)
    into = db.session.get(Client, client.merged_into_id) if client.merged_into_id else None
    return render(
        "citizens/merge_history.html", client=client, into=into, entries=history_entries(client)
    )
