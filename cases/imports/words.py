"""The words an import file may use for a state, type, channel or rating: the portal's value
(``closed``), its English label (``Closed``) and its Chinese label (``已办结``), any case."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from flask_babel import force_locale

from cases.satisfaction.vocabulary import LEVELS

LOCALES = ("en", "zh_CN")


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
