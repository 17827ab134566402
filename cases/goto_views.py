"""The staff "go to" box in the header: a tracking number jumps to its case.

``/go?q=`` reads a tracking number however it was typed (``cases.tracking
.normalise_number``) and opens the case if the user may see it; an unknown number and a
case out of sight get the same friendly "not found" page, so the box reveals nothing.
Anything else typed into the box is a text search: it goes on to ``/search?q=``.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from cases import bp
from cases.models import Case
from cases.tracking import is_tracking_number, normalise_number
from cases.visibility import visible_cases
from portal.db import db
from portal.permissions import can_see_internal

MAX_QUERY = 100


def visible_case_number(number: str) -> str | None:
    """``number`` if a case has it and ``current_user`` may see that case."""
    stmt = select(Case.number).where(Case.number == number, visible_cases(current_user))
    return db.session.scalar(stmt)


@bp.route("/go")
@login_required
def go():
    if not can_see_internal(current_user):  # staff only
        abort(403)
    raw = request.args.get("q", "")[:MAX_QUERY]
    query = normalise_number(raw)
    if not query:
        return render_template("cases/go.html", query="", message=None), 200
    if not is_tracking_number(query):  # words: the search page
        return redirect(url_for("search.search", q=raw.strip()))
    number = visible_case_number(query)
    if number is None:
        message = _("No case with the number %(number)s is open to you.", number=query)
        return render_template("cases/go.html", query=query, message=message), 404
    return redirect(url_for("cases.show", number=number))
