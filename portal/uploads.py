"""Uploaded files judged by their bytes, never their name (case attachments; reusable by
any room that takes files).

``filetype`` recognises the formats by their signature; the containers are opened to see
what they hold: a ZIP must be an OOXML or ODF document without macros, an OLE2 compound
file (read with ``olefile``) must hold Word, Excel or PowerPoint 97–2003 and no VBA
storage. ``check_uploads`` applies the count and size limits to a submission and names
every wrong file; storing the bytes is the caller's business.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

import filetype
import olefile
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from werkzeug.datastructures import FileStorage

from portal.errors import DomainError

CHUNK = 64 * 1024
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
KNOWN_EXTENSIONS = frozenset(ext for t in _TYPES for ext in t.extensions)
ACCEPT = ",".join(
    [f".{ext}" for t in _TYPES for ext in t.extensions] + [t.content_type for t in _TYPES]
)


def type_label(content_type: str) -> str:
    """How a stored type reads on the page ("PDF document")."""
    file_type = FILE_TYPES.get(content_type)
    return str(file_type.label) if file_type else content_type


# --- detection by content -----------------------------------------------------------

# What ``filetype`` says, for the formats whose signature is the whole answer.
SIGNATURE_TYPES = {
    "image/jpeg": "image/jpeg",
    "image/png": "image/png",
    "image/apng": "image/png",  # an animated PNG is a PNG
    "image/gif": "image/gif",
    "image/webp": "image/webp",
    "application/pdf": "application/pdf",
}
SIGNATURE_BYTES = 8192  # as much as filetype's matchers look at
ZIP_MAGIC = b"PK\x03\x04"
OLE_ROOT_STREAMS = {
    "WordDocument": "application/msword",
    "Workbook": "application/vnd.ms-excel",
    "Book": "application/vnd.ms-excel",  # Excel 5/95
    "PowerPoint Document": "application/vnd.ms-powerpoint",
}
# Where Word (Macros/VBA) and Excel (_VBA_PROJECT_CUR/VBA) keep a VBA project.
OLE_MACRO_STORAGES = {"macros", "_vba_project_cur", "vba"}
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
# A hostile container can break a parser in many ways; each one means "not accepted".
CONTAINER_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    RuntimeError,
    NotImplementedError,
    KeyError,
    IndexError,
    TypeError,
    struct.error,
    zlib.error,
)


def detect_type(stream: IO[bytes]) -> str | None:
    """The content type the bytes of ``stream`` (seekable) show, if it is one we accept."""
    stream.seek(0)
    head = stream.read(SIGNATURE_BYTES)
    stream.seek(0)
    if head.startswith(ZIP_MAGIC):  # whatever filetype calls it, the contents decide
        return _zip_type(stream)
    if olefile.isOleFile(data=head):
        return _ole_type(stream)
    kind = filetype.guess(head) if head else None
    return SIGNATURE_TYPES.get(kind.mime) if kind else None


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
    except CONTAINER_ERRORS:
        return None
    finally:
        stream.seek(0)


def _ole_type(stream: IO[bytes]) -> str | None:
    """Word, Excel or PowerPoint 97–2003: an OLE2 compound file whose root holds the
    application's main stream, and no VBA project. Other compound files (installers,
    mail, ...) are None."""
    stream.seek(0)
    try:
        # olefile leaves a stream it was given open (the caller stores it afterwards).
        with olefile.OleFileIO(stream) as ole:
            paths = ole.listdir(streams=True, storages=True)
            if any(OLE_MACRO_STORAGES & {part.lower() for part in path} for path in paths):
                return None  # documents with macros are not taken
            streams = {path[0] for path in ole.listdir(streams=True, storages=False)
                       if len(path) == 1}
    except CONTAINER_ERRORS:
        return None
    finally:
        stream.seek(0)
    return next((t for name, t in OLE_ROOT_STREAMS.items() if name in streams), None)


# --- names and sizes ----------------------------------------------------------------

_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


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


# --- judging one file, and a submission ---------------------------------------------


@dataclass
class UploadVerdict:
    """What one file is (``file_type``), or why it is refused (``problems``)."""

    name: str  # as a refusal quotes it
    size: int
    file_type: FileType | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def mime(self) -> str | None:
        return self.file_type.content_type if self.file_type else None

    @property
    def kind(self) -> str | None:
        """The type as the page names it ("PDF document")."""
        return str(self.file_type.label) if self.file_type else None


def inspect_upload(filename: str | None, data: bytes | IO[bytes], max_bytes: int,
                   size: int | None = None) -> UploadVerdict:
    """Judge one file: empty, too large, or not a type we accept is a problem.

    ``data`` is the bytes or a seekable stream (``size`` then saves measuring it).
    """
    stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    if size is None:
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(0)
    verdict = UploadVerdict(display_name(filename), size)
    if size == 0:
        verdict.problems.append(_("“%(name)s” is empty.", name=verdict.name))
    elif size > max_bytes:
        verdict.problems.append(
            _("“%(name)s” is larger than %(limit)s.", name=verdict.name,
              limit=human_size(max_bytes))
        )
    elif (content_type := detect_type(stream)) is None:
        verdict.problems.append(
            _(
                "“%(name)s” is not an image, PDF or office document we accept "
                "(the content is checked, not the name).",
                name=verdict.name,
            )
        )
    else:
        verdict.file_type = FILE_TYPES[content_type]
    return verdict


class UploadRejected(DomainError):
    """One or more files were refused; ``messages`` names each one."""

    def __init__(self, messages: list[str], field: str = "attachments") -> None:
        super().__init__(" ".join(messages), field=field)
        self.messages = messages


@dataclass
class CheckedUpload:
    """An accepted upload: a seekable stream of its bytes, their size and type."""

    upload: FileStorage
    stream: IO[bytes]
    size: int
    file_type: FileType


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


def check_uploads(
    files: Iterable[FileStorage | None],
    max_files: int,
    max_bytes: int,
    stack: contextlib.ExitStack,
    field: str = "attachments",
) -> list[CheckedUpload]:
    """Every chosen file's size and type, or one ``UploadRejected`` naming every wrong file.

    Empty inputs (no file chosen) are skipped. Spooled copies live until ``stack`` closes.
    """
    uploads = [f for f in files if f is not None and f.filename]
    if len(uploads) > max_files:
        raise UploadRejected(
            [
                ngettext(
                    "Attach at most %(num)d file at a time; you chose %(count)d.",
                    "Attach at most %(num)d files at a time; you chose %(count)d.",
                    max_files,
                    count=len(uploads),
                )
            ],
            field,
        )
    checked, errors = [], []
    for upload in uploads:
        stream, size = _seekable(upload, max_bytes, stack)
        verdict = inspect_upload(upload.filename, stream, max_bytes, size=size)
        errors.extend(verdict.problems)
        if verdict.file_type is not None:
            checked.append(CheckedUpload(upload, stream, size, verdict.file_type))
    if errors:
        raise UploadRejected(errors, field)
    return checked
