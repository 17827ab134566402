"""Category trees from a file (``flask cases import-categories``), and the missing
categories a case import with ``--create-categories`` meets.

A path names one to three levels by Chinese name from the top of the tree
(``城乡建设/物业管理``); missing levels are made under the right parent. A row may give
the leaf's department (name or code), keywords and English name; an existing category
takes those values when the row gives them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from cases.catalogue.models import Category
from cases.imports.reading import Table
from cases.imports.rows import MAX_DEPTH, Node, Reference, RowError, split_path
from portal.db import db

CATEGORY_COLUMNS = ("category", "department", "keywords", "name_en")


@dataclass
class TreeResult:
    created: int
    updated: int
    skipped: int
    errors: list[dict]
    error_count: int


def _code(path: tuple[str, ...]) -> str:
    return "imp-" + hashlib.sha256("/".join(path).encode()).hexdigest()[:16]


def make_categories(ref: Reference, paths: list[tuple[str, ...]],
                    departments: dict[tuple[str, ...], int | None]) -> int:
    """Make the categories of ``paths`` (parents first) and give ``ref`` their ids."""
    made = 0
    position = (db.session.scalar(select(func.max(Category.position))) or 0) + 1
    for path in sorted(set(paths), key=len):
        node = ref.categories.get(path)
        if node is not None and node.id is not None:
            continue
        parent = ref.categories[path[:-1]].id if len(path) > 1 else None
        category = Category(code=_code(path), name_zh=path[-1], name_en="", parent_id=parent,
                            department_id=departments.get(path), position=position,
                            is_active=True)
        db.session.add(category)
        db.session.flush()
        position += 1
        made += 1
        ref.categories[path] = Node(path, category.id, category.department_id,
                                    (category.sign_amount, category.sign_unit),
                                    (category.reply_amount, category.reply_unit))
    return made


def import_tree(table: Table, limit: int = 1000) -> TreeResult:
    """Check every row, then (when all are good) make and update the categories.
    Flushes; the caller commits (or rolls back on errors)."""
    ref = Reference.load()
    errors: list[dict] = []
    count = 0
    wanted: list[tuple[int, tuple[str, ...], int | None, str, str]] = []
    for line, cells in table.rows:
        path = split_path(cells.get("category") or "")
        try:
            if not path or any(not part for part in path) or len(path) > MAX_DEPTH:
                raise RowError(
                    _("The category must be a path of one to three names separated by /."))
            name = str(cells.get("department") or "").strip()
            department = ref.departments.get(name.lower()) if name else None
            if name and department is None:
                raise RowError(_("There is no department named %(value)s.", value=name))
        except RowError as exc:
            count += 1
            if len(errors) < limit:
                errors.append({"line": line, "reason": str(exc)})
            continue
        wanted.append((line, path, department, str(cells.get("keywords") or "").strip()[:500],
                       str(cells.get("name_en") or "").strip()[:150]))
    if count:
        return TreeResult(0, 0, 0, errors, count)
    existed = {path for path, node in ref.categories.items() if node.id is not None}
    paths = [path[:depth] for _line, path, *_rest in wanted for depth in range(1, len(path) + 1)]
    made = make_categories(ref, paths, {path: dep for _line, path, dep, *_r in wanted})
    updated = skipped = 0
    ids = {ref.categories[path].id: (dep, kw, en) for _line, path, dep, kw, en in wanted}
    for category in db.session.scalars(select(Category).where(Category.id.in_(list(ids)))):
        department, keywords, name_en = ids[category.id]
        changes = {k: v for k, v in (("department_id", department), ("keywords", keywords),
                                     ("name_en", name_en)) if v and getattr(category, k) != v}
        for key, value in changes.items():
            setattr(category, key, value)
        path = next(p for p, n in ref.categories.items() if n.id == category.id)
        if path in existed:
            updated += bool(changes)
            skipped += not changes
    db.session.flush()
    return TreeResult(made, updated, skipped, [], 0)
