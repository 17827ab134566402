"""Filing on a client's behalf, and the check characters of Chinese identifiers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cases.models import Case, Channel
from citizens.identifiers import is_valid_credit_code, is_valid_resident_id
from citizens.models import Client
from portal.db import db
from portal.models import Role
from tests.conftest import submit
from tests.test_cases import filing_data


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("11010519491231002X", True),  # the example of GB 11643
        ("11010519491231002x", True),
        ("110105194912310021", False),  # wrong check character
        ("11010519491331002X", False),  # month 13
        ("1101051949123100", False),
        ("", False),
    ],
)
def test_resident_id_numbers(value, valid):
    assert is_valid_resident_id(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("91350100M000100Y43", True),
        ("91110108551385082Q", True),
        ("91110108551385082A", False),
        ("91110108551385082I", False),  # I is not in the alphabet
        ("9111010855138508", False),
    ],
)
def test_credit_codes(value, valid):
    assert is_valid_credit_code(value) is valid


def intake_data(world, **overrides):
    data = {**filing_data(world), "channel": "phone", "priority": "normal"}
    data.update(overrides)
    return data


def test_clerk_files_for_a_new_phone_caller(client, login_as, world, database):
    login_as(Role.CLERK)
    response = submit(client, "/intake/new", intake_data(
        world, new_kind="citizen", new_name="赵老伯", new_phone="13600001111",
        new_id_number="11010519491231002X", channel="phone"))
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    number = response.headers["Location"].rsplit("/", 1)[-1]
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert 'class="tracking-code"' in page  # read out to the caller
    with database.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        assert case.channel == Channel.PHONE and case.client.name == "赵老伯"
        assert case.client.id_number == "11010519491231002X"
        assert case.filed_by.role == Role.CLERK


def test_clerk_finds_an_existing_client(client, login_as, world, database):
    with database.app_context():
        db.session.add(Client(kind="citizen", name="钱女士", phone="13700002222",
                              id_number="11010519491231002X"))
        db.session.commit()
        client_id = db.session.scalar(select(Client.id))
    login_as(Role.CLERK)
    for query in ("钱", "13700002222", "11010519491231002x"):
        html = client.get(f"/intake/new?q={query}").get_data(as_text=True)
        assert "钱女士" in html and "137****2222" in html and "110***********002X" in html
        if query == "钱":  # the full values appear nowhere unless the clerk typed them
            assert "13700002222" not in html and "11010519491231002X" not in html
    response = submit(client, f"/intake/new?client={client_id}",
                      intake_data(world, channel="walk_in"))
    assert response.status_code == 302
    with database.app_context():
        case = db.session.scalar(select(Case))
        assert case.client_id == client_id and case.channel == Channel.WALK_IN
        assert db.session.query(Client).count() == 1  # no second record


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"new_name": ""}, "new_name"),
        ({"new_id_number": "110105194912310021"}, "new_id_number"),
        ({"new_phone": "12345"}, "new_phone"),
        ({"new_kind": "enterprise", "new_id_number": "91110108551385082A"}, "new_id_number"),
        ({"channel": "web"}, "channel"),
    ],
)
def test_bad_intake_input_saves_nothing(client, login_as, world, database, change, field):
    login_as(Role.CLERK)
    data = intake_data(world, new_kind="citizen", new_name="孙先生")
    data.update(change)
    response = submit(client, "/intake/new", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-errors"' in html or 'role="alert"' in html
    with database.app_context():
        assert db.session.scalars(select(Case)).all() == []
        assert db.session.scalars(select(Client)).all() == []


def test_only_intake_staff_file_for_clients(client, login_as, world):
    login_as(Role.HANDLER)
    assert client.get("/intake/new").status_code == 403
    login_as(Role.CITIZEN)
    assert client.get("/intake/new").status_code == 403
