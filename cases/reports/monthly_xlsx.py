"""The monthly report as an Excel workbook: one sheet per part, named in Chinese.

The centre publishes its report in Chinese, so the workbook is written in Chinese whatever
the reader's language (``force_locale``); its sheets are 总体情况, 热点分析, 办理情况 and
考核排名, and the first sheet opens with ``受理量`` and the month's number of cases. Each
table is written as the reports' exports write one (``exports.header`` and ``body``), so
the numbers are the page's numbers.
"""

from __future__ import annotations

import io
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from cases.reports.exports import NUMBER_FORMATS, body, header, kinds
from cases.reports.monthly import RECEIVED_LABEL_ZH, MonthlyReport
from cases.reports.tables import Table
from portal.exports import safe_cell

BOLD = Font(bold=True)


def _append(sheet: Worksheet, values: list, bold: bool = False) -> None:
    sheet.append([safe_cell(v) if v is not None else None for v in values])
    if bold:
        for cell in sheet[sheet.max_row]:
            cell.font = BOLD


def _table(sheet: Worksheet, table: Table) -> None:
    sheet.append([])
    _append(sheet, [str(table.title)], bold=True)
    _append(sheet, header(table), bold=True)
    column_kinds = kinds(table)
    for line in body(table):
        _append(sheet, line)
        for cell, kind in zip(sheet[sheet.max_row], column_kinds, strict=False):
            if kind in NUMBER_FORMATS and isinstance(cell.value, int | float):
                cell.number_format = NUMBER_FORMATS[kind]
    if table.note:
        _append(sheet, [str(table.note)])


def monthly_workbook(report: MonthlyReport, scope: str, made_at: datetime) -> bytes:
    """The workbook's bytes (four sheets, in the order of the page)."""
    with force_locale("zh_CN"):
        workbook = Workbook()
        workbook.remove(workbook.active)
        for key, sheet_name, heading, tables in report.sheets():
            sheet = workbook.create_sheet(sheet_name)
            sheet.column_dimensions["A"].width = 30
            if key == "overview":
                received = report.received
                average = report.parts["overview"][0].rows[0].cells["daily_average"]
                _append(sheet, [RECEIVED_LABEL_ZH, received.value])
                _append(sheet, ["日均受理量", average.value])
                _append(sheet, [_("Report"), _("Monthly report"), report.period.key()])
                _append(sheet, [_("Scope"), scope])
                _append(sheet, [_("Made at"), made_at.isoformat(timespec="seconds")])
            else:
                _append(sheet, [str(heading), report.period.key()], bold=True)
            for table in tables:
                _table(sheet, table)
            if key == "ranking":
                for title, rows in ((_("Red list (top five)"), report.ranking.red_list),
                                    (_("Black list (bottom five)"), report.ranking.black_list)):
                    sheet.append([])
                    _append(sheet, [title], bold=True)
                    for row in rows:
                        _append(sheet, [row.label])
        buffer = io.BytesIO()
        workbook.save(buffer)
    return buffer.getvalue()
