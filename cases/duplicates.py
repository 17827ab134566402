"""Duplicates: similar open cases while filing, merging a duplicate, linking related cases."""

from __future__ import annotations

import re
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, or_, select

from cases.models import Case, CaseLink, CaseStatus, CaseType
from cases.visibility import visible_cases
from portal.db import db, utcnow
from portal.models import User

# Letters, digits and CJK characters; punctuation and spaces don't make titles alike.
_WORD_CHARS = re.compile(r"[\w\u4e00-\u9fff]+")
SIMILARITY_THRESHOLD = 0.3
LOOKBACK_DAYS = 180
MAX_CANDIDATES = 300
# Of other clients' cases, a client filing is reminded only of these: matters about a
# public place (night-time noise, a broken road) whose titles say nothing of a person.
PUBLIC_MATTER_TYPES = (CaseType.COMPLAINT, CaseType.SUGGESTION)


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


def shown_to_client(user: User) -> ColumnElement[bool]:
    """Which look-alike cases a client filing a request may be shown.

    Their own cases, and other clients' complaints and suggestions (``PUBLIC_MATTER_TYPES``)
    that are not anonymous. Never another client's tip-off: its title names a suspect and
    would tell that someone reported them (and whom, to a neighbour). Nor enquiries,
    requests for help or praise: their titles are about a person's own circumstances.
    """
    return or_(
        visible_cases(user),  # a client's own
        and_(Case.type.in_(PUBLIC_MATTER_TYPES), Case.anonymous.is_(False)),
    )


def similar_open_cases(
    category_id: int,
    district_id: int,
    title: str,
    exclude_id: int | None = None,
    limit: int = 5,
    shown: ColumnElement[bool] | None = None,
) -> list[tuple[Case, float]]:
    """Open cases of the same category and district whose titles look alike, best first.

    ``shown`` narrows the candidates to what the viewer may be told of (see
    ``shown_to_client``); staff who merge and link see every case.

    The candidates come from an indexed query that reads only ids and titles (recent open
    cases of the category and district); the titles are compared in Python, and only the
    few best matches are loaded as whole cases.
    """
    open_statuses = [s for s in CaseStatus if s.is_open]
    stmt = (
        select(Case.id, Case.title)
        .where(
            Case.category_id == category_id,
            Case.district_id == district_id,
            Case.status.in_(open_statuses),
            Case.created_at >= utcnow() - timedelta(days=LOOKBACK_DAYS),
        )
        .order_by(Case.created_at.desc())
        .limit(MAX_CANDIDATES)
    )
    if exclude_id is not None:
        stmt = stmt.where(Case.id != exclude_id)
    if shown is not None:
        stmt = stmt.where(shown)
    wanted = bigrams(title)
    scored = []
    for case_id, other_title in db.session.execute(stmt):
        score = _jaccard(wanted, bigrams(other_title))
        if score >= SIMILARITY_THRESHOLD:
            scored.append((case_id, score))
    scored.sort(key=lambda pair: pair[1], reverse=True)
    scored = scored[:limit]
    if not scored:
        return []
    cases = {
        c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_([i for i, _ in scored])))
    }
    return [(cases[case_id], score) for case_id, score in scored]


def case_by_number_or_none(number: str | None) -> Case | None:
    if not number:
        return None
    return db.session.scalar(select(Case).where(Case.number == number.strip()))


def related_cases(case: Case, viewer: User) -> list[Case]:
    """The cases linked to ``case`` that ``viewer`` sees (a link shows number and title)."""
    stmt = (
        select(Case)
        .join(CaseLink, CaseLink.related_id == Case.id)
        .where(CaseLink.case_id == case.id, visible_cases(viewer))
        .order_by(Case.id)
    )
    return list(db.session.scalars(stmt))


def merged_duplicates(case: Case, viewer: User) -> list[Case]:
    """The duplicates merged into ``case`` that ``viewer`` sees."""
    stmt = select(Case).where(Case.merged_into_id == case.id, visible_cases(viewer))
    return list(db.session.scalars(stmt))


def merge_message() -> str:
    return _("Choose the master case by its tracking number.")
