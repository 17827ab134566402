"""The one call the filing forms' views make after a case is filed from a form
(``cases.views.new_request``, ``cases.intake_views.intake``): settle the suggestion the
form carried and, when the rule allows, route the case (``suggestions.settle_filing``)."""

from __future__ import annotations

from flask import flash, request
from flask_babel import gettext as _

from cases.models import Case
from cases.smart_intake.suggestions import FilingChoice, Settled, settle_filing
from portal.models import User


def after_filing(case: Case, user: User, surface: str) -> Settled:
    """Settle what ``request.form`` says about suggestions; tell the filer of auto-routing."""
    settled = settle_filing(case, FilingChoice.from_form(request.form), user, surface)
    if settled.auto_routed and case.department is not None:
        flash(_("The portal routed it to %(department)s, as suggested.",
                department=case.department.name), "info")
    return settled
