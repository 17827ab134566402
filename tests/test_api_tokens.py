"""The account page of personal access tokens ``/account/tokens`` (issue 14, part 3)."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.auth.tokens import AccessToken
from portal.db import db
from tests.conftest import csrf_token

TOKEN_RE = re.compile(r'id="token-value">(pat_[A-Za-z0-9_-]+)<')


def make(client, **data):
    token = csrf_token(client, "/account/tokens")
    return client.post("/account/tokens/new",
                       data={"csrf_token": token, "name": "看板", "scopes": "read",
                             "days": "30", **data})


def test_staff_and_clients_make_a_token_shown_once(client, database, login_as):
    for role in ("handler", "citizen"):
        login_as(role)
        page = client.get("/account/tokens")
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
        response = make(client)
        assert response.status_code == 200
        token = TOKEN_RE.search(response.get_data(as_text=True)).group(1)
        assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}
                          ).status_code == 200
        again = client.get("/account/tokens").get_data(as_text=True)
        assert token not in again and token[:12] in again  # listed by its prefix only


def test_making_needs_csrf_and_a_name(client, database, login_as):
    login_as("clerk")
    assert client.post("/account/tokens/new", data={"name": "x", "scopes": "read"}
                       ).status_code == 400
    assert make(client, name="").status_code == 422
    assert make(client, scopes="admin").status_code == 422
    assert make(client, days="9999").status_code == 422
    with database.app_context():
        assert db.session.scalars(select(AccessToken)).all() == []


def test_revoking_closes_the_api_and_only_ones_own(client, database, login_as):
    login_as("clerk")
    token = TOKEN_RE.search(make(client, scopes="read write").get_data(as_text=True)).group(1)
    with database.app_context():
        token_id = db.session.scalar(select(AccessToken.id))
    login_as("supervisor")  # another person cannot revoke it
    form = csrf_token(client, "/account/tokens")
    response = client.post("/account/tokens/revoke", data={"csrf_token": form,
                                                           "token_id": token_id})
    assert response.status_code == 404
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    login_as("clerk")  # a new clerk, who makes and revokes their own
    own = TOKEN_RE.search(make(client).get_data(as_text=True)).group(1)
    with database.app_context():
        own_id = db.session.scalar(select(AccessToken.id).order_by(AccessToken.id.desc()))
    form = csrf_token(client, "/account/tokens")
    response = client.post("/account/tokens/revoke", data={"csrf_token": form,
                                                           "token_id": own_id})
    assert response.status_code == 302
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {own}"}
                      ).status_code == 401


def test_account_pages_link_to_tokens(client, database, login_as):
    login_as("clerk")
    assert "/account/tokens" in client.get("/account/password").get_data(as_text=True)
    login_as("citizen")
    assert "/account/tokens" in client.get("/account").get_data(as_text=True)
