"""How the case page lays out the steps on offer, and what it says once one is done.

``plan_actions`` puts the next likely step for this state and role first (``next_step``),
the other everyday steps one click away, and the rarely used ones under "More actions".
``done_message`` is the flash a step leaves: what was done, specifically.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _

from cases.models import Case, CaseStatus, ExtensionStatus
from cases.timeline import separators
from portal.models import Department

S = CaseStatus

# The step that usually comes next in each state, for whoever may take it (the first one
# on offer wins): the service centre dispatches what waits at intake and closes what was
# answered; the department signs for, replies, or resumes once the client has answered.
NEXT_STEPS: dict[CaseStatus, tuple[str, ...]] = {
    S.SUBMITTED: ("dispatch", "accept"),
    S.ACCEPTED: ("dispatch",),
    S.DISPATCHED: ("sign_for",),
    S.IN_PROGRESS: ("reply",),
    S.WAITING: ("resume",),
    S.REPLIED: ("close",),
}
# Steps taken rarely: grouped under "More actions".
RARELY_USED = frozenset(
    {"not_accept", "transfer", "merge", "link", "assist", "supervise", "reopen"}
)
# The client's useful step: add information (``templates/cases/_add_info.html``).
ADD_INFO = "add_info"


@dataclass(frozen=True)
class ActionPlan:
    """The steps on offer, in the page's three places."""

    primary: str | None
    common: list[str]
    more: list[str]

    @property
    def any(self) -> bool:
        return bool(self.primary or self.common or self.more)


def next_step(
    status: CaseStatus,
    offered: Collection[str],
    *,
    is_client: bool = False,
    may_add_information: bool = False,
) -> str | None:
    """The next likely step for this state and role, among the steps ``offered`` to the user.

    ``offered`` is what the user may take now (it already says the role and scope). A
    pending extension waits for a supervisor's decision before anything else; a client's
    useful step is adding information (never withdrawing); otherwise ``NEXT_STEPS`` says,
    by state: dispatch at intake, sign for, reply, resume when the client has answered,
    close once replied. None when nothing is likely (the user only watches or notes).
    """
    if is_client:
        return ADD_INFO if may_add_information else None
    if "decide_extension" in offered:
        return "decide_extension"
    return next((a for a in NEXT_STEPS.get(status, ()) if a in offered), None)


def plan_actions(
    status: CaseStatus,
    offered: list[str],
    *,
    is_client: bool = False,
    may_add_information: bool = False,
) -> ActionPlan:
    """``offered`` (in the page's order) split into the primary, everyday and rare steps."""
    primary = next_step(
        status, offered, is_client=is_client, may_add_information=may_add_information
    )
    rest = [a for a in offered if a != primary]
    return ActionPlan(
        primary=primary,
        common=[a for a in rest if a not in RARELY_USED],
        more=[a for a in rest if a in RARELY_USED],
    )


def _when(value) -> str:
    return format_datetime(value, "short") if value else ""


def done_message(
    action: str, case: Case, *, department: Department | None = None,
    assisting: list[Department] | None = None, days: int | None = None,
    approve: bool | None = None, target: Case | None = None,
) -> str:
    """What the step just taken did, in the reader's language (the flash after it)."""
    number = case.number
    handling = department.name if department else (case.department.name
                                                   if case.department else "")
    if action == "dispatch":
        return _("Case %(number)s dispatched to %(department)s.", number=number,
                 department=handling)
    if action == "transfer":
        return _("Case %(number)s transferred to %(department)s.", number=number,
                 department=handling)
    if action == "sign_for":
        if case.reply_due_at:
            return _("Case %(number)s signed for; the reply is due by %(deadline)s.",
                     number=number, deadline=_when(case.reply_due_at))
        return _("Case %(number)s signed for.", number=number)
    if action == "extension":
        return ngettext(
            "Extension of %(num)d working day requested; a supervisor will decide.",
            "Extension of %(num)d working days requested; a supervisor will decide.",
            days or 0,
        )
    if action == "decide_extension":
        latest = max(case.extension_requests, key=lambda r: r.id, default=None)
        if approve and latest is not None and latest.status == ExtensionStatus.APPROVED:
            return _("Extension approved; the reply is now due by %(deadline)s.",
                     deadline=_when(case.reply_due_at))
        return _("Extension refused; the deadline stays.")
    if action == "urge":
        return ngettext("Case %(number)s urged (%(num)d time so far).",
                        "Case %(number)s urged (%(num)d times so far).",
                        case.urge_count, number=number)
    if action == "assist":
        names = separators()[0].join(d.name for d in assisting or [])
        return _("Assisting departments added to case %(number)s: %(names)s.",
                 number=number, names=names)
    if action in ("merge", "link"):
        other = target.number if target else ""
        if action == "merge":
            return _("Case %(number)s merged into %(other)s.", number=number, other=other)
        return _("Case %(number)s linked with %(other)s.", number=number, other=other)
    simple = {
        "accept": _("Case %(number)s accepted.", number=number),
        "not_accept": _("Case %(number)s not accepted; the client reads the reason.",
                        number=number),
        "answer": _("Case %(number)s answered at intake; the client is told.", number=number),
        "return": _("Case %(number)s returned to the service centre for dispatch.",
                    number=number),
        "request_info": _("The client is asked for information; the deadline is paused."),
        "resume": _("Handling of case %(number)s resumed; the deadline runs again.",
                    number=number),
        "reply": _("Case %(number)s replied; the client is told.", number=number),
        "withdraw": _("Your request %(number)s is withdrawn.", number=number),
        "close": _("Case closed."),
        "redo": _("Case %(number)s sent back to %(department)s to redo.", number=number,
                  department=handling),
        "reopen": _("Case %(number)s reopened; it waits for dispatch.", number=number),
        "claim": _("You now handle case %(number)s.", number=number),
        "classify": _("Classification of case %(number)s saved.", number=number),
        "supervise": _("Case %(number)s is now under supervision.", number=number),
        "note": _("Internal note added."),
    }
    return simple.get(action, _("Done: %(status)s.", status=case.status.label))
