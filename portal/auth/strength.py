"""How strong a password is: length and zxcvbn's estimate, in our own words.

``password_problems`` lists everything wrong with a password at once (too short, too
easy to guess and why), in the reader's language: zxcvbn's own feedback is English, so
its warnings are mapped to our messages. The score needed is ``PASSWORD_MIN_SCORE``
(0-4, default 3); ``user_inputs`` (username, name, e-mail, phone) count as guessable.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn

DEFAULT_MIN_SCORE = 3
# zxcvbn refuses longer input; the first characters decide whether it is guessable.
ESTIMATE_LENGTH = 72
# zxcvbn keeps the user inputs in a module-wide dictionary while it estimates.
_LOCK = threading.Lock()

# zxcvbn's warnings (English) → what we say instead.
WARNINGS = {
    "Straight rows of keys are easy to guess.": _l(
        "Rows and patterns of neighbouring keys are easy to guess."
    ),
    "Short keyboard patterns are easy to guess.": _l(
        "Rows and patterns of neighbouring keys are easy to guess."
    ),
    'Repeats like "aaa" are easy to guess.': _l(
        "Repeated characters or words are easy to guess."
    ),
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': _l(
        "Repeated characters or words are easy to guess."
    ),
    'Sequences like "abc" or "6543" are easy to guess.': _l(
        "Sequences such as abc or 6543 are easy to guess."
    ),
    "Recent years are easy to guess.": _l("Dates and years are easy to guess."),
    "Dates are often easy to guess.": _l("Dates and years are easy to guess."),
    "This is a top-10 common password.": _l("This is one of the most common passwords."),
    "This is a top-100 common password.": _l("This is one of the most common passwords."),
    "This is a very common password.": _l("This is one of the most common passwords."),
    "This is similar to a commonly used password.": _l(
        "This is too close to a common password."
    ),
    "A word by itself is easy to guess.": _l("A single word is easy to guess."),
    "Names and surnames by themselves are easy to guess.": _l(
        "Names and surnames are easy to guess."
    ),
    "Common names and surnames are easy to guess.": _l("Names and surnames are easy to guess."),
}
PERSONAL = _l("Do not use your username, name, e-mail or phone number in the password.")


def min_length() -> int:
    return int(current_app.config.get("PASSWORD_MIN_LENGTH", 8))


def min_score() -> int:
    return int(current_app.config.get("PASSWORD_MIN_SCORE", DEFAULT_MIN_SCORE))


def guessable_inputs(values: Iterable[str | None]) -> list[str]:
    """The words of ``values`` zxcvbn should treat as known: whole, and an e-mail's or a
    name's parts."""
    words: list[str] = []
    for value in values:
        text = (value or "").strip().lower()
        if not text:
            continue
        words.append(text)
        words += [part for part in re.split(r"[@.\s_\-+]+", text) if len(part) >= 3]
    return list(dict.fromkeys(words))


def estimate(password: str, user_inputs: Iterable[str | None] = ()) -> dict:
    """zxcvbn's result for ``password`` (its first ``ESTIMATE_LENGTH`` characters)."""
    with _LOCK:
        return zxcvbn(password[:ESTIMATE_LENGTH], user_inputs=guessable_inputs(user_inputs))


def password_problems(password: str, user_inputs: Iterable[str | None] = ()) -> list[str]:
    """Everything wrong with ``password``, each as a message for the reader; [] if none."""
    problems: list[str] = []
    password = password or ""
    minimum = min_length()
    if len(password) < minimum:
        problems.append(_("The password needs at least %(n)d characters.", n=minimum))
    if not password:
        return problems
    result = estimate(password, user_inputs)
    if result["score"] >= min_score():
        return problems
    problems.append(
        _(
            "This password is too easy to guess. Use a longer one: a few uncommon words, "
            "or letters mixed with digits and symbols."
        )
    )
    personal = any(
        match.get("dictionary_name") == "user_inputs" for match in result.get("sequence", ())
    )
    warning = WARNINGS.get((result.get("feedback") or {}).get("warning") or "")
    if personal:
        problems.append(str(PERSONAL))
    elif warning is not None:
        problems.append(str(warning))
    return problems
