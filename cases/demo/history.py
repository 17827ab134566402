"""A few weeks of the demo city's requests, walked through the real services.

Each request is filed (number, first event, contact line, routing rule) and then takes
the steps its fate holds through ``cases.services.perform``, as the person who would take
them: the clerk, the department's handler, the supervisor, the client. Services stamp
what they do with the present moment; after each step its timeline lines, replies,
extension requests, messages and the case's own times are dated to when the step "was"
taken (working hours, spread over the weeks), and the running deadlines are counted on
the calendar from there. The deadline sweep then finds what is overdue.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event

from cases import deadlines
from cases.calendar import WorkingCalendar
from cases.demo.catalogue import AT_INTAKE_LEAVES, Catalogue, Leaf
from cases.demo.people import People
from cases.demo.stories import (
    DELAYS,
    DEPARTMENT_FATES,
    DESCRIPTIONS,
    INTAKE_FATES,
    INTAKE_WEIGHTS,
    NOTES,
    OVERDUE,
    PLACES,
    REDISPATCH,
    REPLIES,
    ROUTED_WEIGHTS,
    SHOWCASE,
)
from cases.models import Case, CaseAssist, CaseStatus, CaseType, Category, Channel, Priority
from cases.notifications import silenced
from cases.services import (
    ActionInput,
    next_case_number,
    perform,
    record_event,
    route_department,
)
from cases.services.filing import record_filing_contact
from cases.services.lifecycle import _dispatch_to
from citizens.models import Client, ContactLog
from portal.db import db
from portal.models import Department, District, User
from portal.notifications.models import InboxMessage, OutboxMessage, OutboxStatus

HISTORY_DAYS = 41  # about six weeks back from now
TOLD_DAYS = 3  # requests of the last days tell people (inbox, e-mail, SMS) as they go
ZONE = ZoneInfo("Asia/Shanghai")

# Rows a step writes besides the case's own, dated with it.
MADE = (InboxMessage, OutboxMessage, ContactLog, CaseAssist)
# What the session keeps between requests (the people and the catalogue they use).
KEPT = (User, Client, Department, District, Category)


@dataclass
class Plan:
    """One request: when it was filed, what, by whom, and the steps it then took."""

    filed_at: datetime
    category: Category
    leaf: Leaf
    client: Client
    fate: str


class History:
    """Files the demo requests and walks each along its fate (see the module's note)."""

    def __init__(self, catalogue: Catalogue, people: People, rng: random.Random,
                 now: datetime, calendar: WorkingCalendar) -> None:
        self.catalogue, self.people, self.rng = catalogue, people, rng
        self.now, self.calendar = now, calendar
        self.made: list[object] = []  # rows a step wrote besides the case's own
        self.returned_from: str | None = None  # the department that just returned a case
        weights = [3 if c.department and c.department.code == "urban" else 2
                   for c, _leaf in catalogue.leaves.values()]
        self.leaf_choices = (list(catalogue.leaves.values()), weights)

    def load(self, case_count: int) -> None:
        """File ``case_count`` requests over the last weeks and walk each along its fate."""
        event.listen(db.session, "after_flush", self._collect)
        try:
            for plan in self.plans(case_count):
                if self.now - plan.filed_at < timedelta(days=TOLD_DAYS):
                    self.tell(plan)
                else:
                    with silenced():
                        self.tell(plan)
                self.forget()
        finally:
            event.remove(db.session, "after_flush", self._collect)

    def forget(self) -> None:
        """Flush the request just told and drop it from the session: every flush looks
        at each object the session holds, so a session of thousands slows each step."""
        db.session.flush()
        for obj in list(db.session):
            if not isinstance(obj, KEPT) and obj in db.session:  # (cascades expunge too)
                db.session.expunge(obj)

    # --- planning -----------------------------------------------------------------

    def plans(self, case_count: int) -> list[Plan]:
        rng = self.rng
        moments = sorted(self.moment(i, case_count) for i in range(case_count))
        plans = []
        for filed_at in moments:
            category, leaf = rng.choices(*self.leaf_choices)[0]
            plans.append(Plan(filed_at, category, leaf, self.client(), ""))
        for plan in plans:
            plan.fate = self.fate(plan)
        # The showcase: every state the queues show, on the newest requests (and one old).
        for plan, fate in zip(reversed(plans), SHOWCASE, strict=False):
            self.force(plan, fate)
        if case_count > 2 * len(SHOWCASE):
            self.force(plans[case_count // 2], OVERDUE)
        return plans

    def moment(self, i: int, n: int) -> datetime:
        """The ``i``th of ``n`` filing moments, spread over the weeks, mostly working hours."""
        rng, span = self.rng, timedelta(days=HISTORY_DAYS)
        local = (self.now - span * (1 - (i + rng.random()) / n)).astimezone(ZONE)
        if rng.random() < 0.85:  # most requests come in on working days, in office hours
            while not self.calendar.is_workday(local.date()):
                local -= timedelta(days=1)
            if not 8 <= local.hour < 18:
                local = local.replace(hour=rng.randint(8, 17), minute=rng.randint(0, 59))
        return min(local.astimezone(self.now.tzinfo), self.now - timedelta(minutes=5))

    def client(self) -> Client:
        clients, roll = self.people.clients, self.rng.random()
        if roll < 0.07:
            return clients[0]  # the demo citizen has a history of their own
        if roll < 0.10:
            return clients[1]
        return self.rng.choice(clients[2:])

    def fate(self, plan: Plan) -> str:
        table = INTAKE_WEIGHTS if plan.leaf.code in AT_INTAKE_LEAVES else ROUTED_WEIGHTS
        return self.weighted(plan, table)

    def weighted(self, plan: Plan, table: tuple) -> str:
        """A fate drawn by the request's age (older requests are mostly done)."""
        age = (self.now - plan.filed_at).total_seconds() / 86400
        weights = next(w for limit, w in table if age < limit)
        fate = self.rng.choices(list(weights), list(weights.values()))[0]
        if fate == "withdrawn" and self.people.account_of(plan.client) is None:
            return "closed"  # only a client with an account withdraws on the web
        return fate

    def force(self, plan: Plan, fate: str) -> None:
        intake = fate in INTAKE_FATES
        if intake != (plan.leaf.code in AT_INTAKE_LEAVES):
            wanted = [(c, leaf) for c, leaf in self.leaf_choices[0]
                      if (leaf.code in AT_INTAKE_LEAVES) == intake]
            plan.category, plan.leaf = self.rng.choice(wanted)
        plan.fate = fate

    # --- telling ------------------------------------------------------------------

    def tell(self, plan: Plan) -> None:
        case = self.file(plan)
        at = plan.filed_at
        if plan.fate in INTAKE_FATES:
            steps: tuple[str, ...] = INTAKE_FATES[plan.fate]
        elif plan.leaf.code in AT_INTAKE_LEAVES:  # kept at intake, then dispatched by hand
            rest = self.weighted(plan, ROUTED_WEIGHTS)
            steps = ("accept", "dispatch", *DEPARTMENT_FATES[rest])
        else:
            steps = DEPARTMENT_FATES[plan.fate]
        for n, action in enumerate(steps):
            at = self.when(case, action, at, len(steps) - n)
            self.step(case, action, at)

    def file(self, plan: Plan) -> Case:
        """The filing step (as ``cases.services.file_case``, without a tracking code)."""
        rng, at = self.rng, plan.filed_at
        account = self.people.account_of(plan.client)
        title = rng.choice(plan.leaf.titles).format(place=rng.choice(PLACES))
        channel = Channel.WEB if account else rng.choice(
            (Channel.PHONE, Channel.PHONE, Channel.PHONE, Channel.WALK_IN, Channel.EMAIL,
             Channel.LETTER)
        )
        filed_by = account or self.people.users[rng.choice(("clerk", "clerk", "clerk2"))]
        case = Case(
            number=next_case_number(at.astimezone(ZONE).year),
            type=case_type(title, rng),
            channel=channel,
            priority=Priority.HIGH if rng.random() < 0.08 else Priority.NORMAL,
            status=CaseStatus.SUBMITTED,
            title=title,
            description=rng.choice(DESCRIPTIONS).format(title=title, days=rng.randint(2, 30)),
            category=plan.category,
            district=rng.choice(self.catalogue.districts),
            client=plan.client,
            filed_by=filed_by,
        )
        # A new case's lists start empty: reading them later then costs no query.
        case.events, case.replies, case.extension_requests, case.assists = [], [], [], []
        db.session.add(case)
        db.session.flush()
        with db.session.no_autoflush:  # one flush for the filing's rows, not one each
            record_event(case, filed_by, "file", None, CaseStatus.SUBMITTED)
            record_filing_contact(plan.client, case, filed_by)
            department = route_department(plan.category.id, case.district_id)
        if department is not None and plan.leaf.code not in AT_INTAKE_LEAVES:
            _dispatch_to(case, department, None, "route")
        db.session.flush()
        case.created_at = at
        self.stamp(case, "route" if case.department else "file", at, self.snapshot(case, 0))
        return case

    def when(self, case: Case, action: str, previous: datetime, left: int) -> datetime:
        """When ``action`` was taken: its usual delay after ``previous``, before now."""
        if action == "reply":
            days = case.category.reply_amount if case.category else 10
            low, high = 240, max(480, int(days * self.calendar.minutes_per_day * 0.8))
        else:
            low, high = DELAYS[action]
        at = self.calendar.add_working_minutes(previous, self.rng.randint(low, high))
        at = min(at, self.now - timedelta(minutes=3 * left))
        return max(at, previous + timedelta(minutes=1))

    def step(self, case: Case, action: str, at: datetime) -> None:
        """Take ``action`` through ``perform`` as the person who would, then date it."""
        users, rng = self.people.users, self.rng
        data = ActionInput(note=NOTES.get(action))
        if action in ("accept", "answer", "not_accept", "close", "redo", "urge", "dispatch"):
            actor = users[rng.choice(("clerk", "clerk", "clerk2"))]
        elif action in ("supervise", "decide_extension"):
            actor = users["supervisor"]
        elif action == "withdraw":
            actor = self.people.account_of(case.client)
        else:
            actor = self.people.handler_of(case.department)
        if action == "dispatch":
            data.department = self.dispatch_target(case)
        elif action == "reply":
            data.note = rng.choice(REPLIES)
        elif action == "extension":
            data.days = rng.randint(3, 5)
        elif action == "decide_extension":
            data.approve = rng.random() < 0.75
            data.note = "同意延期，请按期办结。" if data.approve else "不同意延期，请抓紧办理。"
        before = self.snapshot(case, 1)
        perform(case, action, actor, data)
        db.session.flush()
        self.stamp(case, action, at, before)

    def dispatch_target(self, case: Case) -> Department:
        departments = self.catalogue.departments
        if self.returned_from is not None:  # a returned case goes where it belongs
            return departments[REDISPATCH.get(self.returned_from, "urban")]
        return case.category.department or departments["services"]

    # --- dating what a step did -----------------------------------------------------

    def snapshot(self, case: Case, taken: int) -> tuple:
        if not taken:
            return (0, 0, 0, None, None, None)
        department = case.department.code if case.department else None
        return (len(case.events), len(case.replies), len(case.extension_requests),
                case.paused_at, case.reply_due_at, department)

    def stamp(self, case: Case, action: str, at: datetime, before: tuple) -> None:
        """Date the step's records to ``at`` and count its deadlines from there."""
        events, replies, extensions, paused_at, reply_due_at, department = before
        for row in case.events[events:] + case.replies[replies:]:
            row.created_at = at
        for request in case.extension_requests[extensions:]:
            request.created_at = at
        case.updated_at = at
        self.returned_from = department if action == "return" else None
        STAMPS.get(action, _no_stamp)(case, at, paused_at, reply_due_at)
        if case.due_at is not None:
            case.due_soon_at = deadlines.due_soon_at(case.due_at, at)
        for row in self.made:
            row.created_at = at
            if isinstance(row, OutboxMessage):  # history: delivered long ago
                row.status, row.sent_at, row.attempts = OutboxStatus.SENT, at, 1
                row.next_attempt_at = at
            elif isinstance(row, InboxMessage) and at < self.now - timedelta(days=2):
                row.read_at = at + timedelta(hours=1)
        self.made.clear()

    def _collect(self, session, _context) -> None:
        self.made.extend(obj for obj in session.new if isinstance(obj, MADE))


def case_type(title: str, rng: random.Random) -> CaseType:
    for word, kind in (("咨询", CaseType.ENQUIRY), ("建议", CaseType.SUGGESTION),
                       ("感谢", CaseType.PRAISE), ("表扬", CaseType.PRAISE),
                       ("偷排", CaseType.TIPOFF)):
        if word in title:
            return kind
    return rng.choice((CaseType.COMPLAINT, CaseType.COMPLAINT, CaseType.HELP))


# --- what each step's own times are -------------------------------------------------


def _no_stamp(case: Case, at: datetime, *_saved) -> None:
    pass


def _dispatched(case: Case, at: datetime, _paused, reply_due_at) -> None:
    if reply_due_at is None:  # the first dispatch: the reply clock starts too
        case.dispatched_at, case.reply_due_at = at, None
    deadlines.start_sign_clock(case, at)


def _signed(case: Case, at: datetime, *_saved) -> None:
    case.signed_at = at


def _paused(case: Case, at: datetime, *_saved) -> None:
    deadlines.pause_clock(case, at)


def _resumed(case: Case, at: datetime, paused_at, reply_due_at) -> None:
    case.paused_at, case.reply_due_at = paused_at, reply_due_at
    deadlines.resume_clock(case, at)


def _replied(case: Case, at: datetime, *_saved) -> None:
    case.replied_at = at


def _closed(case: Case, at: datetime, *_saved) -> None:
    case.closed_at = at


def _redone(case: Case, at: datetime, *_saved) -> None:
    deadlines.restart_reply_clock(case, at)


def _decided(case: Case, at: datetime, *_saved) -> None:
    case.extension_requests[-1].decided_at = at


STAMPS: dict[str, Callable[..., None]] = {
    "route": _dispatched, "dispatch": _dispatched, "transfer": _dispatched,
    "sign_for": _signed, "request_info": _paused, "resume": _resumed,
    "reply": _replied, "answer": _replied,
    "close": _closed, "not_accept": _closed, "withdraw": _closed,
    "redo": _redone, "decide_extension": _decided,
}
