"""Report tables' cells written in Python (``templates/reports/_table.html`` asks
``report_cell`` for each, ``monthly.html`` ``report_monthly_cells`` for each row): the
by-category table has ~60 rows × 14 figures, and as Jinja macros the cells were a third of
the page's CPU time (a macro call, three links, eight filters and two translations each).
The markup is the macros', which ``tests/test_report_links.py`` holds it to.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus, urlencode

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from cases.reports.tables import Column, Row, Table
from cases.reports.views_format import change, figure


class CellLinks:
    """What every cell of one table shares: the list's address, the three periods' query
    strings and the two words before the earlier values (found once per table)."""

    def __init__(self, *period_args: dict[str, str]) -> None:
        self.base = url_for("reports.cases")
        self.suffixes = [urlencode(list(args.items())) for args in period_args]
        self.previous_word = escape(_("prev."))
        self.year_word = escape(_("yr before"))

    def href(self, drill: str, key: Any, group: str | None, which: int) -> str:
        """As ``url_for('reports.cases', figure=drill, key=key, by=group, **args)``."""
        pairs = [f"figure={quote_plus(drill)}"]
        if key is not None:
            pairs.append(f"key={quote_plus(str(key))}")
        if group is not None:
            pairs.append(f"by={quote_plus(group)}")
        suffix = self.suffixes[which]
        return f"{self.base}?{'&'.join(pairs)}{'&' + suffix if suffix else ''}"


def _linked(links: CellLinks, table: Table, row: Row, column: Column, value: Any,
            which: int) -> str:
    text = escape(figure(value, column.kind))
    if column.drill and value and (which == 0 or column.kind == "count"):
        href = escape(links.href(column.drill, row.key, table.group, which))
        return f'<a href="{href}">{text}</a>'
    return str(text)


def cell(table: Table, row: Row, column: Column, links: CellLinks) -> Markup:
    """One ``<td>``: the value (linked to its cases), n of d for a rate, then the previous
    period's and the year before's values with the changes."""
    c = row.cells.get(column.key)
    head = f'<td data-label="{escape(column.label)}" class="figure">'
    if c is None:
        return Markup(f"{head}—</td>")  # noqa: S704 (escaped above)
    parts = [head, _linked(links, table, row, column, c.value, 0)]
    n, d = row.cells.get(column.key + "_n"), row.cells.get(column.key + "_d")
    if n is not None and d is not None:
        nd = escape(_("%(n)s of %(d)s", n=figure(n.value, "count"), d=figure(d.value, "count")))
        parts.append(f' <span class="figure__nd">({nd})</span>')
    if column.kind != "text":
        parts.append(f'\n    <span class="figure__then">{links.previous_word} '
                     f"{_linked(links, table, row, column, c.previous, 1)} "
                     f"{change(c.change, column.kind)}</span>")
        parts.append(f'\n    <span class="figure__then">{links.year_word} '
                     f"{_linked(links, table, row, column, c.year_before, 2)} "
                     f"{change(c.change_year, column.kind)}</span>")
    parts.append("</td>")
    return Markup("".join(parts))  # noqa: S704 (every value escaped above)


def monthly_cells(table: Table, row: Row) -> Markup:
    """A row's ``<td>``s on the monthly report's page: each figure now, then the previous
    month's and the year before's with the changes (no links: the page prints)."""
    previous_word, year_word = escape(_("prev.")), escape(_("yr before"))
    out = []
    for column in table.columns:
        c = row.cells.get(column.key)
        head = (f'<td data-label="{escape(column.label)}" class="figure" '
                f'data-figure="{escape(column.key)}">')
        kind = column.kind
        if c is None:
            body = "—"
        elif kind == "text":
            body = str(escape(c.value if c.value is not None else "—"))
        else:
            body = (f'<span class="now">{escape(figure(c.value, kind))}</span>\n      '
                    f'<span class="then">{previous_word} {escape(figure(c.previous, kind))} '
                    f"{change(c.change, kind)} · {year_word} "
                    f"{escape(figure(c.year_before, kind))} {change(c.change_year, kind)}"
                    "</span>")
        out.append(f"\n    {head}{body}</td>")
    return Markup("".join(out))  # noqa: S704 (every value escaped above)
