"""Reading an import file: CSV (UTF-8 with or without BOM, or GB18030) or Excel (.xlsx).

``read_table`` gives the header names (lower-cased, trimmed) and the data rows as lists of
cells with their line numbers (the header is line 1). A file that cannot be read, or lacks
a required column, raises ``ImportFileError`` with a message in the reader's language.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _

from portal.errors import DomainError

XLSX_MAGIC = b"PK\x03\x04"
KINDS = {".csv": "csv", ".xlsx": "xlsx"}


class ImportFileError(DomainError):
    """The file as a whole is unusable (type, encoding, headers)."""


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, dict[str, object]]]  # (line number, {header: cell})


def file_kind(name: str, data: bytes) -> str:
    """"csv" or "xlsx", from the name and the first bytes; else ``ImportFileError``."""
    lowered = (name or "").lower()
    if lowered.endswith(".xlsx"):
        if not data.startswith(XLSX_MAGIC):
            raise ImportFileError(_("This file is not an Excel workbook (.xlsx)."), "type")
        return "xlsx"
    if lowered.endswith(".csv") or lowered.endswith(".txt"):
        if data.startswith(XLSX_MAGIC) or b"\x00" in data[:4096]:
            raise ImportFileError(_("This file is not a CSV text file."), "type")
        return "csv"
    raise ImportFileError(_("Upload a CSV file (.csv) or an Excel workbook (.xlsx)."), "type")


def decode_text(data: bytes) -> str:
    """UTF-8 (a BOM is dropped), else GB18030; else ``ImportFileError``."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFileError(
            _("The file's characters could not be read: save it as UTF-8 or GB18030.")
        ) from None


def _csv_rows(data: bytes) -> Iterator[list[object]]:
    text = decode_text(data)
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        raise ImportFileError(_("The CSV file is malformed: %(error)s", error=str(exc))) from None


def _xlsx_rows(data: bytes) -> Iterator[list[object]]:
    from openpyxl import load_workbook  # only when a workbook comes

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken zip or sheet
        raise ImportFileError(_("This file is not an Excel workbook (.xlsx)."), "type") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        book.close()


def _cell(value: object) -> object:
    """A cell as text, keeping Excel's dates and times as they are."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(name: str, data: bytes, required: Sequence[str]) -> Table:
    """The file's header and rows (blank rows dropped); checks the required headers."""
    kind = file_kind(name, data)
    source = _xlsx_rows(data) if kind == "xlsx" else _csv_rows(data)
    headers: list[str] | None = None
    rows: list[tuple[int, dict[str, object]]] = []
    for line, raw in enumerate(source, start=1):
        if headers is None:
            headers = [str(h or "").strip().lstrip("\ufeff").lower() for h in raw]
            missing = [h for h in required if h not in headers]
            if missing:
                raise ImportFileError(
                    _("Required columns are missing: %(columns)s.", columns=", ".join(missing))
                )
            continue
        cells = [_cell(v) for v in raw]
        if not any(c != "" for c in cells):
            continue
        rows.append((line, {h: (cells[i] if i < len(cells) else "")
                            for i, h in enumerate(headers) if h}))
    if headers is None:
        raise ImportFileError(_("The file is empty."))
    return Table(headers, rows)
