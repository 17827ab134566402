"""Duplicates: similar open cases while filing, merging a duplicate, linking related cases."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, bindparam, select, true, union_all

from cases.models import Case, CaseLink, CaseStatus
from cases.visibility import mention_keys, mentionable_cases, visible_cases
from portal.db import db, utcnow
from portal.models import User
from search.engine import search
from search.engine.query import any_word_query
from search.engine.types import SearchRequest

log = logging.getLogger(__name__)

# Letters, digits and CJK characters; punctuation and spaces don't make titles alike.
_WORD_CHARS = re.compile(r"[\w\u4e00-\u9fff]+")
SIMILARITY_THRESHOLD = 0.3
LOOKBACK_DAYS = 180
MAX_HITS = 50  # the most relevant cases the index hands over for scoring
OPEN_STATUSES = tuple(s for s in CaseStatus if s.is_open)


def bigrams(text: str) -> set[str]:
    """Character bigrams of the text's words (works for Chinese without segmentation)."""
    grams: set[str] = set()
    for word in _WORD_CHARS.findall(text.lower()):
        if len(word) == 1:
            grams.add(word)
        grams.update(word[i : i + 2] for i in range(len(word) - 1))
    return grams


def _jaccard(x: set[str], y: set[str]) -> float:
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


def title_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two titles' bigrams, 0..1."""
    return _jaccard(bigrams(a), bigrams(b))


def similar_open_cases(
    category_id: int,
    district_id: int,
    title: str,
    viewer: User,
    exclude_id: int | None = None,
    limit: int = 5,
) -> list[tuple[Case, float]]:
    """Open cases of the same category and district whose titles look alike, best first,
    among those that may be mentioned to ``viewer`` (``may_mention_case``: what they see;
    a client filing also other clients' public matters, never a tip-off).

    The candidates come from the search room: the title's words ORed (any text is safe,
    see ``any_word_query``) over case titles, filtered by category, district, open status
    and the last ``LOOKBACK_DAYS``, within ``mention_keys(viewer)``, the ``MAX_HITS`` most
    relevant. Their rows are then read from the database under the same conditions and
    ``mentionable_cases`` (an index a moment behind never shows more), and the titles are
    scored here (``title_similarity`` at least ``SIMILARITY_THRESHOLD``).
    """
    candidates = _candidates(category_id, district_id, title, viewer)
    if exclude_id is not None:
        candidates.discard(exclude_id)
    if not candidates:
        return []
    since = utcnow() - timedelta(days=LOOKBACK_DAYS)
    stmt = select(Case.id, Case.title).where(
        Case.id.in_(candidates),
        Case.category_id == category_id,
        Case.district_id == district_id,
        Case.status.in_(OPEN_STATUSES),
        Case.created_at >= since,
        mentionable_cases(viewer),
    )
    wanted = bigrams(title)
    scored = []
    for case_id, other_title in db.session.execute(stmt):
        score = _jaccard(wanted, bigrams(other_title))
        if score >= SIMILARITY_THRESHOLD:
            scored.append((case_id, score))
    scored.sort(key=lambda pair: (-pair[1], -pair[0]))  # best first, then the newest
    scored = scored[:limit]
    if not scored:
        return []
    cases = {
        c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_([i for i, _ in scored])))
    }
    return [(cases[case_id], score) for case_id, score in scored]


def _candidates(category_id: int, district_id: int, title: str, viewer: User) -> set[int]:
    """The ids of the ``MAX_HITS`` cases most like ``title`` that the index holds for
    ``viewer`` (none if the index cannot answer: filing must stay possible)."""
    query = any_word_query(title)
    keys = mention_keys(viewer)
    if not query or not keys:
        return set()
    request = SearchRequest(
        kind="case",
        query=query,
        access=keys,
        fields=("title",),
        filters={
            "category_id": (category_id,),
            "district_id": (district_id,),
            "status": tuple(s.value for s in OPEN_STATUSES),
        },
        # From the start of the hour: the same bounds for an hour, so the index keeps the
        # range's documents (the rows read back apply the exact cut-off).
        date_ranges={"created_at": (
            (utcnow() - timedelta(days=LOOKBACK_DAYS)).replace(minute=0, second=0, microsecond=0),
            None,
        )},
        sort="relevance",
        per_page=MAX_HITS,
        ranked=False,  # a set: the titles are scored below
    )
    try:
        response = search(request)
    except Exception:  # noqa: BLE001  (logged; a broken index must not stop a filing)
        log.exception("duplicate suggestions: the search index failed")
        return set()
    return {hit.id for hit in response.hits}


def case_by_number_or_none(number: str | None) -> Case | None:
    if not number:
        return None
    return db.session.scalar(select(Case).where(Case.number == number.strip()))


def _connected(rule: ColumnElement[bool]) -> Select:
    """The cases linked to case ``:case_id`` and the duplicates merged into it that
    ``rule`` lets through, with whether each is linked."""
    linked = select(CaseLink.related_id).where(CaseLink.case_id == bindparam("case_id"))
    merged_in = select(Case.id).where(Case.merged_into_id == bindparam("case_id"))
    # One IN over a UNION (each part read by its index), not an OR of the two, which
    # PostgreSQL answers by walking every case.
    return (
        select(Case, Case.id.in_(linked.scalar_subquery()).label("linked"))
        .where(Case.id.in_(union_all(linked, merged_in)), rule)
        .order_by(Case.id)
    )


# For whoever sees every case (``visible_cases`` is TRUE): built once, so SQLAlchemy keeps
# its cache key (building and keying it cost ~0.5 ms of CPU a staff case page).
_CONNECTED_CITYWIDE = _connected(true())


def connected_cases(case: Case, viewer: User) -> tuple[list[Case], list[Case]]:
    """The cases linked to ``case`` and the duplicates merged into it, those ``viewer``
    sees (a link shows number and title), read in one statement."""
    rule = visible_cases(viewer)
    stmt = _CONNECTED_CITYWIDE if rule is true() else _connected(rule)
    related, merged = [], []
    for other, is_linked in db.session.execute(stmt, {"case_id": case.id}):
        if is_linked:
            related.append(other)
        if other.merged_into_id == case.id:
            merged.append(other)
    return related, merged


def merge_message() -> str:
    return _("Choose the master case by its tracking number.")
