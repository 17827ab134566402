"""CSV downloads that spreadsheet programs open safely (every CSV export goes through here)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

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


def csv_response(
    rows: Iterable[Sequence[object]], header: Sequence[object], filename: str
) -> Response:
    """A CSV download, UTF-8 with a BOM so Excel reads Chinese right; never cached."""
    return Response(
        "\ufeff" + csv_text(rows, header),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )
