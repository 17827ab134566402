"""Numbers, the catalogue and routing: what filing and the forms look up."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import case as sql_case
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from cases.models import CaseNumberCounter, Category, RoutingRule
from portal.db import db, utcnow
from portal.models import Department, District
from portal.refdata import NamedRow, cached, register_models

register_models(Category)


def local_now() -> datetime:
    return utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"]))


def next_case_number(year: int) -> str:
    """Hand out the next tracking number of ``year`` (``2026-000123``), atomically.

    The counter row is bumped with one UPDATE ... RETURNING, so two processes
    filing at once never get the same number.
    """
    bump = (
        update(CaseNumberCounter)
        .where(CaseNumberCounter.year == year)
        .values(last_value=CaseNumberCounter.last_value + 1)
        .returning(CaseNumberCounter.last_value)
        .execution_options(synchronize_session=False)
    )
    value = db.session.execute(bump).scalar_one_or_none()
    if value is None:
        try:
            with db.session.begin_nested():
                db.session.add(CaseNumberCounter(year=year, last_value=0))
        except IntegrityError:
            pass  # another transaction created this year's row first
        value = db.session.execute(bump).scalar_one()
    return f"{year}-{value:06d}"


def leaf_categories() -> list[Category]:
    """Active categories that have no active children: what a case is filed under."""
    parents = select(Category.parent_id).where(
        Category.parent_id.is_not(None), Category.is_active.is_(True)
    )
    stmt = (
        select(Category)
        .where(Category.is_active.is_(True), Category.id.not_in(parents))
        .options(selectinload(Category.parent))
        .order_by(Category.parent_id, Category.position, Category.id)
    )
    return list(db.session.scalars(stmt))


def leaf_category_options() -> list[NamedRow]:
    """``leaf_categories()`` as per-process snapshots, each with its parent (choice lists)."""

    def load() -> list[NamedRow]:
        leaves = leaf_categories()
        parents = {c.id: c for c in (leaf.parent for leaf in leaves) if c}
        named = {i: NamedRow(i, p.name_zh, p.name_en, p.is_active) for i, p in parents.items()}
        return [NamedRow(c.id, c.name_zh, c.name_en, c.is_active, named.get(c.parent_id))
                for c in leaves]

    return cached("leaf_categories", load)


def all_categories() -> dict[int, NamedRow]:
    """Every category, active or not, by id, as per-process snapshots (names to show),
    each with its parent (``path_name``)."""

    def load() -> dict[int, NamedRow]:
        rows = db.session.execute(select(Category.id, Category.name_zh, Category.name_en,
                                         Category.is_active, Category.parent_id)).all()
        plain = {i: NamedRow(i, zh, en, bool(active)) for i, zh, en, active, _up in rows}
        return {i: NamedRow(i, zh, en, bool(active), plain.get(up))
                for i, zh, en, active, up in rows}

    return cached("categories", load)


def districts() -> list[District]:
    """Every district, in pinyin order (as a Chinese reader looks for a name)."""
    return list(db.session.scalars(select(District).order_by(District.sort_key, District.id)))


def active_departments() -> list[Department]:
    """The active departments, in pinyin order of their Chinese names."""
    stmt = (
        select(Department)
        .where(Department.is_active.is_(True))
        .order_by(Department.sort_key, Department.id)
    )
    return list(db.session.scalars(stmt))


def route_department(category_id: int, district_id: int | None) -> Department | None:
    """The department a routing rule sends this category (and district) to, if any.

    A rule naming the district wins over a category-wide one; then the lowest position.
    """
    stmt = (
        select(RoutingRule)
        .join(Department, RoutingRule.department_id == Department.id)
        .where(
            RoutingRule.category_id == category_id,
            RoutingRule.is_active.is_(True),
            Department.is_active.is_(True),
            (RoutingRule.district_id == district_id) | RoutingRule.district_id.is_(None),
        )
        .order_by(sql_case((RoutingRule.district_id.is_(None), 1), else_=0), RoutingRule.position)
        .limit(1)
    )
    rule = db.session.scalar(stmt)
    return rule.department if rule else None

