"""Hot-spot alerts on the officials' desk: the list ``/reports/alerts`` and acknowledging
one with a note; the template helpers the dashboard's partials ``_alerts.html`` and
``_hotspots.html`` call.

Alerts are the city's business: supervisors, officials and admins read and acknowledge
them (others 403; anonymous to sign-in). A note is required (422 without one); of two
people acknowledging at once the second gets 409 with what they typed kept.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length, Optional

from cases.reports import bp
from cases.reports.hotspot_alerts import (
    MAX_NOTE,
    AlreadyAcknowledged,
    acknowledge,
    all_alerts,
    may_acknowledge,
    open_alerts,
)
from cases.reports.hotspots import HotspotRow, by_district, rising_categories, rising_words
from cases.reports.models import HotspotAlert
from cases.reports.periods import Period
from cases.reports.scope import may_read_city, may_read_reports
from portal.auth.services import safe_next_url
from portal.db import db
from portal.forms import PortalForm
from portal.pagination import paginate
from portal.params import page_arg
from portal.transactions import form_errors


class AcknowledgeForm(PortalForm):
    note = TextAreaField(
        _l("What is being done about it"),
        validators=[Optional(), Length(max=MAX_NOTE)],
        render_kw={"rows": 2, "maxlength": MAX_NOTE},
    )
    next = HiddenField()


# --- template helpers (the dashboard's partials) -----------------------------------------


def report_alerts(limit: int = 20) -> list[HotspotAlert]:
    """The unacknowledged alerts the signed-in reader may see (none for others)."""
    return open_alerts(current_user, limit)


def report_hotspots(period: Period, district_id: int | None = None) -> dict | None:
    """The rising categories and words of ``period`` in the reader's scope, as tables and
    grouped by district; None for those who read no reports."""
    if not may_read_reports(current_user):
        return None
    categories = rising_categories(period, current_user, district_id)
    words = rising_words(period, current_user, district_id)
    return {
        "categories": categories,
        "words": words,
        "categories_by_district": by_district(categories),
        "words_by_district": by_district(words),
    }


def hotspot_cases_url(row: HotspotRow, period: Period) -> str:
    """The search page listing a hot-spot row's cases (the reader's visibility applies)."""
    args = {"district": row.district_id, "from": period.first.isoformat(),
            "to": period.last.isoformat(), "sort": "newest"}
    if row.category_id is not None:
        args["category"] = row.category_id
    if row.word:
        args["q"] = row.word
    return url_for("search.search", **args)


def alert_cases_url(alert: HotspotAlert) -> str:
    return url_for("search.search", district=alert.district_id, category=alert.category_id,
                   sort="newest", **{"from": alert.window_start.isoformat(),
                                     "to": alert.window_end.isoformat()})


def acknowledge_form(alert: HotspotAlert | None = None) -> AcknowledgeForm:
    """A fresh form (its CSRF token), or the one refused on this request for ``alert``."""
    sent = request.environ.get("reports.acknowledge_sent")
    if alert is not None and sent and sent[0] == alert.id:
        return sent[1]
    # Back to the page the form is on; a page shown again after a refused POST: the list.
    here = request.full_path.rstrip("?") if request.method == "GET" else None
    return AcknowledgeForm(formdata=None, next=here or url_for("reports.alerts"))


for _helper in (report_alerts, report_hotspots, hotspot_cases_url, alert_cases_url,
                acknowledge_form):
    bp.add_app_template_global(_helper, _helper.__name__)
bp.add_app_template_global(may_acknowledge, "may_acknowledge_alerts")


# --- pages -------------------------------------------------------------------------------


def _city_reader() -> None:
    if not may_read_city(current_user):
        abort(403)


def _render_alerts(status: int = 200):
    pagination = paginate(all_alerts(), page_arg(), current_app.config["PAGE_SIZE"])
    return render_template("reports/alerts.html", pagination=pagination), status


@bp.route("/reports/alerts")
@login_required
def alerts():
    """Every hot-spot alert: the open ones to acknowledge, the others with who, when, why."""
    _city_reader()
    return _render_alerts()


@bp.route("/reports/alerts/<int:alert_id>/acknowledge", methods=["POST"])
@login_required
def acknowledge_alert(alert_id: int):
    """Acknowledge one alert with a note (supervisors, officials, admins)."""
    if not may_acknowledge(current_user):
        abort(403)
    alert = db.session.get(HotspotAlert, alert_id)
    if alert is None:
        abort(404)
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        return _again(alert, form, 422)
    if alert.acknowledged_at is not None:
        return _taken(alert, form)
    with form_errors(form) as outcome:
        acknowledge(alert, current_user, form.note.data)
    if outcome.refused:
        if isinstance(outcome.error, AlreadyAcknowledged):
            form.form_errors.clear()  # _taken says it (or that it is done)
            return _taken(db.session.get(HotspotAlert, alert_id), form)
        return _again(alert, form, 422)
    flash(_("Alert acknowledged."), "success")
    return redirect(safe_next_url(form.next.data) or url_for("reports.alerts"))


def _taken(alert: HotspotAlert, form: AcknowledgeForm):
    """Acknowledged already: by this reader (a second click) is done; by another, 409."""
    if alert.acknowledged_by_id == current_user.id:
        flash(_("Alert acknowledged."), "success")
        return redirect(safe_next_url(form.next.data) or url_for("reports.alerts"))
    form.form_errors.append(_("Someone else acknowledged this alert meanwhile."))
    return _again(alert, form, 409)


def _again(alert: HotspotAlert, form: AcknowledgeForm, status: int):
    """The alerts page again, what was typed kept in that alert's form."""
    messages = list(form.form_errors) + [e for f in form for e in f.errors]
    for message in messages:
        flash(str(message), "error")
    if not messages:
        flash(_("This alert could not be acknowledged; reload the page and try again."),
              "error")
    request.environ["reports.acknowledge_sent"] = (alert.id, form)
    return _render_alerts(status)
