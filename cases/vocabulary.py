"""The words a case is described in: its type, channel, state, priority, deadline state and
the state of an extension request, each with its label in both languages.
``cases.models`` re-exports them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.i18n import LabelledEnum, bind_labels


class CaseType(LabelledEnum):
    ENQUIRY = "enquiry"
    HELP = "help"
    COMPLAINT = "complaint"
    TIPOFF = "tipoff"
    SUGGESTION = "suggestion"
    PRAISE = "praise"


CASE_TYPE_LABELS = bind_labels(
    CaseType,
    {
        CaseType.ENQUIRY: _l("Enquiry"),
        CaseType.HELP: _l("Request for help"),
        CaseType.COMPLAINT: _l("Complaint"),
        CaseType.TIPOFF: _l("Tip-off"),
        CaseType.SUGGESTION: _l("Suggestion"),
        CaseType.PRAISE: _l("Praise"),
    },
)


class Channel(LabelledEnum):
    WEB = "web"
    MOBILE = "mobile"
    PHONE = "phone"
    WALK_IN = "walk_in"
    LETTER = "letter"
    EMAIL = "email"
    OPEN311 = "open311"  # an Open311 GeoReport v2 client (an app, another city system)
    API = "api"  # a staff tool on the JSON API


CHANNEL_LABELS = bind_labels(
    Channel,
    {
        Channel.WEB: _l("Web"),
        Channel.MOBILE: _l("Mobile web"),
        Channel.PHONE: _l("Phone hotline"),
        Channel.WALK_IN: _l("Service window"),
        Channel.LETTER: _l("Letter"),
        Channel.EMAIL: _l("E-mail"),
        Channel.OPEN311: _l("Open311 app"),
        Channel.API: _l("JSON API"),
    },
)


class CaseStatus(LabelledEnum):
    """Every state of DOMAIN.md's life cycle; ``cases.workflow`` says how they connect."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    REPLIED = "replied"
    CLOSED = "closed"
    NOT_ACCEPTED = "not_accepted"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"

    @property
    def is_open(self) -> bool:
        return self not in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {CaseStatus.CLOSED, CaseStatus.NOT_ACCEPTED, CaseStatus.WITHDRAWN, CaseStatus.MERGED}
)

CASE_STATUS_LABELS = bind_labels(
    CaseStatus,
    {
        CaseStatus.SUBMITTED: _l("Submitted"),
        CaseStatus.ACCEPTED: _l("Accepted"),
        CaseStatus.DISPATCHED: _l("Dispatched"),
        CaseStatus.IN_PROGRESS: _l("In progress"),
        CaseStatus.WAITING: _l("Waiting for client"),
        CaseStatus.REPLIED: _l("Replied"),
        CaseStatus.CLOSED: _l("Closed"),
        CaseStatus.NOT_ACCEPTED: _l("Not accepted"),
        CaseStatus.WITHDRAWN: _l("Withdrawn"),
        CaseStatus.MERGED: _l("Merged"),
    },
)


class Priority(LabelledEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return PRIORITY_RANK[self]


PRIORITY_LABELS = bind_labels(
    Priority,
    {
        Priority.LOW: _l("Low"),
        Priority.NORMAL: _l("Normal"),
        Priority.HIGH: _l("High"),
        Priority.URGENT: _l("Urgent"),
    },
)
PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class DueState(LabelledEnum):
    """What the last sweep found about the running deadline."""

    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


DUE_STATE_LABELS = bind_labels(
    DueState,
    {
        DueState.ON_TIME: _l("On time"),
        DueState.DUE_SOON: _l("Due soon"),
        DueState.OVERDUE: _l("Overdue"),
    },
)


class ExtensionStatus(LabelledEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


EXTENSION_STATUS_LABELS = bind_labels(
    ExtensionStatus,
    {
        ExtensionStatus.PENDING: _l("Pending"),
        ExtensionStatus.APPROVED: _l("Approved"),
        ExtensionStatus.REFUSED: _l("Refused"),
    },
)
