"""Chinese and English text as the index sees it (one analysis for both backends).

- ``normalise``: NFKC (full-width → half-width), traditional → simplified, lower case;
- ``index_terms``: what a text field contributes to the index: jieba words
  (``cut_for_search``), character bigrams of every run of Chinese characters (so a query
  found verbatim in the text matches however jieba cut it), English words stemmed;
- ``query_terms``: the same analysis for a query term, so both sides meet;
- ``tracking_forms``: 2026-000123 and 2026000123 for one tracking number.
Implemented in issue 11.
"""

from __future__ import annotations


def normalise(text: str) -> str:
    raise NotImplementedError


def index_terms(text: str) -> list[str]:
    raise NotImplementedError


def query_terms(text: str) -> list[str]:
    raise NotImplementedError


def tracking_forms(number: str) -> list[str]:
    raise NotImplementedError
