"""Where a request belongs: the three likeliest categories, each with its department.

The one entry point callers use (the suggestion endpoint, the filing forms, auto-routing):
``suggest(title, description)``. With a trained model active (``cases.smart_intake``'s
training), its scores; before any model is trained, the catalogue's own words (category
names and keywords) found in the text, so a new deployment is useful from day one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cases.catalogue.models import Category
from cases.services.catalogue import route_department
from portal.db import db


@dataclass(frozen=True)
class Suggestion:
    category_id: int
    category_path: str  # the Chinese names from the top, joined by "/": 城乡建设/物业管理
    department_id: int | None
    department_name: str | None  # in the reader's language
    score: float  # 0..1, the model's confidence


@dataclass(frozen=True)
class Suggestions:
    version: int | None  # the model version that scored; None: the catalogue's words
    items: list[Suggestion] = field(default_factory=list)


def category_path(category: Category) -> str:
    """``城乡建设/物业管理``: the Chinese names from the top of the tree."""
    names = []
    node: Category | None = category
    while node is not None:
        names.append(node.name_zh)
        node = node.parent
    return "/".join(reversed(names))


def _leaf_categories() -> list[Category]:
    parents = select(Category.parent_id).where(Category.parent_id.is_not(None))
    stmt = (
        select(Category)
        .where(Category.is_active.is_(True), Category.id.not_in(parents))
        .options(selectinload(Category.parent).selectinload(Category.parent),
                 selectinload(Category.department))
    )
    return list(db.session.scalars(stmt))


def catalogue_scores(text: str, categories: list[Category]) -> dict[int, float]:
    """Scores from the catalogue alone: each name or keyword of a category (or of its
    parents) found in the text counts, the leaf's own words most."""
    scores: dict[int, float] = {}
    for category in categories:
        score = 0.0
        weight = 1.0
        node: Category | None = category
        while node is not None:
            keywords = (node.keywords or "").replace("，", ",").split(",")
            words = [node.name_zh, *keywords]
            score += weight * sum(len(w.strip()) for w in words if w.strip() and w.strip() in text)
            weight /= 2
            node = node.parent
        if score:
            scores[category.id] = score
    total = sum(scores.values())
    return {key: value / total for key, value in scores.items()} if total else {}


def suggest(title: str, description: str = "", *, k: int = 3,
            district_id: int | None = None) -> Suggestions:
    """The ``k`` likeliest categories for a request, best first (fewer when little is known)."""
    text = f"{title or ''}\n{description or ''}".strip()
    if not text:
        return Suggestions(None, [])
    categories = {category.id: category for category in _leaf_categories()}
    version, scores = None, catalogue_scores(text, list(categories.values()))
    best = sorted(((score, key) for key, score in scores.items()), reverse=True)[:k]
    items = []
    for score, category_id in best:
        category = categories[category_id]
        department = route_department(category.id, district_id) or category.department
        items.append(Suggestion(
            category_id=category.id,
            category_path=category_path(category),
            department_id=department.id if department else None,
            department_name=department.name if department else None,
            score=round(float(score), 3),
        ))
    return Suggestions(version, items)
