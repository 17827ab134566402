"""Sealing short secrets at rest (a text message carrying a verification code).

Fernet (AES-128-CBC with HMAC-SHA256) under a key derived from ``SECRET_KEY`` by HKDF
with a purpose label, so each use has its own key and a key for one purpose opens nothing
of another. Whoever reads the database or a backup without the secret key reads nothing.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

__all__ = ["OUTBOX", "InvalidToken", "seal", "unseal"]

OUTBOX = "outbox-body"  # the purpose of ``OutboxMessage.sealed_body``


def _fernet(purpose: str) -> Fernet:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"portal:{purpose}".encode()
    ).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(text: str, purpose: str) -> str:
    """``text`` encrypted and authenticated for ``purpose`` (ASCII, for a Text column)."""
    return _fernet(purpose).encrypt(text.encode()).decode("ascii")


def unseal(token: str, purpose: str) -> str:
    """The text ``seal`` sealed; ``InvalidToken`` if tampered with or the key changed."""
    return _fernet(purpose).decrypt(token.encode("ascii")).decode()
