"""Open311 GET requests: every filter of the standard, the 90-day default window, the limit
and pages; what a request says (deadline, lead department, status) and what it never says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from cases.models import Case, CaseStatus
from cases.open311.formats import parse_w3c, w3c
from cases.open311.requests_feed import date_window
from portal.db import db, utcnow
from portal.models import Role
from tests.factories import make_case, make_user
from tests.open311_support import check_pair, make_scene

API = "/open311/v2"


def ids(client, query: str = "") -> list[str]:
    data = check_pair(client, f"{API}/requests{query}", "requests.json")
    return [r["service_request_id"] for r in data]


def test_only_public_matters_are_served(app, client):
    scene = make_scene(app)
    listed = ids(client)
    assert scene.public.number in listed and scene.suggestion.number in listed
    assert scene.tipoff.number not in listed  # an anonymous tip-off never
    assert scene.enquiry.number not in listed  # an enquiry concerns a person
    for case in (scene.tipoff, scene.enquiry):
        assert client.get(f"{API}/requests/{case.number}.json").status_code == 404


def test_a_request_says_nothing_of_the_person(app, client):
    scene = make_scene(app)
    for fmt in ("json", "xml"):
        for path in (f"{API}/requests.{fmt}", f"{API}/requests/{scene.public.number}.{fmt}",
                     f"{API}/servicerequestupdates.{fmt}"):
            body = client.get(path).get_data(as_text=True)
            for secret in (scene.reporter_name, scene.reporter_phone, scene.reporter_email,
                           "工地偷排污水", "我叫"):
                assert secret not in body, (path, secret)


def test_what_a_request_says(app, client):
    scene = make_scene(app)
    (entry,) = check_pair(client, f"{API}/requests/{scene.public.number}?locale=en",
                          "requests.json")
    with app.app_context():
        expected = w3c(db.session.get(Case, scene.public.id).due_at)
    assert entry["status"] == "open"
    assert entry["service_code"] == "roads.potholes" and entry["service_name"] == "Potholes"
    assert entry["description"] == "五一路井盖缺失"  # the public title
    assert entry["agency_responsible"] == "Transport Bureau"  # the lead department
    assert expected and entry["expected_datetime"] == expected
    assert entry["expected_datetime"].endswith("+08:00")
    assert entry["requested_datetime"].endswith("+08:00")
    assert entry["address"] == "五一路88号" and entry["lat"] == 26.07 and entry["long"] == 119.3
    assert entry["status_notes"] == "Dispatched"
    assert "working" in entry["service_notice"]


def test_status_filter_and_closed_requests(app, client):
    scene = make_scene(app)
    with app.app_context():
        case = db.session.get(Case, scene.suggestion.id)
        case.status, case.closed_at = CaseStatus.CLOSED, utcnow()
        db.session.commit()
    assert scene.suggestion.number not in ids(client, "?status=open")
    assert ids(client, "?status=closed") == [scene.suggestion.number]
    assert set(ids(client, "?status=open,closed")) == set(ids(client))
    closed = check_pair(client, f"{API}/requests/{scene.suggestion.number}", "requests.json")
    assert closed[0]["status"] == "closed" and closed[0]["expected_datetime"] is None


def test_service_code_and_ids(app, client):
    scene = make_scene(app)
    assert ids(client, "?service_code=roads.potholes") == [scene.public.number]
    assert scene.public.number not in ids(client, "?service_code=city.noise")
    assert ids(client, "?service_code=nope") == []
    both = f"{scene.public.number},{scene.old.number},{scene.tipoff.number}"
    # ids override every other filter (the old one is outside the 90 days); a tip-off stays out
    assert set(ids(client, f"?service_request_id={both}&status=closed")) == {
        scene.public.number, scene.old.number}


def test_the_90_day_window(app, client):
    scene = make_scene(app)
    assert scene.old.number not in ids(client)  # default: the most recent 90 days
    with app.app_context():
        created = db.session.get(Case, scene.old.id).created_at
    start = quote((created - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert ids(client, f"?start_date={start}") == [scene.old.number]  # 90 days from start
    with app.app_context():
        end = quote(w3c(created + timedelta(days=1)))
    assert ids(client, f"?end_date={end}") == [scene.old.number]  # 90 days up to end
    # a span longer than 90 days, or backwards, is refused
    far = quote((created + timedelta(days=91)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert client.get(f"{API}/requests.json?start_date={start}&end_date={far}").status_code == 400
    assert client.get(f"{API}/requests.json?start_date={far}&end_date={start}").status_code == 400


def test_date_window_rules(app):
    now = datetime(2026, 6, 1, tzinfo=UTC)
    start, end = date_window(None, None, now)
    assert (start, end) == (now - timedelta(days=90), now)
    with app.app_context():
        start, end = date_window("2026-01-01T00:00:00Z", None)
        assert end - start == timedelta(days=90)
        start, end = date_window(None, "2026-04-01T08:00:00+08:00")
        assert end == datetime(2026, 4, 1, tzinfo=UTC) and end - start == timedelta(days=90)


def test_w3c_datetimes(app):
    with app.app_context():
        assert w3c(datetime(2026, 5, 1, 0, 30, tzinfo=UTC)) == "2026-05-01T08:30:00+08:00"
        assert parse_w3c("2026-05-01T08:30:00+08:00") == datetime(2026, 5, 1, 0, 30, tzinfo=UTC)
        assert parse_w3c("2026-05-01T00:30:00Z") == datetime(2026, 5, 1, 0, 30, tzinfo=UTC)
        # without an offset: the portal's local time
        assert parse_w3c("2026-05-01T08:30:00") == datetime(2026, 5, 1, 0, 30, tzinfo=UTC)
        assert parse_w3c("2026-05-01") == datetime(2026, 4, 30, 16, 0, tzinfo=UTC)
        assert parse_w3c("yesterday") is None


def test_pages_and_the_limit(app, client):
    scene = make_scene(app)
    owner = make_user(app, Role.CITIZEN)
    for n in range(5):
        make_case(app, owner, scene.world, title=f"投诉{n}")
    everything = ids(client)
    assert len(everything) == 7  # 5 + the complaint and the suggestion
    pages = [ids(client, f"?page={p}&page_size=3") for p in (1, 2, 3)]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert sum(pages, []) == everything  # newest first, no overlap
    assert ids(client, "?page=4&page_size=3") == []
    app.config["OPEN311_MAX_REQUESTS"] = 4
    try:
        assert len(ids(client)) == 4  # the limit, whatever the page size asked
        assert client.get(f"{API}/requests.json?page_size=5").status_code == 400
    finally:
        app.config.pop("OPEN311_MAX_REQUESTS")
