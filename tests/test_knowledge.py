"""The knowledge base through HTTP: writing, review and publishing (and who may), the
public help page and its search, views, "was this helpful?", the suggestions while
filing, deflected requests, and a concurrent edit refused with a 409.

Searches go through the search engine (``search.engine``) with its index in a per-test
temporary directory; ``indexed(app)`` takes in the change feed after the test's writes,
as the after-commit indexer does in a running portal.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from cases.knowledge.models import KnowledgeAnswer, KnowledgeView
from cases.knowledge.services import AnswerInput, publish_answer, save_answer, send_for_review
from portal.db import db, utcnow
from portal.models import Role, User
from tests.conftest import CSRF_RE, csrf_token, sign_in, submit
from tests.factories import detach, make_user
from tests.test_browser import (  # noqa: F401  (browser fixtures)
    CHROMIUM,
    base_url,
    browser,
    new_page,
    sqlite_only,
)
from tests.test_browser import sign_in as browser_sign_in

# The index follows every commit here, as in production (tests/conftest.py).
pytestmark = pytest.mark.search

EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def search_index(database: Flask, tmp_path):
    """The search index of this test alone (Whoosh: a temporary folder)."""
    saved = database.config.get("SEARCH_INDEX_DIR")
    database.config["SEARCH_INDEX_DIR"] = str(tmp_path / "search-index")
    yield
    database.config["SEARCH_INDEX_DIR"] = saved


def indexed(app: Flask) -> None:
    """Take the change feed into the index (the after-commit indexer does it too)."""
    from search.engine import catch_up

    with app.app_context():
        catch_up()
        db.session.commit()


def as_user(client: FlaskClient, user: User | None) -> None:
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    if user is not None:
        assert sign_in(client, user.username).status_code == 302


def make_answer(app: Flask, author: User, title: str, body: str, *,
                reviewer: User | None = None, category_id: int | None = None) -> KnowledgeAnswer:
    """A draft by ``author``; published by ``reviewer`` if given."""
    with app.app_context():
        writer = db.session.get(User, author.id)
        answer = save_answer(writer, None, AnswerInput(title, body, category_id))
        if reviewer is not None:
            send_for_review(writer, answer, answer.version)
            publish_answer(db.session.get(User, reviewer.id), answer, answer.version)
        return detach(answer)


def answer_row(app: Flask, answer_id: int) -> KnowledgeAnswer:
    with app.app_context():
        return detach(db.session.get(KnowledgeAnswer, answer_id))


def version_of(client: FlaskClient, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="(?:base_)?version" type="hidden" value="(\d+)"', html)
    assert match, html[:500]
    return match.group(1)


@pytest.fixture
def staff(database: Flask, world):
    return {
        "handler": make_user(database, Role.HANDLER, department_id=world.urban.id, locale="en"),
        "head": make_user(database, Role.DEPARTMENT_HEAD, department_id=world.urban.id,
                          locale="en"),
        "supervisor": make_user(database, Role.SUPERVISOR, locale="en"),
        "official": make_user(database, Role.OFFICIAL, locale="en"),
        "admin": make_user(database, Role.ADMIN, locale="en"),
    }


# --- writing, review, publishing -----------------------------------------------------------


def test_an_answer_is_written_sent_for_review_and_published_by_another(
    client, database, world, staff, search_index
):
    as_user(client, staff["handler"])
    response = submit(client, "/knowledge/new", {
        "title": "小区电梯频繁故障怎么办",
        "body": "请先联系物业，物业不处理的可向市场监管部门反映。",
        "category": str(world.noise.id),
    })
    assert response.status_code == 302
    answer_id = db_one_answer_id(database)
    row = answer_row(database, answer_id)
    assert (row.status, row.author_id, row.category_id) == ("draft", staff["handler"].id,
                                                            world.noise.id)
    edit_url = f"/knowledge/{answer_id}/edit"
    version = version_of(client, edit_url)
    assert submit(client, edit_url, {"version": version},
                  action=f"/knowledge/{answer_id}/review").status_code == 302
    assert answer_row(database, answer_id).status == "review"
    # A handler writes but does not publish.
    version = version_of(client, edit_url)
    assert submit(client, edit_url, {"version": version},
                  action=f"/knowledge/{answer_id}/publish").status_code == 403
    assert client.get(f"/help/{answer_id}").status_code == 404
    as_user(client, staff["head"])
    page = client.get(edit_url, headers=EN).get_data(as_text=True)
    assert "Publish" in page
    response = submit(client, edit_url, {"version": version_of(client, edit_url)},
                      action=f"/knowledge/{answer_id}/publish")
    assert response.status_code == 302
    row = answer_row(database, answer_id)
    assert (row.status, row.reviewed_by_id) == ("published", staff["head"].id)
    assert row.published_at is not None
    indexed(database)
    as_user(client, None)
    assert "小区电梯频繁故障怎么办" in client.get("/help", query_string={"q": "电梯"}).get_data(
        as_text=True)
    # Unpublished: gone from the public pages and their search.
    as_user(client, staff["supervisor"])
    assert submit(client, edit_url, {"version": version_of(client, edit_url)},
                  action=f"/knowledge/{answer_id}/unpublish").status_code == 302
    assert answer_row(database, answer_id).status == "unpublished"
    indexed(database)
    as_user(client, None)
    assert client.get(f"/help/{answer_id}").status_code == 404
    assert "小区电梯频繁" not in client.get("/help", query_string={"q": "电梯"}).get_data(
        as_text=True)


def db_one_answer_id(app: Flask) -> int:
    with app.app_context():
        (answer_id,) = db.session.scalars(select(KnowledgeAnswer.id)).all()
        return answer_id


def test_reviewers_do_not_publish_their_own_answers_but_admins_may(client, database, staff):
    for who, allowed in (("head", False), ("supervisor", False), ("admin", True)):
        answer = make_answer(database, staff[who], f"自己写的答复{who}", "正文。")
        as_user(client, staff[who])
        edit_url = f"/knowledge/{answer.id}/edit"
        submit(client, edit_url, {"version": version_of(client, edit_url)},
               action=f"/knowledge/{answer.id}/review")
        response = submit(client, edit_url, {"version": version_of(client, edit_url)},
                          action=f"/knowledge/{answer.id}/publish", headers=EN)
        if allowed:
            assert response.status_code == 302
            assert answer_row(database, answer.id).status == "published"
        else:
            assert response.status_code == 409
            assert "Another reviewer must publish an answer you wrote." in response.get_data(
                as_text=True)
            assert answer_row(database, answer.id).status == "review"


def test_citizens_and_the_public_reach_no_staff_page(client, database, world, staff):
    draft = make_answer(database, staff["handler"], "草稿答复", "尚未发布。")
    for path in ("/knowledge", "/knowledge/new", f"/knowledge/{draft.id}/edit",
                 "/admin/help-figures"):
        assert client.get(path).status_code == 302  # anonymous: to the sign-in
    citizen = make_user(database, Role.CITIZEN)
    as_user(client, citizen)
    for path in ("/knowledge", "/knowledge/new", f"/knowledge/{draft.id}/edit",
                 "/admin/help-figures"):
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/help")
    for step in ("review", "publish", "unpublish"):
        assert client.post(f"/knowledge/{draft.id}/{step}",
                           data={"csrf_token": token, "version": "1"}).status_code == 403
    assert client.get(f"/help/{draft.id}").status_code == 404
    assert answer_row(database, draft.id).status == "draft"
    # Officials read the knowledge base; they do not write it.
    as_user(client, staff["official"])
    assert client.get("/knowledge").status_code == 200
    assert client.get("/knowledge/new").status_code == 403
    assert client.get(f"/knowledge/{draft.id}/edit").status_code == 403
    # Staff too read only published answers on the public page.
    assert client.get(f"/help/{draft.id}").status_code == 404


# --- the public help page ----------------------------------------------------------------


def test_drafts_are_never_shown_or_found_publicly(client, database, staff, search_index):
    published = make_answer(database, staff["handler"], "路灯不亮找谁", "路灯由城市管理局维护。",
                            reviewer=staff["head"])
    draft = make_answer(database, staff["handler"], "路灯维修内部草稿", "内部流程：路灯报修。")
    indexed(database)
    citizen = make_user(database, Role.CITIZEN)
    for user in (None, citizen):
        as_user(client, user)
        page = client.get("/help", query_string={"q": "路灯"}).get_data(as_text=True)
        assert "路灯不亮找谁" in page and "内部" not in page
        listing = client.get("/help").get_data(as_text=True)
        assert "路灯不亮找谁" in listing and "内部" not in listing
        assert client.get(f"/help/{draft.id}").status_code == 404
        assert client.get(f"/help/{published.id}").status_code == 200
        titles = [r["title"] for r in client.get(
            "/help/suggest", query_string={"q": "路灯"}).get_json()["results"]]
        assert titles == ["路灯不亮找谁"]
    # Staff find the draft in their own list, through the same engine.
    as_user(client, staff["official"])
    page = client.get("/knowledge", query_string={"q": "路灯"}).get_data(as_text=True)
    assert "路灯维修内部草稿" in page and "路灯不亮找谁" in page
    page = client.get("/knowledge", query_string={"q": "路灯", "status": "draft"}).get_data(
        as_text=True)
    assert "路灯维修内部草稿" in page and "路灯不亮找谁" not in page


def test_help_search_finds_a_word_inside_a_sentence(client, database, staff, search_index):
    make_answer(database, staff["handler"], "下雨后路面积水严重怎么反映",
                "可拨打热线或在网上提交诉求，注明具体路段。", reviewer=staff["head"])
    make_answer(database, staff["handler"], "如何办理居住证", "携带身份证到派出所办理。",
                reviewer=staff["head"])
    indexed(database)
    page = client.get("/help", query_string={"q": "积水"}, headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "下雨后路面积水严重怎么反映" in html and "居住证" not in html
    assert "1 answer found." in html
    bad = client.get("/help", query_string={"q": '"积水'}, headers=EN)
    assert bad.status_code == 400  # a malformed query: a message, never a 500


def test_help_snippets_and_titles_are_escaped(client, database, staff, search_index):
    make_answer(database, staff["handler"], "井盖<b>丢失</b>怎么办",
                "<script>alert(1)</script>发现井盖丢失请立即报告。", reviewer=staff["head"])
    indexed(database)
    html = client.get("/help", query_string={"q": "井盖"}).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<b>丢失" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;丢失" in html
    assert "<mark>" in html  # the engine's highlight of the word found


def category_options(html: str) -> dict[str, str]:
    """The help page's category select: value -> label ("" is every category)."""
    select = re.search(r'<select id="help-category" name="category">(.*?)</select>', html, re.S)
    assert select, "no category select"
    return {v: label.strip() for v, label in re.findall(
        r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))}


def test_help_narrows_to_a_category_and_counts_each(client, database, staff, world,
                                                    search_index):
    lead = staff["handler"], staff["head"]
    make_answer(database, lead[0], "夜间施工噪音扰民怎么办", "可向城管部门反映施工时间。",
                reviewer=lead[1], category_id=world.noise.id)
    make_answer(database, lead[0], "广场舞噪音太大", "先与组织者协商，再向街道反映。",
                reviewer=lead[1], category_id=world.noise.id)
    make_answer(database, lead[0], "路面坑洼噪音大", "坑洼路面请拍照后提交诉求。",
                reviewer=lead[1], category_id=world.potholes.id)
    make_answer(database, lead[0], "噪音检测草稿", "未发布。", category_id=world.potholes.id)
    indexed(database)
    # Browsing: every published answer, counted per category; a draft counts nowhere.
    html = client.get("/help", headers=EN).get_data(as_text=True)
    options = category_options(html)
    assert options[""] == "All categories"
    assert options[str(world.noise.id)] == "Urban management › Noise (2)"
    assert options[str(world.potholes.id)] == "Urban management › Potholes (1)"
    page = client.get("/help", query_string={"category": world.noise.id}, headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "2 answers found." in html
    assert "广场舞噪音太大" in html and "路面坑洼噪音大" not in html
    assert re.search(rf'<option value="{world.noise.id}" selected>', html)
    # Searching: the words and the category together; counts are of what the words find.
    args = {"q": "噪音", "category": world.potholes.id}
    html = client.get("/help", query_string=args, headers=EN).get_data(as_text=True)
    assert "1 answer found." in html and "路面坑洼噪音大" in html and "广场舞" not in html
    assert "噪音检测草稿" not in html
    options = category_options(html)
    assert options[str(world.noise.id)].endswith("(2)")
    assert options[str(world.potholes.id)].endswith("(1)")
    html = client.get("/help", query_string={"q": "广场舞"}, headers=EN).get_data(as_text=True)
    assert str(world.potholes.id) not in category_options(html)  # nothing found there
    # A category with nothing published, or a broken value: no 500.
    empty = client.get("/help", query_string={"category": world.parent.id}, headers=EN)
    assert empty.status_code == 200 and "0 answers found." in empty.get_data(as_text=True)
    assert client.get("/help", query_string={"category": "abc"}).status_code == 200
    assert client.get("/help", query_string={"category": "9" * 30}).status_code == 400


# --- views and votes ---------------------------------------------------------------------


def test_a_view_is_counted_once_per_visitor_and_leaves_the_version_alone(
    client, database, staff
):
    answer = make_answer(database, staff["handler"], "垃圾分类投放时间", "每天早七点到九点。",
                         reviewer=staff["head"])
    version = answer.version
    assert client.get(f"/help/{answer.id}").status_code == 200
    assert client.get(f"/help/{answer.id}").status_code == 200  # a reload: the same visitor
    other = database.test_client()
    assert other.get(f"/help/{answer.id}").status_code == 200
    row = answer_row(database, answer.id)
    assert row.view_count == 2
    assert row.version == version  # an editor's open form stays valid
    as_user(client, staff["official"])
    html = client.get("/knowledge", headers=EN).get_data(as_text=True)
    assert re.search(r"垃圾分类投放时间</a></td>.*?<td>2</td>", html, re.S)


def test_was_this_helpful_counts_one_vote_per_visitor(client, database, staff):
    answer = make_answer(database, staff["handler"], "犬只登记", "到街道办登记。",
                         reviewer=staff["head"])
    url = f"/help/{answer.id}"
    assert submit(client, url, {"helpful": "yes"}, action=f"{url}/feedback").status_code == 302
    assert submit(client, url, {"helpful": "yes"}, action=f"{url}/feedback").status_code == 302
    assert "Thank you: you have told us" in client.get(url, headers=EN).get_data(as_text=True)
    other = database.test_client()
    assert submit(other, url, {"helpful": "no"}, action=f"{url}/feedback").status_code == 302
    assert submit(other, url, {"helpful": "maybe"},
                  action=f"{url}/feedback").status_code == 422
    row = answer_row(database, answer.id)
    assert (row.helpful_yes, row.helpful_no) == (1, 1)
    token = csrf_token(client, url)
    assert client.post(f"{url}/feedback", data={"helpful": "yes"}).status_code == 400  # no CSRF
    assert token


# --- while filing: suggestions and deflection ---------------------------------------------


def test_the_filing_page_suggests_published_answers_for_the_title(
    client, database, staff, search_index
):
    published = make_answer(database, staff["handler"], "小区电梯频繁故障怎么办",
                            "请先联系物业。", reviewer=staff["head"])
    make_answer(database, staff["handler"], "电梯故障内部处理草稿", "内部。")
    make_answer(database, staff["handler"], "如何办理居住证", "派出所。", reviewer=staff["head"])
    indexed(database)
    citizen = make_user(database, Role.CITIZEN, locale="en")
    as_user(client, citizen)
    plain = client.get("/requests/new").get_data(as_text=True)
    assert "Answers that may help" in plain and "小区电梯" not in plain
    assert 'src="/static/js/knowledge-suggest.js"' in plain
    # "Find answers" without script: the page comes back with answers and the title filled in.
    page = client.get("/requests/new", query_string={"title": "我家电梯又坏了"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'href="/help/{published.id}?from=filing"' in html
    assert "内部" not in html and "居住证" not in html
    assert re.search(r'id="title"[^>]*value="我家电梯又坏了"', html)
    # The script's JSON.
    results = client.get("/help/suggest", query_string={"q": "电梯坏了"}).get_json()["results"]
    assert [r["url"] for r in results] == [f"/help/{published.id}?from=filing"]
    # After a refused submit of the filing form, its title's answers show as well.
    token = CSRF_RE.search(plain)
    response = client.post("/requests/new", data={
        "csrf_token": token.group(1) or token.group(2), "title": "电梯故障",
    })
    assert response.status_code == 422
    assert f'href="/help/{published.id}?from=filing"' in response.get_data(as_text=True)


def file_case(client: FlaskClient, world, title: str = "楼道电梯停运一周") -> None:
    response = submit(client, "/requests/new", {
        "type": "complaint", "category": str(world.noise.id), "district": str(world.gulou.id),
        "title": title, "description": "电梯停运一周，老人无法下楼。", "confirm_new": "1",
    })
    assert response.status_code == 302, response.get_data(as_text=True)[:800]


def test_reading_an_answer_from_the_filing_page_and_leaving_is_a_deflected_request(
    client, database, world, staff
):
    answer = make_answer(database, staff["handler"], "电梯停运怎么办", "联系物业。",
                         reviewer=staff["head"])
    leaver, filer = make_user(database, Role.CITIZEN), make_user(database, Role.CITIZEN)
    as_user(client, leaver)
    assert client.get(f"/help/{answer.id}?from=filing").status_code == 200
    other = database.test_client()
    as_user(other, filer)
    assert other.get(f"/help/{answer.id}?from=filing").status_code == 200
    file_case(other, world)
    with database.app_context():
        views = {v.user_id: v for v in db.session.scalars(select(KnowledgeView))}
        assert views[filer.id].from_filing and views[filer.id].filed_case_id is not None
        assert views[leaver.id].from_filing and views[leaver.id].filed_case_id is None
        # The hour passes for the one who left.
        db.session.execute(update(KnowledgeView).where(KnowledgeView.user_id == leaver.id)
                           .values(created_at=utcnow() - timedelta(hours=2)))
        db.session.commit()
    # Filing later (after the hour) does not undo the deflection.
    file_case(client, world, "电梯停运后续")
    as_user(client, staff["admin"])
    html = client.get("/admin/help-figures", headers=EN).get_data(as_text=True)
    assert '<dd id="kb-from-filing">2</dd>' in html
    assert '<dd id="kb-deflected">1 (50%)</dd>' in html
    assert '<dd id="kb-filed">1</dd>' in html
    assert "Help figures" in client.get("/admin/", headers=EN).get_data(as_text=True)
    as_user(client, staff["supervisor"])
    assert client.get("/admin/help-figures").status_code == 403


def test_a_plain_view_is_no_deflection(client, database, world, staff):
    answer = make_answer(database, staff["handler"], "噪音投诉", "夜间施工可投诉。",
                         reviewer=staff["head"])
    client.get(f"/help/{answer.id}?from=filing")  # anonymous: cannot file, not counted
    with database.app_context():
        assert db.session.scalars(select(KnowledgeView.from_filing)).all() == [False]


# --- a concurrent edit -------------------------------------------------------------------


def test_a_concurrent_edit_is_refused_with_409_and_keeps_the_text(
    client, database, staff
):
    answer = make_answer(database, staff["handler"], "原来的问题", "原来的答复。")
    url = f"/knowledge/{answer.id}/edit"
    as_user(client, staff["handler"])
    mine = version_of(client, url)
    colleague = database.test_client()
    as_user(colleague, staff["head"])
    theirs = version_of(colleague, url)
    assert submit(colleague, url, {"title": "同事改的问题", "body": "同事的答复。",
                                   "base_version": theirs}).status_code == 302
    response = submit(client, url, {"title": "我改的问题", "body": "我的答复。",
                                    "base_version": mine}, headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed this at the same moment" in html
    assert "我的答复。" in html  # what this writer typed is handed back
    row = answer_row(database, answer.id)
    assert (row.title, row.body) == ("同事改的问题", "同事的答复。")
    # No version at all: refused as an expired form, nothing saved.
    assert submit(client, url, {"title": "无版本", "body": "无版本。"}).status_code == 422
    # A button pressed on the old version: the same.
    assert submit(client, url, {"version": mine},
                  action=f"/knowledge/{answer.id}/review").status_code == 409
    assert answer_row(database, answer.id).status == "draft"


# --- in a browser: the static script follows the title as it is typed ---------------------


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed: browser tests skipped")
def test_answers_appear_while_the_title_is_typed(database, staff, request):
    from playwright.sync_api import expect

    open_page = request.getfixturevalue("new_page")

    answer = make_answer(database, staff["handler"], "小区电梯频繁故障怎么办", "请先联系物业。",
                         reviewer=staff["head"])
    indexed(database)
    citizen = make_user(database, Role.CITIZEN)
    page = open_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    browser_sign_in(page, database, citizen.username)
    page.goto("/requests/new")
    page.locator("#title").fill("电梯又坏了")
    link = page.locator("#kb-suggestions a")
    expect(link).to_have_attribute("href", f"/help/{answer.id}?from=filing")
    expect(link).to_have_text("小区电梯频繁故障怎么办")
    link.click()
    page.wait_for_url(re.compile(rf"/help/{answer.id}\?from=filing$"))
    assert not refused
    with database.app_context():
        assert db.session.scalars(select(KnowledgeView.from_filing)).all() == [True]
