"""Open311 POST requests: the standard's example bodies, keys and scopes, what is required,
attributes checked against the service definition, who the client is, where it is filed,
and that the case is an ordinary one (routed, a deadline, on the department's queue)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cases.models import Case, CaseAnswer, Category, CategoryQuestion, Channel, QuestionType
from cases.open311.models import ApiKey, ApiKeyUse, Open311Token
from citizens.models import Client
from portal.db import db, utcnow
from portal.models import Role
from tests.conftest import sign_in
from tests.factories import make_user
from tests.open311_support import check_error, make_key, make_scene, validate

API = "/open311/v2"

# The standard's example (GeoReport v2, POST Service Request), form-encoded as sent.
EXAMPLE = (
    "api_key={key}&jurisdiction_id=city.gov&service_code=001&lat=37.76524078"
    "&long=-122.4212043&address_string=1234+5th+street&email=smit333%40sfgov.edu"
    "&device_id=tt222111&account_id=123456&first_name=john&last_name=smith&phone=111111111"
    "&description=A+large+sinkhole+is+destroying+the+street"
    "&media_url=http%3A%2F%2Fmycity.gov%2Fimages%2F123.jpg"
    "&attribute[WHISHETN]=123&attribute[ABDSFDSG]=456"
)
FORM = "application/x-www-form-urlencoded"


def example_service(app, parent_id: int) -> None:
    """Service 001 with the two attributes the example answers."""
    with app.app_context():
        category = Category(code="001", name_zh="路面塌陷", name_en="Sinkhole",
                            parent_id=parent_id)
        db.session.add(category)
        db.session.flush()
        db.session.add_all([
            CategoryQuestion(category_id=category.id, code="WHISHETN",
                             kind=QuestionType.SINGLE_CHOICE, question_zh="车辆品牌",
                             required=True, position=1,
                             choices=[{"key": "123", "name_zh": "克莱斯勒",
                                       "name_en": "Chrysler"}]),
            CategoryQuestion(category_id=category.id, code="ABDSFDSG", kind=QuestionType.NUMBER,
                             question_zh="深度", position=2),
        ])
        db.session.commit()


def post(client, key: str, fmt: str = "json", **fields):
    return client.post(f"{API}/requests.{fmt}", data={"api_key": key, **fields},
                       headers={"Accept-Language": "en"})


def case_of(app, number: str) -> Case:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        db.session.expunge(case)
        return case


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_standards_example_body(app, client, fmt):
    scene = make_scene(app)
    example_service(app, scene.world.parent.id)
    key = make_key(app)
    app.config["OPEN311_JURISDICTION_ID"] = "city.gov"
    try:
        answer = client.post(f"{API}/requests.{fmt}", data=EXAMPLE.format(key=key),
                             content_type=FORM)
    finally:
        app.config.pop("OPEN311_JURISDICTION_ID")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    with app.app_context():
        token = db.session.scalar(select(Open311Token))
        case = db.session.get(Case, token.case_id)
        assert case.channel == Channel.OPEN311
        assert case.category.code == "001"
        assert (case.latitude, case.longitude) == (37.76524078, -122.4212043)
        assert case.address == "1234 5th street"
        assert case.title == "A large sinkhole is destroying the street"
        assert "http://mycity.gov/images/123.jpg" in case.description
        answers = {a.question.code: a.value for a in case.answers}
        assert answers == {"WHISHETN": "123", "ABDSFDSG": "456"}
        client_row = db.session.get(Client, case.client_id)
        assert client_row.name == "john smith"
        assert client_row.email == "smit333@sfgov.edu"
        assert client_row.phone is None  # not a Chinese number: not kept
        number = case.number
    if fmt == "json":
        posted = answer.get_json()
        validate("post-response.json", posted)
        assert posted[0]["service_request_id"] == number
        assert posted[0]["token"] == token.token
        assert posted[0]["account_id"] == "123456"
    else:
        assert f"<service_request_id>{number}</service_request_id>".encode() in answer.data


def test_an_open311_request_is_an_ordinary_case(app, client):
    scene = make_scene(app)
    key = make_key(app)
    answer = post(client, key, service_code="roads.potholes", address_string="八一七路口",
                  description="路面塌陷", phone="13755556666", first_name="芳", last_name="林")
    number = answer.get_json()[0]["service_request_id"]
    case = case_of(app, number)
    assert case.department_id == scene.world.transport.id  # routed
    assert case.due_at is not None  # its deadline runs
    assert case.status.value == "dispatched"
    handler = make_user(app, Role.HANDLER, department_id=scene.world.transport.id)
    staff = app.test_client()
    sign_in(staff, handler.username)
    assert number in staff.get("/queues/department").get_data(as_text=True)
    # and the public feed serves it like any public matter
    listed = client.get(f"{API}/requests.json?service_request_id={number}").get_json()
    assert listed[0]["agency_responsible"] == "交通运输局"


def test_the_client_is_found_or_made(app, client):
    scene = make_scene(app)
    key = make_key(app)
    with app.app_context():
        owner_id = db.session.scalar(select(Client.id).where(Client.phone == scene.reporter_phone))
        before = db.session.query(Client).count()

    def client_of(**fields) -> int:
        answer = post(client, key, service_code="city.noise", lat="26.1", long="119.3", **fields)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return case_of(app, answer.get_json()[0]["service_request_id"]).client_id

    assert client_of(phone="+86 139 1111 2222") == owner_id  # the same phone
    assert client_of(email=scene.reporter_email.upper()) == owner_id  # the same e-mail
    made = client_of(first_name="新", last_name="用户", phone="13700001111")
    assert made != owner_id
    assert client_of(phone="13700001111") == made
    client_of()  # nothing about the person: a record of its own
    with app.app_context():
        assert db.session.query(Client).count() == before + 2


def test_what_is_required(app, client):
    make_scene(app)
    key = make_key(app)
    assert "service_code" in check_error(post(client, key, lat="1", long="1"), 400)
    check_error(post(client, key, service_code="city.noise"), 400)  # no location
    check_error(post(client, key, service_code="city.noise", lat="26.1"), 400)  # lat alone
    check_error(post(client, key, service_code="city.noise", lat="91", long="1"), 400)
    check_error(post(client, key, service_code="city.noise", lat="x", long="1"), 400)
    check_error(post(client, key, service_code="city.noise", address_id="A1",
                     media_url="javascript:alert(1)"), 400)
    check_error(post(client, key, service_code="city", lat="1", long="1"), 404)  # not a leaf
    check_error(post(client, key, service_code="city.noise", address_id="A1",
                     district="nowhere"), 400)
    assert post(client, key, service_code="city.noise", address_id="A-17").status_code == 200


def test_attributes_follow_the_definition(app, client):
    scene = make_scene(app)
    key = make_key(app)
    with app.app_context():
        db.session.add_all([
            CategoryQuestion(category_id=scene.world.noise.id, code="hour",
                             kind=QuestionType.DATETIME, question_zh="几点开始？",
                             question_en="Since when?", required=True, position=1),
            CategoryQuestion(category_id=scene.world.noise.id, code="kinds",
                             kind=QuestionType.MULTIPLE_CHOICE, question_zh="什么声音？",
                             position=2, choices=[{"key": "music", "name_zh": "音乐"},
                                                  {"key": "engine", "name_zh": "机器"}]),
        ])
        db.session.commit()
    where = {"service_code": "city.noise", "address_string": "五四路", "locale": "en"}
    message = check_error(post(client, key, **where), 400)
    assert "Since when?" in message  # the required answer is missing
    check_error(post(client, key, **where, **{"attribute[hour]": "tonight"}), 400)
    check_error(post(client, key, **where, **{"attribute[hour]": "2026-05-01T22:00",
                                               "attribute[kinds]": "birds"}), 400)
    answer = client.post(f"{API}/requests.json", data={
        "api_key": key, **where, "attribute[hour]": "2026-05-01T22:00",
        "attribute[kinds][]": ["engine", "music"], "attribute[unknown]": "ignored"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    case = case_of(app, answer.get_json()[0]["service_request_id"])
    with app.app_context():
        stored = sorted(db.session.scalars(
            select(CaseAnswer.value).where(CaseAnswer.case_id == case.id)))
    assert stored == ["2026-05-01T22:00", "music,engine"]


def test_the_district_rule(app, client):
    scene = make_scene(app)
    key = make_key(app)
    where = {"service_code": "city.noise", "lat": "26.1", "long": "119.3"}

    def district_of(**fields) -> int:
        answer = post(client, key, **where, **fields)
        return case_of(app, answer.get_json()[0]["service_request_id"]).district_id

    assert district_of() == scene.world.gulou.id  # the first district by position
    assert district_of(district="taijiang") == scene.world.taijiang.id
    app.config["OPEN311_DEFAULT_DISTRICT"] = "taijiang"
    try:
        assert district_of() == scene.world.taijiang.id
    finally:
        app.config.pop("OPEN311_DEFAULT_DISTRICT")


def test_keys_scopes_and_revocation(app, client):
    make_scene(app)
    where = {"service_code": "city.noise", "lat": "26.1", "long": "119.3"}
    reader = make_key(app, scopes="read")
    assert "post" in check_error(post(client, reader, **where), 403)
    key = make_key(app)
    with app.app_context():
        row = db.session.scalar(select(ApiKey).where(ApiKey.scopes == "post"))
        row.revoked_at = utcnow()
        db.session.commit()
    check_error(post(client, key, "xml", **where), 403, "xml")


def test_every_use_is_logged(app, client):
    make_scene(app)
    key = make_key(app)
    where = {"service_code": "city.noise", "lat": "26.1", "long": "119.3"}
    ok = post(client, key, **where)
    post(client, key, service_code="city.noise")  # 400: no location
    client.get(f"{API}/services.json?api_key={key}")  # a read with a key counts too
    post(client, key, jurisdiction_id="elsewhere.gov", **where)  # 404, still logged
    with app.app_context():
        uses = list(db.session.scalars(select(ApiKeyUse).order_by(ApiKeyUse.id)))
        key_row = db.session.scalar(select(ApiKey))
        filed = db.session.scalar(
            select(Case.id).where(Case.number == ok.get_json()[0]["service_request_id"]))
        assert [(u.method, u.path, u.status) for u in uses] == [
            ("POST", f"{API}/requests.json", 200),
            ("POST", f"{API}/requests.json", 400),
            ("GET", f"{API}/services.json", 200),
            ("POST", f"{API}/requests.json", 404),
        ]
        assert uses[0].case_id == filed and uses[1].case_id is None
        assert key_row.last_used_at is not None
        assert key not in repr(db.session.execute(select(ApiKey.__table__)).all())


def test_the_rate_limit_per_key(app, client):
    make_scene(app)
    slow, fast = make_key(app, rate_limit=2), make_key(app, name="fast", rate_limit=100)
    where = {"service_code": "city.noise", "lat": "26.1", "long": "119.3"}
    assert [post(client, slow, **where).status_code for _ in range(2)] == [200, 200]
    message = check_error(post(client, slow, **where), 429)
    assert "2 per 1 minute" in message or "2 per minute" in message
    check_error(post(client, slow, "xml", **where), 429, "xml")
    assert post(client, fast, **where).status_code == 200  # another key has its own count
    with app.app_context():
        statuses = list(db.session.scalars(select(ApiKeyUse.status).order_by(ApiKeyUse.id)))
    assert statuses == [200, 200, 429, 429, 200]
