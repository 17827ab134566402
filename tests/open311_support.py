"""What the Open311 tests share: the published schemas, XML read back as data, keys, a scene.

Schemas come from ``tests/data/open311/`` (copies of open311/schema-validation,
schema/georeport-v2; ``portal/`` holds the shapes the published set has no file for).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET  # noqa: S405  (our own answers)

from flask import Flask
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from sqlalchemy import update

from cases.models import Case, CaseEvent, CaseType, RoutingRule
from cases.open311.formats import ITEM_TAGS, JSON_TYPE, XML_TYPE
from cases.open311.keys import issue_key
from portal.db import db, utcnow
from portal.models import Role
from tests.factories import World, make_case, make_user, make_world

DATA = Path(__file__).parent / "data" / "open311"
PUBLISHED = ("services.json", "service.json", "service-definition.json", "requests.json",
             "request.json")
OURS = ("errors.json", "discovery.json", "post-response.json", "token-response.json",
        "servicerequestupdates.json")
# ISO 8601 / W3C with seconds and an explicit offset (never a naive time).
W3C_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")
ROOTS = {
    "services.json": "services",
    "service-definition.json": "service_definition",
    "requests.json": "service_requests",
    "errors.json": "errors",
    "discovery.json": "discovery",
    "post-response.json": "service_requests",
    "token-response.json": "service_requests",
    "servicerequestupdates.json": "service_request_updates",
}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _registry() -> Registry:
    resources = [(name, Resource.from_contents(_load(DATA / name), default_specification=DRAFT7))
                 for name in PUBLISHED]
    return Registry().with_resources(resources)


REGISTRY = _registry()


def schema(name: str) -> dict:
    return _load(DATA / name) if name in PUBLISHED else _load(DATA / "portal" / name)


def validate(name: str, data: Any) -> None:
    """Raise if ``data`` breaks the schema ``name`` (formats checked: date-time, uri)."""
    validator = Draft7Validator(schema(name), registry=REGISTRY, format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    for value in _datetimes(data):
        assert W3C_RE.match(value), value


def _datetimes(data: Any):
    if isinstance(data, dict):
        for key, value in data.items():
            if key.endswith("datetime") or key == "changeset":
                if value is not None:
                    yield value
            else:
                yield from _datetimes(value)
    elif isinstance(data, list):
        for item in data:
            yield from _datetimes(item)


# --- XML read back with the same rules the portal writes it ---------------------------


def xml_data(element: ET.Element) -> Any:
    """An element as data: a list element (``ITEM_TAGS``) as a list, others as dicts,
    leaves as text ("" when empty)."""
    if element.tag in ITEM_TAGS:
        expected = ITEM_TAGS[element.tag]
        assert all(child.tag == expected for child in element), (element.tag, expected)
        return [xml_data(child) for child in element]
    if len(element):
        tags = [child.tag for child in element]
        assert len(tags) == len(set(tags)), f"repeated elements in <{element.tag}>"
        return {child.tag: xml_data(child) for child in element}
    return element.text or ""


def as_text(data: Any) -> Any:
    """JSON data as XML text would say it."""
    if isinstance(data, dict):
        return {k: as_text(v) for k, v in data.items()}
    if isinstance(data, list):
        return [as_text(v) for v in data]
    if data is None:
        return ""
    if isinstance(data, bool):
        return "true" if data else "false"
    return str(data)


def check_pair(client, path: str, schema_name: str, status: int = 200, method: str = "get",
               **kw) -> Any:
    """GET (or POST) ``path`` as ``.json`` and ``.xml``: the status, content types, the JSON
    valid against ``schema_name``, the XML of the same structure. Returns the JSON."""
    base, _dot, query = path.partition("?")
    suffix = f"?{query}" if query else ""
    answer = getattr(client, method)(f"{base}.json{suffix}", **kw)
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.headers["Content-Type"] == JSON_TYPE
    data = answer.get_json()
    validate(schema_name, data)
    if method != "get":
        return data
    xml = getattr(client, method)(f"{base}.xml{suffix}", **kw)
    assert xml.status_code == status
    assert xml.headers["Content-Type"] == XML_TYPE
    root = ET.fromstring(xml.data)  # noqa: S314  (our own answer)
    assert root.tag == ROOTS[schema_name]
    wire = xml_data(root)
    expected = data[root.tag] if isinstance(data, dict) and root.tag in ITEM_TAGS else data
    assert wire == as_text(expected)
    return data


def check_error(answer, status: int, fmt: str = "json") -> str:
    """An error list of ``status`` in ``fmt``; returns its description."""
    assert answer.status_code == status, answer.get_data(as_text=True)
    if fmt == "xml":
        assert answer.headers["Content-Type"] == XML_TYPE
        root = ET.fromstring(answer.data)  # noqa: S314
        assert root.tag == "errors"
        data = xml_data(root)
        assert data[0]["code"] == str(status)
        return data[0]["description"]
    assert answer.headers["Content-Type"] == JSON_TYPE
    data = answer.get_json()
    validate("errors.json", data)
    assert data[0]["code"] == status
    return data[0]["description"]


# --- keys and a scene ------------------------------------------------------------------


def make_key(app: Flask, **kw) -> str:
    """A new key's secret (committed)."""
    with app.app_context():
        issued = issue_key(kw.pop("name", "test app"), **kw)
        db.session.commit()
        return issued.secret


@dataclass
class Scene:
    world: World
    public: Case  # a complaint, dispatched to transport
    suggestion: Case
    tipoff: Case  # anonymous: never served
    enquiry: Case  # about a person: never served
    old: Case  # filed 120 days ago
    reporter_name: str
    reporter_phone: str
    reporter_email: str


def make_scene(app: Flask) -> Scene:
    world = make_world(app)
    name, phone, email = "柏秘密", "13911112222", "bai.secret@mail.cn"
    with app.app_context():  # potholes go to transport at once: a lead and a deadline
        db.session.add(RoutingRule(category_id=world.potholes.id,
                                   department_id=world.transport.id))
        db.session.commit()
    owner = make_user(app, Role.CITIZEN, name=name, phone=phone, email=email)
    public = make_case(app, owner, world, category_id=world.potholes.id, title="五一路井盖缺失",
                       description=f"我叫{name}，电话{phone}。", address="五一路88号",
                       latitude=26.07, longitude=119.3)
    suggestion = make_case(app, owner, world, type=CaseType.SUGGESTION, title="建议增设路灯")
    tipoff = make_case(app, owner, world, type=CaseType.TIPOFF, anonymous=True,
                       title="工地偷排污水")
    enquiry = make_case(app, owner, world, type=CaseType.ENQUIRY, title="社保怎么办理")
    long_ago = utcnow() - timedelta(days=120)
    old = make_case(app, owner, world, title="旧的投诉", created_at=long_ago)
    with app.app_context():  # its timeline is as old as it is
        db.session.execute(update(CaseEvent).where(CaseEvent.case_id == old.id)
                           .values(created_at=long_ago))
        db.session.commit()
    return Scene(world, public, suggestion, tipoff, enquiry, old, name, phone, email)
