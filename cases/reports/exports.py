"""CSV and Excel files of any report ``Table``, with the period and filters in the first rows.

A file opens with what it is (title, period, the reader's scope, filters, when it was
made), a blank row, then the table: per figure its value, the previous period's, the
change, the same period a year before and that change. Numbers stay numbers (rates as
fractions, shown as percentages in Excel); every text cell goes through
``portal.exports.safe_cell`` so no spreadsheet runs it as a formula.
"""

from __future__ import annotations

import io
from datetime import datetime

from flask import Response
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from cases.reports.tables import Row, Table
from portal.exports import CsvWriter, safe_cell
from portal.exports import Table as FileTable

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NUMBER_FORMATS = {"rate": "0.0%", "hours": "0.0", "score": "0.0", "count": "#,##0"}


def preamble(table: Table, scope: str, made_at: datetime) -> list[list[object]]:
    """The rows above the table: what, when, for whom, filtered how."""
    period = table.period
    rows: list[list[object]] = [
        [_("Report"), str(table.title)],
        [_("Period"), period.key(), period.first.isoformat(), period.last.isoformat()],
        [_("Previous period"), period.previous().key()],
        [_("Same period a year before"), period.year_before().key()],
        [_("Scope"), scope],
        [_("Rows"), table.group],
    ]
    rows += [[_("Filter: %(name)s", name=name), value] for name, value in table.filters.items()]
    rows.append([_("Made at"), made_at.isoformat(timespec="seconds")])
    if table.note:
        rows.append([_("Note"), str(table.note)])
    return rows


def header(table: Table) -> list[str]:
    titles = [_("Group")]
    keys = {column.key for column in table.columns}
    for column in table.columns:
        label = str(column.label)
        if column.key[-2:] in ("_n", "_d") and column.key[:-2] in keys:
            # "counted in" / "out of" of a rate: say which rate
            label = f"{table.column(column.key[:-2]).label}: {label}"
        titles.append(label)
        if column.kind != "text":
            titles += [
                _("%(figure)s, previous period", figure=label),
                _("%(figure)s, change", figure=label),
                _("%(figure)s, a year before", figure=label),
                _("%(figure)s, change on the year", figure=label),
            ]
    return titles


def row_values(table: Table, row: Row) -> list[object]:
    values: list[object] = [row.label]
    for column in table.columns:
        cell = row.cells.get(column.key)
        if column.kind == "text":
            values.append(cell.value if cell else None)
            continue
        if cell is None:
            values += [None] * 5
            continue
        values += [cell.value, cell.previous, cell.change, cell.year_before, cell.change_year]
    return values


def body(table: Table) -> list[list[object]]:
    rows = [row_values(table, row) for row in table.rows]
    if table.total is not None:
        rows.append(row_values(table, table.total))
    return rows


def kinds(table: Table) -> list[str]:
    """The kind of each file column (for Excel's number formats)."""
    out = ["text"]
    for column in table.columns:
        out += [column.kind] if column.kind == "text" else [column.kind] * 5
    return out


def csv_bytes(table: Table, scope: str, made_at: datetime) -> str:
    lines = [*preamble(table, scope, made_at), [], header(table), *body(table)]
    width = max(len(line) for line in lines)
    padded = [line + [None] * (width - len(line)) for line in lines]
    return CsvWriter().write(FileTable(columns=padded[0], rows=padded[1:]))


def xlsx_bytes(table: Table, scope: str, made_at: datetime) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(table.key)
    for line in preamble(table, scope, made_at):
        sheet.append([safe_cell(value) for value in line])
    sheet.append([])
    sheet.append([safe_cell(value) for value in header(table)])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    column_kinds = kinds(table)
    for line in body(table):
        sheet.append([safe_cell(value) if value is not None else None for value in line])
        for cell, kind in zip(sheet[sheet.max_row], column_kinds, strict=False):
            if kind in NUMBER_FORMATS and isinstance(cell.value, int | float):
                cell.number_format = NUMBER_FORMATS[kind]
    sheet.column_dimensions["A"].width = 28
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(key: str) -> str:
    # Excel refuses []:*?/\ and more than 31 characters in a sheet name.
    cleaned = "".join("-" if ch in "[]:*?/\\" else ch for ch in key)
    return cleaned[:31] or "report"


def file_response(table: Table, fmt: str, scope: str, made_at: datetime) -> Response:
    """``table`` as ``<key>_<period>.csv`` or ``.xlsx``; never cached."""
    if fmt == "xlsx":
        data: str | bytes = xlsx_bytes(table, scope, made_at)
        mimetype = XLSX
    else:
        data, mimetype = csv_bytes(table, scope, made_at), "text/csv"
    name = f"{_sheet_title(table.key)}_{table.period.key().replace('..', '_')}.{fmt}"
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-store",
    })

