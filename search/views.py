"""The search page ``/search`` (HTML, and JSON with ``Accept: application/json``).

``q`` in the query language of ``search.engine.query``; ``page`` (from 1) and
``per_page`` (up to 100); filters ``status``, ``type``, ``channel``, ``category``,
``department``, ``district`` (each may repeat), ``from``/``to`` (filing dates,
YYYY-MM-DD, both days included), ``overdue=1``; ``sort`` = relevance, newest or oldest.
``tab=clients`` searches client records, for staff who may list clients.

Who finds what is decided inside the query (the viewer's access keys, see
``search.page``), so totals and facet counts never count what the user may not open. A
malformed query or date is a 400 with the localised message, in the page or as JSON
``{"error": ...}``. The JSON form is ``{"total": N, "exact": bool, "results": [{"number", "title",
"status", ...}]}`` (cases only).
"""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from cases.models import CASE_STATUS_LABELS, CaseStatus, CaseType, Channel
from cases.services.catalogue import all_categories, leaf_category_options
from citizens.models import ClientKind
from portal.db import db
from portal.models import Department
from portal.pagination import Page
from portal.params import arg_int, page_arg
from portal.permissions import can_list_clients
from portal.refdata import NamedRow, all_departments, district_options
from search import bp, engine
from search import page as search_page
from search.engine.types import QuerySyntaxError, SearchResponse

FACET_PARAMS = {
    "status": "status", "type": "type", "channel": "channel", "category_id": "category",
    "department_id": "department", "district_id": "district", "overdue": "overdue",
    "kind": "kind",
}


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def may_search_clients() -> bool:
    return can_list_clients(current_user) and bool(
        search_page.viewer_client_keys(current_user)
    )


def link(**changes: Any) -> str:
    """This page's address with ``changes`` (a None value drops the argument; page reset)."""
    args = request.args.to_dict(flat=False)
    args.pop("page", None)
    for name, value in changes.items():
        if value is None:
            args.pop(name, None)
        else:
            args[name] = [str(value)]
    return url_for("search.search", **args)


def facet_labels(response: SearchResponse) -> dict[str, dict[Any, str]]:
    """Readable names for the facet values the engine counted."""
    ids = {name: [v for v in counts if v is not None] for name, counts in response.facets.items()}

    def named(rows: dict[int, NamedRow], key: str, text: str = "name") -> dict[Any, str]:
        # The per-process snapshots of the reference data: no statement per facet.
        return {i: getattr(rows[i], text) for i in ids.get(key, []) if i in rows}

    return {
        "status": {s.value: s.label for s in CaseStatus},
        "type": {t.value: t.label for t in CaseType},
        "channel": {c.value: c.label for c in Channel},
        "kind": {k.value: k.label for k in ClientKind},
        "overdue": {"yes": _("Overdue")},
        "category_id": named(all_categories(), "category_id", "path_name"),
        "department_id": named(all_departments(), "department_id"),
        "district_id": named({d.id: d for d in district_options()}, "district_id"),
    }


def facet_groups(response: SearchResponse, choices: search_page.Choices) -> list[dict]:
    """Each counted facet as links that narrow the search (the chosen value marked)."""
    labels = facet_labels(response)
    titles = {
        "status": _("Status"), "type": _("Type"), "channel": _("Channel"),
        "category_id": _("Category"), "department_id": _("Handling department"),
        "district_id": _("District"), "overdue": _("Deadline"), "kind": _("Kind"),
    }
    groups = []
    for name, counts in response.facets.items():
        param = FACET_PARAMS.get(name)
        items = []
        for value, count in sorted(counts.items(), key=lambda kv: -kv[1]):
            label = labels.get(name, {}).get(value)
            if label is None or not count:
                continue
            if name == "overdue":
                active, href = choices.overdue, link(overdue=1)
            else:
                active = str(value) in choices.selected.get(param, [])
                href = link(**{param: value})
            items.append({"label": label, "count": count, "href": href, "active": active})
        if items:
            groups.append({"name": name, "title": titles.get(name, name), "items": items})
    return groups


def case_json(row: search_page.Row) -> dict[str, Any]:
    case = row.item
    return {
        "number": case.number,
        "title": case.title,
        "status": case.status.value,
        "status_label": str(CASE_STATUS_LABELS[case.status]),
        "type": case.type.value,
        "category": case.category.path_name,
        "department": case.department.name if case.department else None,
        "district": case.district.name,
        "created_at": case.created_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "url": url_for("cases.show", number=case.number),
        "highlights": {k: str(v) for k, v in row.highlights.items()},
    }


def error_response(message: str, tab: str, choices: search_page.Choices | None):
    if wants_json():
        return jsonify({"error": message}), 400
    return render_template(
        "search/index.html", tab=tab, choices=choices or search_page.Choices(),
        error=message, response=None, rows=[], facets=[], link=link, **form_options(tab),
        clients_tab=may_search_clients(),
    ), 400


def form_options(tab: str) -> dict[str, Any]:
    if tab == "clients":
        return {"districts": district_options(), "kinds": list(ClientKind)}
    return {
        "districts": district_options(),
        "categories": leaf_category_options(),
        "departments": list(db.session.scalars(
            select(Department).order_by(Department.sort_key, Department.id)
        )),
        "statuses": list(CaseStatus),
        "types": list(CaseType),
        "channels": list(Channel),
        "sorts": {"relevance": _("Relevance"), "newest": _("Newest first"),
                  "oldest": _("Oldest first")},
    }


@bp.route("/search")
@login_required
def search():
    tab = "clients" if request.args.get("tab") == "clients" else "cases"
    if tab == "clients" and (wants_json() or not may_search_clients()):
        abort(404)
    filters = search_page.CLIENT_FILTERS if tab == "clients" else search_page.CASE_FILTERS
    try:
        choices = search_page.parse_choices(
            request.args, filters, page_arg(), arg_int("per_page", maximum=10_000),
            with_overdue=tab == "cases",
        )
    except search_page.BadFilter:
        return error_response(_("Write dates as 2026-05-01."), tab, None)
    if tab == "clients":
        search_request = search_page.client_request(current_user, choices)
    else:
        search_request = search_page.case_request(current_user, choices)
    try:
        response = engine.search(search_request)
    except QuerySyntaxError as exc:
        return error_response(str(exc), tab, choices)
    if tab == "clients":
        rows = search_page.load_clients(current_user, response.hits)
    else:
        rows = search_page.load_cases(current_user, response.hits)
    if wants_json():
        return jsonify({"total": response.total, "exact": response.exact,
                        "results": [case_json(r) for r in rows]})
    return render_template(
        "search/index.html", tab=tab, choices=choices, error=None, response=response,
        rows=rows, facets=facet_groups(response, choices), link=link,
        pagination=Page(rows, choices.page, choices.per_page, response.total),
        pager_args={k: v for k, v in request.args.to_dict(flat=False).items() if k != "page"},
        clients_tab=may_search_clients(), **form_options(tab),
    )
