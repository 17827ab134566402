"""Anonymous tip-offs: whoever may not know the reporter finds no trace of them anywhere."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import pytest

from cases.models import CaseStatus, CaseType
from cases.queries import QUEUE_NAMES
from citizens.merge import merge_clients
from citizens.models import Client
from portal.db import db
from portal.models import Role, User
from portal.permissions import QUEUE_ROLES
from tests.conftest import csrf_token, sign_in, submit
from tests.factories import JPEG, make_case, make_user
from tests.test_attachments import add_info
from tests.test_clients import file_for, new_client

NAME = "举报人赵六"
USERNAME = "zhaoliu_reporter"
PHONE = "13912345678"
EMAIL = "zl@reporter-x.example"
TRACES = (NAME, USERNAME, PHONE, "139****5678", "reporter-x.example")
TIP_TITLE = "某化工厂夜间偷排污水"
FILE_NAME = "偷排现场.jpg"
NOTE = "排污口在厂区北墙外"
HIDDEN_FROM = [Role.CLERK, Role.HANDLER, Role.DEPARTMENT_HEAD, Role.OFFICIAL, Role.ADMIN]


@dataclass
class Scene:
    client_id: int
    tipoff: str
    named: list[str]
    head_username: str


@pytest.fixture
def scene(client, database, world) -> Scene:
    """X files 11 ordinary cases and an anonymous tip-off, then adds a photo to the tip-off."""
    head = make_user(database, Role.DEPARTMENT_HEAD, department_id=world.urban.id)
    x = make_user(database, Role.CITIZEN, name=NAME, username=USERNAME, phone=PHONE, email=EMAIL)
    on_urban = {"department_id": world.urban.id, "status": CaseStatus.DISPATCHED}
    named = [
        make_case(database, x, world, title=f"第{i}路公交站牌损坏", **on_urban).number
        for i in range(11)
    ]
    tipoff = make_case(
        database, x, world, type=CaseType.TIPOFF, anonymous=True, title=TIP_TITLE,
        department_id=world.urban.id, status=CaseStatus.IN_PROGRESS,
    )
    sign_in(client, USERNAME)
    assert add_info(client, tipoff.number, NOTE, [(FILE_NAME, JPEG)]).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    return Scene(x.client_id, tipoff.number, named, head.username)


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def assert_no_trace(text: str, where: str) -> None:
    for trace in TRACES:
        assert trace not in text, (where, trace)


def client_row(text: str, client_id: int) -> str:
    """The list's row of one client (from its link to the end of the row)."""
    start = text.index(f'href="/clients/{client_id}"')
    return text[start : text.index("</tr>", start)]


@pytest.mark.parametrize("role", HIDDEN_FROM)
def test_staff_find_no_trace_of_the_reporter(client, login_as, scene, role):
    login_as(role)
    case_page = page(client, f"/cases/{scene.tipoff}")
    assert FILE_NAME in case_page and NOTE in case_page  # the attachment list and the note
    assert_no_trace(case_page, "case page")
    assert f'href="/clients/{scene.client_id}"' not in case_page

    if role in QUEUE_ROLES:
        for name in QUEUE_NAMES:
            response = client.get(f"/queues/{name}")
            if response.status_code == 200:
                assert_no_trace(response.get_data(as_text=True), f"queue {name}")


@pytest.mark.parametrize("role", HIDDEN_FROM)
def test_counts_on_client_pages_equal_the_listed_cases(client, login_as, scene, role):
    login_as(role)
    profile = page(client, f"/clients/{scene.client_id}")
    assert scene.tipoff not in profile and TIP_TITLE not in profile
    assert all(number in profile for number in scene.named[-10:])  # the first page
    assert "您可查看的诉求共 11 件。" in profile
    assert "累计反映 11 件诉求" in profile and "累计反映 12 件诉求" not in profile

    row = client_row(page(client, "/clients"), scene.client_id)
    assert "(11)" in row and "(12)" not in row

    export = page(client, "/clients/export.csv")
    [mine] = [r for r in csv.reader(io.StringIO(export.lstrip("\ufeff"))) if r[2] == NAME]
    assert mine[6] == "11"


def test_engagement_and_ranking_ignore_hidden_tipoffs(client, login_as, database, world):
    """4 named requests and 3 tip-offs: a repeat filer below one with 5, not a frequent one."""
    quiet = new_client(database, name="四件诉求人", phone=PHONE)
    busy = new_client(database, name="五件诉求人")
    for _ in range(4):
        file_for(database, quiet.id, world, department_id=world.urban.id)
    for _ in range(3):
        file_for(database, quiet.id, world, type=CaseType.TIPOFF, anonymous=True,
                 department_id=world.urban.id)
    for _ in range(5):
        file_for(database, busy.id, world, department_id=world.urban.id)
    for role in (Role.CLERK, Role.HANDLER):
        login_as(role)
        assert "四件诉求人" not in page(client, "/clients?engagement=frequent")
        repeat = page(client, "/clients?engagement=repeat")
        assert "多次反映 (4)" in client_row(repeat, quiet.id)
        ranked = page(client, "/clients?sort=cases")
        assert ranked.index("五件诉求人") < ranked.index("四件诉求人")
    login_as(Role.SUPERVISOR)
    ranked = page(client, "/clients?sort=cases")
    assert ranked.index("四件诉求人") < ranked.index("五件诉求人")
    assert "高频反映 (7)" in client_row(ranked, quiet.id)


def test_merge_pages_leave_hidden_tipoffs_out(client, login_as, database, world):
    kept = new_client(database, name="保留记录人", phone=PHONE)
    gone = new_client(database, name="重复记录人", phone=PHONE)
    file_for(database, kept.id, world)
    named = [file_for(database, gone.id, world).number for _ in range(2)]
    secret = file_for(database, gone.id, world, type=CaseType.TIPOFF, anonymous=True).number
    login_as(Role.CLERK)
    suspects = page(client, "/clients/duplicates")
    assert "3 件诉求" not in suspects and "2 件诉求" in suspects
    compare = page(client, f"/clients/{kept.id}/merge?other={gone.id}")
    row = compare[compare.index("诉求件数") : compare.index("</tr>", compare.index("诉求件数"))]
    assert re.findall(r"<td>(\d+)</td>", row) == ["1", "2", "3"]

    supervisor = make_user(database, Role.SUPERVISOR)
    with database.app_context():
        merge_clients(db.session.get(Client, kept.id), db.session.get(Client, gone.id),
                      db.session.get(User, supervisor.id), "同一人，电话相同")
        db.session.commit()
    for role, moved in ((Role.CLERK, 2), (Role.ADMIN, 2), (Role.SUPERVISOR, 3)):
        login_as(role)
        history = page(client, f"/clients/{kept.id}/merges")
        assert all(number in history for number in named)
        assert (secret in history) is (role == Role.SUPERVISOR)
        assert f"<dt>转入诉求数</dt><dd>{moved}</dd>" in history
        assert f'<th scope="row">诉求件数</th><td>{moved}</td>' in history


def test_staff_notified_of_added_information_are_not_told_who(client, scene):
    sign_in(client, scene.head_username)
    inbox = page(client, "/inbox")
    assert scene.tipoff in inbox and NOTE in inbox
    assert_no_trace(inbox, "inbox")


def test_a_supervisor_sees_the_reporter(client, login_as, scene):
    login_as(Role.SUPERVISOR)
    case_page = page(client, f"/cases/{scene.tipoff}")
    attachments = case_page[case_page.index('id="attachments-heading"'):]
    assert NAME in attachments[: attachments.index("</section>")]
    profile = page(client, f"/clients/{scene.client_id}")
    assert scene.tipoff in profile and "累计反映 12 件诉求" in profile
    assert "您可查看的诉求共 12 件。" in profile
    assert "(12)" in client_row(page(client, "/clients"), scene.client_id)


@pytest.mark.search  # the reminder comes from the search index
def test_another_client_gets_no_hint_of_the_tipoff(client, login_as, world, scene):
    login_as(Role.CITIZEN)
    data = {
        "type": "complaint",
        "category": str(world.noise.id),
        "district": str(world.gulou.id),
        "title": "某化工厂夜间偷排污水严重",
        "description": "工厂晚上排放污水，气味很大。",
    }
    response = submit(client, "/requests/new", data)
    assert TIP_TITLE not in response.get_data(as_text=True)
    assert response.status_code == 302  # nothing alike that this client may see


@pytest.mark.search  # the reminder comes from the search index
def test_the_reporter_is_reminded_of_their_own_tipoff(client, world, scene):
    sign_in(client, USERNAME)
    data = {
        "type": "tipoff",
        "category": str(world.noise.id),
        "district": str(world.gulou.id),
        "title": "某化工厂夜间偷排污水严重",
        "description": "工厂晚上排放污水，气味很大。",
    }
    response = submit(client, "/requests/new", data)
    assert response.status_code == 200 and TIP_TITLE in response.get_data(as_text=True)
