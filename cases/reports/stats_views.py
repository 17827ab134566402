"""``/stats``: the public statistics page (no sign-in; counts only, cached).

Served from the stored snapshot of ``cases.reports.stats_store`` (the sweep computes it,
never a visitor's request); anonymous visitors get
``Cache-Control: public, max-age`` and an ETag, so browsers and proxies absorb repeat
traffic too. Signed-in readers get the same figures, but their page (which names them in
the header) is never stored in a shared cache.
"""

from __future__ import annotations

from flask import make_response, render_template, request
from flask_login import current_user

from cases.reports import bp
from cases.reports.stats_store import cache_seconds, public_stats
from portal.i18n import current_language
from portal.permissions import is_signed_in


@bp.get("/stats")
def stats():
    held = public_stats()
    response = make_response(render_template("reports/stats.html", stats=held.data))
    if is_signed_in(current_user):
        response.headers["Cache-Control"] = "private, no-store"
        return response
    response.headers["Cache-Control"] = f"public, max-age={cache_seconds()}"
    response.headers["Vary"] = "Accept-Language, Cookie"
    response.set_etag(f"{held.etag}-{current_language()}", weak=True)
    return response.make_conditional(request)
