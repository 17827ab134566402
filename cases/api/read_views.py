"""``/api/v1`` reads beside cases: clients (masked; a full value only through the logged
reveal), report tables, the knowledge base and ratings, each scoped as its page is."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cases.api import bp
from cases.api.auth import api_user, require_write
from cases.api.case_data import json_response, named
from cases.api.errors import ApiError
from cases.api.paging import position_cursor, read_position
from cases.api.schemas import (
    ClientDetail,
    KnowledgeDetail,
    KnowledgeList,
    KnowledgeQuery,
    RatingList,
    RatingQuery,
    ReportQuery,
    ReportTable,
    RevealBody,
    Revealed,
)
from cases.api.spec import responses, spec
from cases.knowledge.models import KnowledgeAnswer
from cases.knowledge.services import can_read_knowledge
from cases.reports import figures
from cases.reports.periods import Period, PeriodError, from_args
from cases.reports.scope import ReportReach, may_read_reports, report_reach
from cases.reports.tables import Row, Table
from cases.satisfaction.queries import (
    RatingFilter,
    may_list_ratings,
    ratings_query,
    sees_all_departments,
)
from cases.satisfaction.vocabulary import level_label
from citizens import queries as client_queries
from citizens.models import Client
from citizens.services import reveal_field
from citizens.visibility import can_view_client
from portal.db import db
from portal.models import DEPARTMENT_ROLES
from portal.permissions import INTAKE_ROLES, can_list_clients
from portal.privacy import mask_email, mask_id_number, mask_phone

REVEAL_ROLES = INTAKE_ROLES | DEPARTMENT_ROLES  # as citizens.views


# --- clients --------------------------------------------------------------------------------


def visible_client(client_id: int) -> Client:
    user = api_user()
    if not can_list_clients(user):
        raise ApiError(403, "forbidden")
    client = client_queries.client_profile(client_id) if client_id < 2**31 else None
    if client is None or not can_view_client(user, client):
        raise ApiError(404, "not_found")
    return client


@bp.get("/clients/<int:client_id>")
@spec.validate(resp=responses(ClientDetail, errors=(401, 403, 404, 429)), tags=["clients"],
               operation_id="getClient")
def get_client(client_id: int):
    """Read one client

    The client record as its 360° page shows it: phone, e-mail, ID number and credit
    code masked (a full value only through ``reveal``, which is logged).
    """
    client = visible_client(client_id)
    user = api_user()
    response = json_response({
        "id": client.id, "kind": client.kind.value, "name": client.name,
        "contact_person": client.contact_person,
        "phone": mask_phone(client.phone) if client.phone else None,
        "email": mask_email(client.email) if client.email else None,
        "id_number": mask_id_number(client.id_number) if client.id_number else None,
        "credit_code": mask_id_number(client.credit_code) if client.credit_code else None,
        "district": named(client.district), "address": client.address,
        "flags": [f.flag.value for f in client.flags], "tags": [t.tag for t in client.tags],
        "requests": client_queries.known_case_counts(user, [client])[client.id],
        "created_at": client.created_at, "anonymised": client.anonymised_at is not None,
        "merged_into": client.merged_into_id,
    })
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/clients/<int:client_id>/reveal")
@spec.validate(json=RevealBody, resp=responses(Revealed), tags=["clients"],
               operation_id="revealClientField")
def reveal(client_id: int):
    """Reveal one full value

    One masked value of a client in full, this once; the reason is written to the
    client's access log first (as on the 360° page). Needs the ``write`` scope.
    """
    client = visible_client(client_id)
    user = api_user()
    if user.role not in REVEAL_ROLES or client.anonymised_at is not None:
        raise ApiError(403, "forbidden")
    require_write()
    body: RevealBody = request.context.json
    value = reveal_field(client, user, body.field, body.reason)
    response = json_response(field=body.field, value=value)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- reports ---------------------------------------------------------------------------------


def period_of(args: ReportQuery) -> Period:
    raw = {"period": args.period, "date": args.date or "", "from": args.from_ or "",
           "to": args.to or ""}
    try:
        period = from_args(raw)
    except (PeriodError, OverflowError) as exc:
        raise ApiError(400, "bad_period", _("This period cannot be read; write dates as "
                                            "YYYY-MM-DD."), fields={"period": str(exc)}) from exc
    if period.first.year < 2001 or period.last.year > 2100:
        raise ApiError(400, "bad_period", _("Choose a date between %(first)d and %(last)d.",
                                            first=2001, last=2100))
    return period


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def row_json(row: Row) -> dict[str, Any]:
    return {"key": row.key, "label": str(row.label), "cells": {
        key: {"value": _number(c.value), "previous": _number(c.previous),
              "year_before": _number(c.year_before)} for key, c in row.cells.items()}}


def table_json(table: Table) -> dict[str, Any]:
    reach = report_reach(api_user())
    return {
        "key": table.key, "title": str(table.title), "scope": reach.value,
        "period": {"kind": table.period.kind, "first": table.period.first.isoformat(),
                   "last": table.period.last.isoformat()},
        "group": table.group,
        "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind,
                     "definition": str(c.definition) if c.definition else None}
                    for c in table.columns],
        "rows": [row_json(r) for r in table.rows],
        "total": row_json(table.total) if table.total else None,
        "note": str(table.note) if table.note else None,
    }


def _report_reader() -> None:
    if not may_read_reports(api_user()) or report_reach(api_user()) is ReportReach.NONE:
        raise ApiError(403, "forbidden")


@bp.get("/reports/workload")
@spec.validate(query=ReportQuery, resp=responses(ReportTable, errors=(400, 401, 403, 422, 429)),
               tags=["reports"], operation_id="getWorkload")
def report_workload():
    """Workload figures

    Received, open, closed, overdue... by department, category, district or staff member
    (``by``), for a period, beside the previous period and a year before; scoped as
    ``/reports`` is (the city, a department, or one's own figures).
    """
    _report_reader()
    args: ReportQuery = request.context.query
    return json_response(table_json(figures.workload(period_of(args), api_user(), args.by)))


@bp.get("/reports/rates")
@spec.validate(query=ReportQuery, resp=responses(ReportTable, errors=(400, 401, 403, 422, 429)),
               tags=["reports"], operation_id="getRates")
def report_rates():
    """The three rates (三率)

    Response, on-time and satisfaction rates and the composite score per department,
    with their definitions; ``by`` is ignored.
    """
    _report_reader()
    args: ReportQuery = request.context.query
    return json_response(table_json(figures.three_rates(period_of(args), api_user())))


# --- knowledge base --------------------------------------------------------------------------


def answer_json(answer: KnowledgeAnswer, body: bool = False) -> dict[str, Any]:
    data = {"id": answer.id, "title": answer.title, "status": answer.status,
            "locale": answer.locale, "category": named(answer.category, "path_name"),
            "published_at": answer.published_at, "updated_at": answer.updated_at}
    if body:
        data.update(body=answer.body, version=answer.version)
    return data


@bp.get("/knowledge")
@spec.validate(query=KnowledgeQuery, resp=responses(KnowledgeList, errors=(400, 401, 422, 429)),
               tags=["knowledge"], operation_id="listAnswers")
def list_answers():
    """List knowledge-base answers

    Published answers, newest first; staff also read drafts and answers in review, as
    the staff list does (``status``).
    """
    args: KnowledgeQuery = request.context.query
    stmt = select(KnowledgeAnswer).options(selectinload(KnowledgeAnswer.category))
    if can_read_knowledge(api_user()):
        if args.status:
            stmt = stmt.where(KnowledgeAnswer.status == args.status)
        stmt = stmt.order_by(KnowledgeAnswer.updated_at.desc(), KnowledgeAnswer.id.desc())
    else:
        if args.status and args.status != "published":
            return json_response(items=[], next_cursor=None)
        stmt = stmt.where(KnowledgeAnswer.status == "published").order_by(
            KnowledgeAnswer.published_at.desc(), KnowledgeAnswer.id.desc())
    if args.category_id:
        stmt = stmt.where(KnowledgeAnswer.category_id == args.category_id)
    offset = read_position(args.cursor, "a")
    rows = list(db.session.scalars(stmt.offset(offset).limit(args.limit + 1)))
    more = len(rows) > args.limit
    return json_response(items=[answer_json(a) for a in rows[: args.limit]],
                   next_cursor=position_cursor("a", offset + args.limit) if more else None)


@bp.get("/knowledge/<int:answer_id>")
@spec.validate(resp=responses(KnowledgeDetail, errors=(401, 404, 429)), tags=["knowledge"],
               operation_id="getAnswer")
def get_answer(answer_id: int):
    """Read one answer (staff: in any state; others: published ones)."""
    answer = db.session.get(KnowledgeAnswer, answer_id) if answer_id < 2**31 else None
    if answer is None or (answer.status != "published"
                          and not can_read_knowledge(api_user())):
        raise ApiError(404, "not_found")
    return json_response(answer_json(answer, body=True))


# --- ratings ----------------------------------------------------------------------------------


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ApiError(400, "bad_date", _("Write dates as YYYY-MM-DD, for example "
                                          "2026-11-30."), fields={field: value}) from exc


@bp.get("/ratings")
@spec.validate(query=RatingQuery, resp=responses(RatingList, errors=(400, 401, 403, 422, 429)),
               tags=["ratings"], operation_id="listRatings")
def list_ratings():
    """List ratings

    The clients' ratings of answers, newest first: a department's staff read their own,
    the city-wide roles all (as ``/ratings``).
    """
    user = api_user()
    if not may_list_ratings(user):
        raise ApiError(403, "forbidden")
    args: RatingQuery = request.context.query
    filters = RatingFilter(
        department_id=args.department_id if sees_all_departments(user) else None,
        level=args.level, bad_only=args.bad, since=_day(args.since, "since"),
        until=_day(args.until, "until"),
    )
    offset = read_position(args.cursor, "r")
    rows = list(db.session.scalars(ratings_query(user, filters).offset(offset)
                                   .limit(args.limit + 1)).unique())
    more = len(rows) > args.limit
    items = [{
        "id": r.id, "case": r.case.number, "department": named(r.department),
        "status": r.status.value, "source": r.source.value if r.source else None,
        "level": r.level, "level_label": str(level_label(r.level)) if r.level else None,
        "solved": r.solved.value if r.solved else None, "comment": r.comment,
        "rated_at": r.rated_at, "set_aside": r.set_aside,
    } for r in rows[: args.limit]]
    return json_response(items=items,
                   next_cursor=position_cursor("r", offset + args.limit) if more else None)
