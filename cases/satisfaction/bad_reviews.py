"""The 差评 loop: a bad rating verified by a call, then fixed, rectified, explained or appealed.

``open_bad_review`` runs when a ★2 or ★1 rating arrives: the lead department (the service
centre for an answer at intake) and the supervisors are told at once, and the verification
deadline (``verify_working_days``) runs. Each later step is a function here, recorded with
who and why on the review's row and on the case's timeline (``cases.staff_alerts`` tells
whom the step concerns); ``BadReview.version`` refuses a racing second click (409).

- ``verify`` (回访核实): the call's note; VERIFYING → DECIDING.
- ``fix`` (立行立改): what was done, published as a new public answer, which the client is
  asked to rate again; closed, outcome ``fixed``.
- ``rectify`` (限期整改): the case goes back to its department as a redo with a reply
  deadline of ``rectify_working_days``; the department's next reply closes the review as
  ``rectified`` (``close_rectified``, from ``ask_for_rating``) and is rated again.
- ``explain`` (解释说明): a public reply saying why it cannot be done; closed, ``explained``.
  Like every public answer it is rated (the client's messages carry the rating link).
- ``appeal`` (申诉): the department asks a supervisor to set the rating aside, with evidence;
  ``decide_appeal`` upholds (the rating stays on record, set aside; closed, ``set_aside``)
  or refuses (back to DECIDING: the department chooses another way; no second appeal).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from cases import deadlines
from cases.calendar import load_calendar
from cases.models import Case, CaseReply, CaseStatus, TimeUnit
from cases.notifications import notify_case_event
from cases.satisfaction.models import BadReview, Rating
from cases.satisfaction.settings import current_settings
from cases.satisfaction.visibility import may_decide_appeal, may_handle_bad_review
from cases.satisfaction.vocabulary import BadReviewStage
from cases.services.rules import record_event, touch
from portal.changes import record_change
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import User

MAX_NOTE = 4000
# The case must stand answered for a fix, a rectification or an explanation: a case sent
# back or reopened meanwhile is answered again by its own next reply.
ANSWERED = frozenset({CaseStatus.REPLIED, CaseStatus.CLOSED})
# Stages whose deadline the sweep watches.
TIMED = (BadReviewStage.VERIFYING, BadReviewStage.RECTIFYING)


class BadReviewRefused(DomainError):
    """A step the review's stage, the case or the input does not allow; nothing changed.

    With ``field`` set the input was wrong (a 422); otherwise the state refused (a 409).
    """


class BadReviewForbidden(BadReviewRefused):
    """The person may not take this step on this review (a 403)."""


# --- opening ----------------------------------------------------------------------------


def open_bad_review(rating: Rating) -> BadReview:
    """A 差评 arrived: a review to verify within the configured working days."""
    now = utcnow()
    settings = current_settings()
    review = BadReview(
        rating_id=rating.id,
        case_id=rating.case_id,
        department_id=rating.department_id,
        stage=BadReviewStage.VERIFYING,
        due_at=load_calendar().add(now, settings.verify_working_days, TimeUnit.DAYS),
    )
    db.session.add(review)
    db.session.flush()
    case = db.session.get(Case, rating.case_id)
    # Told through the timeline's one door (cases.staff_alerts: department and supervisors).
    record_event(
        case, None, "bad_review", None, None, None, is_public=False,
        details=_details(review, rating=rating.id, level=rating.level,
                         due=review.due_at.isoformat()),
    )
    return review


def note_rerating(rating: Rating) -> BadReview | None:
    """The client's rating of the answer given after a rectification (a fix, an
    explanation) is that review's re-rating (its second word). A new 差评 still opens a
    review of its own."""
    review = db.session.scalar(
        select(BadReview)
        .where(
            BadReview.case_id == rating.case_id,
            BadReview.outcome.in_(("rectified", "fixed", "explained")),
            BadReview.rerating_id.is_(None),
            BadReview.rating_id != rating.id,
        )
        .order_by(BadReview.id.desc())
        .limit(1)
    )
    if review is not None:
        review.rerating_id = rating.id
        db.session.flush()
    return review


# --- the steps --------------------------------------------------------------------------


def verify(review: BadReview, user: User, note: str | None) -> BadReview:
    """回访核实: the client was called back; what the call found."""
    _may_handle(review, user)
    _at(review, BadReviewStage.VERIFYING)
    text = _text(note, _("Write what the verification call found."))
    now = utcnow()
    review.verified_at, review.verified_by_id, review.verification_note = now, user.id, text
    review.stage, review.due_at = BadReviewStage.DECIDING, None
    _line(review, user, "bad_review_verified", text)
    return review


def fix(review: BadReview, user: User, note: str | None) -> CaseReply:
    """立行立改: fixed at once; what was done is a new public answer, rated again."""
    _may_handle(review, user)
    _at(review, BadReviewStage.DECIDING)
    case = _answered_case(review)
    text = _text(note, _("Write what was done; the client reads it as the new answer."))
    _resolve(review, user, "fixed", text)
    _close(review, "fixed")
    _line(review, user, "bad_review_fixed", text)
    # Imported here: lifecycle imports this room lazily too (ask_for_rating).
    from cases.services.lifecycle import _publish_reply

    return _publish_reply(case, user, text)


def rectify(review: BadReview, user: User, note: str | None) -> BadReview:
    """限期整改: the case goes back to its department as a redo with a new reply deadline."""
    _may_handle(review, user)
    _at(review, BadReviewStage.DECIDING)
    case = _answered_case(review)
    if case.department_id is None:
        raise BadReviewRefused(
            _("This case was answered at intake: fix it at once or explain instead.")
        )
    text = _text(note, _("Write what must be rectified."))
    now = utcnow()
    days = current_settings().rectify_working_days
    source = case.status
    touch(case)
    case.status = CaseStatus.IN_PROGRESS
    case.closed_at = None
    case.redo_count += 1
    case.reply_due_at = load_calendar().add(now, days, TimeUnit.DAYS)
    deadlines.start_reply_clock(case)
    _resolve(review, user, "rectify", text)
    review.stage = BadReviewStage.RECTIFYING
    review.rectify_due_at = review.due_at = case.reply_due_at
    review.overdue_at = None  # a new deadline: the sweep may mark this one too
    record_event(
        case, user, "bad_review_rectify", source, CaseStatus.IN_PROGRESS, text,
        is_public=False,
        details=_details(review, days=days, due=case.reply_due_at.isoformat()),
    )
    db.session.flush()
    notify_case_event(case, "rectify")  # the client hears it is being put right, and by when
    return review


def explain(review: BadReview, user: User, note: str | None) -> CaseReply:
    """解释说明: a public reply saying why it cannot be done; the review closes. It is an
    answer like any other, so the client may rate it (and the rating is linked)."""
    _may_handle(review, user)
    _at(review, BadReviewStage.DECIDING)
    case = _answered_case(review)
    text = _text(note, _("Write the explanation the client will read."))
    _resolve(review, user, "explain", text)
    _close(review, "explained")
    _line(review, user, "bad_review_explained", text)
    from cases.services.lifecycle import _publish_reply

    return _publish_reply(case, user, text)


def appeal(review: BadReview, user: User, evidence: str | None) -> BadReview:
    """申诉: the department asks a supervisor to set the rating aside, with evidence.

    Lodged once the review is verified, or while the case is being rectified (the
    department may hold the rating untrue all the same); the rectification keeps running.
    """
    _may_handle(review, user)
    if may_decide_appeal(user):
        raise BadReviewForbidden(_("The department appeals; a supervisor decides."))
    if review.stage not in (BadReviewStage.DECIDING, BadReviewStage.RECTIFYING):
        _at(review, BadReviewStage.DECIDING)  # refused with the stage named
    if review.appeal_upheld is False:
        raise BadReviewRefused(
            _("The appeal was refused: handle the bad review another way.")
        )
    text = _text(
        evidence, _("Give the evidence that the rating is malicious or untrue."),
        field="evidence",
    )
    now = utcnow()
    if review.stage is BadReviewStage.DECIDING:
        _resolve(review, user, "appeal", None)
    review.appeal_evidence, review.appealed_by_id, review.appealed_at = text, user.id, now
    review.stage = BadReviewStage.APPEALED
    _line(review, user, "bad_review_appealed", text)
    return review


def decide_appeal(review: BadReview, user: User, uphold: bool, note: str | None) -> BadReview:
    """A supervisor sets the rating aside (it stays on record) or refuses the appeal."""
    if not may_decide_appeal(user):
        raise BadReviewForbidden(_("Only a supervisor decides an appeal."))
    _at(review, BadReviewStage.APPEALED)
    text = _text(note, _("Write the reason for the decision."))
    now = utcnow()
    review.appeal_upheld = uphold
    review.appeal_decided_by_id, review.appeal_decided_at = user.id, now
    review.appeal_decision_note = text
    if uphold:
        rating = db.session.get(Rating, review.rating_id)
        rating.set_aside = True
        _close(review, "set_aside")
        _line(review, user, "appeal_upheld", text)
    elif review.resolution == "rectify":
        # Appealed while rectifying: the rectification goes on (or, if the department
        # has answered meanwhile, it is done).
        case = db.session.get(Case, review.case_id)
        if case.status is CaseStatus.IN_PROGRESS:
            review.stage, review.due_at = BadReviewStage.RECTIFYING, review.rectify_due_at
        else:
            _close(review, "rectified")
        _line(review, user, "appeal_rejected", text)
    else:
        # The appeal stays on record (appeal_* columns); the department chooses again.
        review.resolution = review.resolution_note = None
        review.resolved_by_id = review.resolved_at = None
        review.stage = BadReviewStage.DECIDING
        _line(review, user, "appeal_rejected", text)
    record_change("case", review.case_id)
    return review


def close_rectified(case: Case) -> list[BadReview]:
    """The department replied again: reviews being rectified on ``case`` close as
    ``rectified`` (the new answer is rated through ``ask_for_rating``)."""
    reviews = list(db.session.scalars(
        select(BadReview).where(
            BadReview.case_id == case.id, BadReview.stage == BadReviewStage.RECTIFYING
        )
    ))
    for review in reviews:
        _close(review, "rectified")
    if reviews:
        db.session.flush()
    return reviews


# --- the sweep --------------------------------------------------------------------------


def sweep_bad_reviews(now: datetime) -> int:
    """Mark reviews whose verification or rectification deadline passed, once each.

    The conditional UPDATE makes a second sweep (or two at once) mark nothing again; each
    marked review gets a timeline line that tells the department and the supervisors.
    """
    due = list(db.session.execute(
        select(BadReview.id, BadReview.case_id, BadReview.stage, BadReview.due_at,
               BadReview.department_id)
        .where(BadReview.stage.in_(TIMED), BadReview.due_at <= now,
               BadReview.overdue_at.is_(None))
        .order_by(BadReview.due_at, BadReview.id)
    ))
    marked = 0
    for review_id, case_id, stage, due_at, department_id in due:
        changed = db.session.execute(
            update(BadReview)
            .where(BadReview.id == review_id, BadReview.overdue_at.is_(None),
                   BadReview.stage == stage)
            .values(overdue_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            continue
        marked += 1
        details = {"review": review_id, "stage": stage.value, "due": due_at.isoformat()}
        if department_id is not None:
            details["department"] = department_id
        record_event(db.session.get(Case, case_id), None, "bad_review_overdue", None, None,
                     None, is_public=False, details=details)
    if marked:
        db.session.flush()
    return marked


# --- shared -----------------------------------------------------------------------------


def _may_handle(review: BadReview, user: User) -> None:
    if not may_handle_bad_review(user, review):
        raise BadReviewForbidden(_("You may not handle this bad review."))


def _at(review: BadReview, stage: BadReviewStage) -> None:
    if review.stage is not stage:
        raise BadReviewRefused(
            _("This bad review is at the stage “%(stage)s”; that step is not possible now.",
              stage=review.stage.label)
        )


def _text(value: str | None, missing: str, field: str = "note") -> str:
    text = (value or "").strip()
    if not text:
        raise BadReviewRefused(missing, field=field)
    if len(text) > MAX_NOTE:
        raise BadReviewRefused(
            _("The text is too long (at most %(n)d characters).", n=MAX_NOTE), field=field
        )
    return text


def _answered_case(review: BadReview) -> Case:
    case = db.session.get(Case, review.case_id)
    if case.status not in ANSWERED:
        raise BadReviewRefused(
            _("The case is being handled again; its next reply answers the client.")
        )
    return case


def _resolve(review: BadReview, user: User, resolution: str, note: str | None) -> None:
    review.resolution, review.resolution_note = resolution, note
    review.resolved_by_id, review.resolved_at = user.id, utcnow()


def _close(review: BadReview, outcome: str) -> None:
    review.outcome, review.stage = outcome, BadReviewStage.CLOSED
    review.closed_at, review.due_at = utcnow(), None


def _details(review: BadReview, **values: object) -> dict:
    """A line's data: the review, and its department when there is one (whom to tell)."""
    details = {"review": review.id, **values}
    if review.department_id is not None:
        details["department"] = review.department_id
    return details


def _line(review: BadReview, user: User, action: str, note: str | None) -> None:
    """The step's timeline line (staff only; the public replies speak to the client)."""
    case = db.session.get(Case, review.case_id)
    record_event(case, user, action, None, None, note, is_public=False,
                 details=_details(review))
    db.session.flush()


def may_take_step(user: User, review: BadReview, step: str) -> bool:
    """Whether ``user``'s role lets them take ``step`` on ``review`` at all (else a 403);
    the stage may still refuse it (a 409)."""
    if step == "decide":
        return may_decide_appeal(user)
    if step == "appeal":
        return may_handle_bad_review(user, review) and not may_decide_appeal(user)
    return step in STEPS and may_handle_bad_review(user, review)


def offered_steps(user: User, review: BadReview, case: Case) -> list[str]:
    """The steps the panel offers ``user`` now, in the order it shows them."""
    stage = review.stage
    wanted: list[str] = []
    if stage is BadReviewStage.VERIFYING:
        wanted = ["verify"]
    elif stage is BadReviewStage.DECIDING and case.status in ANSWERED:
        wanted = ["fix", "rectify", "explain", "appeal"]
        if case.department_id is None:
            wanted.remove("rectify")
        if review.appeal_upheld is False:
            wanted.remove("appeal")
    elif stage is BadReviewStage.RECTIFYING and review.appeal_upheld is not False:
        wanted = ["appeal"]  # the department may still hold the rating untrue
    elif stage is BadReviewStage.APPEALED:
        wanted = ["decide"]
    return [s for s in wanted if may_take_step(user, review, s)]


STEPS = ("verify", "fix", "rectify", "explain", "appeal", "decide")
