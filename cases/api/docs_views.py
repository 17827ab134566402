"""The API's own description: ``/api/v1/openapi.json`` (the generated OpenAPI 3.1
document) and ``/api/v1/docs``, a reference page rendered from that same document by the
portal's templates, in the reader's language, with no script or style from elsewhere.
Both are public: they describe the API and show no data."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from cases.api import bp
from cases.api.errors import ApiError
from cases.api.spec import document

# Each operation's summary in the reader's language (the document's are English).
SUMMARIES = {
    "listCases": _l("List cases"),
    "getCase": _l("Read one case"),
    "takeAction": _l("Take a step on a case"),
    "getClient": _l("Read one client"),
    "revealClientField": _l("Reveal one full value"),
    "getWorkload": _l("Workload figures"),
    "getRates": _l("The three rates (三率)"),
    "listAnswers": _l("List knowledge-base answers"),
    "getAnswer": _l("Read one answer"),
    "listRatings": _l("List ratings"),
}
# The stable error codes, what each means.
ERROR_CODES = [
    ("bad_request", 400, _l("The request could not be understood.")),
    ("bad_json", 400, _l("The body is not a JSON object.")),
    ("bad_cursor", 400, _l("The cursor was not written by this API.")),
    ("bad_query", 400, _l("The search text cannot be read (the message says why).")),
    ("bad_period", 400, _l("The report period cannot be read.")),
    ("bad_date", 400, _l("A date is not written as YYYY-MM-DD.")),
    ("csrf_failed", 400, _l("A browser posted with its session cookie and no CSRF token.")),
    ("unauthorized", 401, _l("No token was sent.")),
    ("invalid_token", 401, _l("The token is unknown, revoked or expired, or its owner is "
                              "disabled.")),
    ("forbidden", 403, _l("The token's owner may not do this (as on the web).")),
    ("insufficient_scope", 403, _l("The token has the read scope only.")),
    ("not_found", 404, _l("No such thing, or the token's owner may not see it.")),
    ("method_not_allowed", 405, _l("The address does not take this method.")),
    ("refused", 409, _l("The step may not be taken now (the message says why).")),
    ("stale_version", 409, _l("The case changed since it was read.")),
    ("validation_failed", 422, _l("Some input is missing or invalid (see fields).")),
    ("rate_limited", 429, _l("Too many requests with this token; see Retry-After.")),
]
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document (generated from the code by spectree)."""
    return jsonify(document())


def resolve(doc: dict[str, Any], schema: dict[str, Any] | None) -> tuple[str | None, dict]:
    """A schema's component name (when it is a reference) and the schema itself."""
    if not schema:
        return None, {}
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        return name, doc.get("components", {}).get("schemas", {}).get(name, {})
    return None, schema


def type_of(schema: dict[str, Any]) -> str:
    """A schema's type as a short text: ``string``, ``integer | null``, ``Named[]``..."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(type_of(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type", "any")
    if kind == "array":
        return type_of(schema.get("items", {})) + "[]"
    if kind == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        return "object<" + (type_of(extra) if isinstance(extra, dict) else "any") + ">"
    return str(kind) + (f" ({schema['format']})" if "format" in schema else "")


def operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation of the document, in the order of its paths."""
    found = []
    for path, item in doc.get("paths", {}).items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if not op:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            found.append({
                "path": path, "method": method.upper(), "id": op.get("operationId", ""),
                "summary": SUMMARIES.get(op.get("operationId"), op.get("summary", "")),
                "description": op.get("description", ""),
                "tags": op.get("tags", []),
                "parameters": op.get("parameters", []),
                "body": resolve(doc, body.get("schema"))[0],
                "responses": [
                    (code, resolve(doc, r.get("content", {}).get("application/json", {})
                                   .get("schema"))[0] or "", r.get("description", ""))
                    for code, r in sorted(op.get("responses", {}).items())
                ],
            })
    return found


def render_reference():
    doc = document()
    return render_template(
        "api/reference.html", doc=doc, operations=operations(doc),
        schemas=sorted(doc.get("components", {}).get("schemas", {}).items()),
        type_of=type_of, error_codes=ERROR_CODES,
        base_url=request.host_url.rstrip("/") + "/api/v1",
    )


@bp.get("/docs")
def reference():
    """The reference page of the API, rendered here from the OpenAPI document."""
    return render_reference()


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(rest: str):
    """Any other address under /api/v1: a 404 (or 405) in the API's error shape."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in ("GET", "POST"):
        if method == request.method:
            continue
        try:
            endpoint, _args = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != "api.not_found":
            raise ApiError(405, "method_not_allowed", headers={"Allow": method})
    raise ApiError(404, "not_found")
