"""Attachments: checked by content, stored on disk outside the database."""

from __future__ import annotations

from werkzeug.datastructures import FileStorage

from cases.models import Attachment, Case
from portal.models import User


def store_attachments(case: Case, uploader: User, files: list[FileStorage]) -> list[Attachment]:
    """Check and store the files sent with a filing (being written: see the attachments work)."""
    return []
