"""Open311 GeoReport v2 under ``/open311/v2/``: each endpoint in ``.json`` and ``.xml``.

Reading needs no key; ``POST requests`` needs an active key with the ``post`` scope
(``api_key``: missing is a 400, unknown or revoked a 403), limited per key
(``ApiKey.rate_limit`` calls a minute, in the limiter's shared storage). A
``jurisdiction_id`` other than ours is a 404. Every refusal is the standard's error list
with 400, 403, 404 or 429. The blueprint is CSRF-exempt: no
cookie is read, a key is the credential.
"""

from __future__ import annotations

from flask import current_app, request
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from cases.open311 import bp
from cases.open311.formats import Open311Error, error_list, format_of, render
from cases.open311.keys import (
    has_scope,
    key_limit,
    key_scope,
    log_use,
    note_case,
    request_key,
    without_key,
)
from cases.open311.posting import post_request, token_request_id
from cases.open311.requests_feed import (
    find_request,
    find_requests,
    parse_filter,
    request_entries,
    service_notice,
)
from cases.open311.service_list import (
    leaf_by_code,
    request_locale,
    service_definition,
    service_list,
)
from cases.open311.statuses import setting
from cases.open311.updates import find_updates, parse_update_filter
from portal.extensions import limiter

FMT = "<any(json, xml):fmt>"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"


@bp.before_request
def check_jurisdiction() -> None:
    """A ``jurisdiction_id`` naming another city is a 404; a key sent is recognised."""
    if request.values.get("api_key"):
        request_key()  # its use is logged, whatever the answer
    asked = (request.values.get("jurisdiction_id") or "").strip()
    if asked and asked != setting("OPEN311_JURISDICTION_ID"):
        raise Open311Error(404, _("jurisdiction_id %(id)s was not found.", id=asked[:100]))


bp.after_request(log_use)


@bp.errorhandler(Open311Error)
def open311_error(error: Open311Error):
    return error_list(format_of(request.path), error.status, error.description)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Aborts, bad bodies and the rate limit, as the standard's error list."""
    status = error.code or 500
    if status == 429:
        description = _("Too many requests for this api_key: %(limit)s.", limit=key_limit())
    else:
        description = error.description or error.name
    return error_list(format_of(request.path), status, description)


@bp.route(f"/discovery.{FMT}")
def discovery(fmt: str):
    changeset = setting("OPEN311_CHANGESET")
    data = {
        "changeset": changeset,
        "contact": setting("OPEN311_CONTACT") or current_app.config["BASE_URL"],
        "key_service": current_app.config["BASE_URL"] + "/admin/api-keys",
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": current_app.config["BASE_URL"] + "/open311/v2",
            "changeset": changeset,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    }
    return render(fmt, "discovery", data)


@bp.route(f"/services.{FMT}")
def services(fmt: str):
    return render(fmt, "services", service_list(request_locale()))


@bp.route(f"/services/<service_code>.{FMT}")
def service_definition_view(service_code: str, fmt: str):
    category = leaf_by_code(service_code)
    if category is None:
        raise Open311Error(404, _("service_code %(code)s was not found.", code=service_code[:40]))
    return render(fmt, "service_definition", service_definition(category, request_locale()))


@bp.route(f"/requests.{FMT}", methods=["GET"])
def requests(fmt: str):
    locale = request_locale()
    rows = find_requests(parse_filter(request.args))
    return render(fmt, "service_requests", request_entries(rows, locale))


@bp.route(f"/requests.{FMT}", methods=["POST"])
@limiter.limit(key_limit, key_func=key_scope, exempt_when=without_key)
def post_requests(fmt: str):
    if not (request.form.get("api_key") or request.args.get("api_key") or "").strip():
        raise Open311Error(400, _("api_key is required."))
    key = request_key()
    if key is None:
        raise Open311Error(403, _("api_key is unknown or revoked."))
    if not has_scope(key, "post"):
        raise Open311Error(403, _("This api_key may not post requests."))
    with force_locale(request_locale()):
        posted = post_request(request.form, key)
    case = posted.filing.case
    note_case(case.id)
    answer = {
        "service_request_id": case.number,
        "token": posted.token,
        "service_notice": service_notice(case.category, request_locale()),
    }
    account = (request.form.get("account_id") or "").strip()[:100]
    if account:
        answer["account_id"] = account
    return render(fmt, "service_requests", [answer])


@bp.route(f"/requests/<service_request_id>.{FMT}")
def request_view(service_request_id: str, fmt: str):
    row = find_request(service_request_id)
    if row is None:
        raise Open311Error(404, _("service_request_id %(id)s was not found.",
                                  id=service_request_id[:20]))
    return render(fmt, "service_requests", request_entries([row], request_locale()))


@bp.route(f"/tokens/<token>.{FMT}")
def token_view(token: str, fmt: str):
    number = token_request_id(token)
    if number is None:
        raise Open311Error(404, _("token %(token)s was not found.", token=token[:64]))
    return render(fmt, "service_requests", [{"service_request_id": number, "token": token}])


@bp.route(f"/servicerequestupdates.{FMT}")
def updates(fmt: str):
    query = parse_update_filter(request.args)
    return render(fmt, "service_request_updates",
                  {"service_request_updates": find_updates(query, request_locale())})
