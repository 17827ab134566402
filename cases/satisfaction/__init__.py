"""Satisfaction (好差评, issue 12): every answer rated, every bad review followed through.

When an answer is published (a department's reply, an answer at intake) the client is
asked to rate it: a ``Rating`` row waits, reached by a signed link ``/rate/<token>`` that
needs no sign-in, or by the signed-in owner on the case page, or recorded by a clerk from
a follow-up call (回访). The sweep reminds once and, per the deployment's settings, gives
an unrated answer the default level. A rating of ★2 or ★1 (差评) opens a ``BadReview``:
verified by a call, then fixed at once, rectified by a deadline (the case goes back as a
redo), explained, or appealed to a supervisor; the ledger ``/ratings/ledger`` lists them.

Modules: ``vocabulary`` (levels and labels), ``models``, ``settings`` (the one settings row,
dimensions), ``tokens`` (the link), ``services`` (asking, rating, defaults, reminders),
``bad_reviews`` (the 差评 loop), ``visibility`` (who sees which ratings), ``sweep``, views.
Arrows point into ``cases`` and ``portal``; ``cases`` calls in only through ``hooks``.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("satisfaction", __name__)


def init_app(app: Flask) -> None:
    """Register the satisfaction pages and template helpers on ``app``."""
    from cases.satisfaction import (  # noqa: F401  (the tables and routes register)
        bad_review_views,
        follow_up_views,
        models,
        rating_views,
        ratings_views,
        settings_views,
    )
    from cases.satisfaction.vocabulary import level_label

    app.register_blueprint(bp)
    app.add_template_global(level_label, "rating_level_label")
