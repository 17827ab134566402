"""The service catalogue: the category tree with its deadlines, routing rules, the calendar.

Reference data of the cases room, kept by admins (``cases.catalogue.views``). Every
function flushes and never commits; the request commits once. A refusal is a
``DomainError`` naming the form field it belongs to.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cases.calendar import load_calendar
from cases.models import Category, RoutingRule, TimeUnit
from portal.admin.services import check_code_free, chosen_department, clean
from portal.db import db
from portal.errors import DomainError
from portal.models import District

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CategoryData:
    code: str
    name_zh: str
    name_en: str = ""
    parent_id: int | None = None
    department_id: int | None = None
    position: int = 0
    is_active: bool = True
    sign_amount: int = 4
    sign_unit: TimeUnit = TimeUnit.HOURS
    reply_amount: int = 10
    reply_unit: TimeUnit = TimeUnit.DAYS
    keywords: str = ""
    description_zh: str = ""
    description_en: str = ""


@dataclass(frozen=True)
class RoutingRuleData:
    category_id: int
    department_id: int
    district_id: int | None = None
    position: int = 0
    is_active: bool = True


@dataclass(frozen=True)
class CategoryNode:
    """A category and its depth in the tree (0 for a top-level category)."""

    category: Category
    depth: int
    is_leaf: bool


# --- categories ---------------------------------------------------------------------------


def category_tree() -> list[CategoryNode]:
    """Every category, parents before their children, siblings by position then id."""
    categories = list(
        db.session.scalars(
            select(Category)
            .options(selectinload(Category.department), selectinload(Category.parent))
            .order_by(Category.position, Category.id)
        )
    )
    children: dict[int | None, list[Category]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    nodes: list[CategoryNode] = []
    seen: set[int] = set()

    def walk(parent_id: int | None, depth: int) -> None:
        for category in children.get(parent_id, []):
            if category.id in seen:  # a cycle in the data; show each row once
                continue
            seen.add(category.id)
            nodes.append(CategoryNode(category, depth, category.id not in children))
            walk(category.id, depth + 1)

    walk(None, 0)
    # Rows that sit in a cycle (the database does not forbid one) still appear, at the top.
    for category in categories:
        if category.id not in seen:
            seen.add(category.id)
            nodes.append(CategoryNode(category, 0, category.id not in children))
            walk(category.id, 1)
    return nodes


def _check_parent(category: Category | None, parent_id: int | None) -> Category | None:
    """The new parent; refused when it is missing or when ``category`` is among its ancestors."""
    if parent_id is None:
        return None
    parent = db.session.get(Category, parent_id)
    if parent is None:
        raise DomainError(_("Choose a parent category from the list."), field="parent_id")
    if category is not None and category.id is not None:
        node: Category | None = parent
        visited: set[int] = set()
        while node is not None and node.id not in visited:
            if node.id == category.id:
                raise DomainError(
                    _("A category cannot be placed under itself or one of its subcategories."),
                    field="parent_id",
                )
            visited.add(node.id)
            node = node.parent
    return parent


def _check_deadline(amount: int, field: str) -> None:
    if not 1 <= amount <= 365:
        raise DomainError(_("Give a number from 1 to 365."), field=field)


def create_category(data: CategoryData) -> Category:
    category = Category(code=check_code_free(Category, data.code, None))
    _apply_category(category, data)
    db.session.add(category)
    db.session.flush()
    log.info("admin: category %s created", category.code)
    return category


def update_category(category: Category, data: CategoryData) -> Category:
    category.code = check_code_free(Category, data.code, category.id)
    if not data.is_active and category.is_active:
        active_children = select(Category.id).where(
            Category.parent_id == category.id, Category.is_active.is_(True)
        )
        if db.session.scalar(active_children.limit(1)) is not None:
            raise DomainError(_("Deactivate its subcategories first."), field="is_active")
    _apply_category(category, data)
    db.session.flush()
    log.info("admin: category %s updated (active=%s)", category.code, category.is_active)
    return category


def _apply_category(category: Category, data: CategoryData) -> None:
    parent = _check_parent(category, data.parent_id)
    department = chosen_department(data.department_id, category.department_id)
    _check_deadline(data.sign_amount, "sign_amount")
    _check_deadline(data.reply_amount, "reply_amount")
    category.parent = parent
    category.department = department
    category.name_zh = clean(data.name_zh)
    category.name_en = clean(data.name_en)
    category.position = data.position
    category.is_active = data.is_active
    category.sign_amount = data.sign_amount
    category.sign_unit = TimeUnit(data.sign_unit)
    category.reply_amount = data.reply_amount
    category.reply_unit = TimeUnit(data.reply_unit)
    category.keywords = clean(data.keywords)[:500]
    category.description_zh = clean(data.description_zh)[:500]
    category.description_en = clean(data.description_en)[:500]


# --- routing rules ------------------------------------------------------------------------


def leaf_category_ids() -> set[int]:
    """Categories without active children (what cases are filed under), active or not."""
    parents = select(Category.parent_id).where(
        Category.parent_id.is_not(None), Category.is_active.is_(True)
    )
    return set(db.session.scalars(select(Category.id).where(Category.id.not_in(parents))))


def create_routing_rule(data: RoutingRuleData) -> RoutingRule:
    rule = RoutingRule()
    _apply_rule(rule, data)
    db.session.add(rule)
    db.session.flush()
    log.info("admin: routing rule %s created", rule.id)
    return rule


def update_routing_rule(rule: RoutingRule, data: RoutingRuleData) -> RoutingRule:
    _apply_rule(rule, data)
    db.session.flush()
    log.info("admin: routing rule %s updated (active=%s)", rule.id, rule.is_active)
    return rule


def _apply_rule(rule: RoutingRule, data: RoutingRuleData) -> None:
    category = db.session.get(Category, data.category_id)
    if category is None or (
        category.id != rule.category_id
        and (not category.is_active or category.id not in leaf_category_ids())
    ):
        raise DomainError(_("Choose a category without subcategories."), field="category_id")
    district = None
    if data.district_id is not None:
        district = db.session.get(District, data.district_id)
        if district is None:
            raise DomainError(_("Choose a district from the list."), field="district_id")
    department = chosen_department(data.department_id, rule.department_id)
    if department is None:
        raise DomainError(_("Choose an active department."), field="department_id")
    if data.is_active:
        clash = select(RoutingRule.id).where(
            RoutingRule.category_id == category.id,
            RoutingRule.district_id.is_(None)
            if district is None
            else RoutingRule.district_id == district.id,
            RoutingRule.position == data.position,
            RoutingRule.is_active.is_(True),
        )
        if rule.id is not None:
            clash = clash.where(RoutingRule.id != rule.id)
        if db.session.scalar(clash.limit(1)) is not None:
            raise DomainError(
                _(
                    "Another active rule for this category and district has the same "
                    "position; give this one another position."
                ),
                field="position",
            )
    rule.category = category
    rule.district = district
    rule.department = department
    rule.position = data.position
    rule.is_active = data.is_active


# --- calendar -----------------------------------------------------------------------------


def unpublished_years(first: int, last: int) -> list[int]:
    """Years in ``[first, last]`` whose holiday schedule is not loaded (weekends only)."""
    calendar = load_calendar(range(first, last + 1))
    return calendar.unpublished_years(date(first, 1, 1), date(last, 12, 31))
