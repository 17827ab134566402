"""Charts drawn on the server as inline SVG: bars per group and lines over time.

Each chart reads a ``Table`` (the same one the page shows beside it), so a chart never
says anything the table does not. Every SVG carries ``role="img"``, a ``<title>`` and a
``<desc>`` (a sentence naming the largest and smallest values, read by screen readers)
tied by ``aria-labelledby``; no script, no external asset. Colours are at least 4.5:1
against white, and each series also differs by shape (dash, marker) and by its printed
value, so colour is never the only carrier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from babel import numbers
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from cases.reports.tables import Row, Table

# Blue 8.2:1, red 7.9:1, green 6.5:1 against white (WCAG 1.4.11 asks 3:1 of graphics).
COLOURS = ("#0b4f9c", "#9b1c1c", "#1d6b35")
DASHES = ("", "6 3", "2 3")
INK = "#1b1f24"
GRID = "#767676"  # 4.5:1: the axis and its figures read as text

LABEL_WIDTH = 170
BAR_HEIGHT = 14
CHART_WIDTH = 640


@dataclass(frozen=True)
class Series:
    """One column of the table drawn as bars or a line."""

    key: str
    label: str
    values: list[float | None]


def _series(table: Table, rows: Sequence[Row], keys: Sequence[str]) -> list[Series]:
    return [
        Series(key, str(table.column(key).label),
               [_number(row.cells[key].value) if key in row.cells else None for row in rows])
        for key in keys
    ]


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def reads(value: float | None, kind: str) -> str:
    """How a value is printed on a chart (and in its description)."""
    if value is None:
        return "—"
    if kind == "rate":
        return number(value, "#,##0.0%", percent=True)
    if kind == "count":
        return number(value, "#,##0")
    return number(value, "#,##0.0")


def number(value: float, pattern: str, percent: bool = False) -> str:
    """Babel's ``format_decimal`` (``format_percent``) in the reader's locale, remembered:
    a report page prints thousands of numbers, mostly the same few, and Babel parses the
    pattern anew each time (a third of a large table's rendering)."""
    return _number_text(str(get_locale() or "en"), pattern, value, percent)


@lru_cache(maxsize=8192)
def _number_text(locale: str, pattern: str, value: float, percent: bool) -> str:
    write = numbers.format_percent if percent else numbers.format_decimal
    return write(value, pattern, locale=locale)


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>',
    ]


def _describe(series: Sequence[Series], labels: Sequence[str], kind: str) -> str:
    """One sentence per series: its highest and lowest value and where they are."""
    sentences = []
    for s in series:
        points = [(v, label) for v, label in zip(s.values, labels, strict=False) if v is not None]
        if not points:
            sentences.append(_("%(series)s: no figures.", series=s.label))
            continue
        high, low = max(points, key=lambda p: p[0]), min(points, key=lambda p: p[0])
        sentences.append(_(
            "%(series)s: highest %(high)s (%(high_at)s), lowest %(low)s (%(low_at)s).",
            series=s.label, high=reads(high[0], kind), high_at=high[1],
            low=reads(low[0], kind), low_at=low[1],
        ))
    return " ".join(sentences)


def _legend(series: Sequence[Series], y: int, line: bool) -> list[str]:
    # From the left edge: the entries fit the chart's width (a CJK character is ~12 px).
    parts, x = [], 8
    for i, s in enumerate(series):
        colour, dash = COLOURS[i % len(COLOURS)], DASHES[i % len(DASHES)]
        if line:
            parts.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 24}" y2="{y - 4}" '
                         f'stroke="{colour}" stroke-width="2.5" stroke-dasharray="{dash}"/>')
        else:
            parts.append(f'<rect x="{x}" y="{y - 11}" width="14" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 30}" y="{y}" font-size="12" fill="{INK}">'
                     f'{escape(s.label)}</text>')
        x += 30 + sum(12 if ord(ch) > 0x2E80 else 7 for ch in s.label) + 24
    return parts


def bar_chart(table: Table, keys: Sequence[str], chart_id: str,
              title: str | None = None) -> Markup:
    """Horizontal bars: a group of bars per row of ``table``, one bar per column in
    ``keys`` (all of one kind), each bar ending in its printed value."""
    rows = list(table.rows)
    kind = table.column(keys[0]).kind
    series = _series(table, rows, keys)
    labels = [row.label for row in rows]
    top = max([v for s in series for v in s.values if v is not None] + [0.0])
    scale_max = 1.0 if kind == "rate" else (top or 1.0)
    plot = CHART_WIDTH - LABEL_WIDTH - 70
    group = BAR_HEIGHT * len(series) + 10
    height = 40 + group * max(len(rows), 1) + 10
    title = title or str(table.title)
    parts = _open(chart_id, CHART_WIDTH, height, title,
                  _describe(series, labels, kind) if rows else _("No figures in this period."))
    parts += _legend(series, 16, line=False)
    parts.append(f'<line x1="{LABEL_WIDTH}" y1="28" x2="{LABEL_WIDTH}" y2="{height - 6}" '
                 f'stroke="{GRID}"/>')
    for r, label in enumerate(labels):
        y0 = 32 + r * group
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y0 + group / 2}" font-size="12" '
                     f'text-anchor="end" fill="{INK}">{escape(_clip(label))}</text>')
        for i, s in enumerate(series):
            value = s.values[r]
            width = 0 if value is None else max(plot * value / scale_max, 0)
            y = y0 + i * BAR_HEIGHT
            parts.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" '
                         f'height="{BAR_HEIGHT - 2}" fill="{COLOURS[i % len(COLOURS)]}"/>')
            parts.append(f'<text x="{LABEL_WIDTH + width + 4:.1f}" y="{y + BAR_HEIGHT - 3}" '
                         f'font-size="11" fill="{INK}">{escape(reads(value, kind))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text escaped, every number ours)


def line_chart(table: Table, keys: Sequence[str], chart_id: str,
               title: str | None = None) -> Markup:
    """Lines over time: the rows of ``table`` are the points (days, months) in order, one
    line per column in ``keys``, each point a marker; the axis shows 0 and the top."""
    rows = list(table.rows)
    kind = table.column(keys[0]).kind
    series = _series(table, rows, keys)
    labels = [row.label for row in rows]
    top = max([v for s in series for v in s.values if v is not None] + [0.0]) or 1.0
    left, right, upper, lower = 50, CHART_WIDTH - 20, 30, 200
    height = lower + 40
    title = title or str(table.title)
    parts = _open(chart_id, CHART_WIDTH, height, title,
                  _describe(series, labels, kind) if rows else _("No figures in this period."))
    parts += _legend(series, 16, line=True)
    parts.append(f'<line x1="{left}" y1="{lower}" x2="{right}" y2="{lower}" stroke="{GRID}"/>')
    parts.append(f'<line x1="{left}" y1="{upper}" x2="{left}" y2="{lower}" stroke="{GRID}"/>')
    parts.append(f'<text x="{left - 6}" y="{lower + 4}" font-size="11" text-anchor="end" '
                 f'fill="{INK}">0</text>')
    parts.append(f'<text x="{left - 6}" y="{upper + 4}" font-size="11" text-anchor="end" '
                 f'fill="{INK}">{escape(reads(top, kind))}</text>')
    step = (right - left) / max(len(rows) - 1, 1)

    def x_at(i: int) -> float:
        return left + i * step if len(rows) > 1 else (left + right) / 2

    every = max(len(rows) // 8, 1)  # at most ~8 labels on the axis
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            parts.append(f'<text x="{x_at(i):.1f}" y="{lower + 16}" font-size="11" '
                         f'text-anchor="middle" fill="{INK}">{escape(_clip(label, 10))}</text>')
    for n, s in enumerate(series):
        colour, dash = COLOURS[n % len(COLOURS)], DASHES[n % len(DASHES)]
        points = [(x_at(i), lower - (lower - upper) * v / top)
                  for i, v in enumerate(s.values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                         f'stroke-width="2" stroke-dasharray="{dash}"/>')
        for x, y in points:
            if n % 2:
                parts.append(f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" '
                             f'fill="{colour}"/>')
            else:
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text escaped, every number ours)


def _clip(text: str, length: int = 14) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
