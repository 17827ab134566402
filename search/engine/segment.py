"""Chinese word segmentation for the index and queries: jieba's words, cut by rjieba.

rjieba (jieba-rs, Rust) gives the tokens of ``jieba.tokenize(run, mode="search")`` and
``jieba.cut(run)`` about 15 times faster (3 against 45 µs a run), which was two thirds of a
rebuild's analysis (docs/SEARCH.md, "Rebuilding the index"). The one difference is which
characters each takes for Chinese: jieba segments runs of U+4E00–U+9FD5 only (its
``re_han_default``) and yields every other character (extension A, U+9FD6–U+9FFF, the
supplementary planes: rare names and place names) as a word of its own, where jieba-rs
joins them to their neighbours. So a run is cut into jieba's Chinese parts, each segmented
by rjieba, and single characters between them: the tokens are jieba's own, exactly
(``tests/test_search_text.py`` compares both on every demo and bench text), so an index
built with jieba stays valid and index and query keep agreeing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import rjieba

# jieba's Chinese characters (``jieba.re_han_default`` without the ASCII it also takes:
# a run handed here holds Chinese characters only).
_JIEBA_HAN = re.compile("[\u4e00-\u9fd5]+")


def _parts(run: str) -> Iterator[tuple[int, str, bool]]:
    """``(start, text, segmented)``: jieba's Chinese parts of ``run`` (segmented) and each
    other character alone, in order."""
    done = 0
    for match in _JIEBA_HAN.finditer(run):
        for i in range(done, match.start()):
            yield i, run[i], False
        yield match.start(), match.group(), True
        done = match.end()
    for i in range(done, len(run)):
        yield i, run[i], False


def search_tokens(run: str) -> list[tuple[str, int, int]]:
    """``jieba.tokenize(run, mode="search")``: (word, start, end) of a run of Chinese."""
    tokens: list[tuple[str, int, int]] = []
    for start, part, segmented in _parts(run):
        if not segmented:
            tokens.append((part, start, start + 1))
        elif start:
            tokens.extend((w, start + a, start + b)
                          for w, a, b in rjieba.tokenize(part, mode="search"))
        else:
            tokens.extend(rjieba.tokenize(part, mode="search"))
    return tokens


def cut(run: str) -> list[str]:
    """``jieba.cut(run)`` (HMM on): the words of a run of Chinese, in order."""
    words: list[str] = []
    for _start, part, segmented in _parts(run):
        if segmented:
            words.extend(rjieba.cut(part))
        else:
            words.append(part)
    return words


def warm_up() -> None:
    """Load rjieba's dictionary now rather than at the first document."""
    rjieba.cut("中文")
