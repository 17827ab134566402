"""The faces of a case: what staff, the case's client and the public may read of it.

One module decides; the case page (``cases/show.html``), the lookup at ``/track`` and the
client's notifications (``cases.notifications``) read through it. *Who* may open a case
at all is ``cases.visibility``; this module says what each reader then sees.

| part | STAFF (may see the case) | CLIENT (the case's client) | PUBLIC (``/track``) |
|---|---|---|---|
| fields | ``STAFF_FIELDS`` | ``CLIENT_FIELDS`` | ``PUBLIC_FIELDS`` |
| timeline events | all | public ones | none |
| event notes | all | public steps of ``CLIENT_NOTES`` | none |
| event details | all | ``CLIENT_DETAILS`` of public steps | none |
| replies | public ones | public ones | public ones (the master's, if merged) |
| master's replies | public ones | public ones | none (shown as replies) |
| internal notes | all | none | none |
| attachments | all | public ones and the client's own | none |
| who filed it | ``can_see_reporter`` | ``can_see_reporter`` | never |

Notifications say the newest public reply of the case itself (``latest_reply``) and the
note of the newest public step (``latest_public_note``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from flask_login import AnonymousUserMixin
from sqlalchemy import select

from cases.models import Attachment, Case, CaseEvent, CaseReply
from cases.visibility import can_see_reporter
from portal.db import db
from portal.models import User
from portal.permissions import can_see_internal


class Audience(Enum):
    STAFF = "staff"
    CLIENT = "client"
    PUBLIC = "public"


# What the public lookup shows: nothing personal (no names, contact data, description,
# district, department), only how the request stands.
PUBLIC_FIELDS = frozenset(
    {"number", "title", "status", "type", "category", "created_at", "replied_at",
     "closed_at", "merged_into"}
)
# The case page as its client reads it.
CLIENT_FIELDS = frozenset(
    {"number", "title", "status", "type", "category", "district", "channel", "created_at",
     "department", "closed_at", "description", "merged_into"}
)
# Staff read these too: how the case is being worked, and who filed it.
STAFF_FIELDS = CLIENT_FIELDS | {
    "priority", "due_state", "supervised", "escalated", "urge_count", "assists",
    "assignee", "client", "deadlines", "extension_requests",
}
FIELDS = {
    Audience.STAFF: STAFF_FIELDS,
    Audience.CLIENT: CLIENT_FIELDS,
    Audience.PUBLIC: PUBLIC_FIELDS,
}
# The timeline steps whose note is written for the client (a reason, a question, their
# own words); other notes on public steps are staff's.
CLIENT_NOTES = frozenset({"not_accept", "request_info", "withdraw", "client_info"})
# What changed (``CaseEvent.details``) that the client may read on a public step: the
# department now handling it (a CLIENT_FIELDS field) and the case theirs was merged into.
CLIENT_DETAILS = frozenset({"department", "master"})


def audience_of(user: User | AnonymousUserMixin) -> Audience:
    """The face a user who may see a case reads: staff's, else the client's."""
    return Audience.STAFF if can_see_internal(user) else Audience.CLIENT


def public_fields(audience: Audience) -> frozenset[str]:
    return FIELDS[audience]


def timeline(case: Case, audience: Audience) -> list[CaseEvent]:
    if audience is Audience.STAFF:
        return list(case.events)
    if audience is Audience.CLIENT:
        return [e for e in case.events if e.is_public]
    return []


def shows_note(event: CaseEvent, audience: Audience) -> bool:
    """Whether the audience reads ``event``'s note on the timeline."""
    if not event.note or audience is Audience.PUBLIC:
        return False
    return audience is Audience.STAFF or (event.is_public and event.action in CLIENT_NOTES)


def event_details(event: CaseEvent, audience: Audience) -> dict:
    """The part of ``event.details`` the audience reads (staff all; never internal fields)."""
    if not event.details or audience is Audience.PUBLIC:
        return {}
    if audience is Audience.STAFF:
        return dict(event.details)
    if not event.is_public:
        return {}
    return {k: v for k, v in event.details.items() if k in CLIENT_DETAILS}


def replies(case: Case, audience: Audience) -> list[CaseReply]:
    """The answers: public replies (on ``/track`` a merged duplicate shows its master's)."""
    source = (case.merged_into or case) if audience is Audience.PUBLIC else case
    return [r for r in source.replies if r.is_public]


def master_replies(case: Case, audience: Audience) -> list[CaseReply]:
    """A merged duplicate's client reads the master's public replies on their own case."""
    if audience is Audience.PUBLIC or case.merged_into is None:
        return []
    return [r for r in case.merged_into.replies if r.is_public]


def internal_notes(case: Case, audience: Audience) -> list[CaseReply]:
    return [r for r in case.replies if not r.is_public] if audience is Audience.STAFF else []


def attachments(case: Case, audience: Audience) -> list[Attachment]:
    if audience is Audience.STAFF:
        return list(case.attachments)
    if audience is Audience.CLIENT:
        return [a for a in case.attachments if a.is_public or _by_client(a, case)]
    return []


def _by_client(attachment: Attachment, case: Case) -> bool:
    uploader = attachment.uploaded_by
    return uploader is not None and uploader.client_id == case.client_id


@dataclass(frozen=True)
class Face:
    """One audience's view of one case, as the templates read it."""

    case: Case
    audience: Audience
    reporter_visible: bool
    fields: frozenset[str]
    events: list[CaseEvent] = field(default_factory=list)
    replies: list[CaseReply] = field(default_factory=list)
    master_replies: list[CaseReply] = field(default_factory=list)
    notes: list[CaseReply] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def staff(self) -> bool:
        return self.audience is Audience.STAFF

    def shows(self, name: str) -> bool:
        return name in self.fields

    def shows_note(self, event: CaseEvent) -> bool:
        return shows_note(event, self.audience)

    def details(self, event: CaseEvent) -> dict:
        return event_details(event, self.audience)


def face(case: Case, audience: Audience, viewer: User | None = None) -> Face:
    """``case`` as ``audience`` reads it; ``viewer`` (staff) decides on a tip-off's reporter."""
    reporter = (
        audience is not Audience.PUBLIC and viewer is not None and can_see_reporter(viewer, case)
    )
    return Face(
        case=case,
        audience=audience,
        reporter_visible=reporter,
        fields=public_fields(audience),
        events=timeline(case, audience),
        replies=replies(case, audience),
        master_replies=master_replies(case, audience),
        notes=internal_notes(case, audience),
        attachments=attachments(case, audience),
    )


# --- for notifications: the latest of what the client reads -----------------------


def latest_reply(case: Case) -> str | None:
    """The newest public reply written on ``case`` itself (what ``{reply}`` says)."""
    return db.session.scalar(
        select(CaseReply.body)
        .where(CaseReply.case_id == case.id, CaseReply.is_public.is_(True))
        .order_by(CaseReply.id.desc())
        .limit(1)
    )


def latest_public_note(case: Case, actions: tuple[str, ...]) -> str | None:
    """The note of the newest public timeline step among ``actions`` (what ``{note}`` says)."""
    return db.session.scalar(
        select(CaseEvent.note)
        .where(
            CaseEvent.case_id == case.id,
            CaseEvent.action.in_(actions),
            CaseEvent.is_public.is_(True),
        )
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )
