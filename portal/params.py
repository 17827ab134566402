"""Request parameters kept inside what the database and the pages can take.

Ids and page numbers: the URL converter ``int`` (for the whole app), ``arg_int`` and
``page_arg`` for the query string, ``int_or_none``/``coerce_id`` (portal/forms.py) for forms.
Text: ``clean_text`` drops control and bidi-override characters (forms and searched
query strings), and the default URL converter refuses them in path segments.
"""

from __future__ import annotations

import re

from flask import Flask, abort, request
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter, Map, UnicodeConverter

# The largest id the database stores (BIGINT / SQLite INTEGER); beyond it drivers fail.
MAX_ID = 2**63 - 1
MIN_INT = -(2**63)
# Far more pages than any list has, and page * per_page stays a valid OFFSET.
MAX_PAGE = 10**9
WHOLE_NUMBER_RE = re.compile(r"[+-]?[0-9]+")

# C0 controls except tab, newline and carriage return; DEL and C1 controls; the bidi
# embeddings, overrides and isolates (they make text read differently from what it says:
# "Trojan source") and the invisible direction marks. NUL also breaks PostgreSQL text.
CONTROL_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def clean_text(value: str) -> str:
    """``value`` without control or bidi-override characters (tab and newlines kept)."""
    return CONTROL_RE.sub("", value)


def parse_int(value: object, minimum: int = MIN_INT, maximum: int = MAX_ID) -> int | None:
    """A whole number (ASCII digits, optional sign) within the bounds, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and WHOLE_NUMBER_RE.fullmatch(value.strip()):
        if len(value.strip().lstrip("+-")) > 19:  # no need to convert a giant string
            return None
        number = int(value)
    else:
        return None
    return number if minimum <= number <= maximum else None


class IdConverter(IntegerConverter):
    """Werkzeug's ``int``, but a value beyond MAX_ID does not match (so a 404, not a 500)."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, MAX_ID if max is None else max, signed)


class PlainTextConverter(UnicodeConverter):
    """The default path segment, without control or bidi characters (a 404 instead)."""

    def __init__(self, map: Map, minlength: int = 1, maxlength: int | None = None,
                 length: int | None = None) -> None:
        super().__init__(map, minlength, maxlength, length)
        self.regex = self.regex.replace("[^/]", "[^/" + CONTROL_RE.pattern[1:-1] + "]")


def register_params(app: Flask) -> None:
    """Install the bounded converters; call before any blueprint adds its routes."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["default"] = PlainTextConverter
    app.url_map.converters["string"] = PlainTextConverter


def arg_int(
    name: str,
    default: int | None = None,
    *,
    maximum: int = MAX_ID,
    values: MultiDict | None = None,
) -> int | None:
    """An integer from the query string (or ``values``, e.g. ``request.form``).

    Missing, blank or not a whole number: ``default``, as ``type=int`` always did. A whole
    number outside [MIN_INT, ``maximum``]: 400, since the address was broken or tampered
    with and quietly showing something else would hide that.
    """
    raw = (request.args if values is None else values).get(name, "")
    if not isinstance(raw, str) or not WHOLE_NUMBER_RE.fullmatch(raw.strip()):
        return default
    number = parse_int(raw, MIN_INT, maximum)
    if number is None:
        abort(400)
    return number


def page_arg(name: str = "page", values: MultiDict | None = None) -> int:
    """A page number: 1 when missing or below 1; 400 beyond MAX_PAGE."""
    return max(arg_int(name, 1, maximum=MAX_PAGE, values=values) or 1, 1)


def arg_text(name: str) -> str:
    """A searched query-string text (``q=``, ``tag=``...) through ``clean_text``; "" if absent."""
    return clean_text(request.args.get(name) or "")
