"""Factories: build rows through the services, commit, and hand back detached copies.

Tests never keep an app context open around client requests (Flask would reuse it
and its ``g``), so factories open their own and return objects whose columns are
loaded and readable after the context is gone.
"""

from __future__ import annotations

import io
import itertools
import struct
import zipfile
from dataclasses import dataclass

from flask import Flask

from cases.models import Case, CaseType, Category
from cases.services import CaseRequest, file_case
from citizens.models import Client, ClientKind
from citizens.registration import register_client
from portal.auth.services import create_staff_user
from portal.db import db
from portal.models import Department, District, Role, User

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


def detach(*objs):
    db.session.commit()
    for obj in objs:
        db.session.refresh(obj)
    db.session.expunge_all()
    return objs[0] if len(objs) == 1 else objs


@dataclass
class World:
    """Reference data most tests need: two departments, districts, a category tree."""

    urban: Department
    transport: Department
    gulou: District
    taijiang: District
    noise: Category
    potholes: Category
    parent: Category


def make_world(app: Flask) -> World:
    with app.app_context():
        urban = Department(code="urban", name_zh="城市管理局", name_en="Urban Management Bureau")
        transport = Department(code="transport", name_zh="交通运输局", name_en="Transport Bureau")
        gulou = District(code="gulou", name_zh="鼓楼区", name_en="Gulou District", position=1)
        taijiang = District(
            code="taijiang", name_zh="台江区", name_en="Taijiang District", position=2
        )
        parent = Category(
            code="city", name_zh="城市管理", name_en="Urban management", department=urban
        )
        noise = Category(
            code="city.noise", name_zh="噪声扰民", name_en="Noise", parent=parent, department=urban
        )
        potholes = Category(
            code="roads.potholes",
            name_zh="道路破损",
            name_en="Potholes",
            parent=parent,
            department=transport,
        )
        db.session.add_all([urban, transport, gulou, taijiang, parent, noise, potholes])
        objs = detach(urban, transport, gulou, taijiang, noise, potholes, parent)
        return World(*objs)


def make_user(app: Flask, role: Role, department_id: int | None = None, **kw) -> User:
    """A user of ``role``; clients get a client record, department staff a department."""
    n = next(_seq)
    username = kw.pop("username", f"{role.value}{n}")
    with app.app_context():
        if role.is_client:
            user = register_client(
                kind=ClientKind.ENTERPRISE if role == Role.ENTERPRISE else ClientKind.CITIZEN,
                username=username,
                password=kw.pop("password", PASSWORD),
                name=kw.pop("name", f"测试用户{n}"),
                email=kw.pop("email", f"{username}@example.org"),
                phone=kw.pop("phone", "13800138000"),
                contact_person="联系人" if role == Role.ENTERPRISE else None,
            )
        else:
            department = db.session.get(Department, department_id) if department_id else None
            if department is None and role in (Role.HANDLER, Role.DEPARTMENT_HEAD):
                department = Department(code=f"dept{n}", name_zh=f"部门{n}", name_en=f"Dept {n}")
                db.session.add(department)
            user = create_staff_user(
                username=username,
                password=kw.pop("password", PASSWORD),
                role=role,
                display_name=kw.pop("display_name", f"员工{n}"),
                department=department,
            )
        for key, value in kw.items():
            setattr(user, key, value)
        return detach(user)


def make_case(app: Flask, owner: User, world: World, **kw) -> Case:
    """A case filed by ``owner`` (a client user) through the filing service."""
    with app.app_context():
        user = db.session.get(User, owner.id)
        request = CaseRequest(
            type=kw.pop("type", CaseType.COMPLAINT),
            category_id=kw.pop("category_id", world.noise.id),
            title=kw.pop("title", "五一路夜间施工噪音扰民"),
            description=kw.pop("description", "每天晚上十一点以后仍在施工，严重影响休息。"),
            district_id=kw.pop("district_id", world.gulou.id),
        )
        case = file_case(db.session.get(Client, user.client_id), user, request)
        for key, value in kw.items():
            setattr(case, key, value)
        return detach(case)


# --- real, tiny files (uploads and attachments) -------------------------------------

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    b"\xff\xdb\x00C\x00" + bytes(range(1, 65)) + b"\xff\xd9"
)
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
WEBP = (
    b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00"
    b"/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
)
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/{part}" ContentType="application/vnd.openxmlformats-officedocument.'
    '{main}"/></Types>'
)


def zip_bytes(entries: list[tuple[str, bytes]], stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i, (name, data) in enumerate(entries):
            compress = zipfile.ZIP_STORED if stored_first and i == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=compress)
    return buffer.getvalue()


def ooxml(part: str, main: str, extra: list[tuple[str, bytes]] | None = None) -> bytes:
    types = CONTENT_TYPES.format(part=part, main=main).encode()
    return zip_bytes([("[Content_Types].xml", types), (part, b"<doc/>"), *(extra or [])])


DOCX = ooxml("word/document.xml", "wordprocessingml.document.main+xml")
XLSX = ooxml("xl/workbook.xml", "spreadsheetml.sheet.main+xml")
PPTX = ooxml("ppt/presentation.xml", "presentationml.presentation.main+xml")
ODT = zip_bytes(
    [("mimetype", b"application/vnd.oasis.opendocument.text"), ("content.xml", b"<x/>")],
    stored_first=True,
)


def ole(stream_name: str, storage: str | None = None) -> bytes:
    """A minimal OLE2 compound file (512-byte sectors): a FAT sector, a directory sector
    whose root holds one stream named ``stream_name`` (and an empty ``storage``)."""
    free, end, fat_sector, no_stream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    header[24:34] = struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
    header[44:60] = struct.pack("<IIII", 1, 1, 0, 4096)  # FAT sectors, first dir, -, cutoff
    header[60:76] = struct.pack("<IIII", end, 0, end, 0)  # no mini FAT, no DIFAT sectors
    header[76:512] = struct.pack("<109I", 0, *([free] * 108))
    fat = struct.pack("<128I", fat_sector, end, *([free] * 126))

    def entry(name: str, kind: int, child: int, right: int = no_stream) -> bytes:
        raw = bytearray(128)
        encoded = (name + "\0").encode("utf-16-le")
        raw[: len(encoded)] = encoded
        raw[64:66] = struct.pack("<H", len(encoded))
        raw[66] = kind
        raw[67] = 1
        raw[68:80] = struct.pack("<III", no_stream, right, child)
        raw[116:120] = struct.pack("<I", end)
        return bytes(raw)

    sibling = 2 if storage else no_stream
    directory = entry("Root Entry", 5, 1) + entry(stream_name, 2, no_stream, sibling)
    directory += entry(storage, 1, no_stream) if storage else bytes(128)
    directory += bytes(128)
    return bytes(header) + fat + directory


# Files that claim to be what they are not, or carry macros: refused.
DISGUISED = [
    ("page.jpg", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
    ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(64)),
    ("notes.docx", "这是一个普通的文本文件。".encode()),
    ("archive.docx", zip_bytes([("readme.txt", b"hello"), ("data.csv", b"a,b\n1,2\n")])),
    ("macros.docx", ooxml("word/document.xml", "wordprocessingml.document.main+xml",
                          [("word/vbaProject.bin", b"\0" * 16)])),
    ("tool.jpg", b"MZ\x90\x00" + bytes(60) + b"PE\x00\x00"),
    ("macros.odt", zip_bytes([("mimetype", b"application/vnd.oasis.opendocument.text"),
                              ("Basic/Standard/Module1.xml", b"<x/>")], stored_first=True)),
    ("installer.doc", ole("SummaryInformation")),
    ("svg.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
]
