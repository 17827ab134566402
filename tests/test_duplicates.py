"""Duplicates: shown while filing, merged into a master, linked as related.

The candidates come from the search index (``search.engine``), which follows every
commit only in tests marked ``search``: the whole module is.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cases.duplicates import title_similarity
from cases.models import Case, CaseLink, CaseStatus, CaseType
from cases.visibility import (
    PUBLIC_MATTER_KEY,
    case_access_keys,
    may_mention_case,
    mention_keys,
    mentionable_cases,
    viewer_case_keys,
)
from portal.db import db
from portal.models import Role
from search.engine import backend
from search.engine.query import any_word_query, parse
from search.sources.cases import case_document
from tests.conftest import submit
from tests.factories import make_case, make_user
from tests.test_cases import filing_data
from tests.test_lifecycle import as_user, post_action, step, stored
from tests.test_visibility import Scene, load_viewers, scene  # noqa: F401

pytestmark = pytest.mark.search


def test_title_similarity():
    assert title_similarity("五一路夜间施工噪音扰民", "五一路施工噪音扰民严重") > 0.5
    assert title_similarity("五一路夜间施工噪音扰民", "养老保险转移接续咨询") == 0
    assert title_similarity("Street light broken", "street light is broken") > 0.5
    assert title_similarity("", "x") == 0


def test_similar_open_cases_are_shown_while_filing(client, login_as, world, database):
    other = make_user(database, Role.CITIZEN)
    make_case(database, other, world, title="五一路夜间施工噪音扰民")
    make_case(database, other, world, title="五一路施工噪音", district_id=world.taijiang.id)
    login_as(Role.CITIZEN)
    first = submit(client, "/requests/new", filing_data(world, title="五一路工地夜间施工噪音"))
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and "五一路夜间施工噪音扰民" in html
    assert "五一路施工噪音" not in html.replace("五一路夜间施工噪音扰民", "")  # other district
    assert 'name="confirm_new" value="1"' in html
    with database.app_context():
        assert len(db.session.scalars(select(Case)).all()) == 2  # nothing filed yet
    second = submit(client, "/requests/new",
                    {**filing_data(world, title="五一路工地夜间施工噪音"), "confirm_new": "1"})
    assert second.status_code == 302


def test_no_warning_for_a_different_matter(client, login_as, world, database):
    other = make_user(database, Role.CITIZEN)
    make_case(database, other, world, title="养老金未按时发放")
    login_as(Role.CITIZEN)
    assert submit(client, "/requests/new", filing_data(world)).status_code == 302


def test_merge_a_duplicate_into_its_master(client, world, database):
    first = make_user(database, Role.CITIZEN)
    second = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    master = make_case(database, first, world, title="五一路夜间施工噪音扰民")
    duplicate = make_case(database, second, world, title="五一路施工噪音扰民严重")

    as_user(client, clerk)
    page = client.get(f"/cases/{duplicate.number}").get_data(as_text=True)
    assert master.number in page  # offered as a possible duplicate
    response = post_action(client, duplicate.number, "merge", target=master.number)
    assert response.status_code == 302
    dup, dup_events = stored(database, duplicate.number)
    assert dup.status == CaseStatus.MERGED and dup.merged_into_id == master.id
    assert dup_events[-1] == "merge"
    _m, master_events = stored(database, master.number)
    assert master_events[-1] == "merged_from"

    # The master's answer reaches the duplicate's client on their own case page.
    step(database, master.number, "dispatch", clerk, department=world.urban.id)
    step(database, master.number, "sign_for", handler)
    step(database, master.number, "reply", handler, note="已责令施工单位夜间停工。")
    as_user(client, second)
    html = client.get(f"/cases/{duplicate.number}").get_data(as_text=True)
    assert "已责令施工单位夜间停工。" in html and master.number in html
    assert client.get(f"/cases/{master.number}").status_code == 404  # still not theirs


def test_merge_refusals(client, world, database):
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    a = make_case(database, citizen, world)
    b = make_case(database, citizen, world)
    as_user(client, clerk)
    assert post_action(client, a.number, "merge").status_code == 409  # no master
    assert post_action(client, a.number, "merge", target=a.number).status_code == 409
    assert post_action(client, a.number, "merge", target="2026-999999").status_code == 409
    post_action(client, b.number, "merge", target=a.number)
    assert post_action(client, a.number, "merge", target=b.number).status_code == 409
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    step(database, a.number, "dispatch", clerk, department=world.urban.id)
    as_user(client, handler)
    assert post_action(client, a.number, "merge", target=b.number).status_code == 409
    after, _ = stored(database, a.number)
    assert after.status == CaseStatus.DISPATCHED


def test_link_related_cases(client, world, database):
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    a = make_case(database, citizen, world, title="路灯不亮")
    b = make_case(database, citizen, world, title="道路积水", category_id=world.potholes.id)
    as_user(client, clerk)
    assert post_action(client, a.number, "link", target=b.number).status_code == 302
    assert post_action(client, a.number, "link", target=b.number).status_code == 409  # twice
    with database.app_context():
        assert len(db.session.scalars(select(CaseLink)).all()) == 2
    html = client.get(f"/cases/{b.number}").get_data(as_text=True)
    assert a.number in html and "路灯不亮" in html


# --- through the search room ------------------------------------------------------------

TRICKY_TITLES = [
    '五一路"夜间施工" OR (噪音) NOT: title:扰民 -',
    '"', "“未闭合", "(", ")", "((", "OR", "AND NOT", "-", "a:", "notes:内部", "title:",
    "NOT 五一路", "路灯 |", "||", "&&", "*", "2026-000123", "：（）", "「」", "x" * 300,
    " ".join(["噪音"] * 100), " ".join(f"w{i}" for i in range(100)),
]


@pytest.mark.parametrize("title", TRICKY_TITLES)
def test_any_title_makes_a_query_that_parses(title, database):
    with database.app_context():
        query = any_word_query(title)
        parse(query)  # never a QuerySyntaxError
        assert not query or all(w.isalnum() for w in query.split(" OR "))


def test_a_title_with_query_syntax_still_finds_its_duplicate(client, login_as, world,
                                                              database):
    other = make_user(database, Role.CITIZEN)
    make_case(database, other, world, title="五一路夜间施工噪音扰民")
    login_as(Role.CITIZEN)
    for title in ('五一路"夜间施工" OR (噪音) NOT: title:扰民 -', "五一路(夜间施工噪音扰民"):
        response = submit(client, "/requests/new", filing_data(world, title=title))
        assert response.status_code == 200, title
        assert "五一路夜间施工噪音扰民" in response.get_data(as_text=True), title
    for title in ('"路灯不亮了', "(路灯不亮了", "OR 路灯 AND", "NOT - 路灯", "title: 路灯 notes:"):
        response = submit(client, "/requests/new", filing_data(world, title=title))
        assert response.status_code in (200, 302), title  # never a 500


def test_a_client_is_reminded_of_public_matters_only(client, login_as, world, database):
    """Another client's complaint (and suggestion) is mentioned; never their tip-off
    (anonymous or not), enquiry or anonymous complaint. And the reminder comes from the
    index: with the index emptied, nothing is mentioned."""
    other = make_user(database, Role.CITIZEN)
    titles = {
        CaseType.COMPLAINT: "五一路夜间施工噪音扰民",
        CaseType.SUGGESTION: "建议五一路夜间施工噪音限时",
        CaseType.TIPOFF: "举报五一路工地夜间施工噪音",
        CaseType.ENQUIRY: "咨询五一路夜间施工噪音规定",
    }
    for kind, title in titles.items():
        make_case(database, other, world, type=kind, title=title)
    make_case(database, other, world, type=CaseType.COMPLAINT, anonymous=True,
              title="匿名五一路夜间施工噪音")
    login_as(Role.CITIZEN)
    data = filing_data(world, title="五一路工地夜间施工噪音")
    html = submit(client, "/requests/new", data).get_data(as_text=True)
    assert titles[CaseType.COMPLAINT] in html and titles[CaseType.SUGGESTION] in html
    for hidden in (titles[CaseType.TIPOFF], titles[CaseType.ENQUIRY], "匿名五一路夜间施工噪音"):
        assert hidden not in html
    with database.app_context():
        backend().clear("case")
    assert submit(client, "/requests/new", data).status_code == 302  # nothing found


def test_the_case_page_offers_duplicates_from_the_index(client, world, database):
    first = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    master = make_case(database, first, world, title="五一路夜间施工噪音扰民")
    duplicate = make_case(database, first, world, title="五一路施工噪音扰民严重")
    as_user(client, clerk)
    assert master.number in client.get(f"/cases/{duplicate.number}").get_data(as_text=True)
    with database.app_context():
        backend().clear("case")
    page = client.get(f"/cases/{duplicate.number}").get_data(as_text=True)
    assert master.number not in page and "Possible duplicates" not in page


def test_department_staff_are_offered_only_cases_they_see(client, world, database):
    """A handler linking cases of their department is not told of a look-alike case that
    has not reached them (nor may open it)."""
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    mine = make_case(database, citizen, world, title="五一路夜间施工噪音扰民")
    theirs = make_case(database, citizen, world, title="五一路施工噪音扰民严重")  # at intake
    step(database, mine.number, "dispatch", clerk, department=world.urban.id)
    as_user(client, handler)
    page = client.get(f"/cases/{mine.number}").get_data(as_text=True)
    assert "/link" in page  # the handler may link: possible duplicates are offered...
    # ...on request (a search; shown at once only where the case may be merged)
    assert f"/cases/{mine.number}?duplicates=1#related-heading" in page
    looked = client.get(f"/cases/{mine.number}?duplicates=1").get_data(as_text=True)
    assert theirs.number not in page and theirs.number not in looked
    assert "No possible duplicate found" in looked or "未找到可能的重复件" in looked
    step(database, theirs.number, "dispatch", clerk, department=world.urban.id)
    assert theirs.number not in client.get(f"/cases/{mine.number}").get_data(as_text=True)
    looked = client.get(f"/cases/{mine.number}?duplicates=1").get_data(as_text=True)
    assert theirs.number in looked


def test_mention_rule_is_one_rule_in_three_forms(database, world, scene: Scene):  # noqa: F811
    """``may_mention_case`` (predicate), ``mentionable_cases`` (SQL) and ``mention_keys``
    with the case document's keys agree for every viewer of the VISIBILITY scene plus a
    public complaint, a suggestion, an enquiry and a non-anonymous tip-off of another
    client; the search page's keys never hold ``PUBLIC_MATTER_KEY``."""
    stranger = make_user(database, Role.CITIZEN)
    extra = {
        kind.value: make_case(database, stranger, world, type=kind).id
        for kind in (CaseType.COMPLAINT, CaseType.SUGGESTION, CaseType.ENQUIRY,
                     CaseType.TIPOFF)
    }
    wrong = []
    with database.app_context():
        ids = {**scene.cases, **extra}
        cases = {key: db.session.get(Case, case_id) for key, case_id in ids.items()}
        for who, user in load_viewers(scene).items():
            keys = set(mention_keys(user))
            assert PUBLIC_MATTER_KEY not in viewer_case_keys(user)
            for what, case in cases.items():
                predicate = may_mention_case(user, case)
                sql = bool(db.session.scalar(select(func.count(Case.id)).where(
                    Case.id == case.id, mentionable_cases(user))))
                found = bool(set(case_document(case).access) & keys)
                if len({predicate, sql, found}) > 1:
                    wrong.append(f"{who} x {what}: predicate, SQL, keys = "
                                 f"{(predicate, sql, found)}")
        public = {k for k, c in cases.items() if PUBLIC_MATTER_KEY in case_access_keys(c)}
        assert public == {"own", "firm", "intake", "other", "merged", "withdrawn",
                          "complaint", "suggestion"}
    assert not wrong, "\n".join(wrong)
