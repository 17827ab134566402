"""The search page ``/search`` through HTTP: who finds what (results, totals and facets),
filters, sorting, pages, malformed queries, the JSON form, the header box, highlights.

Every test runs against the configured backend (``SEARCH_BACKEND``), with its index in a
per-test temporary directory; ``indexed(app)`` takes in the change feed (catch-up) after
the test has written its rows, as the after-commit indexer does in a running portal.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask

from cases.models import Case, CaseAssist, CaseReply, CaseStatus, CaseType, Channel, DueState
from citizens.models import Client
from portal.db import db, utcnow
from portal.models import Role
from search import engine
from tests.factories import make_case, make_user
from tests.test_lifecycle import as_user

# The index follows every commit here, as in production (tests/conftest.py).
pytestmark = pytest.mark.search

EN = {"Accept-Language": "en"}
JSON = {"Accept": "application/json", **EN}


@pytest.fixture
def search_index(database: Flask, tmp_path) -> Iterator[None]:
    """The configured backend, its (Whoosh) index in a directory of this test's own."""
    before = database.config.get("SEARCH_INDEX_DIR")
    database.config["SEARCH_INDEX_DIR"] = str(tmp_path / "search-index")
    with database.app_context():
        engine.backend().clear()  # PostgreSQL keeps its documents in the emptied tables
    yield
    database.config["SEARCH_INDEX_DIR"] = before


def indexed(app: Flask) -> None:
    """Take the change feed into the index (what the after-commit catch-up does)."""
    with app.app_context():
        engine.catch_up()


def found(client, **args) -> dict:
    response = client.get("/search", query_string=args, headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    return response.get_json()


def numbers(client, **args) -> set[str]:
    return {r["number"] for r in found(client, **args)["results"]}


@pytest.fixture
def people(database: Flask, world):
    return {
        "citizen": make_user(database, Role.CITIZEN, name="欧阳明"),
        "neighbour": make_user(database, Role.CITIZEN, name="司马青"),
        "whistle": make_user(database, Role.CITIZEN, name="令狐冲"),
        "clerk": make_user(database, Role.CLERK, locale="en"),
        "supervisor": make_user(database, Role.SUPERVISOR, locale="en"),
        "official": make_user(database, Role.OFFICIAL, locale="en"),
        "admin": make_user(database, Role.ADMIN, locale="en"),
        "urban_handler": make_user(database, Role.HANDLER, department_id=world.urban.id,
                                   locale="en"),
        "transport_head": make_user(database, Role.DEPARTMENT_HEAD,
                                    department_id=world.transport.id, locale="en"),
    }


@pytest.fixture
def city(database: Flask, world, people, search_index):
    """Five cases about standing water (积水) in two departments, one anonymous tip-off."""
    citizen, neighbour, whistle = people["citizen"], people["neighbour"], people["whistle"]
    cases = {
        "mine": make_case(database, citizen, world, title="五一路路面积水严重",
                          description="下雨后路面积水，行人无法通过。",
                          department_id=world.urban.id, status=CaseStatus.IN_PROGRESS),
        "mine_closed": make_case(database, citizen, world, title="小区门口积水",
                                 description="排水口堵塞。", department_id=world.urban.id,
                                 status=CaseStatus.CLOSED, closed_at=utcnow()),
        "neighbour": make_case(database, neighbour, world, title="隧道积水",
                               description="地下通道积水很深。", category_id=world.potholes.id,
                               department_id=world.transport.id, district_id=world.taijiang.id,
                               status=CaseStatus.DISPATCHED, channel=Channel.PHONE,
                               type=CaseType.HELP),
        "assisted": make_case(database, neighbour, world, title="桥下积水",
                              description="桥洞积水，车辆熄火。",
                              department_id=world.transport.id,
                              status=CaseStatus.IN_PROGRESS, due_state=DueState.OVERDUE,
                              due_at=utcnow() - timedelta(days=1)),
        "tipoff": make_case(database, whistle, world, title="工地夜间偷排积水",
                            description="工地把积水排到河里。", type=CaseType.TIPOFF,
                            anonymous=True, department_id=world.urban.id,
                            status=CaseStatus.DISPATCHED),
    }
    with database.app_context():
        db.session.add(CaseAssist(case_id=cases["assisted"].id, department_id=world.urban.id))
        mine = cases["mine"].id
        db.session.add(CaseReply(case_id=mine, body="已安排抽水车清理", is_public=True))
        db.session.add(CaseReply(case_id=mine, body="暗访核实施工单位", is_public=False))
        db.session.commit()
    indexed(database)
    return {key: case.number for key, case in cases.items()}


# --- who finds what -----------------------------------------------------------------------


def test_a_citizen_finds_only_their_own_cases_totals_and_facets_too(client, people, city):
    as_user(client, people["citizen"])
    answer = found(client, q="积水")
    assert {r["number"] for r in answer["results"]} == {city["mine"], city["mine_closed"]}
    assert answer["total"] == 2
    page = client.get("/search", query_string={"q": "积水"}, headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "2 cases found." in html
    assert city["neighbour"] not in html and "隧道" not in html
    facets = html.split('<aside class="facets"', 1)[1].split("</aside>", 1)[0]
    assert "Transport Bureau" not in facets and "(2)" in facets  # only their own cases
    as_user(client, people["neighbour"])
    assert numbers(client, q="积水") == {city["neighbour"], city["assisted"]}
    assert numbers(client, q="偷排") == set()  # another client's tip-off
    as_user(client, people["whistle"])
    assert numbers(client, q="积水") == {city["tipoff"]}  # the reporter finds their own


def test_department_staff_find_their_departments_cases(client, people, city):
    as_user(client, people["urban_handler"])  # leads three, assists on one
    answer = found(client, q="积水")
    assert {r["number"] for r in answer["results"]} == {
        city["mine"], city["mine_closed"], city["assisted"], city["tipoff"]}
    assert answer["total"] == 4
    html = client.get("/search", query_string={"q": "积水"}, headers=EN).get_data(as_text=True)
    assert "4 cases found." in html and "隧道积水" not in html
    as_user(client, people["transport_head"])
    assert numbers(client, q="积水") == {city["neighbour"], city["assisted"]}


@pytest.mark.parametrize("role", ["clerk", "supervisor", "official", "admin"])
def test_citywide_staff_find_every_case_closed_ones_included(client, people, city, role):
    as_user(client, people[role])
    answer = found(client, q="积水")
    assert answer["total"] == 5 and {r["number"] for r in answer["results"]} == set(
        city.values())


def test_an_anonymous_tip_off_never_leads_to_its_reporter(client, people, city):
    as_user(client, people["clerk"])
    assert numbers(client, q="令狐冲") == set()  # the reporter's name finds no case
    html = client.get("/search", query_string={"q": "偷排"}, headers=EN).get_data(as_text=True)
    assert city["tipoff"] in html and "令狐冲" not in html
    # The lead department sees the tip-off but may not tie it to its reporter: the
    # reporter's record is not found by its staff (their only case here is the tip-off).
    as_user(client, people["urban_handler"])
    assert numbers(client, q="偷排") == {city["tipoff"]}
    hidden = client.get("/search", query_string={"q": "令狐冲", "tab": "clients"},
                        headers=EN).get_data(as_text=True)
    assert "0 clients found." in hidden and "令狐冲</a>" not in hidden
    named = client.get("/search", query_string={"q": "司马青", "tab": "clients"},
                       headers=EN).get_data(as_text=True)
    assert "1 client found." in named  # through the named case the department assists
    as_user(client, people["supervisor"])  # who may know every reporter
    found_by_supervisor = client.get("/search", query_string={"q": "令狐冲", "tab": "clients"},
                                     headers=EN).get_data(as_text=True)
    assert "1 client found." in found_by_supervisor


def test_internal_notes_are_searched_by_staff_only(client, people, city):
    as_user(client, people["clerk"])
    assert numbers(client, q="暗访") == {city["mine"]}
    as_user(client, people["citizen"])
    assert numbers(client, q="暗访") == set()
    assert numbers(client, q="抽水车") == {city["mine"]}  # a public reply is theirs to find
    page = client.get("/search", query_string={"q": "notes:暗访"}, headers=EN)
    assert page.status_code == 400 and "暗访核实" not in page.get_data(as_text=True)


# --- filters, order, pages ------------------------------------------------------------------


def test_filters(client, people, city, world):
    as_user(client, people["clerk"])
    assert numbers(client, q="积水", status="closed") == {city["mine_closed"]}
    assert numbers(client, q="积水", type="help") == {city["neighbour"]}
    assert numbers(client, q="积水", channel="phone") == {city["neighbour"]}
    assert numbers(client, q="积水", category=world.potholes.id) == {city["neighbour"]}
    assert numbers(client, q="积水", district=world.taijiang.id) == {city["neighbour"]}
    assert numbers(client, q="积水", department=world.transport.id) == {
        city["neighbour"], city["assisted"]}
    assert numbers(client, q="积水", overdue="1") == {city["assisted"]}
    today = utcnow().date()
    assert len(numbers(client, q="积水", **{"from": str(today - timedelta(days=1))})) == 5
    assert numbers(client, q="积水", to=str(today - timedelta(days=2))) == set()
    assert numbers(client, q="积水", status="bogus") == set(city.values())  # ignored
    bad = client.get("/search", query_string={"q": "积水", "from": "yesterday"}, headers=EN)
    assert bad.status_code == 400 and "Write dates as 2026-05-01." in bad.get_data(as_text=True)


def test_facets_count_what_the_filter_would_find(client, people, city, world):
    as_user(client, people["clerk"])
    html = client.get("/search", query_string={"q": "积水"}, headers=EN).get_data(as_text=True)
    assert "Transport Bureau</a> <span class=\"facet__count\">(2)</span>" in html
    assert "Urban Management Bureau</a> <span class=\"facet__count\">(3)</span>" in html
    # Categories named with their parent, districts by name (the reference snapshots).
    assert "Urban management › Noise</a> <span class=\"facet__count\">(4)</span>" in html
    assert "Urban management › Potholes</a> <span class=\"facet__count\">(1)</span>" in html
    assert "Gulou District</a> <span class=\"facet__count\">" in html


def test_facet_names_cost_no_statement(client, people, city, database):
    """The facets' names come from the per-process reference snapshots: the page's
    statements do not grow with the categories, departments and districts it counts."""
    from tests.test_query_budget import counted

    as_user(client, people["clerk"])
    ask = lambda: client.get("/search", query_string={"q": "积水"}, headers=EN)  # noqa: E731
    ask()  # warms the snapshots
    status, statements = counted(database, ask)
    assert status == 200
    assert statements <= 9, statements


def test_sorting_by_date(client, people, city, database):
    with database.app_context():
        for offset, key in enumerate(("mine", "mine_closed", "neighbour", "assisted", "tipoff")):
            case = db.session.scalar(db.select(Case).where(Case.number == city[key]))
            case.created_at = utcnow() - timedelta(days=10 - offset)
        db.session.commit()
    indexed(database)
    as_user(client, people["clerk"])
    newest = [r["number"] for r in found(client, q="积水", sort="newest")["results"]]
    oldest = [r["number"] for r in found(client, q="积水", sort="oldest")["results"]]
    assert oldest[0] == city["mine"] and newest[0] == city["tipoff"]
    assert newest == list(reversed(oldest))


def test_pages(client, people, city):
    as_user(client, people["clerk"])
    first = found(client, q="积水", sort="oldest", per_page=2)
    second = found(client, q="积水", sort="oldest", per_page=2, page=2)
    third = found(client, q="积水", sort="oldest", per_page=2, page=3)
    assert first["total"] == second["total"] == 5
    assert [len(p["results"]) for p in (first, second, third)] == [2, 2, 1]
    seen = [r["number"] for p in (first, second, third) for r in p["results"]]
    assert sorted(seen) == sorted(city.values())
    assert len(found(client, q="积水", per_page=1000)["results"]) == 5  # capped at 100
    html = client.get("/search", query_string={"q": "积水", "per_page": 2},
                      headers=EN).get_data(as_text=True)
    assert "Page 1 of 3" in html and 'rel="next"' in html


# --- the query language's errors, the JSON form, highlights --------------------------------


@pytest.mark.parametrize("query", ['"积水', "积水 OR", "(积水", "nosuchfield:积水"])
def test_a_malformed_query_is_a_400_with_a_message(client, people, city, query):
    as_user(client, people["clerk"])
    page = client.get("/search", query_string={"q": query}, headers=EN)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'role="alert"' in html and 'aria-invalid="true"' in html
    answer = client.get("/search", query_string={"q": query}, headers=JSON)
    assert answer.status_code == 400 and answer.get_json()["error"]


def test_the_json_form(client, people, city):
    as_user(client, people["clerk"])
    answer = found(client, q="五一路")
    assert set(answer) == {"total", "exact", "results"} and answer["total"] == 1
    assert answer["exact"] is True
    result = answer["results"][0]
    assert {"number", "title", "status"} <= set(result)
    assert result["number"] == city["mine"] and result["title"] == "五一路路面积水严重"
    assert result["status"] == "in_progress"
    # A tracking number, with or without the dash.
    assert numbers(client, q=city["assisted"]) == {city["assisted"]}
    assert numbers(client, q=city["assisted"].replace("-", "")) == {city["assisted"]}


@pytest.mark.usefixtures("search_index")
def test_snippets_are_escaped(client, people, world, database):
    citizen = make_user(database, Role.CITIZEN)
    make_case(database, citizen, world, title="<script>alert(1)</script>井盖丢失",
              description="<b>井盖</b>被偷 & 没人管")
    indexed(database)
    as_user(client, make_user(database, Role.CLERK, locale="en"))
    html = client.get("/search", query_string={"q": "井盖"}, headers=EN).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<b>井盖" not in html
    assert "&lt;script&gt;" in html and "<mark>" in html


def test_the_header_box_jumps_to_a_case_or_searches(client, people, city):
    as_user(client, people["urban_handler"])
    header = client.get("/", headers=EN).get_data(as_text=True)
    assert 'action="/go"' in header and '<label for="go-to-q">Search</label>' in header
    jump = client.get("/go", query_string={"q": city["mine"].replace("-", "")})
    assert jump.status_code == 302 and jump.headers["Location"] == f"/cases/{city['mine']}"
    words = client.get("/go", query_string={"q": "积水"})
    assert words.status_code == 302 and words.headers["Location"].startswith("/search?q=")
    assert client.get(words.headers["Location"], headers=EN).status_code == 200


# --- clients ------------------------------------------------------------------------------


def test_staff_find_client_records_by_name_and_whole_number(client, people, city, database):
    as_user(client, people["clerk"])
    page = client.get("/search", query_string={"q": "欧阳明", "tab": "clients"}, headers=EN)
    assert page.status_code == 200 and "1 client found." in page.get_data(as_text=True)
    # make_user gives every client 13800138000: a whole number finds them by its keyed hash
    by_phone = client.get("/search", query_string={"q": "13800138000", "tab": "clients"},
                          headers=EN).get_data(as_text=True)
    assert "3 clients found." in by_phone
    hits = by_phone.split('<ol class="search-hits"', 1)[1].split("</ol>", 1)[0]
    assert "13800138000" not in hits and "138****8000" in hits  # masked, as on the list
    with database.app_context():
        record = db.session.get(Client, people["citizen"].client_id)
        record.anonymised_at = utcnow()
        db.session.commit()
    indexed(database)
    gone = client.get("/search", query_string={"q": "欧阳明", "tab": "clients"}, headers=EN)
    assert "0 clients found." in gone.get_data(as_text=True)


def test_clients_and_citizens_have_no_client_tab(client, people, city):
    as_user(client, people["citizen"])
    assert client.get("/search", query_string={"tab": "clients"}).status_code == 404
    assert "tab=clients" not in client.get("/search").get_data(as_text=True)


def test_more_matches_than_the_window_say_so(client, people, city, monkeypatch):
    """A backend that read only a window of the matches (PostgreSQL beyond 1,000) is told
    apart: the page says "more than" and how to narrow the search."""
    from dataclasses import replace

    from search import views

    real = engine.search
    monkeypatch.setattr(views.engine, "search",
                        lambda request: replace(real(request), exact=False))
    as_user(client, people["clerk"])
    page = client.get("/search", query_string={"q": "积水"}, headers=EN)
    assert page.status_code == 200
    assert "More than" in page.get_data(as_text=True)
    assert found(client, q="积水")["exact"] is False
