"""Two people act on the same case at the same instant: exactly one wins.

Each race signs two browsers in, brings a case to the step's starting state, then posts
the step from two threads. A barrier holds both requests right after each has read the
case and passed its checks, so both really saw the same state before either wrote. The
loser must get a 409 with a clear message, and the case must show the step once: one
event, one public reply, one message to the client.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

import cases.services.rules
from cases.models import Case, CaseEvent, CaseReply, CaseStatus, ExtensionRequest
from citizens.models import ContactLog
from portal.db import db
from portal.notifications.models import OutboxMessage
from tests.conftest import csrf_token, sign_in
from tests.factories import make_case
from tests.test_lifecycle import Cast, case_in, cast, step  # noqa: F401 (cast is a fixture)

S = CaseStatus


@dataclass(frozen=True)
class Race:
    start: CaseStatus
    action: str
    first: tuple[str, dict] = ("clerk", {})
    second: tuple[str, dict] = ("supervisor", {})
    setup: list[tuple[str, str, dict]] = field(default_factory=list)  # extra steps first


URBAN, TRANSPORT = "@urban", "@transport"  # replaced by the departments' ids

RACES = [
    Race(S.SUBMITTED, "accept"),
    Race(S.SUBMITTED, "not_accept", ("clerk", {"note": "不属于受理范围"}),
         ("supervisor", {"note": "重复诉求"})),
    Race(S.SUBMITTED, "answer", ("clerk", {"note": "答复甲"}), ("supervisor", {"note": "答复乙"})),
    Race(S.ACCEPTED, "dispatch", ("clerk", {"department": URBAN}),
         ("supervisor", {"department": TRANSPORT})),
    Race(S.DISPATCHED, "transfer", ("clerk", {"department": TRANSPORT, "note": "改派甲"}),
         ("supervisor", {"department": TRANSPORT, "note": "改派乙"})),
    Race(S.DISPATCHED, "sign_for", ("handler", {}), ("head", {})),
    Race(S.DISPATCHED, "return", ("handler", {"note": "非本单位"}), ("head", {"note": "退回"})),
    Race(S.IN_PROGRESS, "request_info", ("handler", {"note": "请补充照片"}),
         ("head", {"note": "请补充地址"})),
    Race(S.WAITING, "resume", ("handler", {}), ("head", {})),
    Race(S.IN_PROGRESS, "reply", ("handler", {"note": "答复甲"}), ("head", {"note": "答复乙"})),
    Race(S.SUBMITTED, "withdraw", ("owner", {"note": "已解决", "confirm": "y"}),
         ("owner", {"note": "不需要了", "confirm": "y"})),
    Race(S.REPLIED, "close"),
    Race(S.REPLIED, "redo", ("clerk", {"note": "重办甲"}), ("supervisor", {"note": "重办乙"})),
    Race(S.CLOSED, "reopen", ("supervisor", {"note": "再次投诉"}),
         ("supervisor", {"note": "再次投诉"})),
    Race(S.SUBMITTED, "merge", ("clerk", {"target": "@master"}),
         ("supervisor", {"target": "@master"})),
    # Records that do not change the state.
    Race(S.ACCEPTED, "claim"),
    Race(S.SUBMITTED, "classify", ("clerk", {"priority": "high"}),
         ("supervisor", {"priority": "urgent"})),
    Race(S.IN_PROGRESS, "assist", ("clerk", {"assisting": TRANSPORT}),
         ("supervisor", {"assisting": TRANSPORT})),
    Race(S.IN_PROGRESS, "urge", ("clerk", {"note": "请加快"}), ("supervisor", {"note": "请加快"})),
    Race(S.IN_PROGRESS, "supervise", ("supervisor", {}), ("supervisor", {})),
    Race(S.IN_PROGRESS, "note", ("handler", {"note": "意见甲"}), ("clerk", {"note": "意见乙"})),
    Race(S.IN_PROGRESS, "extension", ("handler", {"days": "3", "note": "需协调"}),
         ("head", {"days": "5", "note": "需协调"})),
    Race(S.IN_PROGRESS, "decide_extension", ("supervisor", {"decision": "approve"}),
         ("supervisor", {"decision": "refuse"}),
         setup=[("extension", "handler", {"days": 3, "note": "需协调"})]),
    Race(S.IN_PROGRESS, "link", ("clerk", {"target": "@master"}),
         ("supervisor", {"target": "@master"})),
]


def signed_in(app, user) -> object:
    browser = app.test_client()
    assert sign_in(browser, user.username).status_code == 302
    return browser


def counts(app, case_id: int) -> dict[str, int]:
    with app.app_context():
        def count(model, *where) -> int:
            return db.session.scalar(select(func.count()).select_from(model).where(*where))

        return {
            "events": count(CaseEvent, CaseEvent.case_id == case_id),
            "replies": count(CaseReply, CaseReply.case_id == case_id),
            "messages": count(OutboxMessage, OutboxMessage.case_id == case_id),
            "extensions": count(ExtensionRequest, ExtensionRequest.case_id == case_id),
            "contacts": count(ContactLog, ContactLog.case_id == case_id),
        }


@pytest.mark.parametrize("race", RACES, ids=[r.action for r in RACES])
def test_two_at_once_one_wins(database, world, cast, monkeypatch, race):  # noqa: F811
    case = case_in(database, world, cast, race.start)
    for action, who, data in race.setup:
        step(database, case.number, action, getattr(cast, who), **data)
    master = make_case(database, cast.stranger, world, title="同一路段噪音")
    values = {URBAN: str(world.urban.id), TRANSPORT: str(world.transport.id),
              "@master": master.number}

    browsers, forms = [], []
    for who, data in (race.first, race.second):
        browser = signed_in(database, getattr(cast, who))
        token = csrf_token(browser, f"/cases/{case.number}")
        browsers.append(browser)
        forms.append({"csrf_token": token, **{k: values.get(v, v) for k, v in data.items()}})

    once = one_run(database, world, cast, race, browsers[0], forms[0])
    with database.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.number == case.number))
    before = counts(database, case_id)

    barrier = threading.Barrier(2, timeout=10)
    real_touch = cases.services.rules.touch

    def touch_together(target: Case) -> None:
        real_touch(target)
        barrier.wait()  # both have read the case and passed every check

    monkeypatch.setattr(cases.services.rules, "touch", touch_together)
    responses: list = [None, None]

    def act(i: int) -> None:
        responses[i] = browsers[i].post(f"/cases/{case.number}/{race.action}", data=forms[i])

    threads = [threading.Thread(target=act, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    monkeypatch.setattr(cases.services.rules, "touch", real_touch)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [302, 409], [r.get_data(as_text=True)[-2000:] for r in responses]
    lost = next(i for i in range(2) if responses[i].status_code == 409)
    loser = responses[lost].get_data(as_text=True)
    assert "同一时间" in loser or "at the same moment" in loser
    if forms[lost].get("note"):  # what the loser typed is still in the form, not lost
        assert forms[lost]["note"] in loser

    after = counts(database, case_id)
    # The step happened once: its event, and whatever one run of it writes (a public
    # reply, messages to the client, an extension request) exactly as the twin's run did.
    assert after["events"] > before["events"]
    assert {k: after[k] - before[k] for k in after} == once


def one_run(app, world, cast, race: Race, browser, form: dict) -> dict[str, int]:  # noqa: F811
    """What one uncontested run of the step writes, measured on a twin case."""
    twin = case_in(app, world, cast, race.start)
    for action, who, data in race.setup:
        step(app, twin.number, action, getattr(cast, who), **data)
    with app.app_context():
        twin_id = db.session.scalar(select(Case.id).where(Case.number == twin.number))
    before = counts(app, twin_id)
    response = browser.post(f"/cases/{twin.number}/{race.action}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    after = counts(app, twin_id)
    return {k: after[k] - before[k] for k in after}
