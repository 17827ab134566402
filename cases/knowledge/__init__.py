"""The knowledge base: answers that staff write, review and publish (issue 11).

Citizens read published answers on the public help page ``/help`` and while they type a
new request; an answer read from the filing page by someone who then leaves without
filing counts as a deflected request. Searched through ``search`` like everything else.

Modules: ``models`` (tables), ``services`` (who may write, review, publish; the steps),
``reading`` (finding answers through ``search``, views, votes, deflection), ``forms``,
``views`` (staff pages under ``/knowledge``, the admin figures) and ``help_views`` (the
public ``/help`` pages and the suggestions' JSON). ``init_app`` registers the blueprint;
importing this package imports no view.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

bp = Blueprint("knowledge", __name__)


def init_app(app: Flask) -> None:
    """Serve the knowledge base's pages, give templates its predicates, list its figures."""
    from cases.knowledge import help_views, views  # noqa: F401  (routes register on import)
    from cases.knowledge.reading import filing_suggestions
    from cases.knowledge.services import (
        can_read_knowledge,
        can_review_knowledge,
        can_write_knowledge,
    )
    from portal.admin import add_section

    app.register_blueprint(bp)
    for predicate in (can_read_knowledge, can_write_knowledge, can_review_knowledge):
        app.add_template_global(predicate)
    app.add_template_global(filing_suggestions, "answer_suggestions")
    add_section(app, "knowledge.figures", _l("Help figures"),
                _l("Answers read from the filing page, requests deflected and filed anyway."))
