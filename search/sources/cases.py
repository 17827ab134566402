"""Cases as search documents (kind ``case``).

What is searchable: the tracking number (exact, with and without the dash), title,
description, public replies, internal notes (``notes``: staff only, see
``STAFF_ONLY_FIELDS``), the names of the category (and its parent), the lead department
and the district in Chinese and English, and the labels of type, channel and status in
both languages. Filters: status, type, channel, category, department (lead; the assisting
ones in ``assist_department_id``), district, priority and ``overdue``; dates: filed,
closed, due.

Never the client: not their name, not an identifier, not the client id as text. The
reporter of an anonymous tip-off must not be findable through the case, so a case
document says nothing about who filed it; its ``access`` keys come from
``cases.visibility.case_access_keys`` (the one case rule).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from flask import g
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cases.models import Attachment, Case, CaseReply, Category, DueState
from cases.visibility import case_access_keys
from portal.db import db
from search.engine.types import Document
from search.sources.renames import category_subtree

KIND = "case"
BATCH = 500
# Text fields, in the order the search page offers them as prefixes (``title:积水``).
PUBLIC_FIELDS = ("title", "body", "replies", "category", "department", "district", "labels")
STAFF_ONLY_FIELDS = ("notes",)
TEXT_FIELDS = PUBLIC_FIELDS + STAFF_ONLY_FIELDS
EXACT_FIELDS = ("number",)
FILTER_FIELDS = (
    "status", "type", "channel", "priority", "category_id", "department_id",
    "assist_department_id", "district_id", "overdue",
)
DATE_FIELDS = ("created_at", "closed_at", "due_at")

_LABELS: dict[tuple[str, str], str] = {}


def bilingual(member: Any) -> str:
    """``member``'s label in Chinese and in English ("投诉 Complaint"), cached per process."""
    key = (type(member).__name__, member.value)
    if key not in _LABELS:
        g.setdefault("search_labels", True)  # Flask-Babel forces no locale on an empty g
        words = []
        for locale in ("zh_CN", "en"):
            with force_locale(locale):
                words.append(str(member.label))
        _LABELS[key] = " ".join(dict.fromkeys(words))
    return _LABELS[key]


def names(*rows: Any) -> str:
    """The Chinese and English names of these rows (None skipped)."""
    words = [w for row in rows if row is not None for w in (row.name_zh, row.name_en) if w]
    return " ".join(dict.fromkeys(words))


def tracking_forms(number: str) -> list[str]:
    """``2026-000123`` and ``2026000123``: either typed form matches exactly."""
    return list(dict.fromkeys([number, number.replace("-", "")]))


def case_document(case: Case) -> Document:
    """The document of one loaded case (replies, assists and names loaded with it)."""
    public = [r.body for r in case.replies if r.is_public]
    notes = [r.body for r in case.replies if not r.is_public]
    category: Category = case.category
    assists = sorted({a.department_id for a in case.assists})
    return Document(
        kind=KIND,
        id=case.id,
        text={
            "title": case.title,
            "body": case.description,
            "replies": "\n".join(public),
            "notes": "\n".join(notes),
            "category": names(category.parent, category),
            "department": names(case.department),
            "district": names(case.district),
            "labels": " ".join(bilingual(m) for m in (case.type, case.channel, case.status)),
        },
        exact={"number": tracking_forms(case.number)},
        filters={
            "status": case.status.value,
            "type": case.type.value,
            "channel": case.channel.value,
            "priority": case.priority.value,
            "category_id": case.category_id,
            "department_id": case.department_id,
            "assist_department_id": assists,
            "district_id": case.district_id,
            "overdue": "yes" if case.due_state is DueState.OVERDUE else "no",
        },
        dates={"created_at": case.created_at, "closed_at": case.closed_at, "due_at": case.due_at},
        access=case_access_keys(case),
    )


class CaseSource:
    """The cases room's rows as documents of kind ``case``."""

    kind = KIND
    public_fields = PUBLIC_FIELDS
    text_fields = TEXT_FIELDS
    exact_fields = EXACT_FIELDS

    def affected(self, entity: str, ids: list[int]) -> Iterable[int]:
        """A case's own changes (its timeline and assists are recorded as ``case``), its
        replies (public and internal) and attachments, and renames of the department,
        district or category (or parent category) it names."""
        if not ids:
            return []
        if entity == "case":
            return ids
        named = {"department": Case.department_id, "district": Case.district_id}.get(entity)
        if entity == "category":  # its cases and its sub-categories' (parent's name)
            named, ids = Case.category_id, sorted(category_subtree(ids))
        if named is not None:  # a rename (search/sources/renames.py)
            return list(db.session.scalars(select(Case.id).where(named.in_(ids))))
        model = {"case_reply": CaseReply, "attachment": Attachment}.get(entity)
        if model is None:
            return []
        return set(db.session.scalars(select(model.case_id).where(model.id.in_(ids))))

    def documents(self, ids: Iterable[int]) -> list[Document]:
        wanted = list(ids)
        found: list[Document] = []
        for start in range(0, len(wanted), BATCH):
            stmt = (
                select(Case)
                .where(Case.id.in_(wanted[start:start + BATCH]))
                .options(
                    selectinload(Case.replies),
                    selectinload(Case.assists),
                    selectinload(Case.category).selectinload(Category.parent),
                    selectinload(Case.department),
                    selectinload(Case.district),
                )
                .order_by(Case.id)
            )
            found.extend(case_document(case) for case in db.session.scalars(stmt))
        return found

    def all_ids(self) -> Iterator[int]:
        last = 0
        while True:
            batch = list(db.session.scalars(
                select(Case.id).where(Case.id > last).order_by(Case.id).limit(BATCH * 4)
            ))
            if not batch:
                return
            yield from batch
            last = batch[-1]


source = CaseSource()
