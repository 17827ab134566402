"""Satisfaction's staff pages, through HTTP: the follow-up calls (回访), the list of ratings,
the admin settings, and where a client's ratings show (360° view, data export, merge,
anonymisation)."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from cases.models import Case
from cases.satisfaction.models import FollowUpCall, Rating, RatingDimension
from cases.satisfaction.services import RatingInput, check_input, give_rating
from cases.satisfaction.settings import active_dimensions, current_settings
from cases.satisfaction.vocabulary import RatingSource, RatingStatus
from citizens.merge import merge_clients
from citizens.models import Client, ClientFlag, VulnerableGroup
from citizens.privacy import anonymise_client
from portal.db import db
from portal.models import AdminAction, Role, User
from tests.conftest import csrf_token, submit
from tests.factories import make_case, make_user
from tests.test_lifecycle import step
from tests.test_supervision import counted_queries


def answered(database, world, *, department=None, owner=None, title="五一路夜间施工噪音扰民",
             **case_kw):
    """A case filed by ``owner`` (a new citizen if None), dispatched, answered: its rating
    waits. Returns (case number, owner, rating id)."""
    department = department or world.urban
    owner = owner or make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    handler = make_user(database, Role.HANDLER, department_id=department.id)
    number = make_case(database, owner, world, title=title, **case_kw).number
    step(database, number, "dispatch", clerk, department=department.id)
    step(database, number, "sign_for", handler)
    step(database, number, "reply", handler, note="已处理完毕")
    with database.app_context():
        rating_id = db.session.scalar(
            select(Rating.id).join(Case).where(Case.number == number)
        )
    return number, owner, rating_id


def rate(database, rating_id, level, comment=None, **kw):
    with database.app_context():
        rating = db.session.get(Rating, rating_id)
        give_rating(rating, RatingInput(level, kw.get("solved"), kw.get("dimensions", {}),
                                        comment), RatingSource.LINK)
        db.session.commit()


def numbers_in(html: str, numbers: list[str]) -> list[str]:
    """``numbers`` in the order the page shows them."""
    return sorted(numbers, key=lambda number: html.index(number))


# --- the follow-up queue ----------------------------------------------------------------


def test_the_queue_calls_vulnerable_clients_first_then_bad_reviews(
    client, database, world, login_as
):
    oldest, _, _ = answered(database, world)
    bad, _, bad_rating = answered(database, world)
    vulnerable, owner, _ = answered(database, world)
    rate(database, bad_rating, 2, "没解决")
    rated, _, rated_id = answered(database, world)
    rate(database, rated_id, 5)
    with database.app_context():
        db.session.add(ClientFlag(client_id=owner.client_id, flag=VulnerableGroup.ELDERLY))
        db.session.commit()

    login_as("clerk")
    page = client.get("/ratings/follow-up")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert rated not in html  # rated, no bad review: nothing to call about
    assert numbers_in(html, [oldest, bad, vulnerable]) == [vulnerable, bad, oldest]
    assert "3 calls wait" in html or "3 " in html


def test_a_clerk_records_the_rating_from_a_call_once(client, database, world, login_as):
    number, _, rating_id = answered(database, world)
    clerk = login_as("clerk")
    url = f"/ratings/follow-up/{rating_id}"
    form = client.get(url).get_data(as_text=True)
    assert 'name="speed"' in form and 'name="level"' in form

    response = submit(client, url, {"level": "4", "solved": "partly", "speed": "5",
                                    "comment": "电话里说还可以"}, action=f"{url}/rating")
    assert response.status_code == 302
    with database.app_context():
        rating = db.session.get(Rating, rating_id)
        assert rating.source is RatingSource.PHONE and rating.recorded_by_id == clerk.id
        assert rating.level == 4 and rating.dimensions == {"speed": 5}
        assert db.session.scalar(select(FollowUpCall.reached)) is True

    # A second click (or a colleague's) is refused: one rating per answer.
    again = client.post(f"{url}/rating", data={"csrf_token": csrf_token(client, "/"),
                                               "level": "1"})
    assert again.status_code == 409
    with database.app_context():
        assert db.session.get(Rating, rating_id).level == 4

    listed = client.get("/ratings").get_data(as_text=True)
    assert number in listed and "电话里说还可以" in listed
    assert clerk.display_name in listed  # recorded by whom, as a phone follow-up
    assert number not in client.get("/ratings/follow-up").get_data(as_text=True)


def test_bad_input_from_a_call_is_shown_again(client, database, world, login_as):
    _, _, rating_id = answered(database, world)
    login_as("clerk")
    url = f"/ratings/follow-up/{rating_id}"
    response = submit(client, url, {"level": "9"}, action=f"{url}/rating")
    assert response.status_code == 422
    with database.app_context():
        assert db.session.get(Rating, rating_id).status is RatingStatus.PENDING


def test_unreachable_attempts_are_counted(client, database, world, login_as):
    _, _, rating_id = answered(database, world)
    login_as("clerk")
    url = f"/ratings/follow-up/{rating_id}"
    for note in ("无人接听", "关机"):
        assert submit(client, url, {"note": note}, action=f"{url}/unreachable").status_code == 302
    with database.app_context():
        rating = db.session.get(Rating, rating_id)
        assert rating.unreachable_count == 2 and rating.status is RatingStatus.PENDING
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'id="attempts">\s*2<', page) and "关机" in page
    assert re.search(r"<td[^>]*>2</td>", client.get("/ratings/follow-up").get_data(as_text=True))


@pytest.mark.parametrize("role", ["handler", "department_head", "official", "citizen"])
def test_only_intake_staff_open_the_follow_up_queue(client, database, world, login_as, role):
    _, _, rating_id = answered(database, world)
    login_as(role)
    assert client.get("/ratings/follow-up").status_code == 403
    assert client.get(f"/ratings/follow-up/{rating_id}").status_code == 403


def test_the_lists_cost_the_same_queries_for_more_rows(client, database, world, login_as):
    def add(count):
        for _ in range(count):
            _, owner, rating_id = answered(database, world)
            _, _, rated_id = answered(database, world, owner=owner)
            rate(database, rated_id, 4, "好")
            with database.app_context():
                db.session.add(ClientFlag(client_id=owner.client_id,
                                          flag=VulnerableGroup.DISABLED))
                db.session.commit()

    login_as("clerk")
    costs = []
    for count in (1, 3):
        add(count)
        client.get("/ratings/follow-up")  # warm
        client.get("/ratings")
        with counted_queries(database) as queue:
            assert client.get("/ratings/follow-up").status_code == 200
        with counted_queries(database) as listing:
            assert client.get("/ratings").status_code == 200
        costs.append((queue[0], listing[0]))
    assert costs[0] == costs[1]


# --- the list of ratings ------------------------------------------------------------------


def test_a_department_reads_its_own_ratings_and_the_city_all(client, database, world, login_as):
    ours, _, ours_id = answered(database, world)
    theirs, _, theirs_id = answered(database, world, department=world.transport,
                                    category_id=world.potholes.id, title="道路破损")
    waiting, _, _ = answered(database, world)
    rate(database, ours_id, 2, "处理太慢")
    rate(database, theirs_id, 5, "很满意")

    login_as("handler")  # of the urban department
    html = client.get("/ratings").get_data(as_text=True)
    assert ours in html and "处理太慢" in html and "★2" in html
    assert theirs not in html and "很满意" not in html and waiting not in html
    assert client.get(f"/ratings?department={world.transport.id}").get_data(
        as_text=True).count(theirs) == 0

    login_as("supervisor")
    html = client.get("/ratings").get_data(as_text=True)
    assert ours in html and theirs in html
    assert re.search(r'id="figure-rate">\s*50\.0%', html)
    filtered = client.get(f"/ratings?department={world.transport.id}").get_data(as_text=True)
    assert theirs in filtered and ours not in filtered
    bad = client.get("/ratings?bad=1&level=x&since=nonsense").get_data(as_text=True)
    assert ours in bad and theirs not in bad

    login_as("citizen")
    assert client.get("/ratings").status_code == 403


# --- admin settings -----------------------------------------------------------------------

RULES = {
    "remind_after_days": "2",
    "default_after_days": "5",
    "default_counting": "working",
    "default_level": "4",
    "link_valid_days": "30",
    "verify_working_days": "3",
    "rectify_working_days": "10",
}


def test_admin_changes_the_rules_and_bad_input_is_refused(client, database, world, login_as):
    login_as("admin")
    assert client.get("/admin/satisfaction").status_code == 200
    assert "/admin/satisfaction" in client.get("/admin/").get_data(as_text=True)
    assert submit(client, "/admin/satisfaction", RULES).status_code == 302
    with database.app_context():
        settings = current_settings()
        assert (settings.default_after_days, settings.default_working_days,
                settings.default_level, settings.verify_working_days) == (5, True, 4, 3)
        action = db.session.scalar(select(AdminAction).where(
            AdminAction.action == "satisfaction_settings.update"))
        assert action.details["default_level"] == [3, 4]

    for bad in ({"default_after_days": "0"}, {"remind_after_days": "abc"},
                {"remind_after_days": "9"}, {"default_level": "2"}):
        response = submit(client, "/admin/satisfaction", {**RULES, **bad})
        assert response.status_code == 422, bad
    response = submit(client, "/admin/satisfaction", {**RULES, "default_level": ""})
    assert response.status_code == 302
    with database.app_context():
        assert current_settings().default_level is None  # stays unrated

    login_as("supervisor")
    assert client.get("/admin/satisfaction").status_code == 403
    token = csrf_token(client, "/")
    assert client.post("/admin/satisfaction", data={"csrf_token": token, **RULES}
                       ).status_code == 403


def test_a_new_aspect_is_asked_and_a_used_one_only_deactivated(
    client, database, world, login_as
):
    _, _, rating_id = answered(database, world)
    rate(database, rating_id, 4, dimensions={"speed": 5})
    login_as("admin")
    page = "/admin/satisfaction"
    added = submit(client, page, {"new-key": "clarity", "new-name_zh": "答复清晰",
                                  "new-name_en": "Clarity", "new-position": "9",
                                  "new-is_active": "y"},
                   action="/admin/satisfaction/dimensions")
    assert added.status_code == 302
    for bad_key in ("level", "Clarity!", "clarity"):
        refused = submit(client, page, {"new-key": bad_key, "new-name_zh": "另一个",
                                        "new-position": "1"},
                         action="/admin/satisfaction/dimensions")
        assert refused.status_code == 422, bad_key
    with database.app_context():
        assert [d.key for d in active_dimensions()][-1] == "clarity"
        assert check_input(RatingInput(5, None, {"clarity": 4})).dimensions == {"clarity": 4}
        speed = db.session.scalar(select(RatingDimension).where(RatingDimension.key == "speed"))
        speed_id = speed.id
    _, _, other_id = answered(database, world)
    login_as("clerk")
    assert 'name="clarity"' in client.get(f"/ratings/follow-up/{other_id}").get_data(
        as_text=True)

    login_as("admin")
    token = csrf_token(client, page)
    used = client.post(f"/admin/satisfaction/dimensions/{speed_id}/delete",
                       data={"csrf_token": token})
    assert used.status_code == 409
    renamed = client.post(f"/admin/satisfaction/dimensions/{speed_id}", data={
        f"d{speed_id}-csrf_token": token, f"d{speed_id}-name_zh": "办理时效",
        f"d{speed_id}-name_en": "Timeliness", f"d{speed_id}-position": "1",
    })  # no is_active: deactivated
    assert renamed.status_code == 302
    with database.app_context():
        speed = db.session.get(RatingDimension, speed_id)
        assert speed.name_zh == "办理时效" and not speed.is_active
        assert "speed" not in [d.key for d in active_dimensions()]
        assert db.session.scalar(select(AdminAction.id).where(
            AdminAction.action == "rating_dimension.update"))


# --- where a client's ratings show ---------------------------------------------------------


def test_the_360_view_and_the_data_export_show_the_ratings(client, database, world, login_as):
    citizen = login_as("citizen")
    number, _, rating_id = answered(database, world, owner=citizen)
    rate(database, rating_id, 3, "还行吧", solved="partly", dimensions={"attitude": 4})

    export = json.loads(client.get("/account/export").get_data(as_text=True))
    (rating,) = export["ratings"]
    assert (rating["case"], rating["level"], rating["solved"], rating["comment"]) == (
        number, 3, "partly", "还行吧")
    assert rating["dimensions"] == {"attitude": 4} and rating["rated_at"]

    login_as("clerk")
    html = client.get(f"/clients/{citizen.client_id}").get_data(as_text=True)
    assert "还行吧" in html and number in html
    handler = make_user(database, Role.HANDLER, department_id=world.transport.id)
    login_as(handler.role, department_id=world.transport.id)
    # another department's rating of the same client is not theirs to read
    assert "还行吧" not in client.get(f"/clients/{citizen.client_id}").get_data(as_text=True)


def test_an_anonymous_tip_offs_rating_stays_hidden_from_the_clerk(
    client, database, world, login_as
):
    owner = make_user(database, Role.CITIZEN)
    number, _, rating_id = answered(database, world, owner=owner, anonymous=True)
    rate(database, rating_id, 1, "匿名的意见")
    login_as("clerk")
    html = client.get(f"/clients/{owner.client_id}").get_data(as_text=True)
    assert "匿名的意见" not in html and number not in html
    assert number not in client.get("/ratings/follow-up").get_data(as_text=True)
    login_as("supervisor")  # knows anonymous reporters
    assert "匿名的意见" in client.get(f"/clients/{owner.client_id}").get_data(as_text=True)


def test_merge_moves_ratings_and_anonymisation_erases_comments(database, world):
    survivor = make_user(database, Role.CITIZEN)
    merged = make_user(database, Role.CITIZEN)
    _, _, kept_id = answered(database, world, owner=survivor)
    _, _, moved_id = answered(database, world, owner=merged)
    rate(database, moved_id, 2, "13800138000 打不通")
    rate(database, kept_id, 5, "很好")
    clerk = make_user(database, Role.CLERK)
    admin = make_user(database, Role.ADMIN)
    with database.app_context():
        merge_clients(db.session.get(Client, survivor.client_id),
                      db.session.get(Client, merged.client_id),
                      db.session.get(User, clerk.id), "同一人")
        db.session.commit()
        assert db.session.get(Rating, moved_id).client_id == survivor.client_id

        anonymise_client(db.session.get(Client, survivor.client_id),
                         db.session.get(User, admin.id))
        db.session.commit()
        ratings = [db.session.get(Rating, i) for i in (kept_id, moved_id)]
        assert [r.comment for r in ratings] == [None, None]
        assert [r.level for r in ratings] == [5, 2]  # the figures stay
