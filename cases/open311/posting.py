"""``POST requests``: a form-encoded service request becomes an ordinary case.

The request is read as the standard sends it (``application/x-www-form-urlencoded``):
``service_code``; a location (``lat`` and ``long``, or ``address_string``, or
``address_id``); ``attribute[code]`` answers (``attribute[code][]`` repeated for a
multivaluelist), checked by ``cases.catalogue.questions.validate_answers``; who asks
(``email``, ``phone``, ``first_name``, ``last_name``; ``device_id`` and ``account_id``
are the client app's own and are not kept); ``description`` and ``media_url``.

Who asks: an existing client record with the same phone number, else the same e-mail
address, else a new record made from what was sent, as clerk intake makes one (a phone
number that is not a Chinese mobile or landline number is left out)
(``citizens.services.ClientDetails``); nothing sent at all: a new record named
"Open311 reporter". Where it is filed: the ``district`` extension parameter (a district
code), else ``OPEN311_DEFAULT_DISTRICT``, else the first district of the list. The case is
a complaint (a public matter: ``GET requests`` serves it) on the ``open311`` channel, filed
through ``cases.filing.file_request`` by the system: routed, given its deadlines and
notified like any other.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from cases.actors import Actor
from cases.catalogue.questions import validate_answers
from cases.filing import Filing, file_request
from cases.models import Case, CaseType, Category, Channel
from cases.open311.formats import Open311Error
from cases.open311.models import ApiKey, Open311Token
from cases.open311.service_list import leaf_by_code
from cases.open311.statuses import setting
from cases.services import CaseRequest
from citizens import services as client_services  # the module: see cases.filing
from citizens.models import Client, ClientKind
from portal.db import db
from portal.errors import DomainError
from portal.models import District
from portal.params import clean_text
from portal.validators import PHONE_RE, normalise_phone

ATTRIBUTE_RE = re.compile(r"^attribute\[([^\[\]]{1,40})\](\[\])?$")
TITLE_LENGTH = 60
MAX_DESCRIPTION = 4000


@dataclass(frozen=True)
class Posted:
    """What a POST made: the case's number, its token, and what to tell the client."""

    filing: Filing
    token: str


def _text(form: MultiDict, name: str, limit: int) -> str:
    value = clean_text(form.get(name) or "").strip()
    if len(value) > limit:
        raise Open311Error(400, _("%(field)s is too long (at most %(max)d characters).",
                                  field=name, max=limit))
    return value


def _coordinate(form: MultiDict, name: str, bound: float) -> float | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = None
    if value is None or value != value or not -bound <= value <= bound:
        raise Open311Error(400, _("%(field)s is not a WGS84 coordinate.", field=name))
    return value


def answers_given(form: MultiDict) -> dict[str, list[str]]:
    """``attribute[code]`` (and ``attribute[code][]``) values, by question code."""
    raw: dict[str, list[str]] = {}
    for key in form:
        match = ATTRIBUTE_RE.match(key)
        if match:
            raw.setdefault(match.group(1), []).extend(form.getlist(key))
    return raw


def district_for(code: str) -> District:
    """The district named by ``code``, else the configured default, else the first one."""
    code = code or (setting("OPEN311_DEFAULT_DISTRICT") or "")
    if code:
        district = db.session.scalar(select(District).where(District.code == code))
        if district is None:
            raise Open311Error(400, _("district %(code)s is not a district code.", code=code))
        return district
    district = db.session.scalar(select(District).order_by(District.position, District.id))
    if district is None:
        raise Open311Error(400, _("No district is set up to file requests in."))
    return district


def existing_client(phone: str, email: str) -> Client | None:
    """A live client record with this phone number, else with this e-mail address."""
    live = (Client.merged_into_id.is_(None), Client.anonymised_at.is_(None))
    if phone:
        found = db.session.scalar(
            select(Client).where(Client.phone == phone, *live).order_by(Client.id).limit(1)
        )
        if found is not None:
            return found
    if email:
        return db.session.scalar(
            select(Client).where(func.lower(Client.email) == email.lower(), *live)
            .order_by(Client.id).limit(1)
        )
    return None


def _phone(form: MultiDict) -> str:
    """The phone number sent, as the portal writes numbers; "" when it is not a Chinese
    mobile or landline number (an app's number in another plan is not kept)."""
    phone = normalise_phone(_text(form, "phone", 32))
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            phone = phone[len(prefix):]
    return phone if PHONE_RE.match(phone) else ""


def post_request(form: MultiDict, key: ApiKey) -> Posted:
    """File the posted request; an ``Open311Error`` (400/404) says what is wrong."""
    code = _text(form, "service_code", 40)
    if not code:
        raise Open311Error(400, _("service_code is required."))
    category = leaf_by_code(code)
    if category is None:
        raise Open311Error(404, _("service_code %(code)s was not found.", code=code))
    lat, lng = _coordinate(form, "lat", 90), _coordinate(form, "long", 180)
    address = _text(form, "address_string", 300)
    address_id = _text(form, "address_id", 100)
    if (lat is None) != (lng is None):
        raise Open311Error(400, _("lat and long are given together."))
    if lat is None and not address and not address_id:
        raise Open311Error(400, _("A location is required: lat and long, address_string or "
                                  "address_id."))
    description = _text(form, "description", MAX_DESCRIPTION)
    media_url = _text(form, "media_url", 500)
    if media_url and not re.match(r"^https?://\S+$", media_url):
        raise Open311Error(400, _("media_url is not an http(s) URL."))
    district = district_for(_text(form, "district", 40))
    try:
        answers = validate_answers(category, answers_given(form))
        filing = file_request(
            CaseRequest(
                type=CaseType.COMPLAINT,
                category_id=category.id,
                title=title_of(description, category),
                description=full_description(description, media_url, category),
                district_id=district.id,
                channel=Channel.OPEN311,
                latitude=lat,
                longitude=lng,
                address=address or None,
                address_id=address_id or None,
                answers=answers,
            ),
            actor=Actor.system(),
            **asker(form),
        )
    except DomainError as error:
        raise Open311Error(400, str(error)) from error
    token = secrets.token_urlsafe(24)
    db.session.add(Open311Token(token=token, case_id=filing.case.id, api_key_id=key.id))
    db.session.flush()
    return Posted(filing, token)


def asker(form: MultiDict) -> dict:
    """``file_request``'s client argument: the person found, or the details to make one."""
    phone = _phone(form)
    email = _text(form, "email", 254)
    found = existing_client(phone, email)
    if found is not None:
        return {"client": found}
    name = " ".join(p for p in (_text(form, "first_name", 50), _text(form, "last_name", 50))
                    if p)
    return {"new_client": client_services.ClientDetails(
        kind=ClientKind.CITIZEN,
        name=name or _("Open311 reporter"),
        phone=phone or None,
        email=email or None,
    )}


def title_of(description: str, category: Category) -> str:
    """The case's title: the first line of the description, else the service's name."""
    first = next((line.strip() for line in description.splitlines() if line.strip()), "")
    if not first:
        return category.name_zh
    return first if len(first) <= TITLE_LENGTH else first[:TITLE_LENGTH - 1] + "…"


def full_description(description: str, media_url: str, category: Category) -> str:
    text = description or category.name_zh
    return f"{text}\n\n{media_url}" if media_url else text


def token_request_id(token: str) -> str | None:
    """The request id (case number) a token became, or None."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(
        select(Case.number).join(Open311Token, Open311Token.case_id == Case.id)
        .where(Open311Token.token == token)
    )
