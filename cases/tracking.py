"""The public status lookup: a tracking number plus a secret code shown once at filing."""

from __future__ import annotations

import re
import secrets
import unicodedata

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from cases.models import Case
from portal.db import db

# No 0/O, 1/I/L: codes are read aloud on the phone and typed from paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_DUMMY: dict[str, str] = {}


def issue_tracking_code(case: Case) -> str:
    """Give ``case`` a fresh secret code; only its hash is stored, the code is returned once."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    case.tracking_code_hash = generate_password_hash(
        code, method=current_app.config["TRACKING_CODE_HASH_METHOD"]
    )
    return code


# A year and a serial: ``2026-000123``; typed as ``2026000123``, ``２０２６－０００１２３``...
NUMBER_RE = re.compile(r"^(\d{4})-?(\d{6,})$")
# Dashes people type between the year and the serial (NFKC leaves these apart).
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d"), "-")


def normalise_number(raw: str | None) -> str:
    """A tracking number as stored (``2026-000123``) from what was typed: full-width
    digits, spaces anywhere, any dash or none. Text that is no number comes back trimmed."""
    text = unicodedata.normalize("NFKC", raw or "").translate(_DASHES)
    compact = "".join(text.split())
    match = NUMBER_RE.match(compact)
    return f"{match.group(1)}-{match.group(2)}" if match else text.strip()


def is_tracking_number(text: str) -> bool:
    """Whether ``text`` (normalised) has the shape of a tracking number."""
    return NUMBER_RE.match(text) is not None and "-" in text


def normalise_code(code: str) -> str:
    return "".join(code.split()).upper().replace("-", "")


def find_tracked_case(number: str, code: str) -> Case | None:
    """The case if number and code match; None otherwise (same cost either way)."""
    number = normalise_number(number)
    code = normalise_code(code or "")
    case = db_case(number) if number and code else None
    stored = case.tracking_code_hash if case is not None else None
    if stored is None:
        # Check against a stand-in hash of the same method, so that an unknown number
        # costs what a wrong code does (made once per method, not on every lookup).
        method = current_app.config["TRACKING_CODE_HASH_METHOD"]
        stored = _DUMMY.get(method)
        if stored is None:
            stored = _DUMMY[method] = generate_password_hash("x", method=method)
        check_password_hash(stored, code)
        return None
    return case if check_password_hash(stored, code) else None


def db_case(number: str) -> Case | None:
    stmt = (
        select(Case)
        .where(Case.number == number)
        .options(selectinload(Case.replies), selectinload(Case.merged_into))
    )
    return db.session.scalar(stmt)
