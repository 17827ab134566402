"""Words that signal danger or distress (燃气泄漏, 坠落, 轻生 ...): found in a request's
text, they flag it as a possible emergency and suggest a priority. Admins keep the list
(``/admin/intake/urgency-words``); every change is an admin action."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from cases.smart_intake.models import UrgencyWord
from cases.vocabulary import Priority
from portal.admin.audit import add_action_label, add_field_label, record_action
from portal.db import db
from portal.errors import DomainError
from portal.models import User

WORD_LENGTH = 50
MAX_WORDS = 500  # the list is read on every suggestion: kept small on purpose

for _action, _label in (
    ("urgency_word.create", _l("Added an urgency word")),
    ("urgency_word.update", _l("Changed an urgency word")),
    ("urgency_word.delete", _l("Removed an urgency word")),
):
    add_action_label(_action, _label)
add_field_label("word", _l("Word"))
add_field_label("priority", _l("Priority"))


@dataclass(frozen=True)
class UrgencyHint:
    """The urgency words found in a text and the highest priority they suggest."""

    words: list[str] = field(default_factory=list)
    priority: Priority | None = None

    @property
    def urgent(self) -> bool:
        return bool(self.words)


def _normal(text: str) -> str:
    return "".join((text or "").split()).casefold()


def urgency_hint(text: str) -> UrgencyHint:
    """The active words found in ``text`` (spaces ignored), and their highest priority."""
    plain = _normal(text)
    if not plain:
        return UrgencyHint()
    rows = db.session.execute(
        select(UrgencyWord.word, UrgencyWord.priority)
        .where(UrgencyWord.is_active.is_(True))
        .order_by(UrgencyWord.word)
        .limit(MAX_WORDS)
    ).all()
    found = [(word, priority) for word, priority in rows
             if _normal(word) and _normal(word) in plain]
    if not found:
        return UrgencyHint()
    top = max((priority for _word, priority in found), key=lambda p: p.rank)
    return UrgencyHint(words=[word for word, _priority in found], priority=top)


def urgency_words() -> list[UrgencyWord]:
    return list(db.session.scalars(select(UrgencyWord).order_by(UrgencyWord.word)))


def _clean_word(word: str) -> str:
    cleaned = " ".join((word or "").split())
    if not cleaned:
        raise DomainError(_("Write the word or phrase."), field="word")
    if len(cleaned) > WORD_LENGTH:
        raise DomainError(_("A word may have at most %(n)d characters.", n=WORD_LENGTH),
                          field="word")
    return cleaned


def _check_unique(word: str, keep_id: int | None = None) -> None:
    stmt = select(UrgencyWord.id).where(func.lower(UrgencyWord.word) == word.lower())
    if keep_id is not None:
        stmt = stmt.where(UrgencyWord.id != keep_id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise DomainError(_("“%(word)s” is on the list already.", word=word), field="word")


def add_urgency_word(word: str, priority: Priority, admin: User) -> UrgencyWord:
    """Add a word to the list (active); refused when empty or already there."""
    cleaned = _clean_word(word)
    _check_unique(cleaned)
    row = UrgencyWord(word=cleaned, priority=priority, is_active=True, created_by_id=admin.id)
    db.session.add(row)
    db.session.flush()
    record_action("urgency_word.create", row,
                  {"word": cleaned, "priority": priority.value}, actor=admin)
    return row


def update_urgency_word(row: UrgencyWord, priority: Priority, is_active: bool,
                        admin: User) -> UrgencyWord:
    """Change a word's priority and whether it is used."""
    changed = {}
    if row.priority != priority:
        changed["priority"] = [row.priority.value, priority.value]
        row.priority = priority
    if row.is_active != bool(is_active):
        changed["is_active"] = [row.is_active, bool(is_active)]
        row.is_active = bool(is_active)
    if changed:
        record_action("urgency_word.update", row, {"word": row.word, **changed}, actor=admin)
    db.session.flush()
    return row


def remove_urgency_word(row: UrgencyWord, admin: User) -> None:
    """Take a word off the list (past suggestions keep their flag)."""
    record_action("urgency_word.delete", row, {"word": row.word}, actor=admin)
    db.session.delete(row)
    db.session.flush()
