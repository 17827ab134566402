"""One public face of a case (``cases.public``): each audience reads exactly its part.

The scene: a case with a public reply, an internal note, a public step whose note is for
the client, a public step whose note is not, a non-public step, a public file by staff, a
private file by staff, a file by the client; and a duplicate merged into a master that has
a public reply and an internal note. The case page and ``/track`` are driven over HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from cases.models import Attachment, Case, CaseEvent, CaseReply, CaseStatus
from cases.public import Audience, face
from cases.tracking import issue_tracking_code
from portal.db import db
from portal.models import Role, User
from tests.factories import make_case, make_user
from tests.test_lifecycle import as_user

# Texts planted in the scene, by what they are.
REPLY = "公开答复：已联系施工单位"
NOTE = "内部意见：施工单位屡次违规"
CLIENT_STEP_NOTE = "请补充夜间施工的照片"
STAFF_STEP_NOTE = "受理员备注：优先处理"
HIDDEN_STEP_NOTE = "催办：请尽快处理"
MASTER_REPLY = "主诉求答复：已责令停工"
MASTER_NOTE = "主诉求内部意见"
STAFF_FILE, PRIVATE_FILE, CLIENT_FILE = "staff-photo.png", "internal-memo.pdf", "my-photo.png"
TEXTS = {REPLY, NOTE, CLIENT_STEP_NOTE, STAFF_STEP_NOTE, HIDDEN_STEP_NOTE, MASTER_REPLY,
         MASTER_NOTE, STAFF_FILE, PRIVATE_FILE, CLIENT_FILE}

# What each audience reads of the case (the table of ``cases.public``) ...
EXPECTED = {
    Audience.STAFF: TEXTS - {MASTER_REPLY, MASTER_NOTE},
    Audience.CLIENT: {REPLY, CLIENT_STEP_NOTE, STAFF_FILE, CLIENT_FILE},
    Audience.PUBLIC: {REPLY},
}
# ... and of the merged duplicate (the master's public replies, never its notes).
EXPECTED_DUPLICATE = {
    Audience.STAFF: {MASTER_REPLY},
    Audience.CLIENT: {MASTER_REPLY},
    Audience.PUBLIC: {MASTER_REPLY},
}


@dataclass
class Scene:
    citizen: User
    clerk: User
    number: str
    duplicate: str
    code: str
    duplicate_code: str


def attachment(case: Case, name: str, by: User, public: bool = True) -> Attachment:
    return Attachment(case=case, uploaded_by_id=by.id, filename=name, content_type="image/png",
                      size=10, sha256="0" * 64, storage_key=f"key-{name}", is_public=public)


@pytest.fixture
def scene(database, world) -> Scene:
    citizen = make_user(database, Role.CITIZEN, display_name="王小明")
    other = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    case = make_case(database, citizen, world)
    duplicate = make_case(database, citizen, world, title="五一路施工噪音")
    master = make_case(database, other, world, title="五一路噪音")
    with database.app_context():
        case, duplicate, master = (db.session.get(Case, c.id) for c in (case, duplicate, master))
        case.events += [
            CaseEvent(action="request_info", note=CLIENT_STEP_NOTE, is_public=True),
            CaseEvent(action="accept", note=STAFF_STEP_NOTE, is_public=True),
            CaseEvent(action="urge", note=HIDDEN_STEP_NOTE, is_public=False),
        ]
        case.replies += [CaseReply(body=REPLY, is_public=True),
                         CaseReply(body=NOTE, is_public=False)]
        db.session.add_all([
            attachment(case, STAFF_FILE, clerk),
            attachment(case, PRIVATE_FILE, clerk, public=False),
            attachment(case, CLIENT_FILE, citizen),
        ])
        master.replies += [CaseReply(body=MASTER_REPLY, is_public=True),
                           CaseReply(body=MASTER_NOTE, is_public=False)]
        duplicate.status = CaseStatus.MERGED
        duplicate.merged_into_id = master.id
        code, duplicate_code = issue_tracking_code(case), issue_tracking_code(duplicate)
        db.session.commit()
        return Scene(citizen, clerk, case.number, duplicate.number, code, duplicate_code)


def read(view) -> set[str]:
    """The planted texts a face carries."""
    found = {e.note for e in view.events if view.shows_note(e)}
    found |= {r.body for r in view.replies + view.master_replies + view.notes}
    found |= {a.filename for a in view.attachments}
    return found & TEXTS


def case_by_number(number: str) -> Case:
    return db.session.scalar(select(Case).where(Case.number == number))


@pytest.mark.parametrize("audience", list(Audience))
def test_each_audience_reads_its_part(database, scene, audience):
    with database.app_context():
        clerk = db.session.get(User, scene.clerk.id)
        viewer = clerk if audience is Audience.STAFF else None
        view = face(case_by_number(scene.number), audience, viewer)
        assert read(view) == EXPECTED[audience]
        assert read(face(case_by_number(scene.duplicate), audience, viewer)) == (
            EXPECTED_DUPLICATE[audience]
        )
        if audience is Audience.PUBLIC:
            assert view.events == [] and not view.reporter_visible
            assert not view.shows("description") and not view.shows("client")
            assert not view.shows("district") and not view.shows("department")
        if audience is Audience.CLIENT:
            # Public steps are listed, the non-public one is not.
            assert {e.action for e in view.events} >= {"request_info", "accept"}
            assert "urge" not in {e.action for e in view.events}


def on_page(html: str) -> set[str]:
    return {text for text in TEXTS if text in html}


def test_the_case_page_shows_the_client_and_staff_faces(client, database, scene):
    as_user(client, scene.citizen)
    assert on_page(client.get(f"/cases/{scene.number}").get_data(as_text=True)) == (
        EXPECTED[Audience.CLIENT]
    )
    assert on_page(client.get(f"/cases/{scene.duplicate}").get_data(as_text=True)) == (
        EXPECTED_DUPLICATE[Audience.CLIENT]
    )
    as_user(client, scene.clerk)
    assert on_page(client.get(f"/cases/{scene.number}").get_data(as_text=True)) == (
        EXPECTED[Audience.STAFF]
    )


def test_track_shows_the_public_face(database, scene):
    anonymous = database.test_client()
    html = anonymous.get(f"/track?number={scene.number}&code={scene.code}").get_data(
        as_text=True
    )
    assert on_page(html) == EXPECTED[Audience.PUBLIC]
    assert "王小明" not in html and "每天晚上十一点" not in html  # no name, no description
    html = anonymous.get(
        f"/track?number={scene.duplicate}&code={scene.duplicate_code}"
    ).get_data(as_text=True)
    assert on_page(html) == EXPECTED_DUPLICATE[Audience.PUBLIC]
