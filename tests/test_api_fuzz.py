"""The JSON API fuzzed by schemathesis against its own OpenAPI document (issue 14).

Every operation of ``/api/v1/openapi.json`` is called with generated input (valid and
invalid) and a valid token of an intake clerk (who may call every operation); no answer
may be a 500 and every answer must be one the document describes (status code, content
type, body schema). Examples are few per operation, so the module stays within a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode

from cases.services import dispatch_case
from portal.auth.token_services import create_token
from portal.db import db
from portal.models import Department, Role, User
from tests.factories import World, make_case, make_user

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture
def api_token(database: Flask, world: World) -> tuple[str, dict[str, object]]:
    """A supervisor's read-write token (intake, and the city's reports), a few cases for it
    to find, and real path arguments (a case number, a client id)."""
    app = database
    citizen = make_user(app, Role.CITIZEN)
    clerk = make_user(app, Role.SUPERVISOR)
    for title in ("路灯不亮", "噪声扰民", "井盖缺失"):
        case = make_case(app, citizen, world, title=title)
    with app.app_context():
        from cases.models import Case

        dispatch_case(db.session.get(Case, case.id), db.session.get(User, clerk.id),
                      db.session.get(Department, world.urban.id))
        _row, token = create_token(db.session.get(User, clerk.id), "fuzz", "read write", None)
        db.session.commit()
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    return token, {"number": case.number, "action": "note", "client_id": citizen.client_id}


def strategies(operation, real: dict[str, object]):
    """Valid input, invalid input, and valid input on real objects (a case, a client)."""
    yield operation.as_strategy(GenerationMode.POSITIVE)
    yield operation.as_strategy(GenerationMode.NEGATIVE)
    names = [p.name for p in operation.path_parameters]
    if names and all(name in real for name in names):
        yield operation.as_strategy(GenerationMode.POSITIVE,
                                    path_parameters={n: real[n] for n in names})


def test_api_answers_as_its_document_says(database: Flask, api_token):
    token, real = api_token
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", database)
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    statuses: dict[str, set[int]] = {}
    assert len(operations) >= 10
    try:
        for strategy in (s for o in operations for s in strategies(o, real)):

            @given(case=strategy)
            @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def call(case) -> None:
                response = case.call_and_validate(headers=headers, checks=CHECKS)
                statuses.setdefault(case.operation.label, set()).add(response.status_code)

            call()
        # The fuzz reached every operation, and got past validation somewhere.
        assert len(statuses) == len(operations)
        assert any(200 in codes for codes in statuses.values()), statuses
    finally:
        database.config.pop("API_RATE_LIMIT", None)
