"""The officials' pages: the dashboard ``/reports``, workload tables, the cases behind a
figure, and the CSV/Excel file of every table.

Views parse the period and the grouping, ask ``figures`` (the one service) for Tables, and
render them with their charts; no figure is computed here. Every page needs
``may_read_reports`` (clients and clerks 403, anonymous to sign-in); which rows a reader
gets is the service's business (``scope``).
"""

from __future__ import annotations

from flask import abort, current_app, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from cases.models import Case
from cases.reports import bp, charts, figures, page_cache
from cases.reports.exports import file_response
from cases.reports.figures_common import GROUP_LABELS, labels
from cases.reports.figures_drill import drill_page, found_from_steps
from cases.reports.figures_series import received_and_closed
from cases.reports.hotspots import rising_categories, rising_words
from cases.reports.periods import KINDS, Period, PeriodError, from_args, today
from cases.reports.scope import ReportReach, may_read_reports, report_reach
from cases.reports.table_cells import CellLinks, cell, monthly_cells
from cases.reports.tables import Table
from cases.reports.views_format import change, figure, percent
from portal.db import utcnow
from portal.errors import render_error
from portal.pagination import paginate
from portal.params import page_arg

bp.add_app_template_global(may_read_reports, "may_read_reports")
bp.add_app_template_filter(figure, "report_figure")
bp.add_app_template_filter(change, "report_change")
bp.add_app_template_filter(percent, "report_percent")
bp.add_app_template_global(cell, "report_cell")
bp.add_app_template_global(CellLinks, "report_cell_links")
bp.add_app_template_global(monthly_cells, "report_monthly_cells")

GROUP_HEADS = {
    "department": _l("Department"),
    "category": _l("Category"),
    "district": _l("District"),
    "staff": _l("Staff member"),
}
GROUP_TABS = {
    "department": _l("By department"),
    "category": _l("By category"),
    "district": _l("By district"),
    "staff": _l("By staff member"),
}
# What the cases behind each figure are (figures.DRILLS names them).
FIGURE_LABELS = {
    "received": _l("Received"),
    "open": _l("Still open"),
    "backlog": _l("Backlog at the end of the period"),
    "closed": _l("Closed"),
    "overdue": _l("Overdue"),
    "answered": _l("Answered"),
    "late": _l("Answered late"),
    "signed": _l("Signed for"),
    "redo": _l("Sent back (redo)"),
    "return": _l("Returned"),
    "transfers": _l("Transferred away"),
    "extensions": _l("Extensions asked"),
    "dispatched": _l("Dispatched (response rate)"),
    "responded": _l("Signed for in time (response rate)"),
    "rated": _l("Counted ratings"),
    "bad_ratings": _l("Bad reviews"),
    "unsatisfied": _l("Not satisfied"),
    "unsolved": _l("Not solved"),
}
PERIOD_LABELS = {
    "day": _l("Day"),
    "week": _l("Week"),
    "month": _l("Month"),
    "quarter": _l("Quarter"),
    "year": _l("Year"),
    "custom": _l("Custom range"),
}
# The (English) messages of PeriodError, as the reader's language says them.
PERIOD_MESSAGES = {
    "unknown period": _l("Choose a period: day, week, month, quarter, year or a custom range."),
    "not a date (YYYY-MM-DD)": _l("Write dates as YYYY-MM-DD, for example 2026-11-30."),
    "the range ends before it starts": _l("The range ends before it starts."),
    "the range is too long": _l("A custom range may be at most three years long."),
}
FIRST_YEAR, LAST_YEAR = 2001, 2100  # a year before and after must still be dates
EXPORT_FORMATS = ("csv", "xlsx")
# The workload figures the dashboard shows (the workload page and the files hold them all).
DASHBOARD_WORKLOAD = ("received", "open", "closed", "overdue", "backlog", "on_time_rate")
# The page context a kept figures part renders with (``_figures_context``).
FIGURES_CONTEXT = ("period", "period_args", "previous_args", "year_before_args", "reach",
                   "group_heads")


def _reader() -> None:
    if not may_read_reports(current_user):
        abort(403)


def _bad_request(message: str):
    abort(make_response(render_error(400, message)))


def period_arg() -> Period:
    """The period the query string names, or a 400 page saying what is wrong with it."""
    try:
        period = from_args(request.args)
    except PeriodError as exc:
        _bad_request(str(PERIOD_MESSAGES.get(str(exc), _("This period cannot be read."))))
    if period.first.year < FIRST_YEAR or period.last.year > LAST_YEAR:
        _bad_request(_("Choose a date between %(first)d and %(last)d.",
                       first=FIRST_YEAR, last=LAST_YEAR))
    return period


def group_arg(name: str = "by") -> str:
    by = request.args.get(name) or "department"
    if by not in figures.GROUPS:
        _bad_request(_("Tables can be grouped by department, category, district or staff "
                       "member."))
    return by


def scope_note() -> str:
    """Whose figures these are, for the page and the files."""
    reach = report_reach(current_user)
    if reach is ReportReach.CITY:
        return _("The whole city")
    department = current_user.department.name if current_user.department else ""
    if reach is ReportReach.DEPARTMENT:
        return _("Department: %(name)s", name=department)
    return _("Own figures of %(name)s (%(department)s)", name=current_user.display_name,
             department=department)


def _picker(period: Period) -> dict:
    """What the period form shows: the kinds, the chosen one and its dates."""
    custom = period.kind == "custom"
    return {
        "kinds": [(kind, PERIOD_LABELS[kind]) for kind in KINDS],
        "kind": period.kind,
        "date": "" if custom else period.first.isoformat(),
        "from": period.first.isoformat() if custom else "",
        "to": period.last.isoformat() if custom else "",
        "today": today().isoformat(),
    }


def _page_context(period: Period) -> dict:
    return {
        "period": period,
        "period_args": period.query(),
        "previous_args": period.previous().query(),
        "year_before_args": period.year_before().query(),
        "picker": _picker(period),
        "scope": scope_note(),
        "reach": report_reach(current_user).value,
        "group_heads": GROUP_HEADS,
    }


@bp.route("/reports")
@login_required
def dashboard():
    """三率 with their definitions, the ranking (红榜, 黑榜), the workload by department and
    the charts; hot spots and alerts come from their own partials. The figures' HTML is
    kept per reader scope (``page_cache``); the alerts (a form each) never are."""
    _reader()
    period = period_arg()
    context = _page_context(period)
    figures_html = page_cache.cached_figures(
        "dashboard", _period_key(period), current_user,
        lambda: _dashboard_figures(period, context))
    return render_template("reports/dashboard.html", figures=figures_html, **context)


def _dashboard_figures(period: Period, context: dict) -> str:
    rates, ranked = figures.three_rates_and_ranking(period, current_user)
    workload = figures.workload(period, current_user, "department")
    timeline = received_and_closed(period, current_user)
    rate_keys = [key for key in figures.RATES if _has(rates, key)]
    return render_template(
        "reports/_dashboard_figures.html",
        rates=rates,
        ranked=ranked,
        workload=workload,
        rates_chart=charts.bar_chart(rates, rate_keys, "chart-rates") if rate_keys else None,
        workload_chart=_workload_chart(workload),
        timeline=timeline,
        timeline_chart=charts.line_chart(timeline, ["received", "closed"], "chart-timeline"),
        dashboard_workload_columns=DASHBOARD_WORKLOAD,
        **_figures_context(context),
    )


def _figures_context(context: dict) -> dict:
    """What a kept figures part may read of the page: the period and the reader's reach,
    never the reader's name (``scope``) or today's date (``picker``)."""
    return {**{name: context[name] for name in FIGURES_CONTEXT},
            "figures_as_of": page_cache.as_of()}


def _period_key(period: Period) -> tuple:
    """The period as the cache knows it (any query string naming it gives the same)."""
    return (period.kind, period.first.isoformat(), period.last.isoformat())


def _has(table: Table, key: str) -> bool:
    return any(column.key == key for column in table.columns)


def _workload_chart(table: Table):
    keys = [key for key in ("received", "closed") if _has(table, key)]
    return charts.bar_chart(table, keys, f"chart-{table.key}") if keys else None


@bp.route("/reports/workload")
@login_required
def workload():
    """One workload table (by department, category, district or staff), with its chart
    (its HTML kept per reader scope: ``page_cache``)."""
    _reader()
    period = period_arg()
    by = group_arg()
    context = _page_context(period)

    def render() -> str:
        table = figures.workload(period, current_user, by)
        return render_template("reports/_workload_figures.html", table=table, by=by,
                               chart=_workload_chart(table), **_figures_context(context))

    figures_html = page_cache.cached_figures("workload", (*_period_key(period), by),
                                             current_user, render)
    return render_template(
        "reports/workload.html",
        figures=figures_html,
        title=_("Workload by %(group)s", group=GROUP_LABELS[by]),
        by=by,
        tabs=GROUP_TABS,
        **context,
    )


@bp.route("/reports/cases")
@login_required
def cases():
    """The cases behind one figure, as far as the reader may see them."""
    _reader()
    period = period_arg()
    by = group_arg()
    name = request.args.get("figure") or "received"
    key = _key_arg()
    try:
        stmt = figures.drill_down(period, name, key, current_user, by=by)
    except figures.FigureError:
        abort(404)
    loads = (selectinload(Case.department), selectinload(Case.category))
    if found_from_steps(name, by):  # the page and the count from one pass over them
        pagination = drill_page(stmt, page_arg(), current_app.config["PAGE_SIZE"], loads)
    else:
        counted = figures.drill_down(period, name, key, current_user, by=by, counting=True)
        count = select(func.count()).select_from(counted.order_by(None).subquery())
        pagination = paginate(stmt.options(*loads), page_arg(),
                              current_app.config["PAGE_SIZE"], count=count)
    args = {**period.query(), "figure": name, "by": by}
    if key is not None:
        args["key"] = key
    return render_template(
        "reports/cases.html",
        pagination=pagination,
        figure_name=FIGURE_LABELS.get(name, name),
        row_label=_row_label(by, key),
        by=by,
        key=key,
        args=args,
        **_page_context(period),
    )


def _row_label(by: str, key: int | None) -> str:
    if key is None:
        return _("Total")
    return labels(by, [key]).get(key) or _("Not in your figures")


def _key_arg() -> int | None:
    """A row's key: a department, category, district or user id; absent for the total."""
    text = (request.args.get("key") or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 12:
        _bad_request(_("This figure has no such row."))
    return int(text)


def export_table(name: str, period: Period) -> Table:
    """The table an export link names (its ``Table.key``): ``rates``, ``ranking``,
    ``timeline``, ``hotspots-categories``, ``hotspots-words`` or ``workload-<group>``."""
    if name == "rates":
        return figures.three_rates(period, current_user)
    if name == "hotspots-categories":
        return rising_categories(period, current_user)
    if name == "hotspots-words":
        return rising_words(period, current_user)
    if name == "timeline":
        return received_and_closed(period, current_user)
    if name == "ranking":
        return figures.ranking(period, current_user).table
    group = name.removeprefix("workload-")
    if name.startswith("workload-") and group in figures.GROUPS:
        return figures.workload(period, current_user, group)
    abort(404)


@bp.route("/reports/export/<name>.<fmt>")
@login_required
def export(name: str, fmt: str):
    """A table as CSV or Excel, the period, scope and filters in its first rows."""
    _reader()
    if fmt not in EXPORT_FORMATS:
        abort(404)
    period = period_arg()
    table = export_table(name, period)
    return file_response(table, fmt, scope_note(), utcnow())
