"""The words of satisfaction: levels (★1–★5), solved or not, where a rating came from, the
stages and ways out of a bad review (差评), each with its label in both languages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.i18n import LabelledEnum, bind_labels

# 非常满意 ★5 … 非常不满意 ★1 (GB/T 39735-2020); ★2 and ★1 are 差评.
LEVELS = {
    5: _l("Very satisfied"),
    4: _l("Satisfied"),
    3: _l("Basically satisfied"),
    2: _l("Dissatisfied"),
    1: _l("Very dissatisfied"),
}
BAD_LEVELS = frozenset({1, 2})
# 满意率 counts 基本满意 or better.
SATISFIED_LEVELS = frozenset({3, 4, 5})


def level_label(level: int | None) -> str:
    """``★2 不满意`` in the page's language ("" for no level)."""
    if level is None or level not in LEVELS:
        return ""
    return f"★{level} {LEVELS[level]}"


class Solved(LabelledEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


SOLVED_LABELS = bind_labels(
    Solved,
    {Solved.YES: _l("Solved"), Solved.PARTLY: _l("Partly solved"), Solved.NO: _l("Not solved")},
)


class RatingStatus(LabelledEnum):
    PENDING = "pending"  # asked, not yet given
    RATED = "rated"  # given by the client (link, case page) or recorded from a call
    DEFAULTED = "defaulted"  # no rating in time: the configured default level applies
    UNRATED = "unrated"  # no rating in time and no default: stays unrated for good


RATING_STATUS_LABELS = bind_labels(
    RatingStatus,
    {
        RatingStatus.PENDING: _l("Awaiting rating"),
        RatingStatus.RATED: _l("Rated"),
        RatingStatus.DEFAULTED: _l("Default rating (no rating given)"),
        RatingStatus.UNRATED: _l("Not rated"),
    },
)


class RatingSource(LabelledEnum):
    LINK = "link"  # the /rate/<token> page, no sign-in
    CASE_PAGE = "case_page"  # the signed-in owner on the case page
    PHONE = "phone"  # recorded by a clerk from a follow-up call (回访)
    DEFAULT = "default"  # the sweep applied the default level


RATING_SOURCE_LABELS = bind_labels(
    RatingSource,
    {
        RatingSource.LINK: _l("Rating link"),
        RatingSource.CASE_PAGE: _l("Case page"),
        RatingSource.PHONE: _l("Follow-up call"),
        RatingSource.DEFAULT: _l("Default"),
    },
)


class BadReviewStage(LabelledEnum):
    VERIFYING = "verifying"  # 回访核实: call the client back
    DECIDING = "deciding"  # verified: choose how to handle it
    RECTIFYING = "rectifying"  # 限期整改: back with the department, a new reply due
    APPEALED = "appealed"  # 申诉: a supervisor decides
    CLOSED = "closed"


BAD_REVIEW_STAGE_LABELS = bind_labels(
    BadReviewStage,
    {
        BadReviewStage.VERIFYING: _l("To verify by a call"),
        BadReviewStage.DECIDING: _l("To handle"),
        BadReviewStage.RECTIFYING: _l("Being rectified"),
        BadReviewStage.APPEALED: _l("Appeal awaiting decision"),
        BadReviewStage.CLOSED: _l("Closed"),
    },
)

# The four ways a verified 差评 is handled, and the outcome of an upheld appeal.
RESOLUTIONS = {
    "fixed": _l("Fixed at once"),  # 立行立改
    "rectify": _l("Rectify by a deadline"),  # 限期整改
    "explain": _l("Explained"),  # 解释说明
    "appeal": _l("Appealed"),  # 申诉
}
OUTCOMES = {
    "fixed": _l("Fixed at once"),
    "rectified": _l("Rectified"),
    "explained": _l("Explained"),
    "set_aside": _l("Rating set aside on appeal"),
}
