"""Admin pages of the catalogue: categories, routing rules, the holiday calendar.

Served under ``/admin`` by the ``catalogue`` blueprint (the same addresses as the core's
admin pages) and listed on the admin overview. Admins only; the rules live in
``cases.catalogue.services`` and ``cases.calendar``.
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from cases.calendar import (
    library_source,
    mark_year_published,
    remove_calendar_day,
    seed_calendar,
    set_calendar_day,
)
from cases.catalogue import bp
from cases.catalogue.forms import CalendarDayForm, CalendarYearForm, CategoryForm, RoutingRuleForm
from cases.catalogue.services import (
    CategoryData,
    RoutingRuleData,
    category_tree,
    create_category,
    create_routing_rule,
    leaf_category_ids,
    unpublished_years,
    update_category,
    update_routing_rule,
)
from cases.models import CalendarDay, CalendarYear, Category, RoutingRule, TimeUnit
from cases.services import local_now
from portal.admin.audit import add_action_label, add_field_label, record_action
from portal.admin.pages import (
    active_department_choices,
    district_choices,
    form_values,
    inactive_suffix,
    page_of,
    save_form,
)
from portal.db import db, get_or_404
from portal.models import District, Role
from portal.params import arg_int
from portal.permissions import role_required

for _action, _label in (
    ("category.create", _l("Created the category")),
    ("category.update", _l("Changed the category")),
    ("routing_rule.create", _l("Created the routing rule")),
    ("routing_rule.update", _l("Changed the routing rule")),
    ("calendar_day.set", _l("Set a day of the holiday calendar")),
    ("calendar_day.remove", _l("Removed a day of the holiday calendar")),
    ("calendar_year.import", _l("Imported a year's holiday schedule")),
    ("calendar_year.publish", _l("Marked a year's schedule as published")),
):
    add_action_label(_action, _label)
add_field_label("day", _l("Day"))
add_field_label("year", _l("Year"))
add_field_label("workday", _l("Working day"))


def recorded(action: str, row, **details):
    """Record the admin's change of ``row`` (``portal.admin.audit``), hand the row back."""
    record_action(action, row, details or {"code": getattr(row, "code", None)})
    return row


def indent(depth: int) -> str:
    """Non-breaking spaces and a corner that show a category's depth (kept by browsers)."""
    return ("\u00a0\u00a0\u00a0\u00a0" * (depth - 1) + "\u00a0\u00a0└\u00a0") if depth else ""


def parent_choices() -> list[SelectChoice]:
    return [SelectChoice("", _("None (a top-level category)"))] + [
        SelectChoice(
            node.category.id,
            f"{indent(node.depth)}{node.category.name} ({node.category.code})"
            f"{inactive_suffix(node.category.is_active)}",
        )
        for node in category_tree()
    ]


def rule_category_choices(current: Category | None) -> list[SelectChoice]:
    """Active leaf categories (and the rule's current one, whatever it has become)."""
    leaves = leaf_category_ids()
    categories = [
        node.category
        for node in category_tree()
        if (node.category.is_active and node.category.id in leaves)
        or (current is not None and node.category.id == current.id)
    ]
    return [SelectChoice("", _("Choose a category"))] + [
        SelectChoice(c.id, f"{c.path_name} ({c.code}){inactive_suffix(c.is_active)}")
        for c in categories
    ]


# --- categories ---------------------------------------------------------------------------


@bp.route("/categories")
@role_required(Role.ADMIN)
def categories():
    nodes = category_tree()
    return render_template(
        "cases/catalogue/categories.html", nodes=[(node, indent(node.depth)) for node in nodes]
    )


def category_form(category: Category | None) -> CategoryForm:
    form = CategoryForm(obj=category)
    form.parent_id.choices = parent_choices()
    form.department_id.choices = active_department_choices(
        _("No default department"), category.department if category else None
    )
    if category is None and not form.is_submitted():
        form.sign_amount.data, form.sign_unit.data = 4, TimeUnit.HOURS.value
        form.reply_amount.data, form.reply_unit.data = 10, TimeUnit.DAYS.value
    return form


@bp.route("/categories/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_category():
    form = category_form(None)
    if not form.is_submitted():
        form.parent_id.data = arg_int("parent")
    return save_form(
        form,
        lambda: recorded("category.create", create_category(form_values(form, CategoryData))),
        lambda c: _("Category %(code)s created.", code=c.code),
        url_for("catalogue.categories"),
        "cases/catalogue/category_form.html",
        category=None,
    )


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_category(category_id: int):
    category = get_or_404(Category, category_id)
    form = category_form(category)
    return save_form(
        form,
        lambda: recorded("category.update",
                         update_category(category, form_values(form, CategoryData))),
        lambda c: _("Category %(code)s saved.", code=c.code),
        url_for("catalogue.categories"),
        "cases/catalogue/category_form.html",
        category=category,
    )


# --- routing rules ------------------------------------------------------------------------


@bp.route("/routing")
@role_required(Role.ADMIN)
def routing():
    stmt = (
        select(RoutingRule)
        .join(Category, RoutingRule.category_id == Category.id)
        .outerjoin(District, RoutingRule.district_id == District.id)
        .options(
            joinedload(RoutingRule.category).joinedload(Category.parent),
            joinedload(RoutingRule.district),
            joinedload(RoutingRule.department),
        )
        .order_by(
            Category.code,
            District.sort_key.is_(None),
            District.sort_key,
            RoutingRule.position,
            RoutingRule.id,
        )
    )
    return render_template("cases/catalogue/routing.html", pagination=page_of(stmt))


def _recorded_rule(action: str, rule: RoutingRule) -> RoutingRule:
    return recorded(action, rule, code=rule.category.code, department_id=rule.department_id)


def routing_form(rule: RoutingRule | None) -> RoutingRuleForm:
    form = RoutingRuleForm(obj=rule)
    form.category_id.choices = rule_category_choices(rule.category if rule else None)
    form.district_id.choices = district_choices(_("Every district"))
    form.department_id.choices = active_department_choices(
        _("Choose a department"), rule.department if rule else None
    )
    return form


@bp.route("/routing/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_routing_rule():
    form = routing_form(None)
    return save_form(
        form,
        lambda: _recorded_rule("routing_rule.create",
                               create_routing_rule(form_values(form, RoutingRuleData))),
        lambda r: _("Routing rule saved."),
        url_for("catalogue.routing"),
        "cases/catalogue/routing_form.html",
        rule=None,
    )


@bp.route("/routing/<int:rule_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_routing_rule(rule_id: int):
    rule = get_or_404(RoutingRule, rule_id)
    form = routing_form(rule)
    return save_form(
        form,
        lambda: _recorded_rule("routing_rule.update",
                               update_routing_rule(rule, form_values(form, RoutingRuleData))),
        lambda r: _("Routing rule saved."),
        url_for("catalogue.routing"),
        "cases/catalogue/routing_form.html",
        rule=rule,
    )


# --- holiday calendar ---------------------------------------------------------------------

FIRST_YEAR, LAST_YEAR = 1990, 2100


def year_arg() -> int:
    year = arg_int("year")
    return year if year is not None and FIRST_YEAR <= year <= LAST_YEAR else local_now().year


@bp.route("/calendar")
@role_required(Role.ADMIN)
def calendar():
    year = year_arg()
    days = db.session.scalars(
        select(CalendarDay)
        .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)
    ).all()
    return render_template(
        "cases/catalogue/calendar.html",
        year=year,
        days=[(row, format_date(row.day, "full")) for row in days],
        published=db.session.get(CalendarYear, year),
        years=db.session.scalars(select(CalendarYear).order_by(CalendarYear.year.desc())).all(),
        unpublished=unpublished_years(year, year + 1),
    )


def save_day(form: CalendarDayForm, row: CalendarDay | None):
    """Set the day (the form's date, or ``row``'s when editing)."""
    if form.validate_on_submit():
        day = row.day if row is not None else form.day.data
        saved = set_calendar_day(day, form.kind.data == "workday", form.name.data or "")
        record_action("calendar_day.set", target_type="calendar_day",
                      details={"day": saved.day.isoformat(), "workday": saved.is_workday})
        flash(_("%(day)s saved.", day=saved.day.isoformat()), "success")
        return redirect(url_for("catalogue.calendar", year=saved.day.year))
    status = 422 if form.is_submitted() else 200
    return render_template("cases/catalogue/calendar_day.html", form=form, calendar_day=row), status


@bp.route("/calendar/days/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_calendar_day():
    form = CalendarDayForm()
    if not form.is_submitted():
        form.day.data = request.args.get("day", type=parse_day)
    return save_day(form, None)


@bp.route("/calendar/days/<day>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_calendar_day(day: str):
    row = calendar_day_or_404(day)
    form = CalendarDayForm(obj=row)
    del form.day  # the date is the row's key; a different date is a new day
    if not form.is_submitted():
        form.kind.data = "workday" if row.is_workday else "holiday"
    return save_day(form, row)


@bp.route("/calendar/days/<day>/remove", methods=["POST"])
@role_required(Role.ADMIN)
def remove_day(day: str):
    row = calendar_day_or_404(day)
    remove_calendar_day(row.day)
    record_action("calendar_day.remove", target_type="calendar_day",
                  details={"day": row.day.isoformat()})
    flash(_("%(day)s removed.", day=row.day.isoformat()), "success")
    return redirect(url_for("catalogue.calendar", year=row.day.year))


@bp.route("/calendar/import", methods=["POST"])
@role_required(Role.ADMIN)
def import_calendar():
    form = CalendarYearForm()
    if not form.validate_on_submit():
        abort(400)
    year = form.year.data
    seeded = seed_calendar([year])
    if seeded:
        record_action("calendar_year.import", target_type="calendar_year",
                      details={"year": year})
    if seeded:
        flash(
            _(
                "Imported the holiday schedule for %(years)s from %(source)s.",
                years=", ".join(str(y) for y in seeded),
                source=library_source(),
            ),
            "success",
        )
    else:
        flash(
            _(
                "The holidays library has no published schedule for %(year)d; "
                "enter the days by hand and mark the year as published.",
                year=year,
            ),
            "warning",
        )
    return redirect(url_for("catalogue.calendar", year=year))


@bp.route("/calendar/publish", methods=["POST"])
@role_required(Role.ADMIN)
def publish_calendar_year():
    form = CalendarYearForm()
    if not form.validate_on_submit():
        abort(400)
    mark_year_published(form.year.data)
    record_action("calendar_year.publish", target_type="calendar_year",
                  details={"year": form.year.data})
    flash(_("%(year)d is marked as published.", year=form.year.data), "success")
    return redirect(url_for("catalogue.calendar", year=form.year.data))


def calendar_day_or_404(value: str) -> CalendarDay:
    day = parse_day(value)
    if day is None:
        abort(404)
    return get_or_404(CalendarDay, day)


def parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None
