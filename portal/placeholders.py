"""Texts with ``{placeholders}`` that staff may edit (reply and message templates).

A placeholder is a bare name from the caller's fixed list and nothing else: no format
specification, conversion, attribute or index access. So filling one can neither fail nor
grow the text past its values (``str.format`` would run ``{title:x<200000}``). ``{{`` and
``}}`` write a brace itself; any other brace is refused. Texts are checked when saved, and
checked again when filled, since a row may predate the check.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from flask_babel import gettext as _

from portal.errors import DomainError

# "{{" and "}}" are literal braces; "{...}" is a placeholder; any other brace is stray.
TOKEN_RE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def listing(allowed: Iterable[str]) -> str:
    """``{client_name}, {number}, ...`` for hints and messages."""
    return ", ".join("{" + name + "}" for name in allowed)


def parse(text: str, allowed: Iterable[str], field: str = "body") -> list[tuple[str, bool]]:
    """``text`` as (piece, is_placeholder) pairs; DomainError on ``field`` otherwise."""
    names = tuple(allowed)
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in TOKEN_RE.finditer(text):
        pieces.append((text[position : match.start()], False))
        position = match.end()
        token, inner = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            pieces.append((token[0], False))
        elif inner is None:
            raise DomainError(
                _("A { or } has no partner. Write {{ or }} to show a brace itself."), field=field
            )
        elif inner in names:
            pieces.append((inner, True))
        else:
            name = NAME_RE.match(inner.strip())
            if name and name.group(0) in names:
                raise DomainError(
                    _(
                        "Write %(plain)s without anything else inside the braces "
                        "(found %(found)s).",
                        plain="{" + name.group(0) + "}",
                        found=token,
                    ),
                    field=field,
                )
            raise DomainError(
                _(
                    "Unknown placeholder %(names)s. Use only: %(allowed)s.",
                    names=token,
                    allowed=listing(names),
                ),
                field=field,
            )
    pieces.append((text[position:], False))
    return pieces


def check(text: str, allowed: Iterable[str], field: str = "body") -> None:
    """Refuse unknown or decorated ``{names}`` and stray braces (DomainError on ``field``)."""
    parse(text, allowed, field)


def fill(text: str, values: Mapping[str, object], field: str = "body") -> str:
    """``text`` with each placeholder replaced by its plain value (names: ``values``' keys)."""
    return "".join(
        str(values[piece]) if is_name else piece for piece, is_name in parse(text, values, field)
    )
