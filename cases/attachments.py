"""Attachments: checked by content, stored on disk outside the database.

A file is accepted only for what its bytes say it is (images, PDF, office documents),
never for its name. The bytes go to ``ATTACHMENT_DIR`` under a random ``storage_key``
(two directory levels, ``ab/cd/abcd…``); the row keeps the cleaned original name for
display, the detected type, the size and the SHA-256.

Nothing is written until every file of a submission has passed its checks, and files
written in a transaction that does not commit are removed again (see the session hooks
at the end of this module), so a refused or failed request leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import struct
import tempfile
import unicodedata
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flask import current_app
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction
from werkzeug.datastructures import FileStorage

from cases import deadlines
from cases.models import Attachment, Case, CaseStatus
from cases.services import TransitionRefused, record_event
from cases.workflow import TRANSITIONS
from citizens.models import ContactChannel, ContactLog
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import User
from portal.notifications.services import notify_case_staff
from portal.permissions import in_scope

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
MAX_NOTE_LENGTH = 5000  # as the messages say
MAX_FILENAME_LENGTH = 255


# --- the types we accept ------------------------------------------------------------


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str  # the one a stored name gets when its own does not fit
    label: LazyString
    aliases: tuple[str, ...] = ()  # other extensions that are fine for this type

    @property
    def extensions(self) -> tuple[str, ...]:
        return (self.extension, *self.aliases)


_TYPES = [
    FileType("image/jpeg", "jpg", _l("JPEG image"), ("jpeg", "jpe", "jfif")),
    FileType("image/png", "png", _l("PNG image")),
    FileType("image/gif", "gif", _l("GIF image")),
    FileType("image/webp", "webp", _l("WebP image")),
    FileType("application/pdf", "pdf", _l("PDF document")),
    FileType("application/msword", "doc", _l("Word document")),
    FileType("application/vnd.ms-excel", "xls", _l("Excel spreadsheet")),
    FileType("application/vnd.ms-powerpoint", "ppt", _l("PowerPoint presentation"), ("pps",)),
    FileType(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        _l("Word document"),
    ),
    FileType(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
        _l("Excel spreadsheet"),
    ),
    FileType(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
        _l("PowerPoint presentation"),
        ("ppsx",),
    ),
    FileType("application/vnd.oasis.opendocument.text", "odt", _l("OpenDocument text")),
    FileType(
        "application/vnd.oasis.opendocument.spreadsheet", "ods", _l("OpenDocument spreadsheet")
    ),
    FileType(
        "application/vnd.oasis.opendocument.presentation", "odp", _l("OpenDocument presentation")
    ),
]
FILE_TYPES: dict[str, FileType] = {t.content_type: t for t in _TYPES}
ACCEPT = ",".join(
    [f".{ext}" for t in _TYPES for ext in t.extensions] + [t.content_type for t in _TYPES]
)


def type_label(content_type: str) -> str:
    """How a stored type reads on the page ("PDF document")."""
    file_type = FILE_TYPES.get(content_type)
    return str(file_type.label) if file_type else content_type


# --- detection by content -----------------------------------------------------------

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAX_SECTOR = 0xFFFFFFFA  # sector numbers above this mark free / end of chain
OLE_NO_STREAM = 0xFFFFFFFF
OLE_ROOT_STREAMS = {
    "WordDocument": "application/msword",
    "Workbook": "application/vnd.ms-excel",
    "Book": "application/vnd.ms-excel",  # Excel 5/95
    "PowerPoint Document": "application/vnd.ms-powerpoint",
}
ODF_TYPES = {
    b"application/vnd.oasis.opendocument.text",
    b"application/vnd.oasis.opendocument.spreadsheet",
    b"application/vnd.oasis.opendocument.presentation",
}
# OOXML: the folder of the main part, its usual name, and the main part's content type.
OOXML_FAMILIES = [
    ("word/", "word/document.xml", b"wordprocessingml.document.main+xml",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xl/", "xl/workbook.xml", b"spreadsheetml.sheet.main+xml",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("ppt/", "ppt/presentation.xml", b"presentationml.presentation.main+xml",
     "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
]
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    RuntimeError,
    NotImplementedError,
    KeyError,
    zlib.error,
)


def detect_type(stream: IO[bytes]) -> str | None:
    """The content type the bytes of ``stream`` (seekable) show, if it is one we accept."""
    stream.seek(0)
    head = stream.read(16)
    stream.seek(0)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(OLE_MAGIC):
        return _ole_type(stream)
    if head.startswith(ZIP_MAGIC):
        return _zip_type(stream)
    return None


def _zip_type(stream: IO[bytes]) -> str | None:
    """OOXML (``[Content_Types].xml`` and a ``word/``, ``xl/`` or ``ppt/`` main part, no
    macros) or ODF (first entry ``mimetype``, stored, naming the type); other ZIPs: None."""
    stream.seek(0)
    local = stream.read(38)
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
            # ODF: the first local entry is the uncompressed ``mimetype``.
            if (
                len(local) == 38
                and struct.unpack("<H", local[8:10])[0] == 0
                and struct.unpack("<H", local[26:28])[0] == 8
                and local[30:38] == b"mimetype"
            ):
                with archive.open("mimetype") as fh:
                    mimetype = fh.read(100).strip()
                if any(n.startswith(("Basic/", "Scripts/")) for n in names):
                    return None  # documents with macros are not taken
                return mimetype.decode("ascii") if mimetype in ODF_TYPES else None
            if "[Content_Types].xml" not in names:
                return None
            with archive.open("[Content_Types].xml") as fh:
                content_types = fh.read(1024 * 1024)
            if b"macroenabled" in content_types.lower() or any(
                n.lower().endswith("vbaproject.bin") for n in names
            ):
                return None  # documents with macros are not taken
            for folder, main_part, main_type, content_type in OOXML_FAMILIES:
                has_folder = any(n.startswith(folder) for n in names)
                if main_part in names or (has_folder and main_type in content_types):
                    return content_type
            return None
    except ZIP_ERRORS:
        return None
    finally:
        stream.seek(0)


def _ole_type(stream: IO[bytes]) -> str | None:
    """Word, Excel or PowerPoint 97–2003: an OLE2 compound file whose root holds the
    application's main stream. Other compound files (installers, mail, ...) are None."""
    try:
        return OLE_ROOT_STREAMS.get(_ole_root_name(stream, OLE_ROOT_STREAMS.keys()) or "")
    except (struct.error, ValueError, IndexError, OSError):
        return None
    finally:
        stream.seek(0)


def _ole_root_name(stream: IO[bytes], wanted) -> str | None:
    stream.seek(0)
    header = stream.read(512)
    if len(header) < 512 or not header.startswith(OLE_MAGIC):
        return None
    shift = struct.unpack("<H", header[30:32])[0]
    if shift not in (9, 12):
        return None
    size = 1 << shift
    per_sector = size // 4
    n_fat, first_dir = struct.unpack("<II", header[44:52])
    first_difat, n_difat = struct.unpack("<II", header[68:76])

    def sector(number: int) -> bytes:
        stream.seek((number + 1) * size)
        data = stream.read(size)
        if len(data) != size:
            raise ValueError("truncated compound file")
        return data

    # Where the FAT lives: 109 entries in the header, the rest in a DIFAT chain.
    fat_sectors = list(struct.unpack("<109I", header[76:512]))
    difat, seen = first_difat, set()
    while difat < OLE_MAX_SECTOR and len(seen) < min(n_difat, 1024) and difat not in seen:
        seen.add(difat)
        pointers = struct.unpack(f"<{per_sector}I", sector(difat))
        fat_sectors.extend(pointers[:-1])
        difat = pointers[-1]
    fat: list[int] = []
    for number in [s for s in fat_sectors if s < OLE_MAX_SECTOR][: min(n_fat, 4096)]:
        fat.extend(struct.unpack(f"<{per_sector}I", sector(number)))

    # The directory: a chain of 128-byte entries (name, type, left, right, child).
    entries: list[tuple[str, int, int, int, int]] = []
    current, seen = first_dir, set()
    while current < OLE_MAX_SECTOR and current not in seen and len(seen) < 4096:
        seen.add(current)
        data = sector(current)
        for offset in range(0, size, 128):
            raw = data[offset : offset + 128]
            length = struct.unpack("<H", raw[64:66])[0]
            name = raw[: max(length - 2, 0)].decode("utf-16-le", "replace") if length <= 64 else ""
            left, right, child = struct.unpack("<III", raw[68:80])
            entries.append((name, raw[66], left, right, child))
        current = fat[current] if current < len(fat) else OLE_NO_STREAM
    if not entries or entries[0][1] != 5:  # entry 0 is the root storage
        return None

    # The root's children form a tree through left/right siblings.
    stack, visited = [entries[0][4]], set()
    while stack:
        index = stack.pop()
        if index == OLE_NO_STREAM or index in visited or index >= len(entries):
            continue
        visited.add(index)
        name, kind, left, right, _child = entries[index]
        if kind == 2 and name in wanted:  # a stream
            return name
        stack.extend((left, right))
    return None


# --- names and sizes ----------------------------------------------------------------

_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
KNOWN_EXTENSIONS = frozenset(ext for t in _TYPES for ext in t.extensions)


def _basename(name: str | None) -> str:
    """The last path component, without control or direction characters, spaces folded."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = " ".join(name.split())  # tabs, line breaks and odd spaces become one space
    name = "".join(c for c in name if unicodedata.category(c) not in _UNSAFE_CATEGORIES)
    return " ".join(name.split()).strip(" .")


def clean_filename(name: str | None, file_type: FileType) -> str:
    """The uploader's name, fit for display: no directories, no control or direction
    characters, at most 255 characters, and an extension that matches the content
    (``photo.pdf`` that is a JPEG becomes ``photo.jpg``; ``scan`` becomes ``scan.jpg``)."""
    name = _basename(name)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if ext.lower() not in file_type.extensions:
        if ext.lower() not in KNOWN_EXTENSIONS:
            stem = name  # not one of ours: keep it, add the right one
        ext = file_type.extension
    stem = stem.strip(" .")[: MAX_FILENAME_LENGTH - len(ext) - 1].rstrip(" .")
    return f"{stem or 'attachment'}.{ext}"


def display_name(name: str | None) -> str:
    """The name a refusal quotes (before we know what the file is)."""
    return _basename(name)[:MAX_FILENAME_LENGTH] or "?"


def human_size(size: int) -> str:
    """``12 bytes``, ``3.4 KB``, ``10 MB``, in the page's language."""
    if size < 1024:
        return ngettext("%(num)d byte", "%(num)d bytes", size)
    if size < 1024**2:
        return _("%(size)s KB", size=format_decimal(size / 1024, format="#,##0.#"))
    if size < 1024**3:
        return _("%(size)s MB", size=format_decimal(size / 1024**2, format="#,##0.#"))
    return _("%(size)s GB", size=format_decimal(size / 1024**3, format="#,##0.#"))


def attachment_rules() -> dict:
    """What the upload inputs tell the user (and the browser's ``accept``)."""
    config = current_app.config
    return {
        "accept": ACCEPT,
        "max_files": config["ATTACHMENT_MAX_FILES"],
        "max_size": human_size(config["ATTACHMENT_MAX_BYTES"]),
    }


# --- checking and storing -----------------------------------------------------------


class AttachmentRejected(DomainError):
    """One or more files were refused; ``messages`` names each one."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages), field="attachments")
        self.messages = messages


@dataclass
class _Checked:
    upload: FileStorage
    stream: IO[bytes]
    size: int
    file_type: FileType | None = None


def storage_path(storage_key: str) -> Path:
    """Where the bytes of ``storage_key`` live: ``<ATTACHMENT_DIR>/ab/cd/abcd…``."""
    if len(storage_key) < 8 or not all(c in "0123456789abcdef" for c in storage_key):
        raise ValueError("not a storage key")
    root = Path(current_app.config["ATTACHMENT_DIR"])
    return root / storage_key[:2] / storage_key[2:4] / storage_key


def _seekable(upload: FileStorage, limit: int, stack: contextlib.ExitStack) -> tuple[IO, int]:
    """The upload as a seekable stream and its size (counted only up to ``limit + 1``)."""
    stream = upload.stream
    try:
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(0)
        return stream, size
    except (AttributeError, OSError, ValueError):
        pass
    spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 (stack closes it)
    stack.enter_context(spool)
    size = 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > limit:
            break
        spool.write(chunk)
    spool.seek(0)
    return spool, size


def _check(files: list[FileStorage], stack: contextlib.ExitStack) -> list[_Checked]:
    """Every file's size and type, or one refusal naming every wrong file."""
    config = current_app.config
    max_files, max_bytes = config["ATTACHMENT_MAX_FILES"], config["ATTACHMENT_MAX_BYTES"]
    uploads = [f for f in files if f is not None and f.filename]
    if len(uploads) > max_files:
        raise AttachmentRejected(
            [
                ngettext(
                    "Attach at most %(num)d file at a time; you chose %(count)d.",
                    "Attach at most %(num)d files at a time; you chose %(count)d.",
                    max_files,
                    count=len(uploads),
                )
            ]
        )
    checked, errors = [], []
    for upload in uploads:
        name = display_name(upload.filename)
        stream, size = _seekable(upload, max_bytes, stack)
        item = _Checked(upload, stream, size)
        if size == 0:
            errors.append(_("“%(name)s” is empty.", name=name))
        elif size > max_bytes:
            errors.append(
                _("“%(name)s” is larger than %(limit)s.", name=name, limit=human_size(max_bytes))
            )
        elif (content_type := detect_type(stream)) is None:
            errors.append(
                _(
                    "“%(name)s” is not an image, PDF or office document we accept "
                    "(the content is checked, not the name).",
                    name=name,
                )
            )
        else:
            item.file_type = FILE_TYPES[content_type]
        checked.append(item)
    if errors:
        raise AttachmentRejected(errors)
    return checked


def _write(item: _Checked, path: Path) -> str:
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


def store_attachments(case: Case, uploader: User, files: list[FileStorage]) -> list[Attachment]:
    """Check the files sent with a filing (or added later) and store them with ``case``.

    Empty inputs (no file chosen) are skipped. Every file is checked before any is
    written; a wrong one refuses them all (``AttachmentRejected``, a ``DomainError`` on
    the ``attachments`` field). The bytes are removed again if the outermost transaction
    does not commit (a savepoint rolled back on its own does not remove them). Flushes,
    never commits.
    """
    with contextlib.ExitStack() as stack:
        checked = _check(files, stack)
        stored = []
        for item in checked:
            assert item.file_type is not None
            key = uuid.uuid4().hex
            path = storage_path(key)
            _pending(db.session()).append(path)  # removed again unless the request commits
            sha256 = _write(item, path)
            attachment = Attachment(
                case=case,
                uploaded_by_id=uploader.id,
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
            "case %s: %d attachment(s) stored by user %s", case.number, len(stored), uploader.id
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


# --- files of transactions that do not commit are removed -----------------------------

_PENDING_KEY = "cases.attachments.pending"


def _pending(session: Session) -> list[Path]:
    return session.info.setdefault(_PENDING_KEY, [])


@event.listens_for(db.session, "after_commit")
def _keep_committed_files(session: Session) -> None:
    if not session.in_nested_transaction():  # the outermost transaction committed
        session.info.pop(_PENDING_KEY, None)


@event.listens_for(db.session, "after_transaction_end")
def _remove_uncommitted_files(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    for path in session.info.pop(_PENDING_KEY, []):
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.exception("could not remove the uncommitted attachment %s", path)
