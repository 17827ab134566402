"""The deployment's intake model: trained from its closed cases, kept as numbered versions
in the instance folder (``intake_models/v<N>-<token>.joblib``, written atomically) with
an ``IntakeModelVersion`` row each, one of them active.

- ``train_version``: learn from every closed case (where it was finally handled: the
  case row's category and department at the end, after returns, transfers and
  reclassification), measure on a time split, store; the new version becomes active when
  it is the first or its top-1 is not worse than the active one's.
- ``activate``: an admin makes any version active (a roll-back is this too).
- ``active_model``: the active model, loaded once per process and re-checked at most
  every ``INTAKE_MODEL_RECHECK_SECONDS`` (5; every call under tests).
- ``retrain_if_due``: the sweep's schedule (``IntakeSettings.retrain_every_days``,
  counted from the last training).
Services flush, never commit; ``retrain_if_due`` guards itself (it runs in the sweep).
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from cases.catalogue.models import Category
from cases.models import Case
from cases.smart_intake.features import CatalogueEntry, request_text, split_keywords
from cases.smart_intake.models import IntakeModelVersion
from cases.smart_intake.settings import intake_settings
from cases.vocabulary import CaseStatus
from portal.admin.audit import add_action_label, record_action
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import User

log = logging.getLogger(__name__)

MIN_CASES = 30  # fewer closed cases teach nothing: the catalogue's words stay in use
MODEL_DIR = "intake_models"
# Final-department figures: a (category, district) pair with at least 2 cases, or a
# category with at least 3, whose most frequent final department holds this share.
DEPARTMENT_SHARE = 0.6
LABELLED = (CaseStatus.CLOSED,)  # a replied case may still be redone: not yet final

add_action_label("intake_model.train", _l("Trained a smart intake model"))
add_action_label("intake_model.activate", _l("Activated a smart intake model version"))


class IntakeTrainingRefused(DomainError):
    """Training or activating cannot be done (too few cases, no such version...)."""


@dataclass
class TrainOutcome:
    row: IntakeModelVersion
    activated: bool
    levels: dict[str, tuple[Any, Any]]  # level name → (model, baseline) Evaluation


def model_dir() -> Path:
    return Path(current_app.instance_path) / MODEL_DIR


# --- what the model learns from ------------------------------------------------------

def leaf_categories() -> list[Category]:
    """Active categories without children, their parents loaded."""
    parents = select(Category.parent_id).where(Category.parent_id.is_not(None))
    stmt = (select(Category)
            .where(Category.is_active.is_(True), Category.id.not_in(parents))
            .options(selectinload(Category.parent).selectinload(Category.parent)
                     .selectinload(Category.parent)))
    return list(db.session.scalars(stmt))


def lineage(category: Category) -> list[Category]:
    """The category and its parents, from the top down."""
    chain: list[Category] = []
    node: Category | None = category
    while node is not None and len(chain) < 10:
        chain.append(node)
        node = node.parent
    return list(reversed(chain))


def catalogue_entries(leaves: list[Category]) -> list[CatalogueEntry]:
    """What the catalogue says of each leaf: names from the top, its own and its parents'
    keywords, its description."""
    entries = []
    for leaf in leaves:
        chain = lineage(leaf)
        keywords = tuple(k for node in chain for k in split_keywords(node.keywords))
        entries.append(CatalogueEntry(leaf.id, tuple(n.name_zh for n in chain), keywords,
                                      leaf.description_zh or ""))
    return entries


def closed_rows(leaf_ids: set[int]) -> list[tuple]:
    """(text, category id, department id, district id, filed at) of every closed case whose
    final category is still an active leaf."""
    stmt = (select(Case.title, Case.description, Case.category_id, Case.department_id,
                   Case.district_id, Case.created_at)
            .where(Case.status.in_(LABELLED))
            .order_by(Case.created_at, Case.id))
    return [(request_text(title, description), category_id, department_id, district_id,
             filed_at)
            for title, description, category_id, department_id, district_id, filed_at
            in db.session.execute(stmt) if category_id in leaf_ids]


def closed_count() -> int:
    return db.session.scalar(select(func.count(Case.id)).where(Case.status.in_(LABELLED))) or 0


def learned_departments(rows: list[tuple]) -> dict[str, int]:
    """Where each category's cases were finally handled, when clear enough:
    ``{"<category>:<district>": department, "<category>": department}``."""
    pairs: dict[str, Counter] = defaultdict(Counter)
    for _text, category_id, department_id, district_id, _at in rows:
        if department_id is not None:
            pairs[f"{category_id}:{district_id}"][department_id] += 1
            pairs[str(category_id)][department_id] += 1
    learned = {}
    for key, counts in pairs.items():
        department_id, count = counts.most_common(1)[0]
        total = sum(counts.values())
        if total >= (2 if ":" in key else 3) and count / total >= DEPARTMENT_SHARE:
            learned[key] = department_id
    return learned


# --- training -----------------------------------------------------------------------

def _write_atomically(model, directory: Path, name: str) -> None:
    import joblib

    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            joblib.dump(model, out, compress=3)
        os.replace(temporary, directory / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def active_version() -> IntakeModelVersion | None:
    return db.session.scalar(select(IntakeModelVersion).where(IntakeModelVersion.is_active))


def train_version(user: User | None = None, *, min_cases: int = MIN_CASES,
                  progress: Callable[[str], None] = lambda _m: None) -> TrainOutcome:
    """Train, measure and store a new version from the closed cases (flushes)."""
    from cases.smart_intake.training import Example, compare, fit

    leaves = leaf_categories()
    by_id = {leaf.id: leaf for leaf in leaves}
    rows = closed_rows(set(by_id))
    progress(f"closed cases with an active category: {len(rows)}")
    if len(rows) < max(min_cases, 2) or len({r[1] for r in rows}) < 2:
        raise IntakeTrainingRefused(_(
            "Too few closed cases to learn from: %(count)d (at least %(min)d in two "
            "categories or more). Suggestions keep using the catalogue's words.",
            count=len(rows), min=max(min_cases, 2)))
    catalogue = catalogue_entries(leaves)
    examples = [Example(text, category_id, filed_at)
                for text, category_id, _d, _s, filed_at in rows]
    top_of = {leaf.id: lineage(leaf)[0].id for leaf in leaves}
    progress("training on the older 80 %, testing on the newest 20 % ...")
    comparison = compare(examples, catalogue, levels={"1": top_of.get})
    progress("training on every closed case for the stored model ...")
    model = fit([e.text for e in examples], [e.label for e in examples], catalogue)
    model.meta = {"departments": learned_departments(rows), "cases": len(rows)}

    number = (db.session.scalar(select(func.max(IntakeModelVersion.version))) or 0) + 1
    file_name = f"v{number}-{secrets.token_hex(4)}.joblib"
    _write_atomically(model, model_dir(), file_name)
    evaluation, baseline = comparison.model, comparison.baseline
    row = IntakeModelVersion(
        version=number, file_name=file_name, is_active=False,
        trained_cases=comparison.trained, tested_cases=comparison.tested,
        split_at=comparison.split_at, top1=evaluation.top1, top3=evaluation.top3,
        baseline_top1=baseline.top1, baseline_top3=baseline.top3,
        per_category={str(k): v for k, v in evaluation.per_label.items()},
        confusions=[{"actual": a, "predicted": p, "count": n}
                    for a, p, n in evaluation.confusions],
        trained_by_id=user.id if user else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        (model_dir() / file_name).unlink(missing_ok=True)
        raise IntakeTrainingRefused(
            _("Another training finished at the same moment; try again.")) from None
    current = active_version()
    # The first version, or one not worse on top-1 (each measured on its newest 20 %).
    activated = current is None or (current.top1 or 0.0) <= (row.top1 or 0.0) + 1e-9
    if activated:
        _make_active(row)
    if user is not None:
        record_action("intake_model.train", row,
                      {"version": number, "top1": round(row.top1 or 0, 3),
                       "activated": activated}, actor=user)
    db.session.flush()
    levels = {"leaf": (comparison.model, comparison.baseline), **comparison.levels}
    return TrainOutcome(row, activated, levels)


def _make_active(row: IntakeModelVersion) -> None:
    for other in db.session.scalars(
            select(IntakeModelVersion).where(IntakeModelVersion.is_active)):
        other.is_active = False
    db.session.flush()
    row.is_active = True
    row.activated_at = utcnow()
    db.session.flush()
    forget_cached_model()


def activate(version: int, admin: User | None = None) -> IntakeModelVersion:
    """Make ``version`` the one suggestions use (a roll-back too); flushes."""
    row = db.session.scalar(
        select(IntakeModelVersion).where(IntakeModelVersion.version == version))
    if row is None:
        raise IntakeTrainingRefused(_("There is no model version %(version)d.",
                                      version=version))
    if not (model_dir() / row.file_name).is_file():
        raise IntakeTrainingRefused(_("The file of model version %(version)d is missing "
                                      "from this server.", version=version))
    if not row.is_active:
        _make_active(row)
        if admin is not None:
            record_action("intake_model.activate", row, {"version": version}, actor=admin)
    return row


# --- the active model, once per process ------------------------------------------------

_lock = threading.Lock()


def _cache() -> dict:
    return current_app.extensions.setdefault("smart_intake.model", {})


def forget_cached_model() -> None:
    _cache().clear()


def active_model() -> tuple[int, Any] | None:
    """``(version, model)`` of the active version, or None (no version, or its file is
    unreadable: the catalogue's words then)."""
    cache = _cache()
    recheck = current_app.config.get("INTAKE_MODEL_RECHECK_SECONDS",
                                     0 if current_app.testing else 5)
    now = time.monotonic()
    if cache.get("checked_at") is not None and now - cache["checked_at"] < recheck:
        return cache.get("loaded")
    found = db.session.execute(
        select(IntakeModelVersion.version, IntakeModelVersion.file_name)
        .where(IntakeModelVersion.is_active)).first()
    key = (current_app.instance_path, *found) if found else None
    if key != cache.get("key"):
        loaded = None
        if found is not None:
            with _lock:
                try:
                    import joblib

                    loaded = (found.version, joblib.load(model_dir() / found.file_name))
                except Exception:  # a missing or broken file: fall back, say so in the log
                    log.exception("smart intake: cannot load model version %s", found.version)
        cache.update(key=key, loaded=loaded)
    cache["checked_at"] = now
    return cache.get("loaded")


# --- the sweep's schedule ---------------------------------------------------------------

def retrain_due(now: datetime | None = None) -> bool:
    """Retrain when the last training (kept active or not) is older than
    ``retrain_every_days`` (0: never) and cases were closed since; with no version yet,
    once enough are closed."""
    days = intake_settings().retrain_every_days or 0
    if days <= 0:
        return False
    now = now or utcnow()
    last = db.session.scalar(select(func.max(IntakeModelVersion.created_at)))
    if last is None:
        return closed_count() >= MIN_CASES
    if last > now - timedelta(days=days):
        return False
    newer = select(func.count(Case.id)).where(Case.status.in_(LABELLED), Case.closed_at > last)
    return bool(db.session.scalar(newer))


def retrain_if_due(now: datetime | None = None) -> IntakeModelVersion | None:
    """The sweep's call: retrain when due; never raises (errors are logged)."""
    try:
        with db.session.begin_nested():
            if not retrain_due(now):
                return None
            outcome = train_version()
        log.info("smart intake: trained version %s (top-1 %.3f), %s", outcome.row.version,
                 outcome.row.top1 or 0, "active" if outcome.activated else "kept inactive")
        return outcome.row
    except IntakeTrainingRefused as refused:
        log.info("smart intake: not retrained: %s", refused.message)
    except Exception:
        log.exception("smart intake: retraining failed")
    return None
