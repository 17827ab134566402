"""``/reports/monthly/<YYYY-MM>``: the monthly report as a printable page and (``.xlsx``)
as a workbook; both read the same ``MonthlyReport``."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from cases.reports import bp
from cases.reports.monthly import MonthlyReport, monthly_report, scope_label
from cases.reports.monthly_xlsx import monthly_workbook
from cases.reports.periods import Period, PeriodError, today
from cases.reports.scope import may_read_reports
from cases.reports.views_format import change, figure
from portal.db import utcnow
from portal.errors import render_error

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIRST_YEAR, LAST_YEAR = 2001, 2100  # the year before must still be a month we know


def _report(month: str) -> MonthlyReport:
    if not may_read_reports(current_user):
        abort(403)
    try:
        period = Period.parse_month(month)
    except PeriodError:
        period = None
    if period is None or not FIRST_YEAR <= period.first.year <= LAST_YEAR or len(month) != 7:
        abort(make_response(render_error(
            404, _("There is no monthly report for “%(month)s”: write the month as YYYY-MM, "
                   "for example 2026-11.", month=month[:20]))))
    return monthly_report(period, current_user)


@bp.get("/reports/monthly")
@login_required
def monthly_latest():
    """The last complete month."""
    if not may_read_reports(current_user):
        abort(403)
    day = today()
    last = Period.month(day.year, day.month).previous()
    return redirect(url_for("reports.monthly", month=last.key()))


@bp.get("/reports/monthly/<string:month>")
@login_required
def monthly(month: str):
    report = _report(month)
    return render_template(
        "reports/monthly.html", report=report, scope=scope_label(current_user),
        previous=report.period.previous().key(), following=_following(report.period),
        made_at=utcnow(), fig=figure, chg=change,
    )


@bp.get("/reports/monthly/<string:month>.xlsx")
@login_required
def monthly_xlsx(month: str):
    report = _report(month)
    data = monthly_workbook(report, scope_label(current_user), utcnow())
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="monthly_{report.period.key()}.xlsx"',
        "Cache-Control": "private, no-store",
    })


def _following(period: Period) -> str | None:
    """The next month's key, when it has begun."""
    first = period.last + timedelta(days=1)
    return first.strftime("%Y-%m") if first <= today() else None
