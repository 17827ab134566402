"""Attachments: checked by content, stored on disk, served only to those who may see the
case; the client adds information and files to an open case (a waiting case resumes)."""

from __future__ import annotations

import hashlib
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from cases.attachments import store_attachments
from cases.models import Attachment, Case, CaseEvent, CaseStatus
from cases.services import ActionInput, perform
from citizens.models import ContactLog
from portal.db import db
from portal.models import Department, Role, User
from tests.conftest import csrf_token, sign_in
from tests.factories import DISGUISED, DOCX, JPEG, PDF, PNG, make_case, make_user

VALID = [
    ("现场照片.png", PNG, "image/png"),
    ("photo.jpeg", JPEG, "image/jpeg"),
    ("report.pdf", PDF, "application/pdf"),
    ("letter.docx", DOCX,
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
]

# --- helpers --------------------------------------------------------------------------


@dataclass
class Cast:
    owner: User
    stranger: User  # another citizen
    clerk: User
    handler: User  # urban department
    other_handler: User  # transport department


@pytest.fixture
def cast(database, world) -> Cast:
    return Cast(
        owner=make_user(database, Role.CITIZEN),
        stranger=make_user(database, Role.CITIZEN),
        clerk=make_user(database, Role.CLERK),
        handler=make_user(database, Role.HANDLER, department_id=world.urban.id),
        other_handler=make_user(database, Role.HANDLER, department_id=world.transport.id),
    )


@pytest.fixture
def files_dir(database) -> Path:
    """The attachment folder (inside the test instance folder), emptied after the test."""
    root = Path(database.config["ATTACHMENT_DIR"])
    assert root.is_relative_to(Path(database.instance_path))
    shutil.rmtree(root, ignore_errors=True)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def files_on_disk(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def as_user(client, user: User) -> None:
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert sign_in(client, user.username).status_code == 302


def filing_data(world) -> dict:
    return {
        "type": "complaint",
        "category": str(world.noise.id),
        "title": "小区门口路灯损坏",
        "description": "小区门口的三盏路灯已经坏了一周，晚上出行很不方便。",
        "district": str(world.gulou.id),
        "confirm_new": "1",  # several filings in one test: not asked about look-alikes
    }


def file_request(client, world, files: list[tuple[str, bytes]]):
    token = csrf_token(client, "/requests/new")
    data = {
        "csrf_token": token,
        **filing_data(world),
        "attachments": [(io.BytesIO(content), name) for name, content in files],
    }
    return client.post("/requests/new", data=data, content_type="multipart/form-data")


def add_info(client, number: str, note: str, files: list[tuple[str, bytes]]):
    token = csrf_token(client, f"/cases/{number}")
    data = {
        "csrf_token": token,
        "note": note,
        "attachments": [(io.BytesIO(content), name) for name, content in files],
    }
    return client.post(
        f"/cases/{number}/add-info", data=data, content_type="multipart/form-data"
    )


def download(client, url: str):
    """GET a file; the response is read and closed (no file handle left open)."""
    with client.get(url) as response:
        response.get_data()
    return response


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def attachments_of(app, number: str) -> list[Attachment]:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        rows = list(case.attachments)
        db.session.expunge_all()
        return rows


def step(app, number: str, action: str, user: User, **data) -> None:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        if "department" in data:
            data["department"] = db.session.get(Department, data["department"])
        perform(case, action, db.session.get(User, user.id), ActionInput(**data))
        db.session.commit()


def case_state(app, number: str) -> tuple[Case, list[str]]:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        actions = [e.action for e in case.events]
        db.session.expunge(case)
        return case, actions


def dispatched_case(app, world, cast: Cast, *path: str):
    """A case of ``cast.owner``, dispatched to the urban department, then ``path`` steps."""
    case = make_case(app, cast.owner, world)
    step(app, case.number, "dispatch", cast.clerk, department=world.urban.id)
    for action in path:
        who = cast.clerk if action == "close" else cast.handler
        note = {"request_info": "请补充现场照片", "reply": "路灯已修复。"}.get(action)
        step(app, case.number, action, who, note=note)
    return case


# --- filing with attachments ----------------------------------------------------------


def test_filing_stores_checked_files_outside_the_database(client, database, world, cast,
                                                          files_dir):
    as_user(client, cast.owner)
    response = file_request(client, world, [(name, content) for name, content, _t in VALID])
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    number = response.headers["Location"].rsplit("/", 1)[-1]

    rows = attachments_of(database, number)
    assert [(a.filename, a.content_type) for a in rows] == [(n, t) for n, _c, t in VALID]
    on_disk = files_on_disk(files_dir)
    assert len(on_disk) == len(VALID)
    for row, (name, content, _type) in zip(rows, VALID, strict=True):
        assert row.size == len(content)
        assert row.sha256 == hashlib.sha256(content).hexdigest()
        assert row.uploaded_by_id == cast.owner.id and row.is_public
        assert len(row.storage_key) == 32 and name not in row.storage_key
        path = files_dir / row.storage_key[:2] / row.storage_key[2:4] / row.storage_key
        assert path.read_bytes() == content

    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "现场照片.png" in page and "letter.docx" in page
    assert f"/cases/{number}/attachments/{rows[0].id}" in page


def test_files_are_served_to_those_who_may_see_the_case(client, database, world, cast,
                                                        files_dir):
    as_user(client, cast.owner)
    response = file_request(client, world, [(name, content) for name, content, _t in VALID])
    number = response.headers["Location"].rsplit("/", 1)[-1]
    step(database, number, "dispatch", cast.clerk, department=world.urban.id)
    rows = attachments_of(database, number)
    png = rows[0]
    url = f"/cases/{number}/attachments/{png.id}"

    for user in (cast.owner, cast.clerk, cast.handler):
        as_user(client, user)
        for row, (_name, content, content_type) in zip(rows, VALID, strict=True):
            got = download(client, f"/cases/{number}/attachments/{row.id}")
            assert got.status_code == 200, (user.username, row.filename)
            assert got.get_data() == content
            assert got.mimetype == content_type
            assert got.headers["X-Content-Type-Options"] == "nosniff"
            assert got.headers["Cache-Control"] == "private, no-store"
            assert got.headers["Content-Disposition"].startswith("attachment;")

    got = download(client, url)
    disposition = got.headers["Content-Disposition"]
    assert f'filename="attachment-{png.id}.png"' in disposition  # ASCII fallback
    assert "filename*=UTF-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.png" in disposition

    for user in (cast.stranger, cast.other_handler):
        as_user(client, user)
        assert download(client, url).status_code == 404


def test_an_attachment_is_only_found_under_its_own_case(client, database, world, cast,
                                                        files_dir):
    as_user(client, cast.owner)
    first = file_request(client, world, [("a.png", PNG)]).headers["Location"].rsplit("/", 1)[-1]
    second = file_request(client, world, []).headers["Location"].rsplit("/", 1)[-1]
    (row,) = attachments_of(database, first)
    assert download(client, f"/cases/{second}/attachments/{row.id}").status_code == 404
    assert download(client, f"/cases/{first}/attachments/{row.id + 999}").status_code == 404
    assert download(client, f"/cases/{first}/attachments/{row.id}").status_code == 200


def test_a_jpeg_named_pdf_is_stored_as_what_it_is(client, database, world, cast, files_dir):
    as_user(client, cast.owner)
    response = file_request(client, world, [("scan.pdf", JPEG)])
    assert response.status_code == 302
    (row,) = attachments_of(database, response.headers["Location"].rsplit("/", 1)[-1])
    assert (row.filename, row.content_type) == ("scan.jpg", "image/jpeg")


def test_empty_file_inputs_are_ignored(client, database, world, cast, files_dir):
    as_user(client, cast.owner)
    response = file_request(client, world, [("", b"")])
    assert response.status_code == 302
    assert count(database, Attachment) == 0 and files_on_disk(files_dir) == []


def test_the_filing_form_offers_a_labelled_file_input(client, database, world, cast):
    as_user(client, cast.owner)
    html = client.get("/requests/new").get_data(as_text=True)
    assert 'type="file" id="attachments" name="attachments" multiple' in html
    assert '<label for="attachments">' in html and 'aria-describedby="attachments-hint' in html
    assert 'accept=".jpg,' in html and "application/pdf" in html
    assert " style=" not in html and "<script>" not in html


@pytest.mark.parametrize(("name", "content"), DISGUISED, ids=[n for n, _c in DISGUISED])
def test_disguised_files_are_refused_and_nothing_is_saved(client, database, world, cast,
                                                          files_dir, name, content):
    as_user(client, cast.owner)
    # A good file next to the bad one: neither is kept.
    response = file_request(client, world, [("good.png", PNG), (name, content)])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f"“{name}”" in html and "good.png" not in html
    assert count(database, Case) == 0 and count(database, Attachment) == 0
    assert files_on_disk(files_dir) == []


def test_refusals_name_every_wrong_file(client, database, world, cast, files_dir):
    as_user(client, cast.owner)
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "locale": "en",
                                   "next": "/"})
    response = file_request(
        client, world, [("a.jpg", b"<html></html>"), ("empty.pdf", b""), ("ok.pdf", PDF)]
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "“a.jpg” is not an image, PDF or office document" in html
    assert "“empty.pdf” is empty." in html
    assert "Files are not kept when the form comes back" in html
    assert count(database, Case) == 0 and files_on_disk(files_dir) == []


def test_oversize_files_are_refused(client, database, world, cast, files_dir, monkeypatch):
    monkeypatch.setitem(database.config, "ATTACHMENT_MAX_BYTES", 100)  # restored afterwards
    as_user(client, cast.owner)
    big = PDF + b"%" + b"x" * 200 + b"\n"
    response = file_request(client, world, [("small.png", PNG), ("big.pdf", big)])
    assert response.status_code == 422
    assert "“big.pdf”" in response.get_data(as_text=True)
    assert count(database, Case) == 0 and files_on_disk(files_dir) == []
    response = file_request(client, world, [("small.png", PNG)])
    assert response.status_code == 302 and len(files_on_disk(files_dir)) == 1


def test_more_than_five_files_are_refused(client, database, world, cast, files_dir):
    as_user(client, cast.owner)
    assert database.config["ATTACHMENT_MAX_FILES"] == 5
    response = file_request(client, world, [(f"p{i}.png", PNG) for i in range(6)])
    assert response.status_code == 422
    assert count(database, Case) == 0 and files_on_disk(files_dir) == []
    response = file_request(client, world, [(f"p{i}.png", PNG) for i in range(5)])
    assert response.status_code == 302 and len(files_on_disk(files_dir)) == 5


def test_files_of_a_transaction_that_does_not_commit_are_removed(database, world, cast,
                                                                 files_dir):
    case = make_case(database, cast.owner, world)
    with database.test_request_context():
        row_case = db.session.get(Case, case.id)
        owner = db.session.get(User, cast.owner.id)
        (row,) = store_attachments(row_case, owner, [_upload("a.png", PNG)])
        assert len(files_on_disk(files_dir)) == 1
        db.session.rollback()
        assert files_on_disk(files_dir) == []

        with db.session.begin_nested():  # a savepoint committing does not count
            (row,) = store_attachments(row_case, owner, [_upload("b.png", PNG)])
        db.session.commit()
        assert [p.name for p in files_on_disk(files_dir)] == [row.storage_key]
    assert count(database, Attachment) == 1


def _upload(name: str, content: bytes) -> FileStorage:
    return FileStorage(io.BytesIO(content), filename=name)


# --- the client adds information ------------------------------------------------------


def test_owner_adds_information_to_a_waiting_case_and_it_resumes(client, database, world,
                                                                 cast, files_dir):
    case = dispatched_case(database, world, cast, "sign_for", "request_info")
    before, _actions = case_state(database, case.number)
    assert before.status == CaseStatus.WAITING and before.due_at is None

    as_user(client, cast.owner)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert f'action="/cases/{case.number}/add-info"' in page
    assert 'enctype="multipart/form-data"' in page and '<label for="add-info-note">' in page

    response = add_info(client, case.number, "照片已补充，位置在3号楼东侧。", [("现场.jpg", JPEG)])
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    after, actions = case_state(database, case.number)
    assert after.status == CaseStatus.IN_PROGRESS
    assert after.paused_at is None and after.due_at is not None  # the clock runs again
    assert actions[-2:] == ["client_info", "resume"]
    with database.app_context():
        events = db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        ).all()
        info, resume = events[-2:]
        assert info.note == "照片已补充，位置在3号楼东侧。" and info.is_public
        assert info.actor_id == resume.actor_id == cast.owner.id
        assert (resume.from_status, resume.to_status) == (
            CaseStatus.WAITING, CaseStatus.IN_PROGRESS,
        )
    (row,) = attachments_of(database, case.number)
    assert row.uploaded_by_id == cast.owner.id and row.filename == "现场.jpg"
    assert len(files_on_disk(files_dir)) == 1

    as_user(client, cast.handler)
    assert download(client, f"/cases/{case.number}/attachments/{row.id}").status_code == 200


def test_owner_adds_a_note_to_a_case_in_progress(client, database, world, cast, files_dir):
    case = dispatched_case(database, world, cast, "sign_for")
    as_user(client, cast.owner)
    assert add_info(client, case.number, "补充：晚上九点以后最严重。", []).status_code == 302
    after, actions = case_state(database, case.number)
    assert after.status == CaseStatus.IN_PROGRESS and actions[-1] == "client_info"
    assert "resume" not in actions
    with database.app_context():  # the system logs the contact on the client's record
        contact = db.session.scalars(
            select(ContactLog).where(ContactLog.case_id == after.id).order_by(ContactLog.id)
        ).all()[-1]
        assert contact.automatic and "晚上九点以后最严重" in contact.summary


def test_adding_to_a_closed_case_is_refused(client, database, world, cast, files_dir):
    case = dispatched_case(database, world, cast, "sign_for", "reply", "close")
    as_user(client, cast.owner)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "/add-info" not in page
    response = add_info(client, case.number, "还没有修好", [("a.png", PNG)])
    assert response.status_code == 409
    assert 'id="add-info-errors"' in response.get_data(as_text=True)
    after, actions = case_state(database, case.number)
    assert after.status == CaseStatus.CLOSED and actions[-1] == "close"
    assert count(database, Attachment) == 0 and files_on_disk(files_dir) == []


@pytest.mark.parametrize("who", ["stranger", "clerk", "handler"])
def test_only_the_owner_may_add_information(client, database, world, cast, files_dir, who):
    case = dispatched_case(database, world, cast, "sign_for", "request_info")
    as_user(client, getattr(cast, who))
    page = client.get(f"/cases/{case.number}")
    assert "/add-info" not in page.get_data(as_text=True)
    token = csrf_token(client, "/")
    response = client.post(
        f"/cases/{case.number}/add-info",
        data={"csrf_token": token, "note": "x", "attachments": [(io.BytesIO(PNG), "a.png")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404
    after, actions = case_state(database, case.number)
    assert after.status == CaseStatus.WAITING and actions[-1] == "request_info"
    assert files_on_disk(files_dir) == []


def test_a_wrong_file_with_added_information_changes_nothing(client, database, world, cast,
                                                             files_dir):
    case = dispatched_case(database, world, cast, "sign_for", "request_info")
    as_user(client, cast.owner)
    response = add_info(client, case.number, "见附件", [("ok.png", PNG), ("x.pdf", b"MZ\x90")])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "“x.pdf”" in html and "见附件</textarea>" in html  # the text is kept
    after, actions = case_state(database, case.number)
    assert after.status == CaseStatus.WAITING and actions[-1] == "request_info"
    assert count(database, Attachment) == 0 and files_on_disk(files_dir) == []


def test_adding_nothing_is_refused(client, database, world, cast, files_dir):
    case = dispatched_case(database, world, cast, "sign_for", "request_info")
    as_user(client, cast.owner)
    response = add_info(client, case.number, "   ", [])
    assert response.status_code == 422
    assert case_state(database, case.number)[1][-1] == "request_info"


def test_files_written_before_a_failure_are_removed(client, database, world, cast, files_dir,
                                                    monkeypatch):
    case = dispatched_case(database, world, cast, "sign_for", "request_info")
    as_user(client, cast.owner)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("cases.attachments.record_event", broken)
    with pytest.raises(RuntimeError):
        add_info(client, case.number, "见附件", [("ok.png", PNG)])
    assert files_on_disk(files_dir) == [] and count(database, Attachment) == 0
