"""Open311's two wire formats: JSON and XML, its content types, datetimes and error lists.

Every answer is built once as plain data (dicts, lists, strings, numbers, booleans, None)
and written in the format the URL asks for (``.json`` or ``.xml``). XML follows the
standard's shapes: the root element names the document (``services``,
``service_definition``, ``service_requests``, ``discovery``, ``errors``,
``service_request_updates``) and a list is written as one child element per item, named
by ``ITEM_TAGS`` (``services`` → ``service``, ``attributes`` → ``attribute``...).
``tests/test_open311_formats.py`` reads an XML answer back with the same rules and compares
it with the JSON one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from flask import Response, current_app

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
FORMATS = ("json", "xml")

# A list element's children: the element name of one item.
ITEM_TAGS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "service_request_updates": "request_update",
    "endpoints": "endpoint",
    "formats": "format",
}


def text_of(value: Any) -> str:
    """A scalar as XML text: booleans as ``true``/``false``, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write(out: list[str], tag: str, value: Any) -> None:
    """Append ``value`` as the element ``tag`` (strings joined once: ElementTree is slow for
    a thousand requests)."""
    if isinstance(value, dict):
        out.append(f"<{tag}>")
        for key, item in value.items():
            _write(out, key, item)
        out.append(f"</{tag}>")
    elif isinstance(value, list):
        item_tag = ITEM_TAGS.get(tag, "item")
        out.append(f"<{tag}>")
        for item in value:
            _write(out, item_tag, item)
        out.append(f"</{tag}>")
    elif value is None or value == "":
        out.append(f"<{tag} />")
    else:
        out.append(f"<{tag}>{escape(text_of(value))}</{tag}>")


def xml_bytes(root: str, data: Any) -> bytes:
    """``data`` as an XML document whose root element is ``root``."""
    out = ['<?xml version="1.0" encoding="utf-8"?>\n']
    _write(out, root, data)
    return "".join(out).encode("utf-8")


def render(fmt: str, root: str, data: Any, status: int = 200) -> Response:
    """The answer in ``fmt``: JSON as is, XML under the ``root`` element."""
    if fmt == "xml":
        body = xml_bytes(root, data[root] if _wrapped(root, data) else data)
        return Response(body, status=status, content_type=XML_TYPE)
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Response(body.encode("utf-8"), status=status, content_type=JSON_TYPE)


def _wrapped(root: str, data: Any) -> bool:
    """A JSON answer that names its list (``{"service_request_updates": [...]}``)."""
    return isinstance(data, dict) and list(data) == [root] and isinstance(data[root], list)


def error_list(fmt: str, status: int, *descriptions: str) -> Response:
    """The standard's error answer: ``[{"code": 400, "description": "..."}]``."""
    errors = [{"code": status, "description": str(d)} for d in descriptions]
    return render(fmt, "errors", errors, status)


def format_of(path: str) -> str:
    """The format a path asks for by its extension (JSON when it names none we know)."""
    return "xml" if path.rsplit(".", 1)[-1].lower() == "xml" else "json"


# --- datetimes: W3C (ISO 8601) with the portal's offset -----------------------------------


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def w3c(moment: datetime | None, tz: ZoneInfo | None = None) -> str | None:
    """``2026-05-01T08:30:00+08:00``: the portal's local time (``tz``) with its offset."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz or zone()).isoformat(timespec="seconds")


def parse_w3c(value: str) -> datetime | None:
    """A W3C datetime (``2010-01-01T00:00:00Z``, with an offset, or a date) as UTC.

    Without an offset the time is the portal's local time. None when it is not one.
    """
    text = (value or "").strip()
    if not text or len(text) > 40:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone())
    return moment.astimezone(UTC)


DAYS_90 = timedelta(days=90)


class Open311Error(Exception):
    """A refusal in the standard's words: answered as an error list with ``status``."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
