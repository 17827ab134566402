"""A case as the API hands it out: the same face the case page shows (``cases.public``).

Staff read the staff face, a client the client face; personal data is masked as on the
page (the client's phone by ``mask_phone``, nothing of a tip-off's hidden reporter), and
the steps on offer are the ones the page offers (``allowed_transitions``,
``allowed_records``).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from flask import Response, current_app, url_for

from cases.models import Case, CaseStatus
from cases.public import Audience, audience_of, face
from cases.services import allowed_records, allowed_transitions
from cases.timeline import timeline_lines
from cases.workflow import RECORDS
from portal.i18n import current_language
from portal.models import User
from portal.privacy import mask_phone


def named(obj: Any, text: str = "name") -> dict[str, Any] | None:
    return {"id": obj.id, "name": str(getattr(obj, text))} if obj is not None else None


def case_item(case: Case, staff: bool) -> dict[str, Any]:
    """One row of a case list (staff also read priority, deadline and handler)."""
    return {
        "number": case.number,
        "title": case.title,
        "status": case.status.value,
        "status_label": str(case.status.label),
        "type": case.type.value,
        "category": named(case.category, "path_name"),
        "district": named(case.district),
        "department": named(case.department),
        "created_at": case.created_at,
        "closed_at": case.closed_at,
        "priority": case.priority.value if staff else None,
        "due_at": case.due_at if staff else None,
        "due_state": case.due_state.value if staff else None,
        "assignee": named(case.assignee, "display_name") if staff else None,
    }


def offers(case: Case, user: User) -> list[dict[str, Any]]:
    """The steps ``user`` may take on ``case`` now, as the case page offers them."""
    transitions = allowed_transitions(case, user)
    found = [
        {"action": t.action, "label": str(t.label), "kind": "transition",
         "needs_note": t.needs_note or t.action == "withdraw"}
        for t in transitions
    ]
    found += [
        {"action": a, "label": str(RECORDS[a][2]), "kind": "record",
         "needs_note": a in ("note", "extension")}
        for a in allowed_records(case, user)
    ]
    return found


def _reply(reply, internal: bool) -> dict[str, Any]:
    author = reply.author.display_name if internal and reply.author else None
    return {"at": reply.created_at, "body": reply.body, "author": author}


def _answers(case: Case) -> list[dict[str, str]]:
    """The answers to the category's extra questions, worded for the reader."""
    from cases.catalogue import questions

    text_of = getattr(questions, "answer_text", None)
    question_of = getattr(questions, "question_text", None)
    locale = current_language()
    found = []
    for answer in getattr(case, "answers", None) or []:
        question = (question_of(answer.question, locale) if question_of
                    else answer.question.code)
        value = text_of(answer, locale) if text_of else answer.value
        found.append({"question": str(question), "answer": str(value)})
    return found


def case_detail(case: Case, user: User) -> dict[str, Any]:
    """What ``user`` reads of ``case`` (they may see it: the caller checked)."""
    seen = face(case, audience_of(user), user)
    staff = seen.audience is Audience.STAFF
    shows = seen.shows
    data: dict[str, Any] = {
        "number": case.number,
        "version": case.version,
        "audience": seen.audience.value,
        "title": case.title,
        "status": case.status.value,
        "status_label": str(case.status.label),
        "type": case.type.value,
        "category": named(case.category, "path_name"),
        "district": named(case.district) if shows("district") else None,
        "channel": case.channel.value if shows("channel") else None,
        "department": named(case.department) if shows("department") else None,
        "created_at": case.created_at,
        "closed_at": case.closed_at,
        "description": case.description if shows("description") else None,
        "merged_into": case.merged_into.number if case.merged_into else None,
        "answers": _answers(case),
        "timeline": [
            {"at": line.event.created_at, "action": line.event.action, "label": line.label,
             "actor_kind": line.event.actor_kind,
             "actor": line.event.actor.display_name if staff and line.event.actor else None,
             "to_status": line.event.to_status.value if line.event.to_status else None,
             "details": line.details, "note": line.note}
            for line in timeline_lines(seen)
        ],
        "replies": [_reply(r, staff) for r in seen.replies],
        "master_replies": [_reply(r, staff) for r in seen.master_replies],
        "internal_notes": [_reply(r, staff) for r in seen.notes],
        "attachments": [
            {"id": a.id, "filename": a.filename, "size": a.size,
             "url": url_for("cases.attachment", number=case.number, attachment_id=a.id)}
            for a in seen.attachments
        ],
        "allowed_actions": offers(case, user),
    }
    if staff:
        data.update(_staff_part(case, seen.reporter_visible))
    return data


def _staff_part(case: Case, reporter_visible: bool) -> dict[str, Any]:
    client = case.client
    return {
        "priority": case.priority.value,
        "due_state": case.due_state.value,
        "supervised": case.supervised,
        "escalated": case.escalated_at is not None,
        "urge_count": case.urge_count,
        "assists": [named(a.department) for a in case.assists],
        "assignee": named(case.assignee, "display_name"),
        "client": {"id": client.id, "name": client.name,
                   "phone": mask_phone(client.phone) if client.phone else None,
                   "anonymous": case.anonymous} if reporter_visible else None,
        "deadlines": {
            "sign_due_at": case.sign_due_at if case.status == CaseStatus.DISPATCHED else None,
            "reply_due_at": case.reply_due_at, "due_at": case.due_at,
            "paused_at": case.paused_at, "departments_passed": case.departments_passed,
            "redo_count": case.redo_count,
        },
        "extension_requests": [
            {"days": r.working_days, "status": r.status.value, "reason": r.reason,
             "requested_by": r.requested_by.display_name if r.requested_by else None,
             "requested_at": r.created_at}
            for r in case.extension_requests
        ],
    }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def json_response(data: Any = None, **values: Any) -> Response:
    """``data`` as JSON with ISO 8601 datetimes (what the document says), unlike jsonify's
    HTTP dates."""
    body = json.dumps(values if data is None else data, default=_plain, ensure_ascii=False)
    return current_app.response_class(body, mimetype="application/json")
