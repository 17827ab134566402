"""Writing, reviewing and publishing answers: who may, and what each step does.

An answer's life (``ANSWER_STATUSES``): staff write a ``draft``, send it for ``review``; a
reviewer (a department head, a supervisor or an admin) who did not write it publishes it
(an admin may publish their own); a reviewer takes a published answer down
(``unpublished``). Changing the text of an answer in review or published puts it back to
``draft`` (off the help page until a reviewer publishes it again): what the public reads
has always been seen by a second pair of eyes.

Every step names the ``version`` the user saw: if the answer changed meanwhile, the step
is refused with ``ConcurrentEdit`` (409) and nothing is saved; a race between the check
and the write is caught by the mapper's version counter (``StaleDataError``).

Services flush, never commit. View counts and votes are not edits: they are written with
plain UPDATEs (``cases.knowledge.reading``) that leave ``version`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from cases.catalogue.models import Category
from cases.knowledge.models import KnowledgeAnswer
from portal.db import db, utcnow
from portal.errors import DomainError, concurrent_change_message
from portal.models import Role, User

# Who writes answers (officials read the knowledge base but do not write it).
WRITER_ROLES = frozenset(
    {Role.CLERK, Role.HANDLER, Role.DEPARTMENT_HEAD, Role.SUPERVISOR, Role.ADMIN}
)
# Who reviews, publishes and takes answers down.
REVIEWER_ROLES = frozenset({Role.DEPARTMENT_HEAD, Role.SUPERVISOR, Role.ADMIN})

# Search access keys of answers (``search.sources.knowledge``): everyone holds PUBLIC_KEY
# (published answers); staff also STAFF_KEY (every answer, drafts included).
PUBLIC_KEY = "public"
STAFF_KEY = "kb:staff"


class ConcurrentEdit(DomainError):
    """Someone changed the answer after this user loaded it: nothing is saved (409)."""

    def __init__(self) -> None:
        super().__init__(concurrent_change_message())


@dataclass(frozen=True)
class AnswerInput:
    title: str
    body: str
    category_id: int | None = None


# --- who may ----------------------------------------------------------------------------


def can_read_knowledge(user: User) -> bool:
    """The staff list and every answer in any state: staff only."""
    return bool(user.is_authenticated and user.role.is_staff)


def can_write_knowledge(user: User) -> bool:
    return bool(user.is_authenticated and user.role in WRITER_ROLES)


def can_review_knowledge(user: User) -> bool:
    return bool(user.is_authenticated and user.role in REVIEWER_ROLES)


def may_publish(user: User, answer: KnowledgeAnswer) -> bool:
    """A reviewer publishes an answer in review, unless they wrote it (admins may)."""
    return (
        can_review_knowledge(user)
        and answer.status in ("review", "unpublished")
        and (answer.author_id != user.id or user.role == Role.ADMIN)
    )


def may_send_for_review(user: User, answer: KnowledgeAnswer) -> bool:
    return can_write_knowledge(user) and answer.status in ("draft", "unpublished")


def may_unpublish(user: User, answer: KnowledgeAnswer) -> bool:
    return can_review_knowledge(user) and answer.status == "published"


def answer_access_keys(answer: KnowledgeAnswer) -> tuple[str, ...]:
    """Who may find ``answer`` in search: the public only once it is published."""
    return (PUBLIC_KEY,) if answer.status == "published" else (STAFF_KEY,)


def viewer_answer_keys(user: User | None) -> tuple[str, ...]:
    """The access keys a viewer searches answers with."""
    if user is not None and can_read_knowledge(user):
        return (PUBLIC_KEY, STAFF_KEY)
    return (PUBLIC_KEY,)


# --- the steps --------------------------------------------------------------------------


def check_version(answer: KnowledgeAnswer, version: int | None) -> None:
    """Refuse a step taken on an older (or unknown) version of ``answer``."""
    if version is None or version != answer.version:
        raise ConcurrentEdit()


def _category(category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    category = db.session.get(Category, category_id)
    if category is None:
        raise DomainError(_("Choose a value from the list."), field="category")
    return category


def save_answer(
    user: User, answer: KnowledgeAnswer | None, data: AnswerInput, version: int | None = None
) -> KnowledgeAnswer:
    """Write a new draft, or change ``answer`` (as of ``version``)."""
    if not can_write_knowledge(user):
        raise DomainError(_("You may not write answers."))
    category = _category(data.category_id)
    if answer is None:
        answer = KnowledgeAnswer(
            title=data.title, body=data.body, category=category, status="draft", author=user
        )
        db.session.add(answer)
        db.session.flush()
        return answer
    check_version(answer, version)
    changed = (answer.title, answer.body, answer.category_id) != (
        data.title, data.body, category.id if category else None
    )
    if not changed:
        return answer
    answer.title, answer.body, answer.category = data.title, data.body, category
    if answer.status in ("review", "published"):
        answer.status = "draft"
        answer.reviewed_by = None
    db.session.flush()
    return answer


def send_for_review(user: User, answer: KnowledgeAnswer, version: int | None) -> None:
    check_version(answer, version)
    if not may_send_for_review(user, answer):
        raise DomainError(_("This answer cannot be sent for review now."))
    answer.status = "review"
    db.session.flush()


def publish_answer(user: User, answer: KnowledgeAnswer, version: int | None) -> None:
    check_version(answer, version)
    if not may_publish(user, answer):
        if answer.author_id == user.id and can_review_knowledge(user):
            raise DomainError(_("Another reviewer must publish an answer you wrote."))
        raise DomainError(_("This answer cannot be published now."))
    answer.status = "published"
    answer.reviewed_by = user
    answer.published_at = utcnow()
    db.session.flush()


def unpublish_answer(user: User, answer: KnowledgeAnswer, version: int | None) -> None:
    check_version(answer, version)
    if not may_unpublish(user, answer):
        raise DomainError(_("This answer is not published."))
    answer.status = "unpublished"
    db.session.flush()


def status_label(status: str) -> str:
    """An answer's status in the reader's language."""
    labels = {
        "draft": _("Draft"),
        "review": _("In review"),
        "published": _("Published"),
        "unpublished": _("Unpublished"),
    }
    return labels.get(status, status)
