"""What the intake model reads of a request: its words (jieba) and its characters.

Pure functions over strings (no database, no Flask), so the bench and the trained model
(pickled with references to these functions) use exactly the same analysis.

- ``request_text``: title and description as one text, the title twice (it says most);
- ``words``: jieba words of the normalised text, without punctuation, digits and the
  filler words every request holds (希望, 反映, 部门 ...);
- ``characters``: the Chinese characters (and English words) in order, for character
  n-grams that still match where jieba cut a rare name differently;
- ``catalogue_documents``: what the catalogue itself says of a category (its names,
  keywords, description and its parents' names) as short pseudo-requests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import jieba

from search.engine.text import normalise, warm_up

MAX_DESCRIPTION = 1500  # characters of the description read (the start says what it is)
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_KEEP = re.compile(rf"[{_HAN}]+|[a-z]+")
_PUNCTUATION = re.compile(r"[\W_]+")
# Words of every request, whatever it is about: they only add noise.
_STOP = """
的 了 是 在 我 我们 你们 他们 您 有 和 与 及 或 也 都 就 还 又 被 把 对 从 到 向 给 让 使 为 为了
这 那 这个 那个 这些 那些 这样 什么 怎么 如何 是否 能否 可以 能 会 要 请 请问 希望 恳请 建议 反映
问题 情况 相关 有关 部门 政府 领导 尽快 解决 处理 一下 一些 一直 已经 没有 不 没 很 非常 特别 严重
现在 目前 今年 去年 多次 再次 时候 时间 一个 一 二 三 个 年 月 日 号 等 啊 吗 呢 吧 呀 哦 及时 谢谢
感谢 你好 您好 尊敬 市长 书记 领导们 关于 由于 因为 所以 但是 可是 而且 并且 如果 虽然 然而 以及
其 之 而 且 则 该 此 其他 其它 上 下 中 里 后 前 时 说 看 去 来 做 想 知道 进行 存在 导致 造成
"""
STOP_WORDS = frozenset(_STOP.split())


@dataclass(frozen=True)
class CatalogueEntry:
    """What the catalogue says of one label: its names from the top, keywords, text."""

    label: object  # what the model predicts for it (a category id, a path, a name)
    names: tuple[str, ...]  # from the top of the tree down to this category
    keywords: tuple[str, ...] = ()
    description: str = ""


def request_text(title: str, description: str = "") -> str:
    """The text the model reads: the title twice, then the start of the description."""
    title = (title or "").strip()
    description = (description or "").strip()[:MAX_DESCRIPTION]
    return f"{title}\n{title}\n{description}".strip()


def words(text: str) -> list[str]:
    """jieba words of a normalised text (an analyzer for scikit-learn's vectorizers)."""
    warm_up()
    found = []
    for run in _KEEP.findall(normalise(text)):
        if run.isascii():
            if len(run) > 1:
                found.append(run)
            continue
        found.extend(w for w in jieba.lcut(run) if w not in STOP_WORDS)
    return found


def plain_words(text: str) -> list[str]:
    """jieba's words as they come (punctuation and spaces dropped): the baseline's view."""
    warm_up()
    return [w for w in jieba.lcut(text) if w.strip() and not _PUNCTUATION.fullmatch(w)]


def characters(text: str) -> str:
    """The text's Chinese runs and English words, separated by one space."""
    return " ".join(_KEEP.findall(normalise(text)))


def split_keywords(value: str | None) -> tuple[str, ...]:
    """``"噪音, 扰民，施工"`` → ``("噪音", "扰民", "施工")``."""
    parts = (value or "").replace("，", ",").replace("、", ",").replace(";", ",").split(",")
    return tuple(p.strip() for p in parts if p.strip())


def catalogue_documents(entries: Iterable[CatalogueEntry]) -> tuple[list[str], list[object]]:
    """Pseudo-requests from the catalogue's words: per label, its own name with its
    parents' names, each keyword in that setting, and the description. Labels without
    any case yet are suggested from these alone."""
    texts: list[str] = []
    labels: list[object] = []
    for entry in entries:
        path = " ".join(entry.names)
        own = entry.names[-1] if entry.names else ""
        texts.append(f"{own} {own} {path}")
        labels.append(entry.label)
        if entry.keywords:
            texts.append(f"{own} {' '.join(entry.keywords)}")
            labels.append(entry.label)
        if entry.description.strip():
            texts.append(f"{own} {entry.description.strip()}")
            labels.append(entry.label)
    return texts, labels
