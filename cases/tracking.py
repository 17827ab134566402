"""The public status lookup: a tracking number plus a secret code shown once at filing."""

from __future__ import annotations

import secrets

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


def normalise_code(code: str) -> str:
    return "".join(code.split()).upper().replace("-", "")


def find_tracked_case(number: str, code: str) -> Case | None:
    """The case if number and code match; None otherwise (same cost either way)."""
    number = (number or "").strip()
    code = normalise_code(code or "")
    case = db_case(number) if number and code else None
    stored = case.tracking_code_hash if case is not None else None
    if stored is None:
        method = current_app.config["TRACKING_CODE_HASH_METHOD"]
        stored = _DUMMY.setdefault(method, generate_password_hash("x", method=method))
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
