"""Duplicate client records: suggestions, merging, the history, and who may do it."""

from __future__ import annotations

import json

import pytest
from flask_babel import gettext
from sqlalchemy import func, select

from cases.models import Case
from citizens.duplicates import (
    SAME_ID_NUMBER,
    SAME_PHONE,
    SIMILAR_NAME_ADDRESS,
    SIMILAR_NAME_DISTRICT,
    duplicate_groups,
    likely_duplicates,
)
from citizens.identifiers import resident_id_check_char
from citizens.merge import merge_clients
from citizens.models import (
    Client,
    ClientFlag,
    ClientKind,
    ClientMerge,
    ClientTag,
    ContactChannel,
    ContactLog,
    DeletionRequest,
    RevealLog,
    SizeTier,
    VulnerableGroup,
)
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import Role, User
from tests.conftest import csrf_token, submit
from tests.factories import make_case, make_user
from tests.test_lifecycle import as_user

ID_A = "11010519491231002X"  # the example of GB 11643


def resident_id(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


ID_B = resident_id("35010219800101123")


def add_client(app, **kw) -> int:
    """A client record made directly; returns its id."""
    kw.setdefault("kind", ClientKind.CITIZEN)
    with app.app_context():
        client = Client(**kw)
        db.session.add(client)
        db.session.commit()
        return client.id


def suggestions(app, client_id: int) -> dict[int, list[str]]:
    with app.app_context():
        client = db.session.get(Client, client_id)
        return {other.id: reasons for other, reasons in likely_duplicates(client)}


def client_with_account(app, phone: str, **kw) -> tuple[User, int]:
    user = make_user(app, Role.CITIZEN, phone=phone, **kw)
    return user, user.client_id


def do_merge(app, survivor_id: int, merged_id: int, actor_id: int, reason="同一人，电话相同"):
    with app.app_context():
        merge = merge_clients(
            db.session.get(Client, survivor_id),
            db.session.get(Client, merged_id),
            db.session.get(User, actor_id),
            reason,
        )
        db.session.commit()
        return merge.id


def said(app, message: str, **params) -> str:
    """``message`` as the portal says it (in its default language, translated or not)."""
    with app.app_context():
        return gettext(message, **params)


def refusal(app, survivor_id: int, merged_id: int, actor_id: int) -> str:
    with pytest.raises(DomainError) as refused:
        do_merge(app, survivor_id, merged_id, actor_id)
    return refused.value.message


def client_columns(app) -> list[tuple[str, str]]:
    """Every (table, column) of the schema with a foreign key to clients.id."""
    with app.app_context():
        return [
            (table.name, fk.parent.name)
            for table in db.metadata.sorted_tables
            for fk in table.foreign_keys
            if fk.column.table.name == "clients"
        ]


def referring_rows(app, client_id: int) -> dict[str, int]:
    with app.app_context():
        found = {}
        for table_name, column_name in client_columns(app):
            table = db.metadata.tables[table_name]
            count = db.session.scalar(
                select(func.count()).select_from(table).where(table.c[column_name] == client_id)
            )
            if count:
                found[f"{table_name}.{column_name}"] = count
        return found


# --- suggestions -------------------------------------------------------------------


def test_suggestions_by_phone_id_number_and_similar_name(database, world):
    me = add_client(
        database,
        name="王建国",
        phone="13911112222",
        id_number=ID_A,
        district_id=world.gulou.id,
        address="鼓楼区五一北路12号",
    )
    by_phone = add_client(database, name="王先生", phone="13911112222")
    by_id = add_client(database, name="王建國", id_number=ID_A)
    by_name = add_client(database, name="王建国 ", district_id=world.gulou.id)
    by_name_address = add_client(database, name="王建国家", address="鼓楼区五一北路12号")
    other_district = add_client(database, name="王建国", district_id=world.taijiang.id)
    enterprise = add_client(
        database,
        kind=ClientKind.ENTERPRISE,
        name="王建国",
        phone="13911112222",
        district_id=world.gulou.id,
    )
    stranger = add_client(database, name="李四", district_id=world.gulou.id)

    found = suggestions(database, me)
    assert found[by_phone] == [SAME_PHONE]
    assert found[by_id] == [SAME_ID_NUMBER]
    assert found[by_name] == [SIMILAR_NAME_DISTRICT]
    assert found[by_name_address] == [SIMILAR_NAME_ADDRESS]
    assert me not in found
    assert other_district not in found  # a similar name elsewhere is not enough
    assert enterprise not in found  # never across kinds
    assert stranger not in found
    assert list(found)[0] == by_id  # the strongest reason first


def test_suggestions_leave_out_merged_and_anonymised_records(database, world):
    me = add_client(database, name="赵六", phone="13922223333")
    merged = add_client(database, name="赵六", phone="13922223333")
    add_client(database, name="赵六", phone="13922223333", anonymised_at=utcnow())
    live = add_client(database, name="赵小六", phone="13922223333")
    with database.app_context():
        db.session.get(Client, merged).merged_into_id = live
        db.session.commit()
    assert list(suggestions(database, me)) == [live]


# --- merging -----------------------------------------------------------------------


def test_merge_moves_everything_and_fills_only_empty_fields(client, database, world):
    survivor_user, survivor_id = client_with_account(database, "13933334444", name="陈静")
    merged_user, merged_id = client_with_account(database, "13955556666", name="陈静")
    clerk = make_user(database, Role.CLERK)
    kept = make_case(database, survivor_user, world, title="小区路灯不亮")
    moved = [
        make_case(database, merged_user, world, title=f"楼道堆放杂物第{i}次投诉") for i in range(2)
    ]
    with database.app_context():
        survivor = db.session.get(Client, survivor_id)
        survivor.email = None  # empty: filled from the merged record
        survivor.district_id = world.gulou.id  # set: kept
        survivor.flags.append(ClientFlag(flag=VulnerableGroup.ELDERLY))
        survivor.tags.append(ClientTag(tag="常联系"))
        other = db.session.get(Client, merged_id)
        other.email = "chen.jing@example.org"
        other.id_number = ID_A
        other.address = "台江区八一七中路3号"
        other.district_id = world.taijiang.id
        other.size_tier = SizeTier.SMALL
        other.flags.extend(
            [ClientFlag(flag=VulnerableGroup.ELDERLY), ClientFlag(flag=VulnerableGroup.DISABLED)]
        )
        other.tags.extend([ClientTag(tag="常联系"), ClientTag(tag="需回访")])
        db.session.add(
            RevealLog(client_id=merged_id, user_id=clerk.id, field="phone", reason="回访核实")
        )
        db.session.add(DeletionRequest(client_id=merged_id, reason="不再需要"))
        db.session.commit()

    merge_id = do_merge(database, survivor_id, merged_id, clerk.id)

    with database.app_context():
        survivor = db.session.get(Client, survivor_id)
        tombstone = db.session.get(Client, merged_id)
        merge = db.session.get(ClientMerge, merge_id)
        assert tombstone.merged_into_id == survivor_id
        assert tombstone.name == "陈静" and tombstone.phone == "13955556666"  # not blanked
        assert {
            c.id for c in db.session.scalars(select(Case).where(Case.client_id == survivor_id))
        } == {kept.id, *(c.id for c in moved)}
        assert survivor.case_count == 3
        assert db.session.get(User, merged_user.id).client_id == survivor_id
        assert survivor.phone == "13933334444"  # never overwritten
        assert survivor.email == "chen.jing@example.org"  # filled
        assert survivor.id_number == ID_A and survivor.address == "台江区八一七中路3号"
        assert survivor.district_id == world.gulou.id  # kept
        assert survivor.size_tier == SizeTier.SMALL
        assert sorted(f.flag for f in survivor.flags) == sorted(
            [VulnerableGroup.ELDERLY, VulnerableGroup.DISABLED]
        )
        assert [t.tag for t in survivor.tags] == sorted(["常联系", "需回访"])
        contacts = db.session.scalars(
            select(ContactLog).where(ContactLog.client_id == survivor_id)
        ).all()
        assert len(contacts) == 4  # three filings and the merge itself
        note = [c for c in contacts if c.case_id is None][0]
        assert note.automatic and note.staff_id == clerk.id and f"#{merged_id}" in note.summary
        assert note.channel == ContactChannel.WEB
        assert (merge.moved_cases, merge.moved_contacts, merge.moved_accounts) == (2, 2, 1)
        assert merge.user_id == clerk.id and merge.reason == "同一人，电话相同"
        snapshot = json.loads(merge.snapshot)
        assert snapshot["record"]["phone"] == "13955556666"  # full values, internal
        assert snapshot["record"]["email"] == "chen.jing@example.org"
        assert snapshot["flags"] == ["disabled", "elderly"]
        assert sorted(snapshot["moved"]["cases"]) == sorted(c.number for c in moved)
        assert set(snapshot["filled"]) >= {"email", "id_number", "address", "size_tier"}
        assert "district_id" not in snapshot["filled"]

    # Nothing points at the merged record any more, except the merge record itself.
    assert referring_rows(database, merged_id) == {"client_merges.merged_id": 1}

    # The merged record's web account now sees every request of the survivor.
    as_user(client, merged_user)
    html = client.get("/requests").get_data(as_text=True)
    assert kept.number in html and all(c.number in html for c in moved)


def test_every_client_column_is_covered(app):
    """If a table gains a client_id, the merge (and this test file) must learn of it."""
    assert set(client_columns(app)) == {
        ("clients", "merged_into_id"),
        ("cases", "client_id"),
        ("users", "client_id"),
        ("contact_logs", "client_id"),
        ("reveal_logs", "client_id"),
        ("deletion_requests", "client_id"),
        ("client_flags", "client_id"),
        ("client_tags", "client_id"),
        ("ratings", "client_id"),
        ("client_merges", "survivor_id"),
        ("client_merges", "merged_id"),
    }


def test_a_chain_of_merges_points_at_the_last_survivor(database):
    clerk = make_user(database, Role.CLERK)
    a = add_client(database, name="周一")
    b = add_client(database, name="周一")
    c = add_client(database, name="周一")
    do_merge(database, b, a, clerk.id)
    do_merge(database, c, b, clerk.id)
    with database.app_context():
        assert db.session.get(Client, a).merged_into_id == c
        assert db.session.get(Client, b).merged_into_id == c
    assert referring_rows(database, b) == {
        "client_merges.survivor_id": 1,
        "client_merges.merged_id": 1,
    }


@pytest.mark.parametrize(
    ("survivor", "merged", "message"),
    [
        (
            {"id_number": ID_A},
            {"id_number": ID_B},
            "The two records have different ID numbers: they are different people.",
        ),
        (
            {"kind": ClientKind.ENTERPRISE, "credit_code": "91350100M000100Y43"},
            {"kind": ClientKind.ENTERPRISE, "credit_code": "91110108551385082Q"},
            "The two records have different credit codes: they are different enterprises.",
        ),
        (
            {},
            {"kind": ClientKind.ENTERPRISE},
            "A citizen's record and an enterprise's record cannot be merged.",
        ),
        (
            {},
            {"anonymised_at": utcnow()},
            "Record #%(id)d has been anonymised and cannot be merged.",
        ),
    ],
)
def test_refused_merges_change_nothing(database, world, survivor, merged, message):
    owner, merged_id = client_with_account(database, "13966667777", name="吴芳")
    case = make_case(database, owner, world)
    clerk = make_user(database, Role.CLERK)
    with database.app_context():
        for key, value in merged.items():
            setattr(db.session.get(Client, merged_id), key, value)
        db.session.commit()
    survivor_id = add_client(database, name="吴芳", **survivor)
    expected = said(database, message, id=merged_id)
    assert refusal(database, survivor_id, merged_id, clerk.id) == expected
    with database.app_context():
        db.session.rollback()
        assert db.session.get(Client, merged_id).merged_into_id is None
        assert db.session.get(Case, case.id).client_id == merged_id
        assert db.session.get(User, owner.id).client_id == merged_id
        assert db.session.scalar(select(func.count()).select_from(ClientMerge)) == 0


def test_a_record_is_merged_once_and_never_into_itself(database):
    clerk = make_user(database, Role.CLERK)
    a = add_client(database, name="郑二")
    b = add_client(database, name="郑二")
    c = add_client(database, name="郑二")
    assert refusal(database, a, a, clerk.id) == said(
        database, "A record cannot be merged into itself."
    )
    do_merge(database, a, b, clerk.id)
    already = said(
        database, "Record #%(id)d has already been merged into record #%(into)d.", id=b, into=a
    )
    assert refusal(database, c, b, clerk.id) == already
    assert refusal(database, b, c, clerk.id) == already  # nor into a merged record
    with database.app_context():
        db.session.rollback()
        assert db.session.get(Client, b).merged_into_id == a
        assert db.session.get(Client, c).merged_into_id is None
        assert db.session.scalar(select(func.count()).select_from(ClientMerge)) == 1


# --- pages -------------------------------------------------------------------------


def test_merge_through_the_pages(client, login_as, database, world):
    owner, merged_id = client_with_account(database, "13977778888", name="孙丽")
    case = make_case(database, owner, world)
    survivor_id = add_client(database, name="孙丽", phone="13977778888")
    login_as(Role.CLERK)

    chooser = client.get(f"/clients/{survivor_id}/merge")
    html = chooser.get_data(as_text=True)
    assert chooser.status_code == 200
    assert f"/clients/{survivor_id}/merge?other={merged_id}" in html  # suggested
    assert "139****8888" in html and "13977778888" not in html

    url = f"/clients/{survivor_id}/merge?other={merged_id}"
    confirm = client.get(url).get_data(as_text=True)
    assert "孙丽" in confirm and "139****8888" in confirm and "13977778888" not in confirm
    assert 'name="reason"' in confirm

    response = submit(
        client,
        url,
        {"other": str(merged_id), "reason": "电话与姓名相同"},
        action=f"/clients/{survivor_id}/merge",
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/clients/{survivor_id}/merges")
    with database.app_context():
        assert db.session.get(Case, case.id).client_id == survivor_id
        assert db.session.get(Client, merged_id).merged_into_id == survivor_id

    history = client.get(f"/clients/{survivor_id}/merges")
    html = history.get_data(as_text=True)
    assert history.status_code == 200
    assert "电话与姓名相同" in html and case.number in html
    assert "139****8888" in html and "13977778888" not in html
    assert f"{owner.username}@example.org" not in html  # e-mail masked too
    assert "c***@example.org" in html
    # The tombstone's own history explains where it went.
    tomb = client.get(f"/clients/{merged_id}/merges").get_data(as_text=True)
    assert "电话与姓名相同" in tomb and f"#{survivor_id}" in tomb
    # And nothing more can be merged into it.
    again = client.get(f"/clients/{merged_id}/merge").get_data(as_text=True)
    assert 'name="reason"' not in again


@pytest.mark.parametrize("reason", [{"reason": "  "}, {}])
def test_merge_without_a_reason_is_refused(client, login_as, database, reason):
    a = add_client(database, name="钱七", phone="13988889999")
    b = add_client(database, name="钱七", phone="13988889999")
    login_as(Role.SUPERVISOR)
    url = f"/clients/{a}/merge?other={b}"
    response = submit(client, url, {"other": str(b), **reason}, action=f"/clients/{a}/merge")
    assert response.status_code == 422
    assert 'id="reason-errors"' in response.get_data(as_text=True)
    with database.app_context():
        assert db.session.get(Client, b).merged_into_id is None
        assert db.session.scalar(select(func.count()).select_from(ClientMerge)) == 0


def test_refusal_through_the_page(client, login_as, database):
    a = add_client(database, name="冯八", id_number=ID_A)
    b = add_client(database, name="冯八", id_number=ID_B)
    login_as(Role.ADMIN)
    url = f"/clients/{a}/merge?other={b}"
    page = client.get(url).get_data(as_text=True)
    assert 'role="alert"' in page and 'name="reason"' not in page
    assert ID_A not in page and ID_B not in page
    token = csrf_token(client, f"/clients/{a}/merge")  # the form on the chooser page
    response = client.post(
        f"/clients/{a}/merge", data={"csrf_token": token, "other": str(b), "reason": "同名"}
    )
    assert response.status_code == 422 and 'role="alert"' in response.get_data(as_text=True)
    with database.app_context():
        assert db.session.get(Client, b).merged_into_id is None


def test_unknown_records(client, login_as, database):
    a = add_client(database, name="褚九")
    login_as(Role.CLERK)
    assert client.get("/clients/999999/merge").status_code == 404
    assert client.get("/clients/999999/merges").status_code == 404
    page = client.get(f"/clients/{a}/merge?other=999999")
    assert page.status_code == 200 and 'id="other-id-errors"' in page.get_data(as_text=True)


def test_duplicates_page(client, login_as, database):
    a = add_client(database, name="卫十", phone="13900001111")
    b = add_client(database, name="卫拾", phone="13900001111")
    add_client(database, name="卫十", kind=ClientKind.ENTERPRISE, phone="13900002222")
    add_client(database, name="蒋一", id_number=ID_A)
    add_client(database, name="蒋壹", id_number=ID_A)
    merged = add_client(database, name="沈二", phone="13900003333")
    live = add_client(database, name="沈二", phone="13900003333")
    with database.app_context():
        db.session.get(Client, merged).merged_into_id = live
        db.session.commit()
    login_as(Role.CLERK)
    response = client.get("/clients/duplicates")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"/clients/{a}/merge?other={b}" in html
    assert "139****1111" in html and "13900001111" not in html
    assert "110***********002X" in html and ID_A not in html
    assert "139****3333" not in html  # the merged record no longer counts
    assert "139****2222" not in html  # one record alone is no duplicate
    assert html.index("110***********002X") < html.index("139****1111")  # IDs first


@pytest.mark.parametrize(
    "role", [Role.HANDLER, Role.DEPARTMENT_HEAD, Role.OFFICIAL, Role.CITIZEN, Role.ENTERPRISE]
)
def test_only_intake_staff(client, login_as, database, role):
    a = add_client(database, name="韩三")
    b = add_client(database, name="韩三")
    login_as(role)
    for url in (
        "/clients/duplicates",
        f"/clients/{a}/merge",
        f"/clients/{a}/merge?other={b}",
        f"/clients/{a}/merges",
    ):
        assert client.get(url).status_code == 403, url
    token = csrf_token(client, "/")
    response = client.post(
        f"/clients/{a}/merge", data={"csrf_token": token, "other": str(b), "reason": "同名"}
    )
    assert response.status_code == 403
    with database.app_context():
        assert db.session.get(Client, b).merged_into_id is None


def test_anonymous_visitors_sign_in_first(client, database):
    a = add_client(database, name="杨四")
    for url in ("/clients/duplicates", f"/clients/{a}/merge", f"/clients/{a}/merges"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_duplicate_groups_are_paginated(database):
    for n in range(3):
        add_client(database, name=f"组{n}", phone=f"1390000{n}000")
        add_client(database, name=f"组{n}", phone=f"1390000{n}000")
    with database.app_context():
        first = duplicate_groups(page=1, per_page=2)
        second = duplicate_groups(page=2, per_page=2)
        assert (first.total, first.pages, len(first.items), len(second.items)) == (3, 2, 2, 1)
        assert first.has_next and not second.has_next and second.has_prev
        values = {g.value for g in first.items} | {g.value for g in second.items}
        assert len(values) == 3
        assert all(len(g.clients) == 2 for g in first.items + second.items)
