"""Chinese and English text as the index sees it (one analysis for both backends).

- ``normalise``: NFKC (full-width → half-width), traditional → simplified (zhconv),
  lower case;
- ``index_tokens`` / ``index_terms``: what a text field contributes to the index: jieba
  words (``cut_for_search``; cut by rjieba, ``search.engine.segment``: the same words)
  and character bigrams of every run of Chinese characters (so a query found verbatim in
  the text matches however jieba cut it), English words stemmed (Porter, Whoosh's),
  tracking numbers in one form (2026000123);
- ``query_units``: the same analysis for a query term, as units a backend matches: a
  unit matches where all its ``words`` are in the field, *or* its ``sequence`` stands in
  consecutive positions (the verbatim fallback);
- ``phrase_sequences``: a quoted phrase as consecutive-position sequences;
- ``tracking_forms``: 2026-000123 and 2026000123 for one tracking number;
- ``highlight``: a snippet of a text as safe HTML, the matched words in ``<mark>``.

Positions (for phrases): every Chinese character takes one position (a bigram or a jieba
word sits at its first character's), every English word or number one, and a gap of one
follows each Chinese run, so a bigram sequence is consecutive exactly where the text is
verbatim and English words in a row stand at consecutive positions.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import jieba
import zhconv
from markupsafe import Markup, escape
from whoosh.analysis import STOP_WORDS
from whoosh.lang.porter import stem as _porter_stem

from search.engine import segment

jieba.setLogLevel(logging.WARNING)
_ZHCONV_DICT = os.path.join(os.path.dirname(zhconv.zhconv.__file__), "zhcdict.json")
_jieba_lock = threading.Lock()
_jieba_ready = False

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
TRACKING_RE = re.compile(r"^(\d{4})-?(\d{6,})$")
# One token at a time: a tracking number, a run of Chinese characters, a word.
_TOKEN_RE = re.compile(
    rf"(?P<number>(?<![\d-])\d{{4}}-\d{{6,}}(?![\d-]))|(?P<han>[{_HAN}]+)|(?P<word>[^\W_{_HAN}]+)"
)
_HAN_RE = re.compile(f"[{_HAN}]")
MAX_WORD = 40  # longer "words" (hashes, junk) are cut to this many characters
# Analyses kept per process (a rebuild's worker): whole texts up to SHORT_TEXT characters
# (category, department, district and label fields repeat from case to case) and Chinese
# runs up to SHORT_RUN characters (set phrases, place names). Bounded LRU caches.
SHORT_TEXT = 80
SHORT_RUN = 12


def warm_up() -> None:
    """Load the dictionaries now (~0.7 s, once per process) rather than at first use:
    rjieba's (the index's and queries' words, ``search.engine.segment``) and jieba's
    (smart intake's features call this too)."""
    global _jieba_ready
    if _jieba_ready:
        return
    with _jieba_lock:
        if not _jieba_ready:
            jieba.initialize()
            segment.warm_up()
            _jieba_ready = True


def normalise(text: str) -> str:
    """NFKC, traditional → simplified, lower case: the form both index and query see."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    if _HAN_RE.search(text):
        if zhconv.zhconv.zhcdicts is None:
            # zhconv's own loader leaves its file open (a ResourceWarning): load by path.
            zhconv.loaddict(_ZHCONV_DICT)
        text = zhconv.convert(text, "zh-hans")
    return text.casefold()


@lru_cache(maxsize=4096)
def stem(word: str) -> str:
    """An English word's stem (numbers and non-Latin words stay as they are)."""
    if word.isascii() and word.isalpha():
        return _porter_stem(word)
    return word


def tracking_forms(number: str) -> list[str]:
    """Both forms of a tracking number (with and without the dash); [] if it is not one."""
    match = TRACKING_RE.match(normalise(number).strip())
    if match is None:
        return []
    year, serial = match.groups()
    return [f"{year}-{serial}", f"{year}{serial}"]


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _word(token: str) -> str | None:
    """An English word or number as indexed (stemmed; stop words dropped)."""
    if token in STOP_WORDS:
        return None
    return stem(token[:MAX_WORD])


def _run_tokens(run: str) -> tuple[tuple[str, int], ...]:
    """A Chinese run's terms: jieba's words (search mode) and the character bigrams, each
    at its first character's position within the run, once, in (position, term) order."""
    seen = {(start, word) for word, start, _end in segment.search_tokens(run)}
    if len(run) > 1:
        seen.update((i, run[i : i + 2]) for i in range(len(run) - 1))
    return tuple((word, start) for start, word in sorted(seen))


_short_run_tokens = lru_cache(maxsize=16_384)(_run_tokens)


def index_tokens(text: str) -> list[tuple[str, int]]:
    """``(term, position)`` of everything ``text`` contributes to a text field."""
    if len(text) <= SHORT_TEXT:
        return list(_short_text_tokens(text))
    return _index_tokens(text)


def _index_tokens(text: str) -> list[tuple[str, int]]:
    warm_up()
    tokens: list[tuple[str, int]] = []
    position = 0
    for match in _TOKEN_RE.finditer(normalise(text)):
        kind, value = match.lastgroup, match.group()
        if kind == "han":
            run = _short_run_tokens(value) if len(value) <= SHORT_RUN else _run_tokens(value)
            if position:
                tokens.extend([(term, position + start) for term, start in run])
            else:
                tokens.extend(run)
            position += len(value) + 1
        else:
            term = value.replace("-", "") if kind == "number" else _word(value)
            if term:
                tokens.append((term, position))
                position += 1
    return tokens


@lru_cache(maxsize=8_192)
def _short_text_tokens(text: str) -> tuple[tuple[str, int], ...]:
    return tuple(_index_tokens(text))


def index_terms(text: str) -> list[str]:
    """The terms ``text`` contributes to a text field (see ``index_tokens``)."""
    return [term for term, _position in index_tokens(text)]


@dataclass(frozen=True)
class Unit:
    """One run of a query term: found where every word is in the field, or the sequence
    stands at consecutive positions (verbatim). A one-word unit has one of each."""

    words: tuple[str, ...]
    sequence: tuple[str, ...]


def query_units(text: str) -> list[Unit]:
    """A query term's units (all of them must match: the term's runs are ANDed)."""
    warm_up()
    units: list[Unit] = []
    for match in _TOKEN_RE.finditer(normalise(text)):
        kind, value = match.lastgroup, match.group()
        if kind == "han":
            if len(value) == 1:
                units.append(Unit((value,), (value,)))
                continue
            words = tuple(dict.fromkeys(w for w in segment.cut(value) if w.strip()))
            units.append(Unit(words, tuple(_bigrams(value))))
        else:
            term = value.replace("-", "") if kind == "number" else _word(value)
            if term:
                units.append(Unit((term,), (term,)))
    return units


def query_terms(text: str) -> list[str]:
    """Every term a query for ``text`` may meet in the index (words and bigrams)."""
    terms: list[str] = []
    for unit in query_units(text):
        terms.extend(unit.words)
        terms.extend(unit.sequence)
    return list(dict.fromkeys(terms))


def plain_words(text: str) -> list[str]:
    """The words of ``text`` as a reader would name them, unanalysed: jieba's words of each
    Chinese run (``jieba.cut``), English words and numbers as written (lower case), in
    order, each once. Only letters, digits and Chinese characters: never query syntax."""
    warm_up()
    words: list[str] = []
    for match in _TOKEN_RE.finditer(normalise(text)):
        kind, value = match.lastgroup, match.group()
        if kind == "han":
            words.extend(w for w in segment.cut(value) if w.strip())
        else:
            words.append(value.replace("-", "") if kind == "number" else value[:MAX_WORD])
    return list(dict.fromkeys(words))


def phrase_sequences(text: str) -> list[tuple[str, ...]]:
    """A phrase as sequences that must stand at consecutive positions: Chinese runs are
    joined across spaces (电梯 故障 = 电梯故障) and become bigrams; words stay words."""
    joined = re.sub(rf"(?<=[{_HAN}])\s+(?=[{_HAN}])", "", normalise(text))
    sequences: list[tuple[str, ...]] = []
    words: list[str] = []
    for match in _TOKEN_RE.finditer(joined):
        kind, value = match.lastgroup, match.group()
        if kind == "han":
            if words:
                sequences.append(tuple(words))
                words = []
            sequences.append(tuple(_bigrams(value)) if len(value) > 1 else (value,))
        else:
            term = value.replace("-", "") if kind == "number" else _word(value)
            if term:
                words.append(term)
    if words:
        sequences.append(tuple(words))
    return sequences


# --- highlighting ------------------------------------------------------------------------


def _aligned(text: str) -> tuple[str, list[int]]:
    """``text`` normalised character by character, and each character's source index."""
    out: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        norm = normalise(char) if not char.isascii() else char.lower()
        out.append(norm)
        origin.extend([i] * len(norm))
    return "".join(out), origin


def highlight(text: str, needles: list[str], size: int = 160) -> str | None:
    """A snippet of ``text`` around its first match, escaped, matches in ``<mark>``.

    ``needles``: the analysed query terms (``query_terms`` of the positive terms); a
    Chinese needle is found as a substring, an English one as a word with that stem.
    None when nothing matches."""
    if not text or not needles:
        return None
    norm, origin = _aligned(text)
    han = [n for n in needles if re.search(f"[{_HAN}]", n)]
    other = {n for n in needles if n not in han}
    spans: list[tuple[int, int]] = []
    for needle in han:
        start = norm.find(needle)
        while start != -1:
            spans.append((start, start + len(needle)))
            start = norm.find(needle, start + 1)
    if other:
        for match in _TOKEN_RE.finditer(norm):
            value = match.group()
            term = value.replace("-", "") if match.lastgroup == "number" else stem(value)
            if term in other or value in other:
                spans.append(match.span())
    if not spans:
        return None
    # Back to the source text's characters, merged.
    marks: list[list[int]] = []
    for start, end in sorted((origin[s], origin[e - 1] + 1) for s, e in spans):
        if marks and start <= marks[-1][1]:
            marks[-1][1] = max(marks[-1][1], end)
        else:
            marks.append([start, end])
    first = marks[0][0]
    begin = max(0, first - size // 4)
    finish = min(len(text), begin + size)
    begin = max(0, min(begin, finish - size))
    parts: list[str] = ["…" if begin > 0 else ""]
    cursor = begin
    for start, end in marks:
        if end <= begin or start >= finish:
            continue
        start, end = max(start, begin), min(end, finish)
        parts.append(str(escape(text[cursor:start])))
        parts.append(f"<mark>{escape(text[start:end])}</mark>")
        cursor = end
    parts.append(str(escape(text[cursor:finish])))
    parts.append("…" if finish < len(text) else "")
    return Markup("".join(parts))  # noqa: S704 (every piece of text escaped above)
