"""The staff "go to" box: a tracking number however typed opens its case; an unknown
number and a case out of sight get the same friendly answer."""

from __future__ import annotations

import pytest

from portal.models import Role
from tests.factories import make_case, make_user
from tests.test_lifecycle import step


@pytest.fixture
def cases(database, world):
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    urban = make_case(database, citizen, world, title="城管的诉求").number
    step(database, urban, "dispatch", clerk, department=world.urban.id)
    transport = make_case(database, citizen, world, title="交通的诉求").number
    step(database, transport, "dispatch", clerk, department=world.transport.id)
    return {"urban": urban, "transport": transport}


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() or c == "-" else c for c in text)


def typings(number: str) -> list[str]:
    year, serial = number.split("-")
    return [number, year + serial, f"  {number} ", f"{year} {serial}", full_width(number),
            full_width(year + serial), f"{year}—{serial}"]


def test_every_way_of_typing_a_number_opens_the_case(client, login_as, cases):
    login_as(Role.CLERK)
    for typed in typings(cases["urban"]):
        response = client.get("/go", query_string={"q": typed})
        assert response.status_code == 302, typed
        assert response.headers["Location"] == f"/cases/{cases['urban']}"


def test_unknown_and_hidden_numbers_say_the_same(client, login_as, cases):
    login_as(Role.HANDLER, locale="en")  # of the urban department
    assert client.get("/go", query_string={"q": cases["urban"]}).status_code == 302
    hidden = client.get("/go", query_string={"q": cases["transport"]})
    unknown = client.get("/go", query_string={"q": "2026-999999"})
    assert hidden.status_code == unknown.status_code == 404
    hidden_html = hidden.get_data(as_text=True)
    assert "交通的诉求" not in hidden_html
    assert f"No case with the number {cases['transport']} is open to you." in hidden_html
    assert "No case with the number 2026-999999 is open to you." in unknown.get_data(
        as_text=True)


def test_text_that_is_no_number_and_the_empty_box(client, login_as, cases):
    login_as(Role.SUPERVISOR, locale="en")
    response = client.get("/go", query_string={"q": "路灯不亮"})
    assert response.status_code == 302  # words are a search
    assert response.headers["Location"] == "/search?q=%E8%B7%AF%E7%81%AF%E4%B8%8D%E4%BA%AE"
    empty = client.get("/go?q=")
    assert empty.status_code == 200 and 'name="q"' in empty.get_data(as_text=True)


def test_the_box_is_in_the_header_for_staff_only(client, login_as, cases):
    login_as(Role.HANDLER)
    header = client.get("/").get_data(as_text=True)
    assert 'action="/go"' in header and '<label for="go-to-q">' in header
    login_as(Role.CITIZEN)
    assert 'action="/go"' not in client.get("/").get_data(as_text=True)
    assert client.get("/go", query_string={"q": cases["urban"]}).status_code == 403
