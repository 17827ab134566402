"""``/api/v1/cases``: the list (queues, filters, search), one case, and every step on it.

The same rules as the pages: the list is a staff queue (``cases.queries.queue_query``) or
every case the token's owner may see (``cases.visibility.visible_cases``); one case opens
only for who may see it (404 otherwise, exactly as for a number that does not exist); a
step goes through ``cases.services.perform`` as ``Actor.api(user)``, with the checks of
``cases.services.rules``, after the version the caller read is checked.
"""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from cases.actors import Actor
from cases.api import bp
from cases.api.auth import api_user, require_write
from cases.api.case_data import case_detail, case_item, json_response
from cases.api.errors import ApiError
from cases.api.paging import decode, encode, keyset_page
from cases.api.schemas import ActionBody, ActionResult, CaseDetail, CaseList, CaseListQuery
from cases.api.spec import responses, spec
from cases.models import Case, CaseStatus, CaseType, Category, Priority
from cases.page_actions import done_message
from cases.queries import (
    DEFAULT_SORT,
    INTAKE_QUEUES,
    QueueFilter,
    case_by_number,
    queue_query,
    sort_labels,
)
from cases.reply_templates import render_reply, templates_for
from cases.services import ActionInput, active_departments, allowed_transitions, perform
from cases.visibility import can_view_case, viewer_case_keys, visible_cases
from cases.workflow import RECORDS, TRANSITIONS
from portal.db import db, utcnow
from portal.models import Department, User
from portal.permissions import can_see_internal, can_work_queues, is_intake_staff

ACTIONS = ",".join((*TRANSITIONS, *RECORDS))


def visible_case_or_404(number: str, user: User) -> Case:
    """The case, if ``user`` may see it; a 404 otherwise (existence is private)."""
    case = case_by_number(number) if len(number) <= 20 else None
    if case is None or not can_view_case(user, case):
        raise ApiError(404, "not_found")
    return case


def base_query(args: CaseListQuery, user: User) -> tuple[Select, str]:
    """The list's statement before paging, and its sort."""
    filters = QueueFilter(
        category_id=args.category_id, district_id=args.district_id,
        priority=Priority(args.priority) if args.priority else None,
        type=CaseType(args.type) if args.type else None, sort=args.sort,
    )
    if args.queue:
        if not can_work_queues(user):
            raise ApiError(403, "forbidden", _("Queues are for staff who work cases."),
                           fields={"queue": args.queue})
        if args.queue == "department" and user.department_id is None:
            raise ApiError(404, "not_found", fields={"queue": args.queue})
        if args.queue in INTAKE_QUEUES and not is_intake_staff(user):
            raise ApiError(403, "forbidden", fields={"queue": args.queue})
        stmt = queue_query(args.queue, user, utcnow(), filters)
        sort = args.sort if args.sort in sort_labels(args.queue) else DEFAULT_SORT.get(
            args.queue, "due")
    else:
        stmt = select(Case).where(visible_cases(user)).options(
            joinedload(Case.category), joinedload(Case.district),
            joinedload(Case.department), joinedload(Case.assignee))
        for column, value in ((Case.category_id, filters.category_id),
                              (Case.district_id, filters.district_id),
                              (Case.priority, filters.priority), (Case.type, filters.type)):
            if value:
                stmt = stmt.where(column == value)
        sort = args.sort if args.sort in ("due", "newest", "oldest") else "newest"
    if args.status:
        stmt = stmt.where(Case.status == CaseStatus(args.status))
    # Each row names its category with its parent ("Parent › Child"): loaded with the rows.
    stmt = stmt.options(joinedload(Case.category).joinedload(Category.parent))
    return stmt, sort


def search_fields(user: User) -> tuple[str, ...]:
    """The text fields ``user`` searches, as the search page decides: internal notes for
    staff only (the case source declares both sets to the engine's registry)."""
    from search.engine.registry import source

    found = source("case")
    if can_see_internal(user):
        return tuple(getattr(found, "text_fields", ()) or ("title", "body"))
    return tuple(getattr(found, "public_fields", ()) or ("title", "body"))


def searched(stmt: Select, args: CaseListQuery, user: User) -> tuple[list[Case], str | None]:
    """The list narrowed by full-text search: the engine ranks (with the viewer's access
    keys, as ``/search``), the database scopes once more with the list's own statement."""
    import search.engine as engine
    from search.engine.types import QuerySyntaxError, SearchRequest

    page = 1
    if args.cursor:
        payload = decode(args.cursor)
        if len(payload) != 2 or payload[0] != "s" or not isinstance(payload[1], int) \
                or isinstance(payload[1], bool) or not 1 <= payload[1] <= 10_000:
            raise ApiError(400, "bad_cursor", fields={"cursor": _("Not a cursor.")})
        page = payload[1]
    filters = {name: (value,) for name, value in (
        ("category_id", args.category_id), ("district_id", args.district_id),
        ("type", args.type), ("status", args.status)) if value}
    search_request = SearchRequest(
        kind="case", query=" ".join((args.q or "").split()), access=viewer_case_keys(user),
        fields=search_fields(user), filters=filters, sort="relevance", page=page,
        per_page=args.limit,
    )
    try:
        found = engine.search(search_request)
    except QuerySyntaxError as exc:
        raise ApiError(400, "bad_query", str(exc), fields={"q": str(exc)}) from exc
    ids = [hit.id for hit in found.hits]
    rows = {c.id: c for c in db.session.scalars(stmt.where(Case.id.in_(ids)).order_by(None))
            .unique()} if ids else {}
    more = found.total > page * args.limit
    return [rows[i] for i in ids if i in rows], encode(["s", page + 1]) if more else None


@bp.get("/cases")
@spec.validate(query=CaseListQuery, resp=responses(CaseList), tags=["cases"],
               operation_id="listCases")
def list_cases():
    """List cases

    A staff queue (``queue``) or every case the token's owner may see, newest first;
    filtered, searched (``q``) and paged with ``cursor``/``limit``.
    """
    user = api_user()
    args: CaseListQuery = request.context.query
    stmt, sort = base_query(args, user)
    if args.q and args.q.strip():
        rows, next_cursor = searched(stmt, args, user)
    else:
        rows, next_cursor = keyset_page(stmt, sort, args.cursor, args.limit, db.session)
    staff = can_see_internal(user)
    return json_response(items=[case_item(c, staff) for c in rows], next_cursor=next_cursor)


@bp.get("/cases/<number>")
@spec.validate(resp=responses(CaseDetail, errors=(401, 404, 429)), tags=["cases"],
               operation_id="getCase")
def get_case(number: str):
    """Read one case

    What the case page shows its reader: the staff face or the client's, personal data
    masked, the timeline, the replies, and the steps the reader may take now.
    """
    user = api_user()
    return json_response(case_detail(visible_case_or_404(number, user), user))


def _department(ident: int | None, field: str) -> Department | None:
    if ident is None:
        return None
    found = next((d for d in active_departments() if d.id == ident), None)
    if found is None:
        raise ApiError(422, "validation_failed", fields={field: _("No such department.")})
    return found


def action_input(body: ActionBody, action: str, case: Case, user: User) -> ActionInput:
    """The form's input, from JSON, checked as the case page's form checks it."""
    assisting = [_department(i, "assisting_ids") for i in dict.fromkeys(body.assisting_ids)]
    category = None
    if body.category_id is not None:
        category = db.session.get(Category, body.category_id)
        if category is None:
            raise ApiError(422, "validation_failed", fields={"category_id": _("No such "
                                                                             "category.")})
    target = None
    if body.target:
        other = db.session.scalar(select(Case).where(Case.number == body.target.strip()))
        target = other if other is not None and can_view_case(user, other) else None
    note = body.note
    if action in ("reply", "answer") and not (note or "").strip() and body.template_id:
        template = next((t for t in templates_for(user) if t.id == body.template_id), None)
        if template is None:
            raise ApiError(422, "validation_failed",
                           fields={"template_id": _("No such reply template.")})
        note = render_reply(template, case)
    return ActionInput(
        note=note, department=_department(body.department_id, "department_id"),
        assisting=[d for d in assisting if d], days=body.days, approve=body.approve,
        case_type=CaseType(body.case_type) if body.case_type else None, category=category,
        priority=Priority(body.priority) if body.priority else None, target=target,
    )


def _precheck(action: str, body: ActionBody, case: Case, user: User) -> None:
    """What the page's form asks before the service is called."""
    may_take_now = action in {t.action for t in allowed_transitions(case, user)}
    if action == "withdraw" and may_take_now:
        fields = {}
        if not (body.note or "").strip():
            fields["note"] = _("Tell us why you withdraw the request.")
        if not body.confirm:
            fields["confirm"] = _("Confirm that you want to withdraw the request.")
        if fields:
            raise ApiError(422, "validation_failed", fields=fields)
    if action == "decide_extension" and body.approve is None:
        raise ApiError(422, "validation_failed", fields={"approve": _("Choose approve or "
                                                                       "refuse.")})


@bp.post(f"/cases/<number>/actions/<any({ACTIONS}):action>")
@spec.validate(json=ActionBody, resp=responses(ActionResult), tags=["cases"],
               operation_id="takeAction")
def take_action(number: str, action: str):
    """Take a step on a case

    Every life-cycle step and record action the case page offers (``allowed_actions`` of
    the case). Send the case's ``version`` as read: if it changed meanwhile, nothing is
    done (409 ``stale_version``). Needs a token with the ``write`` scope.
    """
    user = api_user()
    case = visible_case_or_404(number, user)
    require_write()
    body: ActionBody = request.context.json
    if body.version != case.version:
        raise ApiError(409, "stale_version", _(
            "The case changed since you read it (version %(now)d, you sent %(sent)d). Read "
            "it again, then try again if the step still applies.",
            now=case.version, sent=body.version), fields={"version": str(case.version)})
    _precheck(action, body, case, user)
    data = action_input(body, action, case, user)
    perform(case, action, Actor.api(user), data)
    db.session.flush()  # a lost race on the version is a 409 here, not at the commit
    message = done_message(action, case, department=data.department,
                           assisting=data.assisting, days=data.days, approve=data.approve,
                           target=data.target)
    still = can_view_case(user, case)
    return json_response(message=message, case=case_detail(case, user) if still else None)
