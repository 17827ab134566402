"""The words of case titles and descriptions, as hot spots count them.

Segmentation is the search room's (``search.engine.text.plain_words``: NFKC, traditional →
simplified, lower case, jieba's words of each Chinese run, English words as written);
here the words that say nothing about a topic are dropped: stop words (Chinese function
words and the phrases every 12345 request uses, English stop words), single characters
and numbers. A case counts once per word however often it says it.

Counting words means reading texts, so the cost is bounded: only the cases of the period,
the newest ``MAX_WORD_CASES`` of them, the title and the first ``DESCRIPTION_CHARS`` of
the description; and each day's counts are kept per process while that day's cases stay
the same (``WordCache``), so a page mostly segments only today's new cases.
"""

from __future__ import annotations

import re
import threading
import time as clock
from collections import Counter
from collections.abc import Hashable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, case, func, literal, select
from whoosh.analysis import STOP_WORDS

from cases.models import Case
from cases.reports.periods import Period
from portal.db import db
from search.engine.text import plain_words

MAX_WORD_CASES = 20_000  # the newest cases of a period whose words are counted
CACHE_SECONDS = 3600  # how long a process keeps counts (their key changes with the cases)
DESCRIPTION_CHARS = 120  # of each description (the topic is said early)

# Function words and what nearly every request says (反映, 希望, 尽快处理...): counted,
# they would top every district's list and hide the topics.
_STOP_TEXT = """
    一个 一些 一直 一下 一样 一般 一起 万一 三个 上述 下面 不会 不能 不是 不要 不再 不到 为了
    为什么 之后 之前 也是 了解 什么 今天 他们 以上 以下 以后 以前 任何 但是 你们 使用 例如 关于
    其他 其中 具体 内容 出现 到底 半年 即使 却是 原因 去年 及时 发生 可以 可能 各种 同时 后来
    告知 咨询 因为 因此 在于 多次 多久 大家 如何 如果 如此 存在 它们 家里 对于 导致 已经 希望
    平时 并且 影响 情况 我们 或者 所以 所有 投诉 报告 提出 搞好 支持 时候 时间 是否 有关 有些
    本人 来电 次数 每天 每次 没有 然后 特别 现在 目前 相关 知道 经常 而且 联系 能够 自己 表示
    要求 认为 该户 请求 诉求 请问 谢谢 越来越 这个 这些 这样 这种 进行 还是 还有 造成 那个 那些
    部门 问题 需要 非常 有关部门 尽快 处理 解决 反映 市民 群众 严重 多年 至今 一次 两次 几次
    无法 很多 工作人员 人员 工作 方面 地方 附近 当地 本市 市里 政府 领导 帮助 帮忙 麻烦 给予
"""
CHINESE_STOP_WORDS = frozenset(_STOP_TEXT.split())
NUMBER_RE = re.compile(r"^[\d.,:/%-]+$|^[一二三四五六七八九十百千万两零几]+[个次天年月日号点]?$")


def topic_words(text: str) -> set[str]:
    """The words of ``text`` that may name a topic (each once)."""
    return {
        word
        for word in plain_words(text)
        if len(word) > 1
        and word not in CHINESE_STOP_WORDS
        and word not in STOP_WORDS
        and not NUMBER_RE.match(word)
    }


def count_words(rows: Iterable[tuple[int, str, str | None]]) -> dict[int, Counter[str]]:
    """``{district_id: Counter(word → cases)}`` of ``(district_id, title, description)``."""
    counts: dict[int, Counter[str]] = {}
    for district_id, title, description in rows:
        words = topic_words(f"{title or ''}\n{(description or '')[:DESCRIPTION_CHARS]}")
        counts.setdefault(district_id, Counter()).update(words)
    return counts


def period_word_counts(period: Period, scope: list[ColumnElement], scope_key: str,
                       max_cases: int = MAX_WORD_CASES) -> dict[int, Counter[str]]:
    """``{district_id: Counter(word → cases)}`` of the period's cases within ``scope``.

    Counted day by day, newest first, until ``max_cases`` cases are read (the day that
    reaches it is read whole). Each day's counts are cached under a fingerprint of its
    cases (how many, the newest id, the latest change): a filed or edited case makes its
    day counted again, and only that day, so a page mostly reads today's cases.
    """
    days = _days(period, scope, max_cases)
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    base = (current_app.config["SQLALCHEMY_DATABASE_URI"], scope_key)
    counts: dict[int, Counter[str]] = {}
    missing: dict[date, tuple] = {}
    for day, fingerprint in days.items():
        found = cache.get((*base, day, fingerprint))
        if found is None:
            missing[day] = fingerprint
        else:
            _add(counts, found)
    if missing:
        first, last = min(missing), max(missing)
        rows = db.session.execute(
            select(Case.created_at, Case.district_id, Case.title,
                   func.substr(Case.description, 1, DESCRIPTION_CHARS))
            .where(*scope, Case.created_at >= _start(first, zone),
                   Case.created_at < _start(last + timedelta(days=1), zone))
        )
        by_day: dict[date, list] = {day: [] for day in missing}
        for created_at, *text in rows:
            day = created_at.astimezone(zone).date()
            if day in by_day:
                by_day[day].append(text)
        for day, day_rows in by_day.items():
            found = count_words(day_rows)
            cache.put((*base, day, missing[day]), found, CACHE_SECONDS)
            _add(counts, found)
    return counts


def _days(period: Period, scope: list[ColumnElement], max_cases: int) -> dict[date, tuple]:
    """The days to read, newest first, with each one's fingerprint (one grouped query)."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    start, end = period.bounds()
    # Where the newest ``max_cases`` begin (the index on created_at walks there).
    boundary = db.session.scalar(
        select(Case.created_at).where(*scope, Case.created_at >= start, Case.created_at < end)
        .order_by(Case.created_at.desc()).offset(max_cases - 1).limit(1)
    )
    first = max(period.first, boundary.astimezone(zone).date()) if boundary else period.first
    days = [first + timedelta(days=i) for i in range((period.last - first).days + 1)]
    bounds = [_start(day + timedelta(days=1), zone) for day in days]
    bucket = _day_index(bounds, 0, len(bounds))
    rows = db.session.execute(
        select(bucket, func.count(), func.max(Case.id), func.max(Case.updated_at))
        .where(*scope, Case.created_at >= _start(first, zone), Case.created_at < end)
        .group_by(bucket)
    )
    found = {days[i]: (n, newest, str(changed)) for i, n, newest, changed in rows if i >= 0}
    return dict(sorted(found.items(), reverse=True))


def _day_index(bounds: list[datetime], low: int, high: int) -> ColumnElement:
    """The index of the first bound above ``created_at`` among ``bounds[low:high]`` (-1
    past the last), as a balanced tree of CASEs: ~5 comparisons a case for a month rather
    than one per day before its own (a third of the fingerprints' time at a million)."""
    if low == high:
        return literal(-1 if high == len(bounds) else high)
    middle = (low + high) // 2
    return case((Case.created_at < bounds[middle], _day_index(bounds, low, middle)),
                else_=_day_index(bounds, middle + 1, high))


def _start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, zone).astimezone(UTC)


def _add(total: dict[int, Counter[str]], part: dict[int, Counter[str]]) -> None:
    for district_id, words in part.items():
        total.setdefault(district_id, Counter()).update(words)


class WordCache:
    """Word counts per (database, reader's scope, day, fingerprint of the day's cases),
    kept per process for ``CACHE_SECONDS``; the oldest entry goes when it is full."""

    def __init__(self, size: int = 200) -> None:
        self.size = size
        self._items: dict[Hashable, tuple[float, dict[int, Counter[str]]]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> dict[int, Counter[str]] | None:
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] < clock.monotonic():
                self._items.pop(key, None)
                return None
            return found[1]

    def put(self, key: Hashable, value: dict[int, Counter[str]], seconds: float) -> None:
        with self._lock:
            if len(self._items) >= self.size:  # the oldest entry goes
                self._items.pop(next(iter(self._items)))
            self._items[key] = (clock.monotonic() + seconds, value)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


cache = WordCache()
