"""Reading answers: finding them (through ``search``), views, votes, deflected requests.

A *visitor* is a keyed hash (HMAC with the app's secret) of a random token this module
keeps in the browser's session: views and votes of one browser can be matched without
an account and without storing anything that opens the session.

Deflection: an answer opened from the filing page (``from_filing``) by a visitor who then
files no request within ``DEFLECTION_WINDOW`` counts as a deflected request; when the
visitor files, ``note_filing`` marks their views of the last hour with the new case.

View counts and votes are counters, not edits: plain UPDATEs that neither bump the
answer's ``version`` (an editor's form stays valid) nor enter the change feed (the index
does not care). Everything here flushes, never commits.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, session
from sqlalchemy import and_, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from cases.catalogue.models import Category
from cases.knowledge.models import KnowledgeAnswer, KnowledgeFeedback, KnowledgeView
from cases.knowledge.services import PUBLIC_KEY
from portal.db import db, utcnow
from portal.models import User
from portal.pagination import Page
from portal.params import parse_int
from search.engine.query import any_word_query
from search.engine.types import Hit, QuerySyntaxError, SearchRequest

log = logging.getLogger(__name__)

KIND = "answer"
DEFLECTION_WINDOW = timedelta(hours=1)
# A second view of the same answer by the same visitor within this time is not counted.
REPEAT_VIEW = timedelta(minutes=30)
SUGGESTIONS = 5
_VISITOR_KEY = "kb_visitor"


# --- the visitor ------------------------------------------------------------------------


def visitor_id() -> str:
    """This browser's visitor hash (64 hex characters); starts a token if there is none."""
    token = session.get(_VISITOR_KEY)
    if not isinstance(token, str) or len(token) != 32:
        token = secrets.token_hex(16)
        session[_VISITOR_KEY] = token
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"kb-visitor:" + token.encode(), hashlib.sha256).hexdigest()


# --- finding answers --------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """One answer found, with the engine's highlighted snippets (safe HTML)."""

    answer: KnowledgeAnswer
    hit: Hit | None = None


# A page of answers found, shaped for the ``pager`` macro: the portal's one page type.
FoundPage = Page


def find_answers(
    query: str,
    access: tuple[str, ...],
    *,
    status: str | None = None,
    category_id: int | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[Found]:
    """Answers matching ``query`` that ``access`` may find (in ``category_id`` if given),
    ranked by the search engine.

    Raises ``QuerySyntaxError`` for a query that cannot be read. The rows are loaded in
    the engine's order and checked once more here: a viewer with the public key only
    never gets an answer that is not published, however stale the index.
    """
    from search.engine import search

    filters: dict[str, tuple[str | int, ...]] = {"status": (status,)} if status else {}
    if category_id is not None:
        filters["category_id"] = (category_id,)
    response = search(
        SearchRequest(
            kind=KIND,
            query=query,
            access=access,
            filters=filters,
            page=page,
            per_page=per_page,
            highlight=("title", "body"),
        )
    )
    rows = answers_by_id([hit.id for hit in response.hits])
    public_only = set(access) <= {PUBLIC_KEY}
    items = [
        Found(rows[hit.id], hit)
        for hit in response.hits
        if hit.id in rows
        and (not public_only or rows[hit.id].status == "published")
        and (status is None or rows[hit.id].status == status)
        and (category_id is None or rows[hit.id].category_id == category_id)
    ]
    return FoundPage(items, page, per_page, response.total)


def published_per_category(query: str = "") -> dict[int | None, int]:
    """How many published answers each category holds (None: no category); with
    ``query``, of those the search finds (``QuerySyntaxError`` if it cannot be read)."""
    if not query:
        rows = db.session.execute(
            select(KnowledgeAnswer.category_id, func.count())
            .where(KnowledgeAnswer.status == "published")
            .group_by(KnowledgeAnswer.category_id)
        )
        return {category_id: count for category_id, count in rows}
    from search.engine import search

    response = search(SearchRequest(
        kind=KIND, query=query, access=(PUBLIC_KEY,), filters={"status": ("published",)},
        per_page=1, facets=("category_id",),
    ))
    counts: dict[int | None, int] = {}
    for value, count in response.facets.get("category_id", {}).items():
        key = parse_int(str(value)) if value not in (None, "") else None
        counts[key] = counts.get(key, 0) + count
    return counts


def categories_with_counts(counts: dict[int | None, int],
                           selected: int | None = None) -> list[tuple[Category, int]]:
    """The categories among ``counts`` (and ``selected``), in catalogue order."""
    wanted = {i for i in counts if i is not None} | ({selected} if selected else set())
    if not wanted:
        return []
    rows = db.session.scalars(
        select(Category).where(Category.id.in_(sorted(wanted)))
        .options(selectinload(Category.parent))
    )
    ordered = sorted(rows, key=lambda c: (
        (c.parent.position, c.parent.id) if c.parent else (c.position, c.id),
        c.parent is not None, c.position, c.id,
    ))
    return [(category, counts.get(category.id, 0)) for category in ordered]


def answers_by_id(ids: list[int]) -> dict[int, KnowledgeAnswer]:
    if not ids:
        return {}
    stmt = (
        select(KnowledgeAnswer)
        .where(KnowledgeAnswer.id.in_(ids))
        .options(selectinload(KnowledgeAnswer.category))
    )
    return {a.id: a for a in db.session.scalars(stmt)}


def suggestions(title: str | None, limit: int = SUGGESTIONS) -> list[KnowledgeAnswer]:
    """Published answers that may help someone filing a request titled ``title``."""
    text = " ".join((title or "").split())[:200]
    if len(text) < 2:
        return []
    query = any_word_query(text, limit=12)
    if not query:
        return []
    try:
        found = find_answers(query, (PUBLIC_KEY,), status="published", per_page=limit)
    except QuerySyntaxError:  # the words are cleaned first; never the citizen's problem
        return []
    return [f.answer for f in found.items]


def filing_suggestions(title: str | None) -> list[KnowledgeAnswer]:
    """``suggestions`` for the filing page: an index that fails (busy, broken) shows no
    answers there rather than keeping anyone from filing."""
    try:
        return suggestions(title)
    except Exception:  # noqa: BLE001  (logged; the filing form must stay usable)
        log.exception("answer suggestions failed on the filing page")
        return []


# --- views, votes, filings --------------------------------------------------------------


def published_answer(answer_id: int) -> KnowledgeAnswer | None:
    answer = db.session.get(KnowledgeAnswer, answer_id)
    return answer if answer is not None and answer.status == "published" else None


def record_view(answer: KnowledgeAnswer, user: User | None, from_filing: bool) -> bool:
    """Count a view of ``answer`` (once per visitor in ``REPEAT_VIEW``); True if counted."""
    visitor = visitor_id()
    recent = db.session.scalar(
        select(KnowledgeView.id)
        .where(
            KnowledgeView.visitor == visitor,
            KnowledgeView.answer_id == answer.id,
            KnowledgeView.from_filing.is_(from_filing),
            KnowledgeView.created_at >= utcnow() - REPEAT_VIEW,
        )
        .limit(1)
    )
    if recent is not None:
        return False
    db.session.add(
        KnowledgeView(
            answer_id=answer.id,
            user_id=user.id if user is not None and user.is_authenticated else None,
            visitor=visitor,
            from_filing=from_filing,
        )
    )
    table = KnowledgeAnswer.__table__
    db.session.execute(
        update(table).where(table.c.id == answer.id).values(view_count=table.c.view_count + 1)
    )
    db.session.flush()
    return True


def has_voted(answer: KnowledgeAnswer) -> bool:
    return db.session.scalar(
        select(KnowledgeFeedback.id).where(
            KnowledgeFeedback.answer_id == answer.id, KnowledgeFeedback.visitor == visitor_id()
        )
    ) is not None


def record_feedback(answer: KnowledgeAnswer, helpful: bool) -> bool:
    """"Was this helpful?": one vote per visitor and answer; False if already voted."""
    if has_voted(answer):
        return False
    try:
        with db.session.begin_nested():
            db.session.add(
                KnowledgeFeedback(answer_id=answer.id, visitor=visitor_id(), helpful=helpful)
            )
    except IntegrityError:  # the same browser voting twice at the same instant
        return False
    table = KnowledgeAnswer.__table__
    column = table.c.helpful_yes if helpful else table.c.helpful_no
    db.session.execute(
        update(table).where(table.c.id == answer.id).values({column: column + 1})
    )
    return True


def note_filing(case_id: int) -> int:
    """This visitor filed case ``case_id``: their views from the filing page in the last
    hour were not deflections. How many views it marks."""
    if _VISITOR_KEY not in session:  # never opened an answer in this browser
        return 0
    table = KnowledgeView.__table__
    result = db.session.execute(
        update(table)
        .where(
            table.c.visitor == visitor_id(),
            table.c.from_filing.is_(True),
            table.c.filed_case_id.is_(None),
            table.c.created_at >= utcnow() - DEFLECTION_WINDOW,
        )
        .values(filed_case_id=case_id)
    )
    return result.rowcount or 0


@dataclass(frozen=True)
class Deflection:
    """Views of answers from the filing page, and what came of them."""

    from_filing: int
    deflected: int  # no filing by the same visitor within the hour
    filed: int  # filed anyway
    pending: int  # the hour is not over yet

    @property
    def rate(self) -> int | None:
        """Deflected as a whole percentage of the decided ones (None before any)."""
        decided = self.deflected + self.filed
        return round(100 * self.deflected / decided) if decided else None


def deflection_figures(answer_ids: list[int] | None = None) -> dict[int | None, Deflection]:
    """Deflection overall (key None) and, for ``answer_ids``, per answer."""
    cutoff = utcnow() - DEFLECTION_WINDOW
    filed = KnowledgeView.filed_case_id.is_not(None)
    open_ = KnowledgeView.filed_case_id.is_(None)
    columns = (
        func.count(KnowledgeView.id),
        func.sum(case((and_(open_, KnowledgeView.created_at < cutoff), 1), else_=0)),
        func.sum(case((filed, 1), else_=0)),
        func.sum(case((and_(open_, KnowledgeView.created_at >= cutoff), 1), else_=0)),
    )
    base = select(*columns).where(KnowledgeView.from_filing.is_(True))
    figures: dict[int | None, Deflection] = {
        None: Deflection(*(int(v or 0) for v in db.session.execute(base).one()))
    }
    if answer_ids:
        rows = db.session.execute(
            select(KnowledgeView.answer_id, *columns)
            .where(KnowledgeView.from_filing.is_(True), KnowledgeView.answer_id.in_(answer_ids))
            .group_by(KnowledgeView.answer_id)
        )
        for answer_id, *values in rows:
            figures[answer_id] = Deflection(*(int(v or 0) for v in values))
    return figures
