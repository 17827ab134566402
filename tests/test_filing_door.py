"""One door per act: every channel files through ``cases.filing.file_request``, outside any
web request, and the timeline records who acted (staff, client, system, api)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask import has_request_context
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from cases.actors import Actor
from cases.filing import file_request
from cases.models import Attachment, Case, CaseEvent, CaseType, Channel, RoutingRule
from cases.services import CaseRequest, accept_case, withdraw_case
from cases.sweep import sweep_deadlines
from cases.tracking import find_tracked_case
from citizens.models import Client, ClientKind, ContactChannel, ContactLog
from citizens.services import ClientDetails
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import Role, User
from tests.factories import make_case, make_user

# Real, tiny files (judged by their bytes).
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    b"\xff\xdb\x00C\x00" + bytes(range(1, 65)) + b"\xff\xd9"
)


def upload(name: str, content: bytes) -> FileStorage:
    return FileStorage(stream=io.BytesIO(content), filename=name)


def request_for(world, channel: Channel, **kw) -> CaseRequest:
    return CaseRequest(
        type=kw.pop("type", CaseType.COMPLAINT),
        category_id=kw.pop("category_id", world.noise.id),
        title="五一路夜间施工噪音扰民",
        description="每天晚上十一点以后仍在施工，严重影响休息。",
        district_id=world.gulou.id,
        channel=channel,
        **kw,
    )


def filed_event(case: Case) -> CaseEvent:
    return db.session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "file")
    )


def contact_of(case: Case) -> ContactLog:
    return db.session.scalar(select(ContactLog).where(ContactLog.case_id == case.id))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- the same door, every channel ------------------------------------------------------


def test_web_filing_through_the_door_outside_a_request(database, world):
    citizen = make_user(database, Role.CITIZEN)
    with database.app_context():
        assert not has_request_context()
        user = db.session.get(User, citizen.id)
        filed = file_request(
            request_for(world, Channel.WEB),
            actor=Actor.client(user),
            client=user.client,
            files=[upload("现场照片.png", PNG), upload("photo.jpeg", JPEG)],
        )
        db.session.commit()
        case = filed.case
        assert filed.client.id == user.client_id == case.client_id
        assert find_tracked_case(case.number, filed.tracking_code).id == case.id
        assert [a.uploaded_by_id for a in filed.attachments] == [user.id, user.id]
        assert count(Attachment) == 2
        contact = contact_of(case)
        assert (contact.channel, contact.staff_id, contact.automatic) == (
            ContactChannel.WEB, None, True)
        event = filed_event(case)
        assert (event.actor_kind, event.actor_id) == ("client", user.id)
        assert db.session.get(Client, user.client_id).case_count == 1


def test_clerk_phone_request_for_a_new_client(database, world):
    clerk = make_user(database, Role.CLERK)
    with database.app_context():
        staff = db.session.get(User, clerk.id)
        before = count(Client)
        filed = file_request(
            request_for(world, Channel.PHONE),
            actor=Actor.staff(staff),
            new_client=ClientDetails(kind=ClientKind.CITIZEN, name=" 王五 ",
                                     phone="139 1234 5678"),
            files=[upload("letter.jpeg", JPEG)],
        )
        db.session.commit()
        assert count(Client) == before + 1
        client = db.session.get(Client, filed.client.id)
        assert (client.name, client.phone, client.case_count) == ("王五", "13912345678", 1)
        assert filed.case.channel == Channel.PHONE and filed.case.filed_by_id == staff.id
        assert filed.attachments[0].uploaded_by_id == staff.id
        contact = contact_of(filed.case)
        assert (contact.channel, contact.staff_id) == (ContactChannel.PHONE, staff.id)
        assert filed_event(filed.case).actor_kind == "staff"
        assert filed.tracking_code and find_tracked_case(filed.case.number, filed.tracking_code)


def test_clerk_request_for_an_existing_client_by_id(database, world):
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    with database.app_context():
        before = count(Client)
        filed = file_request(
            request_for(world, Channel.WALK_IN),
            actor=db.session.get(User, clerk.id),  # a plain User goes by its role
            client=citizen.client_id,
            files=[upload("scan.png", PNG)],
        )
        db.session.commit()
        assert count(Client) == before and filed.client.id == citizen.client_id
        assert contact_of(filed.case).channel == ContactChannel.WALK_IN
        assert filed_event(filed.case).actor_kind == "staff"
        assert count(Attachment) == 1


def test_an_import_files_as_the_system(database, world):
    citizen = make_user(database, Role.CITIZEN)
    with database.app_context():
        filed = file_request(request_for(world, Channel.LETTER), actor=Actor.system(),
                             client=citizen.client_id, files=[upload("scan.png", PNG)])
        db.session.commit()
        event = filed_event(filed.case)
        assert (event.actor_kind, event.actor_id) == ("system", None)
        assert filed.case.filed_by_id is None and filed.attachments[0].uploaded_by_id is None


def test_a_refused_filing_leaves_nothing(database, world):
    clerk = make_user(database, Role.CLERK)
    with database.app_context():
        clients, cases = count(Client), count(Case)
        with pytest.raises(DomainError) as refused:
            file_request(
                request_for(world, Channel.PHONE),
                actor=Actor.staff(db.session.get(User, clerk.id)),
                new_client=ClientDetails(kind=ClientKind.CITIZEN, name="王五"),
                files=[upload("notes.png", b"not a picture at all")],
            )
        db.session.rollback()
        assert refused.value.field == "attachments"
        assert (count(Client), count(Case), count(Attachment)) == (clients, cases, 0)


# --- who acted, on the timeline -------------------------------------------------------


def kinds(app, number: str) -> dict[str, tuple[str, int | None]]:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        return {e.action: (e.actor_kind, e.actor_id) for e in case.events}


def test_timeline_records_staff_client_system_and_api(database, world):
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    first = make_case(database, citizen, world)
    second = make_case(database, citizen, world)
    with database.app_context():
        case = db.session.scalar(select(Case).where(Case.number == first.number))
        accept_case(case, db.session.get(User, clerk.id))
        withdraw_case(case, db.session.get(User, citizen.id))
        other = db.session.scalar(select(Case).where(Case.number == second.number))
        accept_case(other, Actor.api(db.session.get(User, clerk.id)))
        db.session.commit()
    assert kinds(database, first.number) == {
        "file": ("client", citizen.id),
        "accept": ("staff", clerk.id),
        "withdraw": ("client", citizen.id),
    }
    assert kinds(database, second.number)["accept"] == ("api", clerk.id)


def test_routing_dispatch_and_sweep_marks_are_the_systems(client, database, world, login_as):
    with database.app_context():
        db.session.add(RoutingRule(category_id=world.noise.id, department_id=world.urban.id))
        db.session.commit()
    citizen = make_user(database, Role.CITIZEN)
    case = make_case(database, citizen, world)
    assert kinds(database, case.number)["route"] == ("system", None)
    with database.app_context():
        stored = db.session.scalar(select(Case).where(Case.number == case.number))
        stored.due_at = utcnow() - timedelta(hours=1)
        db.session.commit()
        assert sweep_deadlines().overdue == [case.number]
    recorded = kinds(database, case.number)
    assert recorded["overdue"] == recorded["escalate"] == ("system", None)

    login_as("clerk")
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert page.count('<span class="timeline__actor">System</span>') + page.count(
        '<span class="timeline__actor">系统</span>') == 3  # route, overdue, escalate
