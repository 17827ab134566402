# ruff: noqa: E501 (the macros are kept as the template had them)
"""Report tables' cells are written in Python (``table_cells``), not as Jinja macros: the
markup must be the macro's, links included, as ``url_for`` writes them."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import url_for

from cases.reports.periods import Period
from cases.reports.table_cells import CellLinks, cell, monthly_cells
from cases.reports.tables import Cell, Column, Row, Table
from cases.reports.views_format import change, figure

# The macros the cells were before (templates/reports/_table.html up to the fifth pass).
MACROS = """
{% macro then_value(table, row, column, value, args) -%}
  {%- if column.drill and value and column.kind == 'count' -%}
    <a href="{{ url_for('reports.cases', figure=column.drill, key=row.key, by=table.group, **args) }}">{{ value|report_figure(column.kind) }}</a>
  {%- else %}{{ value|report_figure(column.kind) }}{% endif -%}
{%- endmacro %}
{% macro figure_cell(table, row, column) -%}
  {% set c = row.cells.get(column.key) %}
  <td data-label="{{ column.label }}" class="figure">
  {%- if c is none %}—{% else -%}
    {%- if column.drill and c.value -%}
      <a href="{{ url_for('reports.cases', figure=column.drill, key=row.key, by=table.group, **period_args) }}">{{ c.value|report_figure(column.kind) }}</a>
    {%- else %}{{ c.value|report_figure(column.kind) }}{% endif %}
    {%- set n, d = row.cells.get(column.key ~ '_n'), row.cells.get(column.key ~ '_d') %}
    {%- if n is not none and d is not none %} <span class="figure__nd">({{ _('%(n)s of %(d)s', n=n.value|report_figure('count'), d=d.value|report_figure('count')) }})</span>{% endif %}
    {%- if column.kind != 'text' %}
    <span class="figure__then">{{ _('prev.') }} {{ then_value(table, row, column, c.previous, previous_args) }} {{ c.change|report_change(column.kind) }}</span>
    <span class="figure__then">{{ _('yr before') }} {{ then_value(table, row, column, c.year_before, year_before_args) }} {{ c.change_year|report_change(column.kind) }}</span>
    {%- endif %}
  {%- endif %}</td>
{%- endmacro %}
{{ figure_cell(table, row, column) }}"""

COLUMNS = [
    Column("received", "Received", "count", drill="received"),
    Column("backlog", "Backlog <b>", "count", drill="backlog"),
    Column("sign_median_hours", "Median", "hours", drill="signed"),
    Column("on_time_rate", "On time", "rate", drill="answered"),
    Column("response", "Response", "rate"),
    Column("composite", "Score", "score"),
    Column("district", "District", "text"),
]
ROWS = [
    Row(7, "A", {"received": Cell(1234, 0, 17), "backlog": Cell(0, 5, None),
                 "sign_median_hours": Cell(12.25, 3.5, None),
                 "on_time_rate": Cell(0.6667, 0.5, 0.75), "response": Cell(0.5, None, 1.0),
                 "response_n": Cell(1, 0, 2), "response_d": Cell(2, 0, 2),
                 "composite": Cell(85.5, 85.5, 90.0), "district": Cell("鼓楼区")}),
    Row(None, "Total", {"received": Cell(None, 3, 3), "on_time_rate": Cell(None)}),
    Row("2026-11-03", "3 Nov", {"received": Cell(4, 2, 0)}),
]
PERIODS = [Period.month(2026, 11), Period.custom(date(2026, 1, 5), date(2026, 3, 2)),
           Period.containing("week", date(2026, 11, 18))]


def squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", html).replace("> <", "><").strip()


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_the_cells_are_the_macros(database, locale):
    template = database.jinja_env.from_string(MACROS)
    with database.test_request_context("/reports", headers={"Accept-Language": locale}):
        for period in PERIODS:
            args = [period.query(), period.previous().query(), period.year_before().query()]
            links = CellLinks(*args)
            for group in ("department", "day", None):
                table = Table("t", "T", period, group, COLUMNS, ROWS)
                for row in ROWS:
                    for column in COLUMNS:
                        old = template.render(
                            table=table, row=row, column=column, period_args=args[0],
                            previous_args=args[1], year_before_args=args[2])
                        assert squeeze(str(cell(table, row, column, links))) == squeeze(old)


def test_drill_links_read_as_url_for_writes_them(database):
    with database.test_request_context("/reports"):
        for period in PERIODS:
            args = [period.query(), period.previous().query(), period.year_before().query()]
            links = CellLinks(*args)
            for figure, key, by in (("received", 7, "department"), ("backlog", None, None),
                                    ("signed", 12, "category"), ("rated", "a b&c", "staff")):
                for which in range(3):
                    assert links.href(figure, key, by, which) == url_for(
                        "reports.cases", figure=figure, key=key, by=by, **args[which])


MONTHLY_MACRO = """
{% macro cells(table, row) -%}
  {% for column in table.columns %}
    {% set c = row.cells.get(column.key) %}
    <td data-label="{{ column.label }}" class="figure" data-figure="{{ column.key }}">
      {%- if c is none %}—{% elif column.kind == 'text' %}{{ c.value if c.value is not none else '—' }}{% else -%}
      <span class="now">{{ fig(c.value, column.kind) }}</span>
      <span class="then">{{ _('prev.') }} {{ fig(c.previous, column.kind) }} {{ chg(c.change, column.kind) }} · {{ _('yr before') }} {{ fig(c.year_before, column.kind) }} {{ chg(c.change_year, column.kind) }}</span>
      {%- endif %}</td>
  {% endfor %}
{%- endmacro %}
{{ cells(table, row) }}"""


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_the_monthly_cells_are_the_macro(database, locale):
    template = database.jinja_env.from_string(MONTHLY_MACRO)
    table = Table("t", "T", PERIODS[0], "scope", COLUMNS, ROWS)
    with database.test_request_context("/reports", headers={"Accept-Language": locale}):
        for row in ROWS:
            old = template.render(table=table, row=row, fig=figure, chg=change)
            new = str(monthly_cells(table, row))
            assert squeeze(new) == squeeze(old)
            assert re.findall(r'data-figure="received"><span class="now">([^<]+)</span>', new) \
                == re.findall(r'data-figure="received"><span class="now">([^<]+)</span>', old)
