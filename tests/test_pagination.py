"""One pager (portal/pagination.py and the ``pager`` macro): counted, counted by a cheaper
statement, and count-less pages; the macro's links."""

from __future__ import annotations

from flask import render_template_string
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.db import db
from portal.models import Department, Role, User
from portal.pagination import Page, paginate
from tests.factories import make_user


def add_departments(app, n: int) -> None:
    with app.app_context():
        db.session.add_all(
            Department(code=f"p{i:02d}", name_zh=f"部门{i:02d}", name_en=f"Dept {i:02d}")
            for i in range(n)
        )
        db.session.commit()


def codes(page: Page) -> list[str]:
    return [d.code for d in page.items]


def test_a_counted_page(database):
    add_departments(database, 7)
    stmt = select(Department).where(Department.code.like("p%")).order_by(Department.code)
    with database.app_context():
        first = paginate(stmt, 1, 3)
        assert codes(first) == ["p00", "p01", "p02"]
        assert (first.total, first.pages, first.has_prev, first.has_next) == (7, 3, False, True)
        assert (first.prev_num, first.next_num) == (None, 2)
        last = paginate(stmt, 3, 3)
        assert codes(last) == ["p06"] and last.has_prev and not last.has_next
        beyond = paginate(stmt, 9, 3)  # not an error: an empty page
        assert beyond.items == [] and beyond.total == 7
        assert paginate(stmt, 0, 1000).per_page == 100 and paginate(stmt, -5, 3).page == 1
        empty = paginate(stmt.where(Department.code == "none"), 1, 3)
        assert (empty.total, empty.pages, empty.has_next) == (0, 0, False)


def test_a_page_counted_by_another_statement_and_converted(database):
    add_departments(database, 5)
    stmt = select(Department.code, Department.name_en).where(Department.code.like("p%"))
    counted = select(func.count()).select_from(Department).where(Department.code.like("p%"))
    with database.app_context():
        page = paginate(stmt.order_by(Department.code), 2, 2, count=counted, scalars=False)
        assert page.total == 5 and [row.code for row in page.items] == ["p02", "p03"]
        names = page.map(lambda row: row.name_en)
        assert names.items == ["Dept 02", "Dept 03"] and names.total == 5 and names.page == 2


def test_a_count_less_page_reads_one_row_more(database):
    add_departments(database, 4)
    stmt = select(Department).where(Department.code.like("p%")).order_by(Department.code)
    with database.app_context():
        first = paginate(stmt, 1, 2, count=False)
        assert codes(first) == ["p00", "p01"] and first.total is None and first.pages is None
        assert first.has_next and not first.has_prev
        second = paginate(stmt, 2, 2, count=False)
        assert codes(second) == ["p02", "p03"] and not second.has_next and second.has_prev


def test_eager_loads_do_not_disturb_the_count(database, world):
    for _ in range(3):
        make_user(database, Role.HANDLER, department_id=world.urban.id)
    stmt = (
        select(User)
        .where(User.department_id == world.urban.id)
        .options(joinedload(User.department))
        .order_by(User.id)
    )
    with database.app_context():
        page = paginate(stmt, 1, 2)
        assert page.total == 3 and len(page.items) == 2
        assert all(u.department.code == "urban" for u in page.items)


def test_the_pager_macro(database):
    template = (
        '{% from "_macros.html" import pager %}'
        "{{ pager(p, 'admin.departments', page_param=param, anchor=anchor, q='x') }}"
    )
    with database.test_request_context():
        def render(page: Page, param: str = "page", anchor: str | None = None) -> str:
            return render_template_string(template, p=page, param=param, anchor=anchor)

        assert "<nav" not in render(Page([1], 1, 10, 5))  # one page: no pager
        html = render(Page([1], 2, 1, 3))
        assert 'href="/admin/departments?page=1&amp;q=x" rel="prev"' in html
        assert 'href="/admin/departments?page=3&amp;q=x" rel="next"' in html
        html = render(Page([1], 1, 1, 3), param="other_page", anchor="list")
        assert "other_page=2" in html and "#list" in html and 'rel="prev"' not in html
        html = render(Page([1], 2, 1, None, more=False))  # count-less: no "of N"
        assert 'rel="prev"' in html and 'rel="next"' not in html and "<nav" in html
