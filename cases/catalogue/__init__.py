"""The service catalogue: categories and their deadlines, routing rules, the holiday calendar.

Admins keep it on the ``catalogue`` blueprint, which the cases room registers under
``/admin`` (the addresses the admin pages always had) and lists on the admin overview
(``init_app``). The views load in ``init_app``: importing this package imports no view.
"""

from __future__ import annotations

from flask import Blueprint, Flask, get_template_attribute
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

bp = Blueprint("catalogue", __name__)


def init_app(app: Flask) -> None:
    """Serve the catalogue under ``/admin`` and list it on the admin overview."""
    from cases.catalogue import question_views, views  # noqa: F401  (routes register on import)
    from portal.admin import add_notice, add_section

    app.register_blueprint(bp, url_prefix="/admin")
    add_section(app, "catalogue.categories", _l("Categories"),
                _l("The service catalogue: its tree, default departments and deadlines."))
    add_section(app, "catalogue.routing", _l("Routing rules"),
                _l("Which department a new case of a category (and district) goes to."))
    add_section(app, "catalogue.calendar", _l("Holiday calendar"),
                _l("Public holidays and make-up working days that deadlines count with."))
    add_notice(app, calendar_notice)


def calendar_notice() -> Markup:
    """The overview's warning about this year and the next without a holiday schedule."""
    from cases.catalogue.services import unpublished_years
    from cases.services import local_now

    year = local_now().year
    warning = get_template_attribute("cases/catalogue/_catalogue.html", "unpublished_warning")
    return warning(unpublished_years(year, year + 1), link=True)
