"""Who sees what: every viewer x every kind of case (and client record), in both forms.

The expected answers are the tables of ``docs/VISIBILITY.md``: the predicate, the SQL
clause and the docs must agree in every cell, so none of the three can drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from cases.models import Case, CaseAssist, CaseStatus, CaseType
from cases.visibility import (
    can_see_reporter,
    can_view_case,
    in_scope,
    is_reporter_hidden,
    reporter_hidden,
    reporter_known,
    reporter_shown,
    scope_clause,
    visible_cases,
)
from citizens.models import Client
from citizens.queries import ClientFilter, client_list_query
from citizens.visibility import can_view_client, visible_clients
from portal.db import db
from portal.extensions import login_manager
from portal.models import Role, User
from tests.factories import make_case, make_user
from tests.test_lifecycle import as_user, post_action

DOC = Path(__file__).resolve().parent.parent / "docs" / "VISIBILITY.md"
KEY = re.compile(r"`([a-z_]+)`")
SCOPES = ("intake", "department", "owner", "any")


def doc_table(heading: str) -> dict[str, dict[str, bool]]:
    """The table under ``## heading``: viewer key -> column key -> yes/no."""
    section = DOC.read_text().split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    columns = [KEY.search(cell).group(1) for cell in lines[0].split("|")[2:-1]]
    table = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.split("|")[1:-1]]
        assert set(cells[1:]) <= {"yes", "no"}, line
        table[KEY.search(cells[0]).group(1)] = {
            column: cell == "yes" for column, cell in zip(columns, cells[1:], strict=True)
        }
    return table


@dataclass
class Scene:
    viewers: dict[str, int | None]  # key -> user id (None: signed out)
    cases: dict[str, int]
    clients: dict[str, int]


@pytest.fixture
def scene(database, world) -> Scene:
    """The scene of docs/VISIBILITY.md: departments L (urban), A (transport) and O."""
    lead, assist = world.urban.id, world.transport.id
    other_handler = make_user(database, Role.HANDLER)  # in a department of its own: O
    other = other_handler.department_id
    citizen = make_user(database, Role.CITIZEN)
    other_citizen = make_user(database, Role.CITIZEN)
    firm_filer = make_user(database, Role.ENTERPRISE)
    firm_rep = make_user(database, Role.ENTERPRISE, client_id=firm_filer.client_id)
    other_firm_rep = make_user(database, Role.ENTERPRISE)
    staff = {
        "clerk": make_user(database, Role.CLERK),
        "disabled_clerk": make_user(database, Role.CLERK, active=False),
        "lead_handler": make_user(database, Role.HANDLER, department_id=lead),
        "lead_head": make_user(database, Role.DEPARTMENT_HEAD, department_id=lead),
        "assist_handler": make_user(database, Role.HANDLER, department_id=assist),
        "assist_head": make_user(database, Role.DEPARTMENT_HEAD, department_id=assist),
        "other_handler": other_handler,
        "other_head": make_user(database, Role.DEPARTMENT_HEAD, department_id=other),
        "supervisor": make_user(database, Role.SUPERVISOR),
        "official": make_user(database, Role.OFFICIAL),
        "admin": make_user(database, Role.ADMIN),
    }

    def case(owner: User, **kw) -> int:
        return make_case(database, owner, world, **kw).id

    tipoff = {"type": CaseType.TIPOFF, "anonymous": True}
    own = case(citizen, department_id=lead, status=CaseStatus.IN_PROGRESS)
    cases = {
        "own": own,
        "firm": case(firm_filer, department_id=lead, status=CaseStatus.DISPATCHED),
        "intake": case(citizen),
        "other": case(other_firm_rep, department_id=other, status=CaseStatus.IN_PROGRESS),
        "tipoff": case(citizen, department_id=lead, status=CaseStatus.IN_PROGRESS, **tipoff),
        "merged": case(citizen, department_id=lead, status=CaseStatus.MERGED,
                       merged_into_id=own),
        "withdrawn": case(citizen, department_id=lead, status=CaseStatus.WITHDRAWN),
        "firm_tipoff": case(firm_filer, department_id=other, status=CaseStatus.DISPATCHED,
                            **tipoff),
    }
    with database.app_context():
        for key in ("own", "tipoff"):
            db.session.add(CaseAssist(case_id=cases[key], department_id=assist))
        db.session.commit()
    viewers = {
        "anonymous": None,
        "citizen": citizen.id,
        "other_citizen": other_citizen.id,
        "firm_rep": firm_rep.id,
        "other_firm_rep": other_firm_rep.id,
        **{key: user.id for key, user in staff.items()},
    }
    clients = {
        "citizen": citizen.client_id,
        "other_citizen": other_citizen.client_id,
        "firm": firm_filer.client_id,
        "other_firm": other_firm_rep.client_id,
    }
    return Scene(viewers, cases, clients)


def load_viewers(scene: Scene) -> dict[str, User]:
    return {
        key: db.session.get(User, user_id) if user_id else login_manager.anonymous_user()
        for key, user_id in scene.viewers.items()
    }


def ids_where(model, ids, clause) -> set[int]:
    return set(db.session.scalars(select(model.id).where(model.id.in_(ids), clause)))


def test_the_docs_cover_the_whole_scene(scene):
    for heading, columns in (
        ("Cases", scene.cases), ("Reporter", scene.cases), ("Clients", scene.clients)
    ):
        table = doc_table(heading)
        assert set(table) == set(scene.viewers), heading
        assert all(set(row) == set(columns) for row in table.values()), heading


@pytest.mark.parametrize(
    ("heading", "predicate", "clause"),
    [
        ("Cases", can_view_case, visible_cases),
        ("Reporter", can_see_reporter, reporter_known),
    ],
)
def test_case_rules_agree_with_the_docs(database, scene, heading, predicate, clause):
    expected = doc_table(heading)
    wrong = []
    with database.app_context():
        cases = {key: db.session.get(Case, case_id) for key, case_id in scene.cases.items()}
        for who, user in load_viewers(scene).items():
            listed = ids_where(Case, scene.cases.values(), clause(user))
            for what, case in cases.items():
                cell = (expected[who][what], predicate(user, case), case.id in listed)
                if len(set(cell)) > 1:
                    wrong.append(f"{who} x {what}: docs, predicate, SQL = {cell}")
    assert not wrong, "\n".join(wrong)


def test_reporter_hidden_forms_agree(database, scene):
    """``is_reporter_hidden``, ``reporter_hidden`` and ``reporter_shown`` say the same."""
    wrong = []
    with database.app_context():
        cases = {key: db.session.get(Case, case_id) for key, case_id in scene.cases.items()}
        for who, user in load_viewers(scene).items():
            hidden = ids_where(Case, scene.cases.values(), reporter_hidden(user))
            shown = ids_where(Case, scene.cases.values(), reporter_shown(user))
            for what, case in cases.items():
                cell = (is_reporter_hidden(user, case), case.id in hidden, case.id not in shown)
                if len(set(cell)) > 1:
                    wrong.append(f"{who} x {what}: predicate, hidden, not shown = {cell}")
    assert not wrong, "\n".join(wrong)


def test_client_rule_agrees_with_the_docs(database, scene):
    """The predicate, both SQL forms (page and count) and the list's query agree."""
    expected = doc_table("Clients")
    ids = list(scene.clients.values())
    everything = ClientFilter(include_inactive=True)
    wrong = []
    with database.app_context():
        clients = {key: db.session.get(Client, i) for key, i in scene.clients.items()}
        for who, user in load_viewers(scene).items():
            page = ids_where(Client, ids, visible_clients(user))
            counted = ids_where(Client, ids, visible_clients(user, for_count=True))
            if user.is_authenticated:  # the list itself is for signed-in staff
                listed = {c.id for c in db.session.scalars(client_list_query(user, everything))}
            else:
                listed = page
            for what, client in clients.items():
                cell = (
                    expected[who][what],
                    can_view_client(user, client),
                    client.id in page,
                    client.id in counted,
                    client.id in listed,
                )
                if len(set(cell)) > 1:
                    wrong.append(f"{who} x {what}: docs, predicate, page, count, list = {cell}")
    assert not wrong, "\n".join(wrong)


def test_acting_scopes_agree(database, scene):
    """``in_scope`` (the case page's steps) and ``scope_clause`` (the queues) say the same."""
    wrong = []
    with database.app_context():
        cases = {key: db.session.get(Case, case_id) for key, case_id in scene.cases.items()}
        for who, user in load_viewers(scene).items():
            if not user.is_authenticated:
                continue
            for scope in SCOPES:
                listed = ids_where(Case, scene.cases.values(), scope_clause(user, scope))
                for what, case in cases.items():
                    if in_scope(user, case, scope) != (case.id in listed):
                        wrong.append(f"{who} x {what} in {scope}")
    assert not wrong, "\n".join(wrong)


def test_the_case_page_links_only_cases_the_viewer_sees(client, database, world):
    """A related case of another department is not listed on the lead department's page."""
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    ours = make_case(database, citizen, world, title="路灯不亮", department_id=world.urban.id,
                     status=CaseStatus.DISPATCHED)
    theirs = make_case(database, citizen, world, title="道路积水",
                       department_id=world.transport.id, status=CaseStatus.DISPATCHED)
    as_user(client, clerk)
    assert post_action(client, ours.number, "link", target=theirs.number).status_code == 302
    link = f'href="/cases/{theirs.number}"'
    assert link in client.get(f"/cases/{ours.number}").get_data(as_text=True)
    as_user(client, handler)
    page = client.get(f"/cases/{ours.number}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert link not in html and "道路积水" not in html
