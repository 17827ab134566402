"""The words an import file may use for a state, type, channel or rating: the portal's value
(``closed``), its English label (``Closed``) and its Chinese label (``已办结``), any case."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from flask_babel import force_locale

from cases.satisfaction.vocabulary import LEVELS

LOCALES = ("en", "zh_CN")

# What other systems' exports commonly write for the same thing (a hotline platform says
# 电话 or 热线, not the portal's 12345热线): read as the portal's value, after its own words.
SYNONYMS: dict[str, dict[str, str]] = {
    "channel": {
        "电话": "phone", "热线": "phone", "来电": "phone", "12345": "phone", "热线电话": "phone",
        "phone": "phone", "hotline": "phone", "网上": "web", "网络": "web", "互联网": "web",
        "网页": "web", "门户网站": "web", "微信": "mobile", "小程序": "mobile", "app": "mobile",
        "手机": "mobile", "移动": "mobile", "来访": "walk_in", "窗口": "walk_in",
        "现场": "walk_in", "走访": "walk_in", "来信": "letter", "信函": "letter",
        "邮件": "email", "电子邮件": "email", "email": "email", "e-mail": "email",
    },
    "status": {
        "办结": "closed", "已结案": "closed", "结案": "closed", "已完成": "closed",
        "已办理": "closed", "已回复": "replied", "已反馈": "replied", "答复": "replied",
        "处理中": "in_progress", "办理": "in_progress", "已签收": "in_progress",
        "待处理": "submitted", "未受理": "submitted", "已转派": "dispatched",
        "已转办": "dispatched", "撤回": "withdrawn", "撤销": "withdrawn",
    },
    "type": {
        "咨询类": "enquiry", "求助类": "help", "投诉类": "complaint", "举报类": "tipoff",
        "建议类": "suggestion", "表扬类": "praise", "意见建议": "suggestion", "感谢": "praise",
    },
}
KINDS = {"CaseStatus": "status", "CaseType": "type", "Channel": "channel"}


def enum_words(kind: type[Enum], members: Iterable[Enum]) -> dict[str, Enum]:
    """Lower-cased value and labels (in every locale) -> member."""
    words: dict[str, Enum] = {}
    members = list(members)
    for member in members:
        words[str(member.value).lower()] = member
    for locale in LOCALES:
        with force_locale(locale):
            for member in members:
                words.setdefault(str(member.label).strip().lower(), member)
    by_value = {str(member.value): member for member in members}
    for word, value in SYNONYMS.get(KINDS.get(kind.__name__, ""), {}).items():
        if value in by_value:
            words.setdefault(word, by_value[value])
    return words


def level_words() -> dict[str, int]:
    """``5``, ``★5``, ``非常满意``, ``Very satisfied``... -> 5."""
    words: dict[str, int] = {}
    for level in LEVELS:
        words[str(level)] = level
        words[f"★{level}"] = level
    for locale in LOCALES:
        with force_locale(locale):
            for level, label in LEVELS.items():
                words.setdefault(str(label).strip().lower(), level)
    return words
