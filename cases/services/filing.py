"""The filing step: a new case with its number, first event, contact line and route.

``cases.filing.file_request`` is the door every channel uses; this is the step behind it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import update

from cases.actors import Actor, Who
from cases.models import Case, CaseAnswer, CaseStatus, CaseType, Category, Channel, Priority
from cases.services.catalogue import local_now, next_case_number, route_department
from cases.services.lifecycle import _dispatch_to
from cases.services.rules import record_event
from cases.tracking import issue_tracking_code
from citizens.models import Client, ContactChannel, ContactLog
from portal.changes import record_change
from portal.db import db
from portal.errors import DomainError
from portal.models import District

log = logging.getLogger(__name__)


CONTACT_CHANNELS = {
    Channel.WEB: ContactChannel.WEB,
    Channel.MOBILE: ContactChannel.WEB,
    Channel.PHONE: ContactChannel.PHONE,
    Channel.WALK_IN: ContactChannel.WALK_IN,
    Channel.LETTER: ContactChannel.LETTER,
    Channel.EMAIL: ContactChannel.EMAIL,
    Channel.OPEN311: ContactChannel.WEB,
    Channel.API: ContactChannel.WEB,
}



@dataclass(frozen=True)
class CaseRequest:
    """What a client asks: the fields of the filing form, already validated."""

    type: CaseType
    category_id: int
    title: str
    description: str
    district_id: int
    channel: Channel = Channel.WEB
    priority: Priority = Priority.NORMAL
    anonymous: bool = False
    # Where (Open311's location; optional everywhere).
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None
    address_id: str | None = None
    # The category's extra questions, answered: (question id, value as stored), already
    # checked by ``cases.catalogue.questions.validate_answers``.
    answers: tuple[tuple[int, str], ...] = ()



def file_case(client: Client, filed_by: Who, request: CaseRequest) -> Case:
    """Record a new case; dispatch it at once when a routing rule matches.

    The filing step of ``cases.filing.file_request`` (the door every channel uses).
    """
    category = db.session.get(Category, request.category_id)
    if category is None or not category.is_active:
        raise DomainError(_("Choose a category from the list."), field="category")
    if db.session.get(District, request.district_id) is None:
        raise DomainError(_("Choose a district from the list."), field="district")
    case = Case(
        number=next_case_number(local_now().year),
        type=request.type,
        channel=request.channel,
        priority=request.priority,
        status=CaseStatus.SUBMITTED,
        title=request.title.strip(),
        description=request.description.strip(),
        category=category,
        district_id=request.district_id,
        client_id=client.id,
        filed_by_id=Actor.of(filed_by).user_id,
        anonymous=request.anonymous and request.type == CaseType.TIPOFF,
        latitude=request.latitude,
        longitude=request.longitude,
        address=(request.address or "").strip() or None,
        address_id=(request.address_id or "").strip() or None,
    )
    case.answers = [CaseAnswer(question_id=qid, value=value) for qid, value in request.answers]
    if client.vulnerable and case.priority.rank < Priority.HIGH.rank:
        case.priority = Priority.HIGH  # vulnerable groups are handled with priority
    case.issued_tracking_code = issue_tracking_code(case)  # shown once, never stored plain
    db.session.add(case)
    db.session.flush()
    record_event(case, filed_by, "file", None, CaseStatus.SUBMITTED)
    record_filing_contact(client, case, filed_by)
    department = route_department(category.id, request.district_id)
    if department is not None:
        _dispatch_to(case, department, None, "route")
    log.info("case %s filed by user %s", case.number, Actor.of(filed_by).user_id)
    return case


def record_filing_contact(client: Client, case: Case, filed_by: Who) -> None:
    """A filing is a contact: counted for engagement and written to the contact log."""
    db.session.execute(
        update(Client)
        .where(Client.id == client.id)
        .values(case_count=Client.case_count + 1)
        .execution_options(synchronize_session=False)
    )
    record_change("client", client.id)  # the counter bypasses the unit of work
    who = Actor.of(filed_by)
    staff = who.user if who.kind == "staff" else None
    db.session.add(
        ContactLog(
            client_id=client.id,
            channel=CONTACT_CHANNELS.get(case.channel, ContactChannel.WEB),
            staff_id=staff.id if staff else None,
            case_id=case.id,
            summary=f"{case.number} {case.title}",
            automatic=True,
        )
    )

