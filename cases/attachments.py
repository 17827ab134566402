"""Attachments: checked by content, stored on disk outside the database.

A file is accepted only for what its bytes say it is (images, PDF, office documents),
never for its name: ``portal.uploads`` judges it. The bytes go to ``ATTACHMENT_DIR``
under a random ``storage_key`` (two directory levels, ``ab/cd/abcd…``); the row keeps
the cleaned original name for display, the detected type, the size and the SHA-256.

Nothing is written until every file of a submission has passed its checks, and files
written in a transaction that does not commit are removed again
(``portal.aftercommit.after_rollback``), so a refused or failed request leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import uuid
from functools import partial
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from cases import deadlines
from cases.models import Attachment, Case, CaseStatus
from cases.notifications import notify_case_staff
from cases.services import TransitionRefused, record_event
from cases.visibility import in_scope
from cases.workflow import TRANSITIONS
from citizens.models import ContactChannel, ContactLog
from portal.aftercommit import after_commit, after_rollback
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import User
from portal.uploads import ACCEPT, CheckedUpload, check_uploads, clean_filename, human_size

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
MAX_NOTE_LENGTH = 5000  # as the messages say


def attachment_rules() -> dict:
    """What the upload inputs tell the user (and the browser's ``accept``)."""
    config = current_app.config
    return {
        "accept": ACCEPT,
        "max_files": config["ATTACHMENT_MAX_FILES"],
        "max_size": human_size(config["ATTACHMENT_MAX_BYTES"]),
    }


# --- checking and storing -----------------------------------------------------------


def storage_path(storage_key: str) -> Path:
    """Where the bytes of ``storage_key`` live: ``<ATTACHMENT_DIR>/ab/cd/abcd…``."""
    if len(storage_key) < 8 or not all(c in "0123456789abcdef" for c in storage_key):
        raise ValueError("not a storage key")
    root = Path(current_app.config["ATTACHMENT_DIR"])
    return root / storage_key[:2] / storage_key[2:4] / storage_key


def _write(item: CheckedUpload, path: Path) -> str:
    """Copy the upload to ``path`` (a new file); its SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    written = 0
    item.stream.seek(0)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o640)
    with os.fdopen(fd, "wb") as out:
        while written < item.size and (chunk := item.stream.read(CHUNK)):
            chunk = chunk[: item.size - written]
            digest.update(chunk)
            out.write(chunk)
            written += len(chunk)
    if written != item.size:
        raise OSError(f"short write for {path}")
    return digest.hexdigest()


def store_attachments(
    case: Case, uploader: User | None, files: list[FileStorage]
) -> list[Attachment]:
    """Check the files sent with a filing (or added later) and store them with ``case``.

    Empty inputs (no file chosen) are skipped. Every file is checked before any is
    written; a wrong one refuses them all (``portal.uploads.UploadRejected``, a
    ``DomainError`` on the ``attachments`` field). The bytes are removed again if the
    transaction does not commit (or the savepoint they were written in rolls back, taking
    the rows along).
    Flushes, never commits.
    """
    config = current_app.config
    with contextlib.ExitStack() as stack:
        checked = check_uploads(
            files, config["ATTACHMENT_MAX_FILES"], config["ATTACHMENT_MAX_BYTES"], stack
        )
        stored = []
        for item in checked:
            key = uuid.uuid4().hex
            path = storage_path(key)
            # Removed again unless the transaction (or savepoint) writing the row commits.
            after_rollback(partial(_remove_uncommitted_file, path))
            sha256 = _write(item, path)
            attachment = Attachment(
                case=case,
                uploaded_by_id=uploader.id if uploader else None,  # None: the system
                filename=clean_filename(item.upload.filename, item.file_type),
                content_type=item.file_type.content_type,
                size=item.size,
                sha256=sha256,
                storage_key=key,
                is_public=True,
            )
            db.session.add(attachment)
            stored.append(attachment)
    if stored:
        db.session.flush()
        log.info(
            "case %s: %d attachment(s) stored by user %s", case.number, len(stored),
            uploader.id if uploader else None,
        )
    return stored


# --- the client adds information ----------------------------------------------------


def may_add_information(user: User, case: Case) -> bool:
    """The owning client, while the case is open."""
    return bool(user.is_authenticated) and in_scope(user, case, "owner") and case.is_open


def add_client_information(
    case: Case, user: User, note: str | None, files: list[FileStorage]
) -> list[Attachment]:
    """补充材料: the client adds a note and/or files to an open case of theirs.

    Writes a public ``client_info`` event; a case waiting for the client (待补充) goes
    back to ``in_progress`` with its clock resumed (event ``resume``, by the client).
    Flushes, never commits.
    """
    if not (user.is_authenticated and in_scope(user, case, "owner")):
        raise TransitionRefused(_("You may not do this to this case."))
    if not case.is_open:
        raise TransitionRefused(
            _(
                "This case is %(status)s; information can no longer be added.",
                status=case.status.label,
            )
        )
    text = (note or "").strip()
    if len(text) > MAX_NOTE_LENGTH:
        raise DomainError(_("The text may have at most 5000 characters."), field="note")
    if not text and not any(f is not None and f.filename for f in files):
        raise DomainError(_("Write what you want to add, or attach a file."), field="note")
    attachments = store_attachments(case, user, files)
    record_event(case, user, "client_info", None, None, text or None, is_public=True)
    db.session.add(
        ContactLog(
            client_id=case.client_id,
            channel=ContactChannel.WEB,
            case_id=case.id,
            summary=f"{case.number} " + (text or "")[:200],
            automatic=True,
        )
    )
    if case.status == CaseStatus.WAITING:
        resume = TRANSITIONS["resume"]
        case.status = resume.target
        deadlines.resume_clock(case, utcnow())
        record_event(case, user, "resume", CaseStatus.WAITING, resume.target, None, resume.public)
    db.session.flush()
    notify_case_staff(case, "client_info", note)
    log.info("case %s: information added by user %s", case.number, user.id)
    return attachments


def delete_attachment(attachment: Attachment) -> None:
    """Delete the row now and its file once the transaction commits (kept on a rollback)."""
    after_commit(partial(_unlink_file, storage_path(attachment.storage_key)))
    db.session.delete(attachment)


def _unlink_file(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        log.exception("could not remove the attachment file %s", path)


# --- files of transactions that do not commit are removed -----------------------------


def _remove_uncommitted_file(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        log.exception("could not remove the uncommitted attachment %s", path)
