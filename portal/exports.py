"""Downloads of tables that spreadsheet programs open safely (every export goes through here).

A caller hands over a ``Table`` (column titles and rows of plain values) and names a
format; ``export_response`` picks that format's writer: CSV or Excel (``WRITERS``; a new
format is one more ``TableWriter``, with no caller changed). Every writer puts each cell
through ``safe_cell``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from flask import Response

# A cell starting with one of these is read as a formula by Excel, LibreOffice and
# Google Sheets (=HYPERLINK(...) leaks data, =cmd|... runs programs): CSV injection.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` as a spreadsheet will show it, never run it (OWASP "CSV injection").

    Text starting with = + - @, a tab or a carriage return gets a leading single quote,
    which spreadsheets read as "this is text". Numbers (int, float) pass unchanged, but a
    negative number written as a string ("-5") is prefixed too ("'-5"): the accepted
    trade-off, since telling a number from a formula such as "-1+cmd|..." is guesswork.
    ``None`` becomes an empty cell.
    """
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = str(value)
        return "'" + text if text.startswith(FORMULA_STARTS) else text
    return value


def csv_text(rows: Iterable[Sequence[object]], header: Sequence[object]) -> str:
    """The CSV text of ``header`` and ``rows``, every cell through ``safe_cell``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()


@dataclass(frozen=True)
class Table:
    """What an export holds: the column titles and the rows (read once)."""

    columns: Sequence[object]
    rows: Iterable[Sequence[object]]


class TableWriter(Protocol):
    """One download format: its media type, file extension and how a table is written."""

    mimetype: str
    extension: str

    def write(self, table: Table) -> str | bytes: ...


class CsvWriter:
    """CSV, UTF-8 with a BOM so Excel reads Chinese right."""

    mimetype = "text/csv"
    extension = "csv"

    def write(self, table: Table) -> str:
        return "\ufeff" + csv_text(table.rows, table.columns)


class XlsxWriter:
    """An Excel workbook of one sheet (openpyxl, written as a stream: rows are not held)."""

    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    extension = "xlsx"

    def write(self, table: Table) -> bytes:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append([safe_cell(cell) for cell in table.columns])
        for row in table.rows:
            sheet.append([safe_cell(cell) for cell in row])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()


WRITERS: dict[str, TableWriter] = {"csv": CsvWriter(), "xlsx": XlsxWriter()}


def export_response(table: Table, name: str, fmt: str = "csv") -> Response:
    """``table`` as a download ``<name>.<extension>`` in format ``fmt``; never cached."""
    writer = WRITERS[fmt]
    return Response(
        writer.write(table),
        mimetype=writer.mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}.{writer.extension}"',
            "Cache-Control": "private, no-store",
        },
    )
