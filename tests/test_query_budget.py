"""SQL statements per page: a fixed budget, whatever a case's history or the data's size.

Counting is not timing: each page is asked twice (the first warms the per-process
caches), the statements of the second are counted, once with one short case and again
after the case's timeline, replies and the client's other cases have grown. The counts
must not move and must stay within the budget stated here and in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import functools

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from cases.models import Case, CaseEvent, CaseReply
from portal.auth.token_services import create_token
from portal.db import db
from portal.models import User
from tests import test_lifecycle
from tests.conftest import sign_in, submit
from tests.factories import make_case
from tests.test_lifecycle import S, case_in, step

cast = test_lifecycle.cast  # the people of tests/test_lifecycle.py (a fixture)

# page -> (who, path template, budget). {number}: the grown case; {client}: its client's id.
PAGES: dict[str, tuple[str | None, str, int]] = {
    "home page": (None, "/", 0),
    "filing form": ("owner", "/requests/new", 4),
    "my requests": ("owner", "/requests", 4),
    "case page, owner": ("owner", "/cases/{number}", 13),
    "case page, clerk": ("clerk", "/cases/{number}", 13),
    "case page, handler": ("handler", "/cases/{number}", 14),
    "queue mine, handler": ("handler", "/queues/mine", 6),
    "queue department, handler": ("handler", "/queues/department", 6),
    "queue unassigned, clerk": ("clerk", "/queues/unassigned", 6),
    "queue due-soon, clerk": ("clerk", "/queues/due-soon", 5),
    "queue overdue, clerk": ("clerk", "/queues/overdue", 5),
    "queue answered, clerk": ("clerk", "/queues/answered", 5),
    "client 360°, clerk": ("clerk", "/clients/{client}", 14),
    "/track, wrong code": (None, "/track?number={number}&code=WRONGCOD", 2),
    "reports, official": ("official", "/reports", 45),
    "API case list": ("api", "/api/v1/cases", 3),
    "API one case": ("api", "/api/v1/cases/{number}", 9),
    "Open311 requests": (None, "/open311/v2/requests.json", 1),
}


def counted(app, fetch) -> tuple[int, int]:
    """(status, statements) of ``fetch()``."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def listen(_conn, _cursor, statement, *_args) -> None:
        if "rate_limit" not in statement:  # the limiter's own bookkeeping is not the page's
            seen.append(statement)

    sa_event.listen(engine, "before_cursor_execute", listen)
    try:
        status = fetch().status_code
    finally:
        sa_event.remove(engine, "before_cursor_execute", listen)
    return status, len(seen)


def grow(app, world, cast, number: str) -> None:
    """A long history: 40 timeline events, 12 replies and notes, 15 more cases."""
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        staff = [db.session.get(User, u.id) for u in (cast.clerk, cast.handler, cast.head)]
        for i in range(40):
            db.session.add(CaseEvent(case=case, action="note", actor=staff[i % 3],
                                     is_public=False, note=f"第{i}次跟进"))
        for i in range(12):
            db.session.add(CaseReply(case=case, author=staff[i % 3], body=f"答复{i}",
                                     is_public=i % 2 == 0))
        db.session.commit()
    for _ in range(15):
        make_case(app, cast.owner, world)


def test_queries_per_page_stay_within_budget_as_history_grows(database, world, cast):
    case = case_in(database, world, cast, S.IN_PROGRESS)
    step(database, case.number, "reply", cast.handler, note="已派人处理。")
    with database.app_context():
        clerk = db.session.get(User, cast.clerk.id)
        _row, token = create_token(clerk, "budget", "read", None)
        db.session.commit()
    clients = {None: database.test_client()}
    for who in {who for who, _path, _budget in PAGES.values() if who not in (None, "api")}:
        clients[who] = database.test_client()
        assert sign_in(clients[who], getattr(cast, who).username).status_code == 302
    clients["api"] = database.test_client()
    headers = {"api": {"Authorization": f"Bearer {token}"}}

    def measure() -> dict[str, tuple[int, int]]:
        found = {}
        for name, (who, path, _budget) in PAGES.items():
            fetch = functools.partial(clients[who].get,
                                      path.format(number=case.number, client=case.client_id),
                                      headers=headers.get(who, {}))
            fetch()  # warms the per-process caches
            found[name] = counted(database, fetch)
        return found

    short = measure()
    grow(database, world, cast, case.number)
    long = measure()
    problems = []
    for name, (_who, _path, budget) in PAGES.items():
        (status_a, before), (status_b, after) = short[name], long[name]
        if status_a not in (200, 404) or status_b != status_a:
            problems.append(f"{name}: status {status_a} then {status_b}")
        if before != after:
            problems.append(f"{name}: {before} statements, {after} with a longer history")
        if after > budget:
            problems.append(f"{name}: {after} statements, over its budget of {budget}")
    assert not problems, "\n".join(problems) + f"\n(all counts: {long})"


@pytest.mark.parametrize("who", ["clerk", "handler"])
def test_case_page_statements_do_not_grow_with_the_timeline(database, world, cast, who):
    """The same, for the case page alone, with a timeline ten times longer."""
    case = case_in(database, world, cast, S.IN_PROGRESS)
    client = database.test_client()
    assert sign_in(client, getattr(cast, who).username).status_code == 302
    client.get(f"/cases/{case.number}")
    _status, before = counted(database, lambda: client.get(f"/cases/{case.number}"))
    for _ in range(10):
        grow_timeline_only(database, cast, case.number)
    status, after = counted(database, lambda: client.get(f"/cases/{case.number}"))
    assert status == 200 and after == before


def grow_timeline_only(app, cast, number: str) -> None:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        actor = db.session.get(User, cast.head.id)
        for i in range(20):
            db.session.add(CaseEvent(case=case, action="note", actor=actor, is_public=False,
                                     note=f"备注{i}"))
        db.session.commit()


# Filing (issue 16, fourth pass): the POST, inside the request (the messages go out after
# the response). Routed at once, as a city files most cases; a new caller at the phone.
# 28 and 26 since the monthly totals (issue 13: the daily totals' row and its month's).
FILING_BUDGET = {"citizen": 28, "clerk": 26}  # were 42 and 40


@pytest.mark.parametrize("who", ["citizen", "clerk"])
def test_filing_a_case_stays_within_budget(database, world, cast, who):
    from cases.models import RoutingRule

    with database.app_context():
        db.session.add(RoutingRule(category_id=world.noise.id, department_id=world.urban.id))
        db.session.commit()
    client = database.test_client()
    user = cast.owner if who == "citizen" else cast.clerk
    assert sign_in(client, user.username).status_code == 302
    path = "/requests/new" if who == "citizen" else "/intake/new"
    form = {"type": "complaint", "category": world.noise.id, "district": world.gulou.id,
            "description": "每天晚上十一点以后仍在施工，严重影响休息。", "confirm_new": "1"}
    if who == "clerk":
        form |= {"channel": "phone", "priority": "normal", "new_phone": "13800000000"}
    counts = []
    for n in range(3):  # the first warms the caches; the others must cost the same
        data = {**form, "title": f"五一路夜间施工噪音扰民{n}", "new_name": f"张三{n}"}
        status, statements = counted(database, lambda data=data: submit(client, path, data))
        assert status == 302
        counts.append(statements)
    assert counts[1] == counts[2] <= FILING_BUDGET[who], counts
