"""The search index's access keys say what the rooms' one visibility rule says.

For every viewer and every case (and client record) of the VISIBILITY.md scene: the
document's keys and the viewer's keys share one exactly when ``can_view_case`` (or
``can_view_client``) says yes. The search engine matches on these keys inside the query,
so this is what keeps results, counts, facets and snippets within a user's sight.
"""

from __future__ import annotations

from cases.models import Case
from cases.visibility import can_view_case, case_access_keys, viewer_case_keys
from citizens.models import Client
from citizens.visibility import can_view_client, client_access_keys, viewer_client_keys
from portal.db import db
from search.sources.cases import case_document
from search.sources.clients import client_document
from tests.test_visibility import Scene, doc_table, load_viewers, scene  # noqa: F401


def test_case_keys_agree_with_the_case_rule(database, scene: Scene):  # noqa: F811
    expected = doc_table("Cases")
    wrong = []
    with database.app_context():
        cases = {key: db.session.get(Case, case_id) for key, case_id in scene.cases.items()}
        for who, user in load_viewers(scene).items():
            mine = set(viewer_case_keys(user))
            for what, case in cases.items():
                found = bool(set(case_access_keys(case)) & mine)
                indexed = bool(set(case_document(case).access) & mine)
                cell = (expected[who][what], can_view_case(user, case), found, indexed)
                if len(set(cell)) > 1:
                    wrong.append(f"{who} x {what}: docs, predicate, keys, document = {cell}")
    assert not wrong, "\n".join(wrong)


def test_client_keys_agree_with_the_client_rule(database, scene: Scene):  # noqa: F811
    """Including the tip-off rule: the firm's anonymous tip-off in department O does not
    make the firm findable by O's staff."""
    expected = doc_table("Clients")
    wrong = []
    with database.app_context():
        clients = {key: db.session.get(Client, i) for key, i in scene.clients.items()}
        for who, user in load_viewers(scene).items():
            mine = set(viewer_client_keys(user))
            for what, client in clients.items():
                found = bool(set(client_access_keys(client)) & mine)
                indexed = bool(set(client_document(client).access) & mine)
                cell = (expected[who][what], can_view_client(user, client), found, indexed)
                if len(set(cell)) > 1:
                    wrong.append(f"{who} x {what}: docs, predicate, keys, document = {cell}")
    assert not wrong, "\n".join(wrong)


def test_a_case_document_never_names_its_client(database, scene: Scene):  # noqa: F811
    """Nothing of the client (name, phone, e-mail) is in a case's document: the reporter
    of an anonymous tip-off cannot be found through the case."""
    with database.app_context():
        for case_id in scene.cases.values():
            case = db.session.get(Case, case_id)
            client = case.client
            document = case_document(case)
            indexed = " ".join([*document.text.values(), *map(str, document.filters.values()),
                                *(v for vs in document.exact.values() for v in vs)])
            for value in (client.name, client.phone, client.email):
                assert not value or value not in indexed, (case.number, value)
