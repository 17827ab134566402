"""The queue pages' rows (``cases/queue_rows.py``) and filter selects
(``cases/queue_filters.py``), written in Python: each cell as the template wrote it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from cases.models import CaseStatus, Priority
from portal.db import db, utcnow
from portal.models import Role
from tests.conftest import csrf_token
from tests.factories import make_case, make_user
from tests.test_lifecycle import step
from tests.test_sweep import set_case

SCRIPT_TITLE = """<script>alert("x")</script> & 'q'"""
ESCAPED_TITLE = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;q&#39;"
FIXED_DUE = datetime(2099, 1, 2, 3, 4, tzinfo=UTC)  # 11:04 in Shanghai


def row_of(html: str, number: str) -> tuple[str, list[tuple[str, str]]]:
    """The ``<tr ...>`` opening tag of the case's row and its ``(data-label, content)``s."""
    rows = re.findall(r"(<tr[^>]*>)(.*?)</tr>", html, re.S)
    found = [(tag, body) for tag, body in rows if f">{number}</a>" in body]
    assert len(found) == 1, f"{number} is not listed once"
    tag, body = found[0]
    return tag, re.findall(r'<td data-label="([^"]*)">(.*?)</td>', body, re.S)


def checkbox(case_id: int, number: str, label: str = "选择") -> str:
    return (f'<td class="cell--select"><input type="checkbox" name="cases" value="{case_id}" '
            f'id="select-{case_id}" aria-label="{label} {number}"></td>')


@pytest.fixture
def cases(database, world):
    """A handler's three cases (overdue with a hostile title, due later, paused), one at
    intake and one the department answered; returns them by name."""
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id,
                        username="rows-handler")
    made = {}
    for key, title in (("overdue", SCRIPT_TITLE), ("later", "路灯不亮"), ("paused", "等待")):
        case = make_case(database, citizen, world, title=title)
        step(database, case.number, "dispatch", clerk, department=world.urban.id)
        step(database, case.number, "sign_for", handler)
        made[key] = case
    made["intake"] = make_case(database, citizen, world, title="待受理",
                               category_id=world.potholes.id, district_id=world.taijiang.id)
    made["answered"] = make_case(database, citizen, world, title="已答复")
    now = utcnow()
    set_case(database, made["overdue"].number, due_at=now - timedelta(hours=3, minutes=5),
             priority=Priority.URGENT)
    set_case(database, made["later"].number, due_at=FIXED_DUE)
    set_case(database, made["paused"].number, due_at=None, paused_at=now - timedelta(days=1))
    set_case(database, made["answered"].number, status=CaseStatus.REPLIED,
             department_id=world.urban.id, replied_at=now - timedelta(days=2, hours=1))
    made["replied_at"] = now - timedelta(days=2, hours=1)
    return made


def test_a_handlers_rows(client, cases):
    from tests.conftest import sign_in

    sign_in(client, "rows-handler")
    html = client.get("/queues/mine").get_data(as_text=True)
    overdue = cases["overdue"]
    tag, cells = row_of(html, overdue.number)
    assert tag == '<tr class="row--overdue">'
    assert cells == [
        ("受理编号", f'<a href="/cases/{overdue.number}">{overdue.number}</a>'),
        ("标题", ESCAPED_TITLE),
        ("诉求分类", "噪声扰民"),
        ("区县", "鼓楼区"),
        ("优先级", "紧急"),
        ("状态", '<span class="badge badge--in_progress">办理中</span>'),
        ("承办单位", "城市管理局"),
        ("截止时间", cells[7][1]),
        ("剩余时间", "已超期3小时"),
    ]
    assert re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}", cells[7][1])
    assert SCRIPT_TITLE not in html
    tag, cells = row_of(html, cases["later"].number)
    assert tag == "<tr>"
    assert cells[7] == ("截止时间", "2099/1/2 11:04")  # Shanghai time, short
    assert cells[8][1].endswith("后")  # "in ... years"
    tag, cells = row_of(html, cases["paused"].number)
    assert cells[7:] == [("截止时间", "—"), ("剩余时间", "暂停计时")]
    # No reply templates: nothing to select, no checkbox column.
    assert 'type="checkbox"' not in html
    assert f"{cases['intake'].number}<" not in html  # not the handler's


def test_intake_rows_can_be_selected(client, login_as, cases):
    login_as(Role.CLERK)
    html = client.get("/queues/unassigned").get_data(as_text=True)
    intake = cases["intake"]
    tag, cells = row_of(html, intake.number)
    assert checkbox(intake.id, intake.number) in html
    assert tag == "<tr>"
    assert cells[2:7] == [("诉求分类", "道路破损"), ("区县", "台江区"), ("优先级", "普通"),
                          ("状态", '<span class="badge badge--submitted">待受理</span>'),
                          ("承办单位", "服务中心")]
    assert cells[7:] == [("截止时间", "—"), ("剩余时间", "—")]


def test_answered_rows_show_the_reply(client, login_as, cases):
    login_as(Role.CLERK)
    html = client.get("/queues/answered").get_data(as_text=True)
    answered = cases["answered"]
    tag, cells = row_of(html, answered.number)
    assert checkbox(answered.id, answered.number) in html
    assert [label for label, _ in cells] == [
        "受理编号", "标题", "诉求分类", "区县", "优先级", "状态", "承办单位", "答复时间"]
    assert cells[5][1] == '<span class="badge badge--replied">已答复</span>'
    replied = re.fullmatch(r'<time datetime="([^"]+)">([^<]+)</time> \((.+)\)', cells[7][1])
    assert replied is not None
    assert replied.group(1) == cases["replied_at"].isoformat()
    assert replied.group(3) == "2天前"


def test_rows_in_english(client, login_as, cases):
    login_as(Role.CLERK)
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "locale": "en"})
    html = client.get("/queues/overdue").get_data(as_text=True)
    overdue = cases["overdue"]
    tag, cells = row_of(html, overdue.number)
    assert tag == '<tr class="row--overdue">'
    assert 'type="checkbox"' not in html  # the overdue queue has no bulk step
    assert [(label, value) for label, value in cells if label != "Deadline"] == [
        ("Tracking number", f'<a href="/cases/{overdue.number}">{overdue.number}</a>'),
        ("Title", ESCAPED_TITLE),
        ("Category", "Noise"),
        ("District", "Gulou District"),
        ("Priority", "Urgent"),
        ("Status", '<span class="badge badge--in_progress">In progress</span>'),
        ("Handling department", "Urban Management Bureau"),
        ("Time left", "overdue by 3 hours"),
    ]
    unassigned = client.get("/queues/unassigned").get_data(as_text=True)
    intake = cases["intake"]
    assert checkbox(intake.id, intake.number, "Select") in unassigned
    assert row_of(unassigned, intake.number)[1][6] == ("Handling department",
                                                       "Service centre")


def test_filter_selects(client, login_as, cases, world):
    login_as(Role.CLERK)
    html = client.get(f"/queues/unassigned?category={world.potholes.id}&sort=newest"
                      ).get_data(as_text=True)
    assert ('<select id="f-category" name="category">\n      <option value="">全部</option>'
            in html)
    assert f'<option value="{world.potholes.id}" selected>城市管理 › 道路破损</option>' in html
    assert f'<option value="{world.noise.id}" >城市管理 › 噪声扰民</option>' in html
    assert f'<option value="{world.gulou.id}" >鼓楼区</option>' in html
    assert '<select id="f-sort" name="sort">\n      \n      <option value="due" >' in html
    assert '<option value="newest" selected>' in html
    assert '<option value="replied"' not in html  # the answered queue's own sort
    assert cases["intake"].number in html


def test_an_empty_queue(client, login_as, cases, world):
    login_as(Role.CLERK)
    html = client.get(f"/queues/unassigned?district={world.gulou.id}").get_data(as_text=True)
    assert '<tbody>\n    \n    <tr><td colspan="10">暂无诉求。</td></tr>' in html
    assert "<tr class" not in html


def test_a_district_the_snapshot_lacks(client, login_as, cases, database):
    """A row added behind the ORM's back (no change record) is read from the database."""
    login_as(Role.CLERK)
    client.get("/queues/unassigned")  # the districts' snapshot is taken
    with database.app_context():
        db.session.execute(text(
            "INSERT INTO districts (id, code, name_zh, name_en, position, sort_key) "
            "VALUES (999, 'new', '新区', 'New District', 9, 'xin qu')"))
        db.session.execute(text("UPDATE cases SET district_id = 999 WHERE id = :id"),
                           {"id": cases["intake"].id})
        db.session.commit()
    html = client.get("/queues/unassigned").get_data(as_text=True)
    assert row_of(html, cases["intake"].number)[1][3] == ("区县", "新区")
