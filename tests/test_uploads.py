"""Uploads judged by their bytes (portal/uploads.py): types, macros, names, limits.

No database: only the translations need an application.
"""

from __future__ import annotations

import contextlib
import io

import pytest
from werkzeug.datastructures import FileStorage

from portal.uploads import (
    FILE_TYPES,
    UploadRejected,
    check_uploads,
    clean_filename,
    detect_type,
    inspect_upload,
)
from tests.factories import (
    DISGUISED,
    DOCX,
    GIF,
    JPEG,
    ODT,
    PDF,
    PNG,
    PPTX,
    WEBP,
    XLSX,
    ole,
    zip_bytes,
)

# --- detection by content (no database) -----------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (WEBP, "image/webp"),
        (PDF, "application/pdf"),
        (DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (PPTX, "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        (ODT, "application/vnd.oasis.opendocument.text"),
        (ole("WordDocument"), "application/msword"),
        (ole("Workbook"), "application/vnd.ms-excel"),
        (ole("PowerPoint Document"), "application/vnd.ms-powerpoint"),
    ],
    ids=["png", "jpeg", "gif", "webp", "pdf", "docx", "xlsx", "pptx", "odt", "doc", "xls", "ppt"],
)
def test_types_are_detected_from_the_bytes(content, expected):
    assert detect_type(io.BytesIO(content)) == expected


@pytest.mark.parametrize(("name", "content"), DISGUISED, ids=[n for n, _c in DISGUISED])
def test_disguised_content_is_not_detected(name, content):
    assert detect_type(io.BytesIO(content)) is None


def test_other_containers_are_not_detected():
    odf_unknown = zip_bytes([("mimetype", b"application/x-foo"), ("a", b"b")], stored_first=True)
    truncated = DOCX[: len(DOCX) // 2]
    for content in (odf_unknown, truncated, b"PK\x03\x04", ole("WordDocument")[:600], b""):
        assert detect_type(io.BytesIO(content)) is None


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("现场照片.PNG", "image/png", "现场照片.PNG"),
        ("C:\\Users\\张三\\Desktop\\投诉 材料.pdf", "application/pdf", "投诉 材料.pdf"),
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ("scan.pdf", "image/jpeg", "scan.jpg"),  # a JPEG named .pdf: what it really is
        ("evil\u202egpj.exe", "image/png", "evilgpj.exe.png"),
        ("tab\tand\nnewline.jpeg", "image/jpeg", "tab and newline.jpeg"),
        ("...", "application/pdf", "attachment.pdf"),
        ("长" * 300 + ".docx",
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "长" * 250 + ".docx"),
    ],
)
def test_filenames_are_cleaned_for_display(name, content_type, expected):
    cleaned = clean_filename(name, FILE_TYPES[content_type])
    assert cleaned == expected and len(cleaned) <= 255


def test_office_97_files_with_a_vba_project_are_refused():
    for storage in ("Macros", "_VBA_PROJECT_CUR"):
        assert detect_type(io.BytesIO(ole("WordDocument", storage))) is None
    assert detect_type(io.BytesIO(ole("WordDocument", "ObjectPool"))) == "application/msword"


def test_the_stream_is_left_open_and_rewound():
    stream = io.BytesIO(ole("Workbook"))
    assert detect_type(stream) == "application/vnd.ms-excel"
    assert not stream.closed and stream.tell() == 0


# --- one file's verdict, and a submission's limits --------------------------------------


def test_a_verdict_says_what_a_file_is(app):
    with app.test_request_context():
        verdict = inspect_upload("扫描件.pdf", PDF, max_bytes=1000)
        assert verdict.ok and verdict.mime == "application/pdf" and verdict.size == len(PDF)
        assert verdict.kind == str(FILE_TYPES["application/pdf"].label)

        verdict = inspect_upload("dir/a.jpg", io.BytesIO(b"<html></html>"), max_bytes=1000)
        assert not verdict.ok and verdict.mime is None and verdict.name == "a.jpg"
        assert len(verdict.problems) == 1 and "“a.jpg”" in verdict.problems[0]

        assert inspect_upload("e.png", b"", max_bytes=1000).problems
        assert inspect_upload("big.png", PNG, max_bytes=10).problems


def upload(name: str, content: bytes) -> FileStorage:
    return FileStorage(io.BytesIO(content), filename=name)


def test_a_submission_is_checked_as_a_whole(app):
    with app.test_request_context(), contextlib.ExitStack() as stack:
        files = [upload("a.png", PNG), None, upload("", b""), upload("b.docx", DOCX)]
        checked = check_uploads(files, max_files=2, max_bytes=1000, stack=stack)
        assert [c.file_type.extension for c in checked] == ["png", "docx"]
        assert [c.size for c in checked] == [len(PNG), len(DOCX)]

        with pytest.raises(UploadRejected) as refused:
            check_uploads([upload(f"{i}.png", PNG) for i in range(3)], 2, 1000, stack)
        assert len(refused.value.messages) == 1 and refused.value.field == "attachments"

        with pytest.raises(UploadRejected) as refused:
            check_uploads([upload("x.pdf", b"MZ"), upload("y.png", b"")], 2, 1000, stack,
                          field="files")
        assert len(refused.value.messages) == 2 and refused.value.field == "files"
