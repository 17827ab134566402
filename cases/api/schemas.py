"""The API's request and response shapes (pydantic): spectree validates requests with them
and writes the OpenAPI document from them, so the document is the code."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cases.knowledge.models import ANSWER_STATUSES
from cases.models import CaseStatus, CaseType, Priority
from cases.queries import QUEUE_NAMES
from cases.workflow import RECORDS, TRANSITIONS

QueueName = Literal[QUEUE_NAMES]  # type: ignore[valid-type]
ActionName = Literal[tuple(TRANSITIONS) + tuple(RECORDS)]  # type: ignore[valid-type]
Status = Literal[tuple(s.value for s in CaseStatus)]  # type: ignore[valid-type]
TypeName = Literal[tuple(t.value for t in CaseType)]  # type: ignore[valid-type]
PriorityName = Literal[tuple(p.value for p in Priority)]  # type: ignore[valid-type]
Id = Field(default=None, ge=1, le=2_147_483_647)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors -------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, for programs: not_found, invalid_token, ...")
    message: str = Field(description="For people, in the language asked for")
    fields: dict[str, Any] = Field(default_factory=dict,
                                   description="What was wrong with which input")


class ErrorBody(BaseModel):
    error: ErrorDetail


# --- small pieces -------------------------------------------------------------------------


class Named(BaseModel):
    id: int
    name: str


class Link(BaseModel):
    number: str


# --- cases ----------------------------------------------------------------------------------


class CaseListQuery(Strict):
    queue: QueueName | None = Field(default=None, description="A staff queue; none: every "
                                    "case the token's owner may see")
    q: str | None = Field(default=None, max_length=200, description="Full-text search")
    status: Status | None = None
    category_id: int | None = Id
    district_id: int | None = Id
    priority: PriorityName | None = None
    type: TypeName | None = None
    sort: Literal["due", "newest", "oldest", "replied"] | None = None
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=20, ge=1, le=100)


class CaseItem(BaseModel):
    number: str
    title: str
    status: str
    status_label: str
    type: str
    category: Named
    district: Named
    department: Named | None
    created_at: datetime
    closed_at: datetime | None
    priority: str | None = Field(description="Staff only")
    due_at: datetime | None = Field(description="Staff only")
    due_state: str | None = Field(description="Staff only")
    assignee: Named | None = Field(description="Staff only")


class CaseList(BaseModel):
    items: list[CaseItem]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; "
                                    "null on the last page")


class ClientRef(BaseModel):
    id: int
    name: str
    phone: str | None = Field(description="Masked")
    anonymous: bool


class TimelineItem(BaseModel):
    at: datetime
    action: str
    label: str
    actor_kind: str
    actor: str | None
    to_status: str | None
    details: str | None
    note: str | None


class ReplyItem(BaseModel):
    at: datetime
    body: str
    author: str | None


class AttachmentItem(BaseModel):
    id: int
    filename: str
    size: int
    url: str


class ExtensionItem(BaseModel):
    days: int
    status: str
    reason: str | None
    requested_by: str | None
    requested_at: datetime


class Deadlines(BaseModel):
    sign_due_at: datetime | None
    reply_due_at: datetime | None
    due_at: datetime | None
    paused_at: datetime | None
    departments_passed: int
    redo_count: int


class ActionOffer(BaseModel):
    action: str
    label: str
    kind: Literal["transition", "record"]
    needs_note: bool


class AnswerItem(BaseModel):
    question: str
    answer: str


class CaseDetail(BaseModel):
    number: str
    version: int = Field(description="Send it back with a step: a stale one is a 409")
    audience: Literal["staff", "client"]
    title: str
    status: str
    status_label: str
    type: str
    category: Named
    district: Named | None
    channel: str | None
    department: Named | None
    created_at: datetime
    closed_at: datetime | None
    description: str | None
    merged_into: str | None
    priority: str | None = None
    due_state: str | None = None
    supervised: bool | None = None
    escalated: bool | None = None
    urge_count: int | None = None
    assists: list[Named] | None = None
    assignee: Named | None = None
    client: ClientRef | None = Field(default=None, description="Masked; null when the "
                                     "reporter of a tip-off is hidden from the reader")
    deadlines: Deadlines | None = None
    extension_requests: list[ExtensionItem] | None = None
    answers: list[AnswerItem] = Field(default_factory=list)
    timeline: list[TimelineItem]
    replies: list[ReplyItem]
    master_replies: list[ReplyItem]
    internal_notes: list[ReplyItem]
    attachments: list[AttachmentItem]
    allowed_actions: list[ActionOffer]


class ActionBody(Strict):
    version: int = Field(ge=1, le=2_147_483_647, description="The case's version as read")
    note: str | None = Field(default=None, max_length=5000)
    department_id: int | None = Id
    assisting_ids: list[int] = Field(default_factory=list, max_length=20)
    days: int | None = Field(default=None, ge=1, le=30)
    approve: bool | None = None
    case_type: TypeName | None = None
    category_id: int | None = Id
    priority: PriorityName | None = None
    target: str | None = Field(default=None, max_length=20,
                               description="Tracking number of the other case")
    template_id: int | None = Id
    confirm: bool = Field(default=False, description="withdraw: the client confirms")


class ActionResult(BaseModel):
    message: str
    case: CaseDetail | None = Field(description="null when the step took the case out of "
                                    "the reader's sight")


# --- clients ----------------------------------------------------------------------------------


class ClientDetail(BaseModel):
    id: int
    kind: str
    name: str
    contact_person: str | None
    phone: str | None = Field(description="Masked")
    email: str | None = Field(description="Masked")
    id_number: str | None = Field(description="Masked")
    credit_code: str | None = Field(description="Masked")
    district: Named | None
    address: str | None
    flags: list[str]
    tags: list[str]
    requests: int = Field(description="Requests filed, as far as the reader may know")
    created_at: datetime
    anonymised: bool
    merged_into: int | None


class RevealBody(Strict):
    field: Literal["phone", "email", "id_number", "credit_code"]
    reason: str = Field(min_length=1, max_length=500)


class Revealed(BaseModel):
    field: str
    value: str


# --- reports -----------------------------------------------------------------------------------


class ReportQuery(Strict):
    period: Literal["day", "week", "month", "quarter", "year", "custom"] = "month"
    date: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD")
    from_: str | None = Field(default=None, alias="from", max_length=10)
    to: str | None = Field(default=None, max_length=10)
    by: Literal["department", "category", "district", "staff"] = "department"

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ReportColumn(BaseModel):
    key: str
    label: str
    kind: str
    definition: str | None


class ReportCell(BaseModel):
    value: int | float | None
    previous: int | float | None
    year_before: int | float | None


class ReportRow(BaseModel):
    key: int | str | None
    label: str
    cells: dict[str, ReportCell]


class ReportPeriod(BaseModel):
    kind: str
    first: str
    last: str


class ReportTable(BaseModel):
    key: str
    title: str
    scope: str
    period: ReportPeriod
    group: str
    columns: list[ReportColumn]
    rows: list[ReportRow]
    total: ReportRow | None
    note: str | None


# --- knowledge and ratings --------------------------------------------------------------------


class PageQuery(Strict):
    cursor: str | None = Field(default=None, max_length=100)
    limit: int = Field(default=20, ge=1, le=100)


class KnowledgeQuery(PageQuery):
    status: Literal[ANSWER_STATUSES] | None = None  # type: ignore[valid-type]
    category_id: int | None = Id


class KnowledgeItem(BaseModel):
    id: int
    title: str
    status: str
    locale: str
    category: Named | None
    published_at: datetime | None
    updated_at: datetime | None


class KnowledgeDetail(KnowledgeItem):
    body: str
    version: int


class KnowledgeList(BaseModel):
    items: list[KnowledgeItem]
    next_cursor: str | None


class RatingQuery(PageQuery):
    department_id: int | None = Id
    level: int | None = Field(default=None, ge=1, le=5)
    bad: bool = False
    since: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD")
    until: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD")


class RatingItem(BaseModel):
    id: int
    case: str
    department: Named | None
    status: str
    source: str | None
    level: int | None
    level_label: str | None
    solved: str | None
    comment: str | None
    rated_at: datetime | None
    set_aside: bool


class RatingList(BaseModel):
    items: list[RatingItem]
    next_cursor: str | None
