"""Factories: build rows through the services, commit, and hand back detached copies.

Tests never keep an app context open around client requests (Flask would reuse it
and its ``g``), so factories open their own and return objects whose columns are
loaded and readable after the context is gone.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from flask import Flask

from cases.models import Case, CaseType, Category
from cases.services import CaseRequest, file_case
from citizens.models import Client, ClientKind
from portal.auth.services import create_staff_user, register_client
from portal.db import db
from portal.models import Department, District, Role, User

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


def detach(*objs):
    db.session.commit()
    for obj in objs:
        db.session.refresh(obj)
    db.session.expunge_all()
    return objs[0] if len(objs) == 1 else objs


@dataclass
class World:
    """Reference data most tests need: two departments, districts, a category tree."""

    urban: Department
    transport: Department
    gulou: District
    taijiang: District
    noise: Category
    potholes: Category
    parent: Category


def make_world(app: Flask) -> World:
    with app.app_context():
        urban = Department(code="urban", name_zh="城市管理局", name_en="Urban Management Bureau")
        transport = Department(code="transport", name_zh="交通运输局", name_en="Transport Bureau")
        gulou = District(code="gulou", name_zh="鼓楼区", name_en="Gulou District", position=1)
        taijiang = District(
            code="taijiang", name_zh="台江区", name_en="Taijiang District", position=2
        )
        parent = Category(
            code="city", name_zh="城市管理", name_en="Urban management", department=urban
        )
        noise = Category(
            code="city.noise", name_zh="噪声扰民", name_en="Noise", parent=parent, department=urban
        )
        potholes = Category(
            code="roads.potholes",
            name_zh="道路破损",
            name_en="Potholes",
            parent=parent,
            department=transport,
        )
        db.session.add_all([urban, transport, gulou, taijiang, parent, noise, potholes])
        objs = detach(urban, transport, gulou, taijiang, noise, potholes, parent)
        return World(*objs)


def make_user(app: Flask, role: Role, department_id: int | None = None, **kw) -> User:
    """A user of ``role``; clients get a client record, department staff a department."""
    n = next(_seq)
    username = kw.pop("username", f"{role.value}{n}")
    with app.app_context():
        if role.is_client:
            user = register_client(
                kind=ClientKind.ENTERPRISE if role == Role.ENTERPRISE else ClientKind.CITIZEN,
                username=username,
                password=kw.pop("password", PASSWORD),
                name=kw.pop("name", f"测试用户{n}"),
                email=kw.pop("email", f"{username}@example.org"),
                phone=kw.pop("phone", "13800138000"),
                contact_person="联系人" if role == Role.ENTERPRISE else None,
            )
        else:
            department = db.session.get(Department, department_id) if department_id else None
            if department is None and role in (Role.HANDLER, Role.DEPARTMENT_HEAD):
                department = Department(code=f"dept{n}", name_zh=f"部门{n}", name_en=f"Dept {n}")
                db.session.add(department)
            user = create_staff_user(
                username=username,
                password=kw.pop("password", PASSWORD),
                role=role,
                display_name=kw.pop("display_name", f"员工{n}"),
                department=department,
            )
        for key, value in kw.items():
            setattr(user, key, value)
        return detach(user)


def make_case(app: Flask, owner: User, world: World, **kw) -> Case:
    """A case filed by ``owner`` (a client user) through the filing service."""
    with app.app_context():
        user = db.session.get(User, owner.id)
        request = CaseRequest(
            type=kw.pop("type", CaseType.COMPLAINT),
            category_id=kw.pop("category_id", world.noise.id),
            title=kw.pop("title", "五一路夜间施工噪音扰民"),
            description=kw.pop("description", "每天晚上十一点以后仍在施工，严重影响休息。"),
            district_id=kw.pop("district_id", world.gulou.id),
        )
        case = file_case(db.session.get(Client, user.client_id), user, request)
        for key, value in kw.items():
            setattr(case, key, value)
        return detach(case)
