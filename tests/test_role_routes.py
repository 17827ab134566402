"""Role × route (issue #8): every route of the URL map, as anonymous and as every role.

The scene: a victim client V (a citizen with a full name, phone, e-mail, ID number,
address and account) whose case is led by department B ("transport"), with an
attachment, contacts, a public reply, an inbox message, a deletion request and a
reset/verification link. The visitors are anonymous and one signed-in user per role:
the citizen and the enterprise are *other* clients, the handler and the department head
work in department A ("urban"). Every id in a URL is V's, or belongs to department B, so
from each visitor's side it is "another client and another department".

``EXPECTED`` says, per endpoint and method, which status each role gets. GET is tried on
every GET route; POST on every POST route, with a valid CSRF token and no other data. A
rule of the URL map without a row fails ``test_every_route_has_an_entry``: add its row.
A row marked ``# hole:`` states the *correct* status where the portal answers otherwise
today; the failure stays visible until the code is fixed.

The leak rule (``Needles``): a response to a role that is not in the row's ``sees`` may
contain none of V's personal values — name, username, phone, e-mail, ID number, address —
in any form: as stored, HTML-escaped, JSON-escaped (``\\uXXXX``), URL-quoted, phone and
ID number also with spaces or hyphens between the digits, and the masked forms the portal
prints (``139****5678``, ``q***@victim-mail.cn``, ``110***********1234``). A role in
``sees`` may read V's name, username, address and the masked forms, but still never the
full phone, e-mail or ID number (only a logged reveal shows those).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from cases.attachments import store_attachments
from cases.catalogue.models import CategoryQuestion, QuestionType
from cases.knowledge.models import KnowledgeAnswer
from cases.models import CalendarDay, Case, CaseType, ReplyTemplate, RoutingRule
from cases.reports.models import HotspotAlert
from cases.satisfaction.models import BadReview, Rating
from cases.satisfaction.settings import active_dimensions
from cases.satisfaction.tokens import rating_token
from cases.satisfaction.vocabulary import BadReviewStage
from cases.services import ActionInput, dispatch_case, perform
from citizens.account_services import request_deletion
from citizens.identifiers import resident_id_check_char
from citizens.models import Client, ContactChannel
from citizens.services import add_contact
from portal.auth.passwords import reset_token
from portal.db import db, utcnow
from portal.extensions import limiter
from portal.models import Role, User
from portal.notifications.models import InboxMessage
from portal.privacy import mask_email, mask_id_number, mask_phone
from tests.conftest import CSRF_RE, empty_tables, sign_in
from tests.factories import make_case, make_user, make_world

# --- the roles ---------------------------------------------------------------------------

ROLES = ("anonymous",) + tuple(r.value for r in Role)
CLIENTS = ("citizen", "enterprise")
DEPARTMENT = ("handler", "department_head")
INTAKE = ("clerk", "supervisor", "admin")
CITYWIDE = (*INTAKE, "official")
QUEUES = (*INTAKE, *DEPARTMENT)
TEMPLATE_KEEPERS = ("department_head", "supervisor", "admin")
LOGIN = "login"  # a 302 to /login


@dataclass(frozen=True)
class Expect:
    """The status each role gets (302 to /login is ``LOGIN``) and who may read V's data."""

    status: dict[str, int | str]
    sees: frozenset[str] = frozenset()


def expect(default: int | str, *, sees=(), **status: int | str) -> Expect:
    unknown = set(status) - set(ROLES)
    assert not unknown, f"not roles: {unknown}"
    return Expect({r: status.get(r, default) for r in ROLES}, frozenset(sees))


def public(default: int | str = 200, **status) -> Expect:
    """No sign-in needed: everyone gets ``default`` unless told otherwise."""
    return expect(default, **status)


def signed_in(default: int | str, **status) -> Expect:
    """Behind the sign-in: anonymous goes to /login, every role gets ``default``."""
    return expect(default, **{"anonymous": LOGIN, **status})


def only(who: tuple[str, ...], ok: int | str = 200, other: int = 403, *, sees=(),
         **status) -> Expect:
    """``who`` get ``ok``, the other roles ``other``, anonymous goes to /login."""
    return expect(other, sees=sees, **{"anonymous": LOGIN, **{r: ok for r in who}, **status})


def admin(ok: int | str = 200, **status) -> Expect:
    return only(("admin",), ok, **status)


GET, POST = "GET", "POST"

# One row per endpoint: an ``Expect`` for a route with one method, a dict per method for a
# route with two. The URL arguments are V's objects (see ``Scene.args``).
EXPECTED: dict[str, Expect | dict[str, Expect]] = {
    # --- public pages and sign-in -------------------------------------------------------
    "main.index": public(),
    "main.healthz": public(),
    "main.set_language": public(302),
    "auth.login": {GET: public(200, **{r: 302 for r in ROLES[1:]}),
                   POST: public(422, **{r: 302 for r in ROLES[1:]})},
    "auth.logout": signed_in(302),
    "citizens.register": {GET: public(200, **{r: 302 for r in ROLES[1:]}),
                          POST: public(422, **{r: 302 for r in ROLES[1:]})},
    # An empty POST says what is missing (422).
    "cases.track": {GET: public(), POST: public(422)},
    "auth.reset_request": {GET: public(), POST: public(422)},
    "citizens.reset_sms": {GET: public(), POST: public(422)},
    "citizens.reset_sms_code": {GET: public(), POST: public(422)},
    # V's own reset link: whoever holds it sets V's password (the link is the credential).
    "auth.reset_password": {GET: public(), POST: public(422)},
    "citizens.verify_email": public(302),
    # --- the client's own pages (always their own record, never V's) --------------------
    "citizens.account": {GET: only(CLIENTS, 200, 302), POST: only(CLIENTS, 422, 302)},
    "auth.change_password": {GET: signed_in(200), POST: signed_in(422)},
    "citizens.export_data": only(CLIENTS),
    "citizens.ask_deletion": only(CLIENTS, 422),
    "citizens.send_verification": only(CLIENTS, 302),
    "citizens.send_phone_verification": only(CLIENTS, 302),
    "citizens.verify_phone": {GET: only(CLIENTS), POST: only(CLIENTS, 422)},
    "notifications.inbox": signed_in(200),
    "notifications.read": signed_in(404),  # V's message: not there for anybody else
    "notifications.read_all": signed_in(302),
    # Staff's e-mail/SMS choice; clients are sent to /account (an empty POST: both off).
    "notifications.settings": {GET: only((*CITYWIDE, *DEPARTMENT), 200, 302),
                               POST: only((*CITYWIDE, *DEPARTMENT), 302, 302)},
    # --- filing and the case ------------------------------------------------------------
    "cases.new_request": {GET: only(CLIENTS), POST: only(CLIENTS, 422)},
    "cases.my_requests": only(CLIENTS),
    "cases.intake": {GET: only(INTAKE), POST: only(INTAKE, 422)},
    "cases.show": only(CITYWIDE, other=404, sees=CITYWIDE),
    "cases.attachment": only(CITYWIDE, other=404),
    # A non-owner withdrawing V's case: hidden (404) or refused (409).
    "cases.act": only(CITYWIDE, 409, 404, sees=CITYWIDE),
    "cases.add_info": signed_in(404),
    "cases.queue": only(INTAKE, sees=INTAKE, handler=200, department_head=200),
    "cases.bulk_dispatch": only(INTAKE, 303),
    "cases.bulk_reply": only(QUEUES, 303),
    "cases.bulk_close": only(INTAKE, 422),  # no case chosen
    "cases.supervision": only(("supervisor", "admin")),
    "cases.go": only(CITYWIDE + DEPARTMENT),  # the empty box
    # Everyone signed in searches what they may see (clients: their own cases).
    "search.search": signed_in(200),
    "cases.reply_templates": only(TEMPLATE_KEEPERS),
    # A template of department B: the head of department A may not edit it.
    "cases.edit_reply_template": {GET: only(("supervisor", "admin"), 200),
                                  POST: only(("supervisor", "admin"), 302)},
    "cases.edit_reply_template new": {GET: only(TEMPLATE_KEEPERS),
                                      POST: only(TEMPLATE_KEEPERS, 422)},
    # --- clients (the CRM record) --------------------------------------------------------
    "citizens.index": only(CITYWIDE + DEPARTMENT, sees=CITYWIDE),
    "citizens.export_clients": only(CITYWIDE + DEPARTMENT, sees=CITYWIDE),
    "citizens.show": only(CITYWIDE, other=403, sees=CITYWIDE, handler=404, department_head=404),
    "citizens.reveals": only(("supervisor", "admin"), sees=("supervisor", "admin"), handler=404,
                             department_head=404),
    "citizens.reveal": only(INTAKE, 422, sees=INTAKE, official=403, handler=404,
                            department_head=404),
    "citizens.new_contact": only(INTAKE, 422, sees=INTAKE, official=403, handler=404,
                                 department_head=404),
    "citizens.classify": only(INTAKE, 302, sees=INTAKE, official=403, handler=404,
                              department_head=404),
    "citizens.duplicates": only(INTAKE, sees=INTAKE),
    "citizens.merge": {GET: only(INTAKE, sees=INTAKE), POST: only(INTAKE, 422, sees=INTAKE)},
    "citizens.merge_history": only(INTAKE, sees=INTAKE),
    "citizens.deletion_requests": admin(sees=("admin",)),
    "citizens.decide_deletion": admin(422, sees=("admin",)),
    # --- administration -----------------------------------------------------------------
    "admin.index": admin(),
    "admin.users": admin(sees=("admin",)),
    "admin.new_user": {GET: admin(), POST: admin(422)},
    "admin.sign_out_user": admin(302, sees=("admin",)),  # V signed out everywhere
    # V is a client: client accounts are not kept on the staff pages (404, nothing changes)
    "admin.edit_user": {GET: admin(404), POST: admin(404)},
    "admin.disable_user": admin(404),
    "admin.enable_user": admin(404),
    "admin.force_reset": admin(404),
    "admin.activity": admin(sees=("admin",)),
    "admin.departments": admin(),
    "admin.new_department": {GET: admin(), POST: admin(422)},
    "admin.edit_department": {GET: admin(), POST: admin(302)},  # saved unchanged
    "admin.districts": admin(),
    "admin.new_district": {GET: admin(), POST: admin(422)},
    "admin.edit_district": {GET: admin(), POST: admin(422)},
    "catalogue.categories": admin(),
    "catalogue.new_category": {GET: admin(), POST: admin(422)},
    "catalogue.edit_category": {GET: admin(), POST: admin(422)},
    "catalogue.routing": admin(),
    "catalogue.new_routing_rule": {GET: admin(), POST: admin(422)},
    "catalogue.edit_routing_rule": {GET: admin(), POST: admin(422)},
    "catalogue.calendar": admin(),
    "catalogue.new_calendar_day": {GET: admin(), POST: admin(422)},
    "catalogue.edit_calendar_day": {GET: admin(), POST: admin(422)},
    "catalogue.remove_day": admin(302),
    "catalogue.import_calendar": admin(400),
    "catalogue.publish_calendar_year": admin(400),
    "notifications.message_templates": admin(),
    "notifications.edit_message_template": {GET: admin(), POST: admin(302)},
    "notifications.reset_template": admin(302),
    # --- the knowledge base: V's draft answer (never on the public pages) -----------------
    # --- satisfaction (issue 12): V's answer waits for its rating; a 差评 review on it ---
    # The link is the credential and shows nothing personal; an empty POST says what is
    # missing.
    "satisfaction.rate": {GET: public(), POST: public(422)},
    # No rating named in the empty POST: 404 for whoever may see V's case, and for others.
    "satisfaction.rate_on_case_page": signed_in(404),
    "satisfaction.follow_up": only(INTAKE, sees=INTAKE),
    "satisfaction.follow_up_call": only(INTAKE, sees=INTAKE),
    "satisfaction.record_phone_rating": only(INTAKE, 422, sees=INTAKE),
    # An empty "could not reach" is valid: one attempt counted per role.
    "satisfaction.record_unreachable_call": only(INTAKE, 302),
    "satisfaction.ratings": only(CITYWIDE + DEPARTMENT),
    # The review is department B's: department A's staff and clients do not see the case.
    "satisfaction.bad_review_step": only(("supervisor", "admin"), 422, 404,
                                         sees=("supervisor", "admin"), clerk=403, official=403),
    "satisfaction.ledger": only(("department_head", "supervisor", "official", "admin")),
    "satisfaction.ledger_export": only(("department_head", "supervisor", "official", "admin")),
    "satisfaction.settings": admin(),
    "satisfaction.save_rules": admin(422),
    "satisfaction.new_dimension": admin(422),
    "satisfaction.edit_dimension": admin(422),
    "satisfaction.remove_dimension": admin(302),
    # --- the officials' desk (issue 13): figures never show V's personal data --------
    "reports.dashboard": only(DEPARTMENT + ("supervisor", "official", "admin")),
    "reports.workload": only(DEPARTMENT + ("supervisor", "official", "admin")),
    "reports.cases": only(DEPARTMENT + ("supervisor", "official", "admin")),
    "reports.export": only(DEPARTMENT + ("supervisor", "official", "admin")),
    "reports.alerts": only(("supervisor", "official", "admin")),
    # An empty acknowledgement: the note is missing.
    "reports.acknowledge_alert": only(("supervisor", "official", "admin"), 422),
    "reports.settings": admin(),
    # Public figures: volumes and rates by department and month, nothing personal.
    "reports.stats": public(),
    "reports.monthly_latest": only(DEPARTMENT + ("supervisor", "official", "admin"), 302),
    "reports.monthly": only(DEPARTMENT + ("supervisor", "official", "admin")),
    "reports.monthly_xlsx": only(DEPARTMENT + ("supervisor", "official", "admin")),
    "reports.save_settings": admin(422),
    # --- Open311 GeoReport v2 (helper open311 adds rows here) ---------------------------
    # Open311 reads need no key and serve public matters only (V's complaint, nothing of
    # V); posting without a key is a 400 for everybody (api_key is required; the endpoint
    # is CSRF-exempt: the key is the credential); the keys are the admin's.
    "open311.discovery": public(),
    "open311.services": public(),
    "open311.service_definition_view": public(),
    "open311.requests": public(),
    "open311.post_requests": public(400),
    "open311.request_view": public(),
    "open311.token_view": public(404),
    "open311.updates": public(),
    "api_keys.index": admin(),
    "api_keys.new": {GET: admin(), POST: admin(422)},
    "api_keys.revoke": admin(404),  # no such key
    "api_keys.uses": admin(404),
    # --- the JSON API (helper api adds rows here) ----------------------------------------
    # A browser session opens no API route (a token does: tests/test_api.py); a POST with
    # the session's CSRF token is still unsigned (401), without one refused (400).
    "api.openapi": public(),
    "api.reference": public(),
    "api.list_cases": public(401),
    "api.get_case": public(401),
    "api.take_action": public(401),
    "api.get_client": public(401),
    "api.reveal": public(401),
    "api.report_workload": public(401),
    "api.report_rates": public(401),
    "api.list_answers": public(401),
    "api.get_answer": public(401),
    "api.list_ratings": public(401),
    "api.not_found": {GET: public(401), POST: public(401)},
    # Everyone's own tokens; an empty POST names nothing (422).
    "auth.tokens": signed_in(200),
    "auth.new_token": signed_in(422),
    "auth.revoke": signed_in(422),
    # --- category questions (helper questions adds rows here) ----------------------------
    "catalogue.category_questions": admin(),
    "catalogue.new_question": {GET: admin(), POST: admin(422)},
    "catalogue.edit_question": {GET: admin(), POST: admin(422)},
    "catalogue.move_category_question": admin(400),  # no direction given
    "knowledge.help_index": public(),
    "knowledge.suggest": public(),
    "knowledge.answer": public(404),
    "knowledge.feedback": public(404),
    "knowledge.index": only(CITYWIDE + DEPARTMENT),
    "knowledge.edit": {GET: only(QUEUES), POST: only(QUEUES, 422)},
    "knowledge.edit new": {GET: only(QUEUES), POST: only(QUEUES, 422)},
    "knowledge.send_to_review": only(QUEUES, 422),  # no version sent
    "knowledge.publish": only(TEMPLATE_KEEPERS, 422),
    "knowledge.unpublish": only(TEMPLATE_KEEPERS, 422),
    "knowledge.figures": admin(),
    # --- history imports (issue 15; helper import adds rows here) -------------------------
    # An empty upload names no file (422); import 999999 does not exist.
    "imports.index": {GET: admin(), POST: admin(422)},
    "imports.detail": admin(404),
    "imports.progress": admin(404),
    # --- smart intake: model versions (issue 15; helper learning adds rows here) ----------
    "intake_models.index": admin(),
    "intake_models.version_page": admin(404),  # no such version
    "intake_models.activate_version": admin(404),
    "intake_models.train": admin(302),  # too few closed cases: said so, nothing trained
    # --- smart intake: suggestions, settings, urgency words (helper suggesting) -----------
    # An empty POST (the CSRF token in the form) asks about nothing: 422 for intake staff
    # and clients who file; 401 without a sign-in; other staff may not ask.
    "intake_suggestions.suggest_categories": expect(
        403, anonymous=401, citizen=422, enterprise=422, clerk=422, supervisor=422, admin=422),
    "intake_admin.usage_page": admin(),
    "intake_admin.settings": {GET: admin(), POST: admin(422)},
    "intake_admin.urgency_words_page": {GET: admin(), POST: admin(422)},
    "intake_admin.save_urgency_word": admin(404),  # no word named
    "intake_admin.remove_urgency_word_view": admin(404),
}


def row_key(endpoint: str, rule: str) -> str:
    """An endpoint with several rules names the extra ones by their last path segment."""
    key = f"{endpoint} {rule.rstrip('/').rsplit('/', 1)[-1]}"
    return key if key in EXPECTED else endpoint


def expectation(endpoint: str, rule: str, method: str) -> Expect | None:
    row = EXPECTED.get(row_key(endpoint, rule))
    if isinstance(row, dict):
        return row.get(method)
    return row


def rule_methods(rule) -> list[str]:
    return [m for m in (GET, POST) if m in rule.methods]


def routes(app: Flask):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint != "static":
            yield rule


# --- V, the victim, and what of V must not show ------------------------------------------

V_NAME = "裘秘芳"
V_USERNAME = "qiu_victim"
V_EMAIL = "qiu.victim@victim-mail.cn"
V_PHONE = "13912345678"
V_ADDRESS = "鼓楼区隐秘巷77号"
V_ID_NUMBER = "11010519491231002" + resident_id_check_char("11010519491231002")
# T, a second client, reported an anonymous tip-off that department A (the handler's and
# the department head's own) leads: only supervisors (and T) may learn who filed it.
T_NAME = "郜举报"
T_USERNAME = "gao_reporter"
T_EMAIL = "gao.reporter@tip-mail.cn"
T_PHONE = "13787654321"


def encodings(value: str) -> set[str]:
    return {
        value,
        str(escape(value)),
        json.dumps(value)[1:-1],
        quote(value),
        quote(value, safe=""),
    }


def digits_pattern(value: str) -> str:
    return r"[\s\-]*".join(re.escape(c) for c in value)


@dataclass
class Needles:
    """V's personal values as patterns; ``full`` never shows, ``seen`` only to ``sees``."""

    full: dict[str, re.Pattern] = field(default_factory=dict)
    seen: dict[str, re.Pattern] = field(default_factory=dict)

    @classmethod
    def of(cls, *, name: str, username: str, email: str, phone: str, id_number: str = "",
           address: str = "") -> Needles:
        def pattern(*values: str, digits: str | None = None) -> re.Pattern:
            parts = sorted({re.escape(e) for v in values for e in encodings(v)}, key=len)
            if digits:
                parts.append(digits_pattern(digits))
            return re.compile("|".join(reversed(parts)), re.IGNORECASE)

        full = {"phone": pattern(phone, "+86" + phone, digits=phone), "e-mail": pattern(email)}
        seen = {
            "name": pattern(name),
            "username": pattern(username),
            "masked phone": pattern(mask_phone(phone)),
            "masked e-mail": pattern(mask_email(email)),
        }
        if id_number:
            full["ID number"] = pattern(id_number, digits=id_number)
            seen["masked ID number"] = pattern(mask_id_number(id_number))
        if address:
            seen["address"] = pattern(address)
        return cls(full, seen)

    def found(self, body: str) -> set[str]:
        checks = {**self.full, **self.seen}
        return {name for name, pattern in checks.items() if pattern.search(body)}


# --- the scene ---------------------------------------------------------------------------

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


# Probes beyond the URL map, for the tip-off: (path, expectation, whose data is checked).
# ``{tip}`` is the tip-off's number, ``{reporter}`` T's client id.
PROBES: list[tuple[str, Expect, str]] = [
    ("/cases/{tip}", only(CITYWIDE + DEPARTMENT, other=404, sees=("supervisor",)), "T"),
    ("/cases/{tip}/attachments/{tip_attachment}",
     only(CITYWIDE + DEPARTMENT, other=404, sees=("supervisor",)), "T"),
    # T's own record is open to citywide staff, but the tip-off is not listed on it...
    ("/clients/{reporter}", only(CITYWIDE, sees=CITYWIDE, handler=404, department_head=404),
     "T"),
    ("/clients/{reporter}", only(CITYWIDE, sees=("supervisor",), handler=404,
                                 department_head=404), "tip-off"),
    # ... and department A does not find T through the case it leads.
    # (searched by part of the name: the search box echoes the query itself)
    ("/clients?q=" + quote(T_NAME[:2]), only(CITYWIDE + DEPARTMENT, sees=CITYWIDE), "T"),
    ("/queues/department", only(DEPARTMENT, other=403, clerk=404, supervisor=404, admin=404),
     "T"),
    ("/queues/unassigned", only(QUEUES), "T"),
    # V's case by number with a wrong lookup code, and V chosen on the intake form.
    ("/track?number={number}&code=ABCD2345", public(404), "V"),
    ("/intake/new?client={client_id}", only(INTAKE, sees=INTAKE), "V"),
]


@dataclass
class Visitor:
    role: str
    username: str | None
    client: FlaskClient
    token: str = ""


@dataclass
class Scene:
    app: Flask
    args: dict[str, object]  # URL argument name → V's (or department B's) object
    by_endpoint: dict[str, dict[str, object]]  # arguments one endpoint needs otherwise
    visitors: dict[str, Visitor]
    probe_args: dict[str, object]
    needles: dict[str, Needles]

    def url(self, rule) -> str:
        values = {**self.args, **self.by_endpoint.get(rule.endpoint, {})}
        missing = set(rule.arguments) - set(values)
        assert not missing, f"{rule.rule}: the scene has no value for {missing}; add one"
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(values[name]), path)
        return path

    def sign_in(self, visitor: Visitor) -> None:
        if visitor.username:
            response = sign_in(visitor.client, visitor.username)
            assert response.status_code == 302, (visitor.role, response.status_code)
        visitor.token = page_token(visitor.client)


def page_token(client: FlaskClient) -> str:
    match = CSRF_RE.search(client.get("/").get_data(as_text=True))
    assert match, "no CSRF token on /"
    return match.group(1) or match.group(2)


def build_scene(app: Flask) -> Scene:
    world = make_world(app)
    urban, transport = world.urban, world.transport  # department A and department B
    victim = make_user(app, Role.CITIZEN, username=V_USERNAME, name=V_NAME, email=V_EMAIL,
                       phone=V_PHONE)
    users = {
        role.value: make_user(
            app, role, department_id=urban.id if role.value in DEPARTMENT else None
        )
        for role in Role
    }
    b_handler = make_user(app, Role.HANDLER, department_id=transport.id)
    case = make_case(app, victim, world, category_id=world.potholes.id,
                     title="井盖缺失", description="路口井盖缺失，夜间危险。")
    reporter = make_user(app, Role.CITIZEN, username=T_USERNAME, name=T_NAME, email=T_EMAIL,
                         phone=T_PHONE)
    tip = make_case(app, reporter, world, type=CaseType.TIPOFF, anonymous=True,
                    title="工地偷排污水", description="夜间向河道排放污水。")
    with app.app_context():
        session = db.session
        clerk = session.get(User, users["clerk"].id)
        tip_row = session.get(Case, tip.id)
        dispatch_case(tip_row, clerk, session.get(type(urban), urban.id))
        (tip_attachment,) = store_attachments(
            tip_row, session.get(User, reporter.id),
            [FileStorage(io.BytesIO(PNG), filename="排污.png")],
        )
        probe_args = {"tip": tip.number, "reporter": reporter.client_id,
                      "tip_attachment": tip_attachment.id}
        session.commit()
    needles = {
        "V": NEEDLES,
        "T": Needles.of(name=T_NAME, username=T_USERNAME, email=T_EMAIL, phone=T_PHONE),
        "tip-off": Needles(seen={"tip-off number": re.compile(re.escape(tip.number))}),
    }
    with app.app_context():
        session = db.session
        client = session.get(Client, victim.client_id)
        client.id_number = V_ID_NUMBER
        client.address = V_ADDRESS
        client.email_verified_at = utcnow()
        row = session.get(Case, case.id)
        clerk = session.get(User, users["clerk"].id)
        handler = session.get(User, b_handler.id)
        dispatch_case(row, clerk, session.get(type(urban), transport.id))
        perform(row, "sign_for", handler, ActionInput())
        perform(row, "reply", handler, ActionInput(note="已安排维修。"))
        perform(row, "redo", clerk, ActionInput(note="请核实维修时间。"))
        perform(row, "request_info", handler, ActionInput(note="请提供具体位置照片。"))
        v_user = session.get(User, victim.id)
        (attachment,) = store_attachments(
            row, v_user, [FileStorage(io.BytesIO(PNG), filename="井盖.png")]
        )
        add_contact(client, clerk, channel=ContactChannel.PHONE, summary="来电询问进度")
        message = InboxMessage(user_id=victim.id, case_id=row.id, subject="答复", body="已答复")
        deletion = request_deletion(client, v_user, "不再使用")
        template = ReplyTemplate(department_id=transport.id, title="维修", body="已安排。")
        rule = RoutingRule(category_id=world.potholes.id, department_id=transport.id)
        question = CategoryQuestion(category_id=world.potholes.id, code="depth",
                                    kind=QuestionType.NUMBER, question_zh="深度")
        day = CalendarDay(day=date(2026, 10, 1), is_workday=False, name="国庆节")
        draft = KnowledgeAnswer(title="如何申请占道施工", body="草稿。", status="draft",
                                author_id=users["clerk"].id)
        session.add_all([message, template, rule, day, draft, question])
        session.flush()
        rating = session.scalar(select(Rating).where(Rating.case_id == row.id))
        review = BadReview(rating_id=rating.id, case_id=row.id, department_id=transport.id,
                           stage=BadReviewStage.VERIFYING, due_at=utcnow())
        kept, removed = active_dimensions()[:2]
        alert = HotspotAlert(district_id=world.gulou.id, category_id=world.potholes.id,
                             window_start=date(2026, 11, 1), window_end=date(2026, 11, 3),
                             count=9, baseline=1.0, threshold=5.0)
        session.add_all([review, alert])
        session.flush()
        args = {
            "number": row.number,
            "action": "withdraw",
            "attachment_id": attachment.id,
            "client_id": client.id,
            "user_id": victim.id,
            "message_id": message.id,
            "request_id": deletion.id,
            "template_id": template.id,
            "rule_id": rule.id,
            "question_id": question.id,
            "category_id": world.potholes.id,
            "department_id": transport.id,
            "district_id": world.gulou.id,
            "day": day.day.isoformat(),
            "event": "reply",
            "channel": "email",
            "locale": "zh_CN",
            "name": "waiting",
            "answer_id": draft.id,
            "rating_id": rating.id,
            "review_id": review.id,
            "step": "verify",
            "dimension_id": kept.id,
            "alert_id": alert.id,
            "month": "2026-03",
            "fmt": "json",  # Open311's .json / .xml
            "service_code": world.potholes.code,
            "service_request_id": row.number,
            "token": "no-such-token",
            "key_id": 999999,
            "version": 999999,  # smart intake: no such model version
            "import_id": 999999,
        }
        by_endpoint = {
            "auth.reset_password": {"token": reset_token(v_user)},
            "cases.bulk_reply": {"name": "department"},
            "satisfaction.rate": {"token": rating_token(rating)},
            "satisfaction.remove_dimension": {"dimension_id": removed.id},
            "reports.export": {"name": "rates", "fmt": "csv"},
            "api.not_found": {"rest": "nothing-here"},
        }
        session.commit()
    from citizens.registration import VERIFY_SALT
    from portal.auth.passwords import signed_serializer

    with app.test_request_context():
        by_endpoint["citizens.verify_email"] = {
            "token": signed_serializer(VERIFY_SALT).dumps({"u": victim.id, "e": V_EMAIL.lower()})
        }
    visitors = {"anonymous": Visitor("anonymous", None, app.test_client())}
    for role, user in users.items():
        visitors[role] = Visitor(role, user.username, app.test_client())
    scene = Scene(app, args, by_endpoint, visitors, probe_args, needles)
    for visitor in visitors.values():
        scene.sign_in(visitor)
    return scene


# Generous limits for this module: the matrix asks who may, not how often.
LIMITS = ("RESET_RATE_LIMIT", "PHONE_GUESS_RATE_LIMIT", "PHONE_CODE_RATE_LIMIT",
          "REGISTER_RATE_LIMIT", "LOGIN_RATE_LIMIT", "FILING_RATE_LIMIT", "TRACK_RATE_LIMIT",
          "RATING_RATE_LIMIT")


@pytest.fixture(scope="module")
def scene(app: Flask) -> Iterator[Scene]:
    saved = {key: app.config.get(key) for key in LIMITS}
    app.config.update({key: "10000 per minute" for key in LIMITS})
    with app.app_context():
        limiter.reset()
    try:
        yield build_scene(app)
    finally:
        app.config.update(saved)
        empty_tables(app)


# --- checking ----------------------------------------------------------------------------

NEEDLES = Needles.of(name=V_NAME, username=V_USERNAME, email=V_EMAIL, phone=V_PHONE,
                     id_number=V_ID_NUMBER, address=V_ADDRESS)
# Written by any request of a signed-in user (the session's last use) or by the limiter.
VOLATILE_TABLES = {"user_sessions", "rate_limit_counters"}


def fingerprint(app: Flask) -> dict[str, str]:
    """A digest of every table's rows: a GET must leave each one as it was."""
    digests = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if table.name in VOLATILE_TABLES:
                continue
            rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
            digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
        db.session.remove()
    return digests


def judge(expected: Expect, visitor: Visitor, response, shown: set[str],
          needles: Needles = NEEDLES) -> list[str]:
    """What is wrong with one response (an empty list when all is well).

    ``shown`` collects what of V the roles in ``sees`` were shown: the proof that the
    needles find V's data where it legitimately is.
    """
    want = expected.status[visitor.role]
    got: int | str = response.status_code
    location = response.headers.get("Location", "")
    if got == 302 and location.startswith("/login"):
        got = LOGIN if want == LOGIN else got
    problems = []
    if got != want:
        where = f" → {location}" if location else ""
        problems.append(f"status {got}{where}, expected {want}")
    body = response.get_data().decode("utf-8", "replace")
    response.close()  # a file download holds its file open until closed
    found = needles.found(body)
    if visitor.role in expected.sees:
        shown |= found
        found &= set(needles.full)
    if found:
        whose = "V's" if needles is NEEDLES else "the reporter's"
        problems.append(f"shows {whose} {', '.join(sorted(found))}")
    return problems


def request(scene: Scene, visitor: Visitor, method: str, url: str, token: bool = True):
    if method == GET:
        return visitor.client.get(url)
    data = {"csrf_token": visitor.token} if token else {}
    response = visitor.client.post(url, data={**data, **POST_DATA.get(url, {})})
    if url == "/logout" and visitor.username and response.status_code == 302:
        scene.sign_in(visitor)  # back in for the rest of the matrix
    elif response.status_code in (302, 303) and visitor.username and not (
        response.headers.get("Location", "").startswith("/login")
    ):
        visitor.client.get("/").close()  # show its flash here, not on the next response
    return response


# What a POST sends besides its CSRF token: nothing, except where an empty form would wipe
# the very values the leak check looks for.
POST_DATA: dict[str, dict[str, str]] = {}


def report(title: str, failures: list[str]) -> str:
    return f"{title} ({len(failures)}):\n  " + "\n  ".join(failures)


# --- the tests ---------------------------------------------------------------------------


def test_every_route_has_an_entry(app: Flask):
    missing, seen = [], set()
    for rule in routes(app):
        key = row_key(rule.endpoint, rule.rule)
        seen.add(key)
        for method in rule_methods(rule):
            if expectation(rule.endpoint, rule.rule, method) is None:
                missing.append(f"{method} {rule.rule} (endpoint {key!r})")
    stale = sorted(set(EXPECTED) - seen)
    assert not missing, report(
        "Routes without a row in EXPECTED of tests/test_role_routes.py; add one saying what "
        "every role gets", missing
    )
    assert not stale, f"EXPECTED has rows for endpoints that no longer exist: {stale}"


def get_pass(app: Flask, scene: Scene, each_rule: bool) -> tuple[list[str], set[str]]:
    """Every GET route as every role; with ``each_rule``, name the routes that wrote."""
    failures, shown = [], set()
    before = fingerprint(app)
    for rule in routes(app):
        expected = expectation(rule.endpoint, rule.rule, GET)
        if GET not in rule.methods or expected is None:
            continue
        url = scene.url(rule)
        for role in ROLES:
            visitor = scene.visitors[role]
            response = request(scene, visitor, GET, url)
            for problem in judge(expected, visitor, response, shown):
                failures.append(f"GET {url} as {role}: {problem}")
        if each_rule:
            after = fingerprint(app)
            changed = [k for k, v in after.items() if before.get(k) != v]
            if changed:
                failures.append(f"GET {url} changed {', '.join(changed)}")
            before = after
    if not each_rule and fingerprint(app) != before:
        failures.append("a GET changed the database")
    return failures, shown


def test_get_routes_by_role(app: Flask, scene: Scene):
    failures, shown = get_pass(app, scene, each_rule=False)
    if "a GET changed the database" in failures:
        failures, shown = get_pass(app, scene, each_rule=True)  # which one?
    assert not failures, report("GET routes answering other than EXPECTED says", failures)
    # The needles work: staff who may see V were shown V's name, address and masked data.
    assert shown >= set(NEEDLES.seen) - {"username"}, shown


def test_posts_without_csrf_token_are_refused(app: Flask, scene: Scene):
    failures = []
    for rule in routes(app):
        if POST not in rule.methods:
            continue
        url = scene.url(rule)
        for role in ROLES:
            response = request(scene, scene.visitors[role], POST, url, token=False)
            if response.status_code != 400:
                failures.append(f"POST {url} as {role} without a token: {response.status_code}")
    assert not failures, report("POSTs accepted without a CSRF token", failures)


def test_post_routes_by_role(app: Flask, scene: Scene):
    failures = []
    for rule in routes(app):
        expected = expectation(rule.endpoint, rule.rule, POST)
        if POST not in rule.methods or expected is None:
            continue
        url = scene.url(rule)
        for role in ROLES:
            visitor = scene.visitors[role]
            response = request(scene, visitor, POST, url)
            for problem in judge(expected, visitor, response, set()):
                failures.append(f"POST {url} as {role}: {problem}")
    assert not failures, report("POST routes answering other than EXPECTED says", failures)



def test_anonymous_tip_off_hides_its_reporter(app: Flask, scene: Scene):
    failures, shown = [], set()
    for path, expected, whose in PROBES:
        url = path.format(**scene.args, **scene.probe_args)
        for role in ROLES:
            visitor = scene.visitors[role]
            response = request(scene, visitor, GET, url)
            for problem in judge(expected, visitor, response, shown, scene.needles[whose]):
                failures.append(f"GET {url} as {role}: {problem}")
    assert not failures, report("The tip-off's reporter shows where it must not", failures)
    assert {"name", "tip-off number"} <= shown, shown  # the supervisor does see them
