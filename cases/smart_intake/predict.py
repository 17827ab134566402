"""Where a request belongs: the three likeliest categories, each with its department.

The one entry point callers use (the suggestion endpoint, the filing forms, auto-routing):
``suggest(title, description)``. With a trained model active (``cases.smart_intake``'s
training), its scores; before any model is trained, the catalogue's own words (category
names and keywords) found in the text, so a new deployment is useful from day one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cases.catalogue.models import Category
from cases.services.catalogue import route_department
from portal.db import db
from portal.models import Department

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class Leaf:
    """What suggestions need of a leaf category, kept between requests."""

    id: int
    path: str
    department_id: int | None


def leaf_snapshot() -> dict[int, Leaf]:
    """The active leaves, cached per process like the model (re-read at most every
    ``INTAKE_MODEL_RECHECK_SECONDS``; every call under tests)."""
    from cases.smart_intake.store import leaf_categories

    cache = current_app.extensions.setdefault("smart_intake.leaves", {})
    recheck = current_app.config.get("INTAKE_MODEL_RECHECK_SECONDS",
                                     0 if current_app.testing else 5)
    now = time.monotonic()
    if cache.get("at") is None or now - cache["at"] >= recheck:
        cache["leaves"] = {c.id: Leaf(c.id, category_path(c), c.department_id)
                           for c in leaf_categories()}
        cache["at"] = now
    return cache["leaves"]


def _department(category_id: int, default_id: int | None, district_id: int | None,
                learned: dict[str, int]) -> Department | None:
    """Where the model saw such cases finally handled; else the routing rules; else the
    category's own department."""
    for key in (f"{category_id}:{district_id}", str(category_id)):
        found = db.session.get(Department, learned[key]) if key in learned else None
        if found is not None and found.is_active:
            return found
    routed = route_department(category_id, district_id)
    if routed is not None:
        return routed
    return db.session.get(Department, default_id) if default_id else None


def model_scores(text: str) -> tuple[int, list[tuple[int, float]], dict] | None:
    """``(version, [(category id, probability)] best first, learned departments)`` from
    the active model, or None when there is none (or it failed: logged)."""
    from cases.smart_intake.store import active_model

    loaded = active_model()
    if loaded is None:
        return None
    version, model = loaded
    try:
        ranked = model.rank(text, k=len(model.classes))
    except Exception:
        log.exception("smart intake: model version %s failed to score", version)
        return None
    return version, ranked, model.meta.get("departments", {})


# Below the first suggestion, none scored under this is shown (ranked best first).
MIN_SCORE = 0.03


def suggest(title: str, description: str = "", *, k: int = 3,
            district_id: int | None = None) -> Suggestions:
    """The ``k`` likeliest categories for a request, best first (fewer when little is known)."""
    from cases.smart_intake.features import request_text

    text = f"{title or ''}\n{description or ''}".strip()
    if not text:
        return Suggestions(None, [])
    scored = model_scores(request_text(title, description))
    if scored is not None:
        version, ranked, learned = scored
        leaves = leaf_snapshot()
        items = []
        for category_id, score in ranked:
            leaf = leaves.get(category_id)
            if leaf is None or round(score, 3) <= 0:
                continue  # a category retired since the model was trained
            if items and score < MIN_SCORE:
                break  # a 1 % guess under a good one only distracts the reader
            department = _department(leaf.id, leaf.department_id, district_id, learned)
            items.append(Suggestion(
                category_id=leaf.id, category_path=leaf.path,
                department_id=department.id if department else None,
                department_name=department.name if department else None,
                score=round(float(score), 3),
            ))
            if len(items) == k:
                break
        return Suggestions(version, items)
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
