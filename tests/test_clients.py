"""Clients: the staff list, the 360° page, reveals, contacts, classification, scope."""

from __future__ import annotations

import logging
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from cases.models import (
    Attachment,
    Case,
    CaseAssist,
    CaseReply,
    CaseStatus,
    CaseType,
    Channel,
    Priority,
)
from cases.services import CaseRequest, file_case
from citizens.identifiers import credit_code_check_char, resident_id_check_char
from citizens.models import (
    Client,
    ClientFlag,
    ClientKind,
    ClientTag,
    ContactChannel,
    ContactLog,
    RevealLog,
    SizeTier,
    VulnerableGroup,
)
from portal.db import db, utcnow
from portal.models import Role
from tests.conftest import sign_in, submit
from tests.factories import detach, make_user

ID_NUMBER = "11010519491231002" + resident_id_check_char("11010519491231002")
CREDIT_CODE = "91350100M000100Y4" + credit_code_check_char("91350100M000100Y4")
PHONE = "13912345678"


def new_client(app, **fields) -> Client:
    """A client record made directly (as the service window or a merge would leave it)."""
    with app.app_context():
        flags = fields.pop("flags", [])
        tags = fields.pop("tags", [])
        client = Client(kind=fields.pop("kind", ClientKind.CITIZEN), **fields)
        client.flags = [ClientFlag(flag=f) for f in flags]
        client.tags = [ClientTag(tag=t) for t in tags]
        db.session.add(client)
        return detach(client)


def file_for(app, client_id: int, world, *, department_id=None, assisting=(), **kw) -> Case:
    """A case of the client, filed by phone; optionally with a department and assistants."""
    with app.app_context():
        client = db.session.get(Client, client_id)
        request = CaseRequest(
            type=kw.pop("type", CaseType.COMPLAINT),
            category_id=world.noise.id,
            title=kw.pop("title", "夜间施工噪音扰民"),
            description="每天晚上十一点以后仍在施工，严重影响休息。",
            district_id=world.gulou.id,
            channel=Channel.PHONE,
            anonymous=kw.pop("anonymous", False),
        )
        case = file_case(client, None, request)
        if department_id is not None:
            case.department_id = department_id
            case.status = CaseStatus.DISPATCHED
        for other in assisting:
            db.session.add(CaseAssist(case_id=case.id, department_id=other))
        for key, value in kw.items():
            setattr(case, key, value)
        return detach(case)


def html(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


# --- the list ---------------------------------------------------------------------


@pytest.fixture
def roster(database, world):
    """Clients of every shape, by a short key."""
    c = {}
    c["elder"] = new_client(
        database, name="王老伯", phone=PHONE, id_number=ID_NUMBER, district_id=world.gulou.id,
        flags=[VulnerableGroup.ELDERLY], tags=["独居"], case_count=1,
    )
    c["firm"] = new_client(
        database, kind=ClientKind.ENTERPRISE, name="闽江机械厂", credit_code=CREDIT_CODE,
        size_tier=SizeTier.LARGE, industry="机械制造", district_id=world.taijiang.id, case_count=3,
    )
    c["shop"] = new_client(
        database, kind=ClientKind.ENTERPRISE, name="街角小卖部", size_tier=SizeTier.MICRO,
        industry="零售", district_id=world.gulou.id, case_count=0,
    )
    c["regular"] = new_client(
        database, name="李常客", phone="13700001111", tags=["媒体关注"], case_count=7,
        flags=[VulnerableGroup.DISABLED],
    )
    c["merged"] = new_client(database, name="王老伯旧档", merged_into_id=c["elder"].id)
    c["gone"] = new_client(database, name="已匿名者", anonymised_at=utcnow())
    return c


NAMES = {
    "elder": "王老伯</a>",
    "firm": "闽江机械厂",
    "shop": "街角小卖部",
    "regular": "李常客",
    "merged": "王老伯旧档",
    "gone": "已匿名者",
}

FILTERS = {
    "": {"elder", "firm", "shop", "regular"},
    "kind=enterprise": {"firm", "shop"},
    "kind=citizen": {"elder", "regular"},
    "size_tier=large": {"firm"},
    "industry=零售": {"shop"},
    "district={gulou}": {"elder", "shop"},
    "flag=any": {"elder", "regular"},
    "flag=elderly": {"elder"},
    "engagement=first_time": {"elder", "shop"},
    "engagement=repeat": {"firm"},
    "engagement=frequent": {"regular"},
    "tag=媒体关注": {"regular"},
    "q=老伯": {"elder"},
    f"q={PHONE}": {"elder"},
    f"q={ID_NUMBER.lower()}": {"elder"},
    f"q={CREDIT_CODE}": {"firm"},
    "q=139+1234+5678": {"elder"},  # spaces in a phone number do not matter
    "q=139": set(),  # a phone matches exactly, not in part
    "all=1": {"elder", "firm", "shop", "regular", "merged", "gone"},
    "kind=citizen&flag=any&engagement=frequent": {"regular"},
}


@pytest.mark.parametrize(("query", "expected"), FILTERS.items())
def test_each_filter_narrows_the_list(client, login_as, roster, world, query, expected):
    login_as(Role.CLERK)
    page = html(client, "/clients?" + query.format(gulou=world.gulou.id))
    shown = {key for key, name in NAMES.items() if name in page}
    assert shown == expected


def test_list_masks_phones_and_id_numbers(client, login_as, roster):
    login_as(Role.OFFICIAL)
    page = html(client, "/clients")
    assert "139****5678" in page and PHONE not in page
    assert ID_NUMBER not in page and ID_NUMBER[:3] + "*" * 11 + ID_NUMBER[-4:] in page
    assert CREDIT_CODE not in page and CREDIT_CODE[-4:] in page


def test_list_paginates(client, login_as, database):
    for i in range(25):
        new_client(database, name=f"分页客户{i:02d}")
    login_as(Role.CLERK)
    first = html(client, "/clients?sort=name")
    assert "分页客户00" in first and "分页客户24" not in first and 'rel="next"' in first
    assert "分页客户24" in html(client, "/clients?sort=name&page=2")
    assert client.get("/clients?kind=bogus&flag=x&district=y&sort=z").status_code == 200


def test_clients_cannot_see_client_pages(client, login_as, roster):
    user = login_as(Role.CITIZEN)
    assert client.get("/clients").status_code == 403
    assert client.get(f"/clients/{user.client_id}").status_code == 403
    assert 'href="/clients"' not in html(client, "/requests")
    login_as(Role.ENTERPRISE)
    assert client.get("/clients").status_code == 403
    assert client.get(f"/clients/{roster['firm'].id}").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, database, roster):
    assert client.get("/clients").status_code == 302
    assert client.get(f"/clients/{roster['elder'].id}").status_code == 302


# --- the 360° page ----------------------------------------------------------------


def test_page_shows_profile_cases_and_contacts_masked(client, login_as, database, world):
    person = make_user(database, Role.CITIZEN, phone=PHONE, email="wang.laobo@example.org")
    with database.app_context():
        record = db.session.get(Client, person.client_id)
        record.id_number = ID_NUMBER
        record.address = "鼓楼区五一路1号"
        record.flags = [ClientFlag(flag=VulnerableGroup.LOW_INCOME)]
        db.session.commit()
    urban = file_for(database, person.client_id, world, department_id=world.urban.id,
                     title="城管的诉求")
    transport = file_for(database, person.client_id, world, department_id=world.transport.id,
                         title="交通局的诉求")
    with database.app_context():
        db.session.add(CaseReply(case_id=urban.id, body="已处理", is_public=True))
        db.session.add(CaseReply(case_id=urban.id, body="内部", is_public=False))
        db.session.commit()
    login_as(Role.CLERK)
    page = html(client, f"/clients/{person.client_id}")
    assert urban.number in page and transport.number in page
    assert "城市管理局" in page and "交通运输局" in page
    assert "139****5678" in page and PHONE not in page
    assert ID_NUMBER not in page and ID_NUMBER[-4:] in page
    assert "wang.laobo@example.org" not in page and "w***@example.org" in page
    assert "鼓楼区五一路1号" in page and person.username in page
    # Filing wrote an automatic contact for each case, newest first.
    contacts = page[page.index('id="contacts-heading"'):]
    assert contacts.index(transport.number) < contacts.index(urban.number)
    assert 'id="access-heading"' not in page  # supervisors and admins only


def test_reveal_logs_the_reason_and_shows_the_value_once(client, login_as, database, caplog):
    record = new_client(database, name="王老伯", phone=PHONE, id_number=ID_NUMBER)
    clerk = login_as(Role.CLERK)
    url = f"/clients/{record.id}"
    caplog.set_level(logging.INFO)
    response = submit(client, url, {"field": "id_number", "reason": "核实身份后办理低保申请"},
                      action=f"{url}/reveal")
    assert response.status_code == 200
    assert ID_NUMBER in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert ID_NUMBER not in caplog.text and f"client {record.id}" in caplog.text
    with database.app_context():
        entry = db.session.scalar(select(RevealLog))
        assert (entry.user_id, entry.client_id, entry.field) == (clerk.id, record.id, "id_number")
        assert entry.reason == "核实身份后办理低保申请"
    again = html(client, url)  # the next render is masked again
    assert ID_NUMBER not in again and PHONE not in again
    login_as(Role.SUPERVISOR)
    log_page = html(client, url)
    access = log_page[log_page.index('id="access-heading"'):]
    assert "核实身份后办理低保申请" in access and clerk.username in access
    assert ID_NUMBER not in log_page


def test_reveal_needs_a_reason(client, login_as, database):
    record = new_client(database, name="王老伯", phone=PHONE)
    login_as(Role.CLERK)
    url = f"/clients/{record.id}"
    response = submit(client, url, {"field": "phone", "reason": "  "}, action=f"{url}/reveal")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert PHONE not in body and 'id="reason-errors"' in body
    missing = submit(client, url, {"field": "id_number", "reason": "核实"}, action=f"{url}/reveal")
    assert missing.status_code == 422  # nothing of that kind on record
    with database.app_context():
        assert db.session.scalar(select(RevealLog)) is None


def test_officials_read_but_do_not_reveal_or_record(client, login_as, database):
    record = new_client(database, name="王老伯", phone=PHONE)
    login_as(Role.OFFICIAL)
    url = f"/clients/{record.id}"
    page = html(client, url)
    assert f'action="{url}/reveal"' not in page and f'action="{url}/contacts"' not in page
    token_page = html(client, "/")
    token = token_page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post(f"{url}/reveal", data={"csrf_token": token, "field": "phone",
                                              "reason": "x"}).status_code == 403
    assert client.post(f"{url}/contacts", data={"csrf_token": token, "channel": "phone",
                                                "summary": "x"}).status_code == 403


def test_department_staff_see_only_their_departments_cases(client, database, world):
    only_transport = new_client(database, name="只找交通局的人")
    both = new_client(database, name="两个部门都找过的人")
    file_for(database, only_transport.id, world, department_id=world.transport.id)
    ours = file_for(database, both.id, world, department_id=world.urban.id, title="城管牵头")
    theirs = file_for(database, both.id, world, department_id=world.transport.id,
                      title="交通局牵头")
    assisted = file_for(database, both.id, world, department_id=world.transport.id,
                        assisting=[world.urban.id], title="城管协办")
    make_user(database, Role.HANDLER, department_id=world.urban.id, username="urban-handler")
    sign_in(client, "urban-handler")
    assert client.get(f"/clients/{only_transport.id}").status_code == 404
    page = html(client, f"/clients/{both.id}")
    assert ours.number in page and assisted.number in page and theirs.number not in page
    listing = html(client, "/clients")
    assert "两个部门都找过的人" in listing and "只找交通局的人" not in listing
    assert client.get("/clients/999999").status_code == 404


def test_anonymous_tipoffs_only_for_supervisors(client, login_as, database, world):
    reporter = new_client(database, name="举报人")
    named = file_for(database, reporter.id, world, department_id=world.urban.id)
    secret = file_for(database, reporter.id, world, type=CaseType.TIPOFF, anonymous=True,
                      department_id=world.transport.id, title="匿名举报非法排污")
    login_as(Role.CLERK)
    page = html(client, f"/clients/{reporter.id}")
    assert named.number in page and secret.number not in page and "匿名举报非法排污" not in page
    login_as(Role.SUPERVISOR)
    page = html(client, f"/clients/{reporter.id}")
    assert named.number in page and secret.number in page
    # The transport department has only the anonymous tip-off: the reporter stays unknown.
    login_as(Role.HANDLER, department_id=world.transport.id)
    assert client.get(f"/clients/{reporter.id}").status_code == 404
    assert "举报人" not in html(client, "/clients")


def test_case_page_links_the_client_for_who_may_open_it(client, login_as, database, world):
    person = new_client(database, name="链接测试人")
    case = file_for(database, person.id, world, department_id=world.urban.id)
    secret = file_for(database, person.id, world, type=CaseType.TIPOFF, anonymous=True)
    login_as(Role.CLERK)
    assert f'href="/clients/{person.id}"' in html(client, f"/cases/{case.number}")
    assert f'href="/clients/{person.id}"' not in html(client, f"/cases/{secret.number}")
    assert 'href="/clients"' in html(client, "/")
    login_as(Role.HANDLER, department_id=world.urban.id)
    assert f'href="/clients/{person.id}"' in html(client, f"/cases/{case.number}")


# --- contacts ---------------------------------------------------------------------


def test_staff_record_a_contact(client, login_as, database, world):
    person = new_client(database, name="回访对象")
    case = file_for(database, person.id, world, department_id=world.urban.id)
    other = file_for(database, new_client(database, name="别人").id, world)
    handler = login_as(Role.HANDLER, department_id=world.urban.id)
    url = f"/clients/{person.id}"
    response = submit(client, url, {"channel": "visit", "summary": "上门回访，群众表示满意",
                                    "case_number": case.number}, action=f"{url}/contacts")
    assert response.status_code == 302
    page = html(client, url)
    contacts = page[page.index('id="contacts-heading"'):]
    assert contacts.index("上门回访，群众表示满意") < contacts.index(f"{case.number} ")
    with database.app_context():
        entry = db.session.scalar(select(ContactLog).where(ContactLog.automatic.is_(False)))
        assert (entry.staff_id, entry.case_id, entry.channel.value) == (handler.id, case.id,
                                                                       "visit")
    for bad in ({"channel": "phone", "summary": ""},
                {"channel": "phone", "summary": "电话", "case_number": other.number},
                {"channel": "pigeon", "summary": "飞鸽传书"}):
        refused = submit(client, url, bad, action=f"{url}/contacts")
        assert refused.status_code == 422
    with database.app_context():
        manual = select(ContactLog).where(ContactLog.automatic.is_(False))
        assert len(db.session.scalars(manual).all()) == 1


# --- classification ---------------------------------------------------------------


def test_classification_flags_tags_and_priority(client, login_as, database, world):
    person = new_client(database, name="分类对象")
    before = file_for(database, person.id, world)
    login_as(Role.CLERK)
    url = f"/clients/{person.id}"
    response = submit(client, url, {
        "district": str(world.taijiang.id), "address": " 台江区某路2号 ",
        "flags": ["elderly", "disabled"], "tags": "独居老人， Media  Watch,独居老人、低保",
    }, action=f"{url}/classification")
    assert response.status_code == 302
    with database.app_context():
        stored = db.session.get(Client, person.id)
        assert {f.flag for f in stored.flags} == {VulnerableGroup.ELDERLY,
                                                  VulnerableGroup.DISABLED}
        assert sorted(t.tag for t in stored.tags) == sorted(["独居老人", "media watch", "低保"])
        assert (stored.district_id, stored.address) == (world.taijiang.id, "台江区某路2号")
    after = file_for(database, person.id, world)
    assert after.priority == Priority.HIGH
    with database.app_context():
        assert db.session.get(Case, before.id).priority == Priority.NORMAL
    # Taking one flag and a tag away keeps the rest.
    submit(client, url, {"district": "", "flags": ["elderly"], "tags": "低保"},
           action=f"{url}/classification")
    with database.app_context():
        stored = db.session.get(Client, person.id)
        assert [f.flag for f in stored.flags] == [VulnerableGroup.ELDERLY]
        assert [t.tag for t in stored.tags] == ["低保"]
        assert stored.district_id is None


@pytest.mark.parametrize("data", [
    {"tags": ", ".join(f"标签{i}" for i in range(21))},
    {"tags": "长" * 41},
    {"flags": ["royalty"]},
    {"size_tier": "large"},  # a citizen has no size tier
    {"district": "999999"},
])
def test_bad_classification_is_refused_and_nothing_saved(client, login_as, database, data):
    person = new_client(database, name="分类对象", tags=["原有"])
    login_as(Role.SUPERVISOR)
    url = f"/clients/{person.id}"
    response = submit(client, url, {"tags": "新标签", **data}, action=f"{url}/classification")
    assert response.status_code == 422
    assert 'class="errors"' in response.get_data(as_text=True)
    with database.app_context():
        assert [t.tag for t in db.session.get(Client, person.id).tags] == ["原有"]


def test_enterprise_size_and_industry(client, login_as, database):
    firm = new_client(database, kind=ClientKind.ENTERPRISE, name="闽江机械厂")
    login_as(Role.ADMIN)
    url = f"/clients/{firm.id}"
    submit(client, url, {"size_tier": "medium", "industry": " 机械 制造 "},
           action=f"{url}/classification")
    with database.app_context():
        stored = db.session.get(Client, firm.id)
        assert (stored.size_tier, stored.industry) == (SizeTier.MEDIUM, "机械 制造")


def test_only_intake_staff_classify(client, login_as, database, world):
    person = new_client(database, name="分类对象")
    file_for(database, person.id, world, department_id=world.urban.id)
    login_as(Role.HANDLER, department_id=world.urban.id)
    url = f"/clients/{person.id}"
    assert f'action="{url}/classification"' not in html(client, url)
    response = submit(client, url, {"flags": ["elderly"]}, action=f"{url}/classification")
    assert response.status_code == 403


# --- scale ------------------------------------------------------------------------


@contextmanager
def counted_statements(app):
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def busy_client(app, world, n: int) -> int:
    """A client with ``n`` cases across departments, each with replies and a file."""
    person = new_client(app, name=f"常客{n}")
    clerk = make_user(app, Role.CLERK)
    for i in range(n):
        department = (world.urban.id, world.transport.id)[i % 2]
        case = file_for(app, person.id, world, department_id=department,
                        assisting=[world.urban.id] if i % 3 == 0 else [], title=f"诉求{i}")
        with app.app_context():
            db.session.add_all([
                CaseReply(case_id=case.id, body="答复", is_public=True, author_id=clerk.id),
                CaseReply(case_id=case.id, body="备注", is_public=False, author_id=clerk.id),
                Attachment(case_id=case.id, filename="a.jpg", content_type="image/jpeg",
                           size=1, sha256="0" * 64, storage_key=f"k-{case.id}"),
            ])
            db.session.add(ContactLog(client_id=person.id, channel=ContactChannel.PHONE,
                                      case_id=case.id, staff_id=clerk.id, summary="回访"))
            db.session.commit()
    return person.id


@pytest.mark.parametrize("role", [Role.CLERK, Role.HANDLER, Role.SUPERVISOR])
def test_statement_count_does_not_grow_with_cases(client, login_as, database, world, role):
    login_as(role, **({"department_id": world.urban.id} if role == Role.HANDLER else {}))
    few, many = busy_client(database, world, 3), busy_client(database, world, 30)
    counts = []
    for client_id in (few, many):
        html(client, f"/clients/{client_id}")  # warm up (session, caches)
        with counted_statements(database) as statements:
            page = html(client, f"/clients/{client_id}")
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 16  # one of them the ratings section (issue 12)
    assert 'rel="next"' in page  # 30 cases and 60 contacts: more than one page of each


def test_pages_of_cases_and_contacts(client, login_as, database, world):
    person_id = busy_client(database, world, 25)
    login_as(Role.CLERK)
    first = html(client, f"/clients/{person_id}")
    assert "诉求24" in first and "诉求0<" not in first
    second = html(client, f"/clients/{person_id}?page=2")
    assert "诉求0<" in second
    third = html(client, f"/clients/{person_id}?contacts_page=3")  # 50 contacts
    assert "contacts_page=2" in third and "contacts_page=4" not in third
    main = third.split("<main", 1)[1]  # (the header links to the follow-up calls, 回访)
    assert main.count("回访") == 5  # the oldest ten: five filings, five calls


def test_client_list_export_is_masked_and_filtered(client, login_as, database):
    with database.app_context():
        db.session.add_all([
            Client(kind=ClientKind.CITIZEN, name="导出甲", phone="13911112222",
                   id_number="11010519491231002X"),
            Client(kind=ClientKind.ENTERPRISE, name="导出乙公司", phone="13933334444",
                   credit_code="91110108551385082Q"),
        ])
        db.session.commit()
    login_as(Role.CLERK)
    response = client.get("/clients/export.csv?kind=citizen")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert "导出甲" in text and "139****2222" in text and "110***********002X" in text
    assert "13911112222" not in text and "11010519491231002X" not in text
    assert "导出乙公司" not in text  # the filter applies
    login_as(Role.CITIZEN)
    assert client.get("/clients/export.csv").status_code == 403
