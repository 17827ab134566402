"""Knowledge-base answers as search documents (kind ``answer``).

Searchable: the question (``title``), the answer (``body``) and the category's name (and
its parent's) in Chinese and English. Filters: ``status``, ``category_id``, ``locale``;
dates: written, changed, published. Every answer is indexed, drafts included, but only a
published one carries the public key: its ``access`` comes from
``cases.knowledge.services.answer_access_keys`` (drafts: the staff key only), so the help
page and the filing suggestions, which search with the public key, never find a draft.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cases.catalogue.models import Category
from cases.knowledge.models import KnowledgeAnswer
from cases.knowledge.services import answer_access_keys
from portal.db import db
from search.engine.types import Document
from search.sources.renames import category_subtree

KIND = "answer"
BATCH = 500
TEXT_FIELDS = ("title", "body", "category")
FILTER_FIELDS = ("status", "category_id", "locale")
DATE_FIELDS = ("created_at", "updated_at", "published_at")


def category_words(category: Category | None) -> str:
    """The category's (and its parent's) names in both languages."""
    words: list[str] = []
    while category is not None and len(words) < 8:
        words += [category.name_zh, category.name_en]
        category = category.parent
    return " ".join(w for w in dict.fromkeys(words) if w)


def answer_document(answer: KnowledgeAnswer) -> Document:
    return Document(
        kind=KIND,
        id=answer.id,
        text={
            "title": answer.title,
            "body": answer.body,
            "category": category_words(answer.category),
        },
        filters={
            "status": answer.status,
            "category_id": answer.category_id,
            "locale": answer.locale,
        },
        dates={
            "created_at": answer.created_at,
            "updated_at": answer.updated_at,
            "published_at": answer.published_at,
        },
        access=answer_access_keys(answer),
    )


class AnswerSource:
    """``search.engine.types.Source`` for knowledge-base answers."""

    kind = KIND
    text_fields = TEXT_FIELDS
    public_fields = TEXT_FIELDS  # nothing of an answer is for staff's eyes only
    filter_fields = FILTER_FIELDS
    date_fields = DATE_FIELDS

    def affected(self, entity: str, ids: list[int]) -> Iterable[int]:
        """An answer's own changes, and renames of its category (or a parent)."""
        if entity == KIND:
            return list(ids)
        if entity == "category" and ids:
            subtree = sorted(category_subtree(ids))
            return list(db.session.scalars(
                select(KnowledgeAnswer.id).where(KnowledgeAnswer.category_id.in_(subtree))
            ))
        return []

    def documents(self, ids: Iterable[int]) -> list[Document]:
        wanted = list(ids)
        if not wanted:
            return []
        stmt = (
            select(KnowledgeAnswer)
            .where(KnowledgeAnswer.id.in_(wanted))
            .options(selectinload(KnowledgeAnswer.category).selectinload(Category.parent))
            .order_by(KnowledgeAnswer.id)
        )
        return [answer_document(a) for a in db.session.scalars(stmt)]

    def all_ids(self) -> Iterator[int]:
        last = 0
        while True:
            batch = list(
                db.session.scalars(
                    select(KnowledgeAnswer.id)
                    .where(KnowledgeAnswer.id > last)
                    .order_by(KnowledgeAnswer.id)
                    .limit(BATCH)
                )
            )
            yield from batch
            if len(batch) < BATCH:
                return
            last = batch[-1]


source = AnswerSource()
