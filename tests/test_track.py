"""The public lookup at /track and anonymous tip-offs as every role sees them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cases.models import Case
from portal.db import db
from portal.models import Role
from tests.conftest import csrf_token, sign_in, submit
from tests.factories import make_case, make_user
from tests.test_cases import filing_data
from tests.test_lifecycle import step

CODE_RE = re.compile(r'class="tracking-code">([A-Z0-9]{8})<')


def file_and_read_code(client, world, **overrides):
    response = submit(client, "/requests/new", filing_data(world, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    number = response.headers["Location"].rsplit("/", 1)[-1]
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    match = CODE_RE.search(page)
    assert match, "the lookup code is shown after filing"
    # ... and only once.
    assert not CODE_RE.search(client.get(f"/cases/{number}").get_data(as_text=True))
    return number, match.group(1)


def test_lookup_with_number_and_code_shows_status_and_public_replies(
    client, login_as, world, database
):
    citizen = login_as(Role.CITIZEN)
    number, code = file_and_read_code(client, world)
    with database.app_context():
        assert code not in db.session.scalar(select(Case.tracking_code_hash))  # only a hash
    clerk = make_user(database, Role.CLERK)
    step(database, number, "answer", clerk, note="已转交街道处理，预计三日内完成。")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    anonymous = database.test_client()
    page = anonymous.get(f"/track?number={number}&code={code.lower()}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert number in html and "已答复" in html and "已转交街道处理，预计三日内完成。" in html
    # Nothing personal: not the client's name, phone or the description.
    assert citizen.display_name not in html and "13800138000" not in html
    assert "138****8000" not in html and "每天晚上十一点" not in html
    # The form posts too (CSRF-protected).
    token = csrf_token(anonymous, "/track")
    posted = anonymous.post("/track", data={"csrf_token": token, "number": number, "code": code})
    assert posted.status_code == 200 and "已答复" in posted.get_data(as_text=True)


def test_wrong_code_or_number_reveals_nothing(client, login_as, world):
    login_as(Role.CITIZEN)
    number, code = file_and_read_code(client, world)
    anonymous = client.application.test_client()
    for args in (f"number={number}&code=WRONGCOD", f"number=2026-999999&code={code}"):
        page = anonymous.get(f"/track?{args}")
        assert page.status_code == 404
        assert "五一路" not in page.get_data(as_text=True)
    assert anonymous.get(f"/track?number={number}").status_code == 422


def test_every_wrong_lookup_costs_one_hash(client, login_as, world, monkeypatch):
    """An unknown number is checked against a stand-in hash made once, not once a lookup
    (the stand-in used to be hashed again on every lookup: two hashes for a miss)."""
    import cases.tracking as tracking

    login_as(Role.CITIZEN)
    number, _code = file_and_read_code(client, world)
    calls = {"make": 0, "check": 0}
    make, check = tracking.generate_password_hash, tracking.check_password_hash

    def counted_make(*args, **kwargs):
        calls["make"] += 1
        return make(*args, **kwargs)

    def counted_check(*args, **kwargs):
        calls["check"] += 1
        return check(*args, **kwargs)

    monkeypatch.setattr(tracking, "generate_password_hash", counted_make)
    monkeypatch.setattr(tracking, "check_password_hash", counted_check)
    monkeypatch.setattr(tracking, "_DUMMY", {})
    anonymous = client.application.test_client()
    for args in ["number=2026-999999&code=WRONGCOD"] * 3 + [f"number={number}&code=WRONGCOD"] * 2:
        assert anonymous.get(f"/track?{args}").status_code == 404
    assert calls == {"make": 1, "check": 5}


def test_lookup_guessing_is_rate_limited(client, login_as, world, database):
    login_as(Role.CITIZEN)
    number, code = file_and_read_code(client, world)
    saved = database.config["TRACK_RATE_LIMIT"]
    database.config["TRACK_RATE_LIMIT"] = "3 per minute"
    try:
        guesser = database.test_client()
        codes = [guesser.get(f"/track?number={number}&code=GUESS{i:03d}").status_code
                 for i in range(4)]
        assert codes == [404, 404, 404, 429]
        assert guesser.get(f"/track?number={number}&code={code}").status_code == 429
        assert guesser.get("/track").status_code == 200  # the empty form is not an attempt
    finally:
        database.config["TRACK_RATE_LIMIT"] = saved


def test_lookup_takes_the_number_as_people_type_it(client, login_as, world):
    login_as(Role.CITIZEN)
    number, code = file_and_read_code(client, world)
    year, serial = number.split("-")
    wide = "".join(chr(ord(c) + 0xFEE0) for c in year + serial)
    anonymous = client.application.test_client()
    for typed in (year + serial, f" {year} {serial} ", wide, f"{year}\uff0d{serial}"):
        page = anonymous.get("/track", query_string={"number": typed, "code": code})
        assert page.status_code == 200, typed
        assert "五一路夜间施工噪音扰民" in page.get_data(as_text=True)
    token = csrf_token(anonymous, "/track")
    posted = anonymous.post("/track", data={"csrf_token": token, "number": year + serial,
                                            "code": code})
    assert posted.status_code == 200 and number in posted.get_data(as_text=True)


def test_an_empty_submit_says_what_is_missing(client, world):
    headers = {"Accept-Language": "en"}
    token = csrf_token(client, "/track")
    response = client.post("/track", data={"csrf_token": token, "number": " ", "code": ""},
                           headers=headers)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter the tracking number." in html and "Enter the lookup code." in html
    assert 'aria-invalid="true"' in html


def test_the_rate_limit_page_says_how_long_to_wait(client, login_as, world, database):
    login_as(Role.CITIZEN)
    number, _code = file_and_read_code(client, world)
    saved = database.config["TRACK_RATE_LIMIT"]
    database.config["TRACK_RATE_LIMIT"] = "2 per minute"
    try:
        guesser = database.test_client()
        headers = {"Accept-Language": "en"}
        for i in range(2):
            guesser.get(f"/track?number={number}&code=GUESS{i:03d}", headers=headers)
        refused = guesser.get(f"/track?number={number}&code=GUESS999", headers=headers)
        assert refused.status_code == 429
        wait = int(refused.headers["Retry-After"])
        assert 0 < wait <= 60
        html = refused.get_data(as_text=True)
        assert re.search(r"Try again in \d+ (seconds?|minute)", html), html[-1500:]
        assert 'name="number"' in html  # the form stays, to try again later
    finally:
        database.config["TRACK_RATE_LIMIT"] = saved


# --- anonymous tip-offs ----------------------------------------------------------


def test_only_tipoffs_can_be_anonymous(client, login_as, world, database):
    login_as(Role.CITIZEN)
    response = submit(client, "/requests/new", filing_data(world, anonymous="y"))
    assert response.status_code == 422
    with database.app_context():
        assert db.session.scalars(select(Case)).all() == []


@pytest.fixture
def tipoff(client, world, database):
    reporter = make_user(database, Role.CITIZEN, name="举报人王五", phone="13912345678")
    sign_in(client, reporter.username)
    number, _code = file_and_read_code(
        client, world, type="tipoff", anonymous="y", title="某工厂夜间偷排污水")
    clerk = make_user(database, Role.CLERK)
    step(database, number, "dispatch", clerk, department=world.urban.id)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    return number


@pytest.mark.parametrize(
    ("role", "sees_reporter"),
    [
        (Role.CLERK, False),
        (Role.HANDLER, False),
        (Role.DEPARTMENT_HEAD, False),
        (Role.OFFICIAL, False),
        (Role.ADMIN, False),
        (Role.SUPERVISOR, True),
    ],
)
def test_anonymous_reporter_hidden_from_all_but_supervisors(client, login_as, world, tipoff,
                                                            role, sees_reporter):
    login_as(role)
    html = client.get(f"/cases/{tipoff}").get_data(as_text=True)
    assert "某工厂夜间偷排污水" in html
    assert ("举报人王五" in html) is sees_reporter
    assert ("139****5678" in html) is sees_reporter
    assert ("匿名举报人" in html) is not sees_reporter


def test_anonymous_reporter_still_follows_their_own_tipoff(client, world, tipoff, database):
    with database.app_context():
        case = db.session.scalar(select(Case).where(Case.number == tipoff))
        assert case.anonymous
        from portal.models import User

        reporter = db.session.scalar(select(User).where(User.client_id == case.client_id))
        username = reporter.username
    sign_in(client, username)
    html = client.get(f"/cases/{tipoff}").get_data(as_text=True)
    assert "某工厂夜间偷排污水" in html
    assert tipoff in client.get("/requests").get_data(as_text=True)


def test_other_citizens_cannot_open_a_tipoff(client, login_as, world, tipoff):
    login_as(Role.CITIZEN)
    assert client.get(f"/cases/{tipoff}").status_code == 404


def test_staff_timeline_hides_the_anonymous_filer(client, login_as, world, tipoff, database):
    login_as(Role.CLERK)
    html = client.get(f"/cases/{tipoff}").get_data(as_text=True)
    timeline = html[html.index('id="timeline-heading"'):]
    assert "举报人王五" not in timeline and "测试用户" not in timeline


def test_case_made_by_factory_has_no_code_leak(database, world):
    citizen = make_user(database, Role.CITIZEN)
    case = make_case(database, citizen, world)
    with database.app_context():
        stored = db.session.get(Case, case.id)
        assert stored.tracking_code_hash and len(stored.tracking_code_hash) > 20


def test_the_lookup_form_itself_carries_its_csrf_token(client, database):
    html = client.get("/track").get_data(as_text=True)
    form = html[html.index('action="/track"'):]
    form = form[: form.index("</form>")]
    assert 'name="csrf_token"' in form
