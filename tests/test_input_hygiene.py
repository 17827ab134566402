"""Input hygiene (#8): control characters, reply-template placeholders, oversized bodies."""

from __future__ import annotations

import io

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import select

from cases.models import Case, CaseReply, CaseStatus, ReplyTemplate
from portal.db import db
from portal.forms import PortalForm
from portal.models import Role
from tests.conftest import csrf_token, sign_in, submit
from tests.factories import make_case, make_user
from tests.test_cases import filing_data
from tests.test_lifecycle import step
from tests.test_reply_templates import make_template

DIRTY = "abc\x00def\u202e\u2066\x07\x1b\x7f\x85\u200f"

# --- control and bidi characters --------------------------------------------------------


def test_control_and_bidi_characters_are_stripped_from_a_filing(client, login_as, world,
                                                                  database):
    login_as(Role.CITIZEN)
    data = filing_data(world, title=DIRTY + "路灯不亮",
                       description="第一行\r\n第二行\t缩进" + DIRTY + "，已经三天了。")
    response = submit(client, "/requests/new", data)
    assert response.status_code == 302
    with database.app_context():
        case = db.session.scalar(select(Case))
        assert case.title == "abcdef路灯不亮"
        # Tabs and line breaks are text; only the invisible controls go.
        assert case.description == "第一行\r\n第二行\t缩进abcdef，已经三天了。"


def test_searched_query_strings_are_cleaned(client, login_as, world, database):
    login_as(Role.CLERK)
    for url in ("/clients?q=%00%E2%80%AE", "/clients?tag=a%00&industry=%00",
                "/queues/unassigned?q=abc%00def", "/intake/new?q=%00"):
        page = client.get(url).get_data(as_text=True)
        assert "\x00" not in page and "\u202e" not in page, url  # echoed back clean


def test_control_characters_in_a_path_segment_are_not_found(client, login_as, world):
    login_as(Role.CLERK)
    assert client.get("/cases/2026-000001%00").status_code == 404


def collect_forms(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | collect_forms(sub)
    return found


def test_every_form_cleans_its_input(app):
    """Every form of every room gets the cleaning from the one base class."""
    forms = {f for f in collect_forms(FlaskForm) if f.__module__.split(".")[0] in
             ("portal", "cases", "citizens", "search")}
    assert len(forms) > 20
    assert {f.__qualname__ for f in forms if not issubclass(f, PortalForm)} == set()


# --- reply templates ---------------------------------------------------------------------

BAD_BODIES = {
    "{title:d}": "{title}",
    "{title:x<200000}": "{title}",
    "{title!r}": "{title}",
    "{title.upper}": "{title}",
    "{number[0]}": "{number}",
    "{ title }": "{title}",
    "{}": "{client_name}",
    "{0}": "{client_name}",
    "{__class__}": "{client_name}",
    "open { brace": "{number}",
    "close } brace": "{number}",
}


@pytest.mark.parametrize("body", list(BAD_BODIES))
def test_malformed_placeholders_are_refused_on_save(client, login_as, world, database, body):
    login_as(Role.DEPARTMENT_HEAD, department_id=world.urban.id)
    response = submit(client, "/reply-templates/new", {"title": "坏模板", "body": body})
    assert response.status_code == 422
    assert BAD_BODIES[body] in response.get_data(as_text=True)  # says what to write instead
    with database.app_context():
        assert db.session.scalars(select(ReplyTemplate)).all() == []


def test_doubled_braces_stay_literal(client, world, database):
    template_id = make_template(database, body="编号 {{number}} 即 {number}。")
    case_number, handler = case_in_progress(database, world)
    response = reply_with(client, handler, case_number, template_id)
    assert response.status_code == 302
    with database.app_context():
        assert db.session.scalar(select(CaseReply.body)) == f"编号 {{number}} 即 {case_number}。"


def case_in_progress(database, world, title="路灯不亮"):
    citizen = make_user(database, Role.CITIZEN, name="李雷")
    clerk = make_user(database, Role.CLERK)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    case = make_case(database, citizen, world, title=title)
    step(database, case.number, "dispatch", clerk, department=world.urban.id)
    step(database, case.number, "sign_for", handler)
    return case.number, handler


def reply_with(client, handler, number, template_id):
    sign_in(client, handler.username)
    token = csrf_token(client, f"/cases/{number}")
    return client.post(f"/cases/{number}/reply",
                       data={"csrf_token": token, "note": "", "template": str(template_id)})


@pytest.mark.parametrize("body", ["{title:d}", "{title:x<200000}", "{title!r}", "{oops}", "{"])
def test_a_bad_stored_template_is_refused_at_use_not_a_500(client, world, database, body):
    template_id = make_template(database, body=body, title="旧模板")
    number, handler = case_in_progress(database, world)
    response = reply_with(client, handler, number, template_id)
    assert response.status_code == 422
    assert "旧模板" in response.get_data(as_text=True)
    with database.app_context():
        assert db.session.scalars(select(CaseReply)).all() == []


def test_a_reply_longer_than_the_limit_is_refused_not_cut(client, world, database):
    template_id = make_template(database, body="x" * 4990 + "{title}{title}", title="长模板")
    number, handler = case_in_progress(database, world, title="路" * 100)
    response = reply_with(client, handler, number, template_id)
    assert response.status_code == 422
    assert "5000" in response.get_data(as_text=True)
    with database.app_context():
        assert db.session.scalars(select(CaseReply)).all() == []
        assert db.session.scalar(select(Case.status)) == CaseStatus.IN_PROGRESS


@pytest.mark.parametrize("body", ["{title:x<200000}", "x" * 4990 + "{title}"])
def test_bulk_reply_with_a_bad_template_answers_nothing(client, world, database, body):
    template_id = make_template(database, department_id=world.urban.id, body=body)
    number, handler = case_in_progress(database, world, title="路" * 100)
    sign_in(client, handler.username)
    with database.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.number == number))
    response = submit(client, "/queues/department",
                      {"cases": [str(case_id)], "template": str(template_id)},
                      action="/queues/department/reply")
    assert response.status_code == 303
    with database.app_context():
        assert db.session.scalars(select(CaseReply)).all() == []


# --- bodies over the upload limit ---------------------------------------------------------


def too_big(token: str) -> dict:
    return {"csrf_token": token, "title": "大", "description": "x" * 5000,
            "files": (io.BytesIO(b"%PDF-1.4 " + b"0" * 5000), "big.pdf")}


@pytest.mark.parametrize("language,title,text", [
    ("zh-CN", "内容过大", None),
    ("en", "Too large", "larger than the portal accepts"),
])
def test_a_body_over_the_limit_is_a_localised_413(client, login_as, world, database,
                                                   language, title, text):
    citizen = login_as(Role.CITIZEN)
    case = make_case(database, citizen, world)
    headers = {"Accept-Language": language}
    token = csrf_token(client, "/requests/new")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(database.config, "MAX_CONTENT_LENGTH", 2000)
        for url in ("/requests/new", f"/cases/{case.number}/add-info"):
            response = client.post(url, data=too_big(token), headers=headers,
                                   content_type="multipart/form-data")
            assert response.status_code == 413, url
            page = response.get_data(as_text=True)
            assert title in page and (text is None or text in page)
            as_json = client.post(url, data=too_big(token),
                                  headers={**headers, "Accept": "application/json"},
                                  content_type="multipart/form-data")
            assert as_json.status_code == 413
            assert as_json.get_json()["error"]["title"] == title
    with database.app_context():
        assert len(db.session.scalars(select(Case)).all()) == 1
