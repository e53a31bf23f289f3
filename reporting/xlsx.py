"""The council report as an Excel workbook (openpyxl): a sheet "Toelichting", then one sheet per table.

Every sheet opens with its title and the basis of its figures (peildatum, as-known-at, the
checkpoint's size and root, what the denominator counts), then a blank row, the header row (bold,
frozen, filtered) and the rows. A table's total comes after one blank row, in bold, so a sum over
the rows never counts it twice. Counts are integers, outflow a fraction shown as a percentage
(empty when nothing is decided), amounts euros with two decimals, flags TRUE/FALSE.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from reporting.council import COUNT, EURO, RATE, CouncilReport, Table

EURO_FORMAT = '"€" #,##0.00'
RATE_FORMAT = "0.0%"
BOLD = Font(bold=True)
NOTE = "toelichting"  # the label of a table's note, one blank row above its header row


def write_xlsx(report: CouncilReport, path: Path) -> None:
    book = Workbook()
    intro = book.active
    if not isinstance(intro, Worksheet):  # a new Workbook always has one worksheet
        raise TypeError("openpyxl made no worksheet")
    intro.title = "Toelichting"
    _introduction(intro, report)
    for table in report.tables:
        _table(book.create_sheet(table.key), table, report)
    book.save(path)


def header_row(sheet: Worksheet) -> int:
    """The row number of a table sheet's header row (for readers of the workbook, and the tests)."""
    for number, row in enumerate(sheet.iter_rows(max_col=1, values_only=True), start=1):
        if row[0] == NOTE:
            return number + 2
    raise ValueError(f"sheet {sheet.title!r} has no header row")


def _basis(sheet: Worksheet, title: str, report: CouncilReport) -> None:
    sheet.append([title])
    sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True, size=13)
    for label, value in report.basis.lines():
        sheet.append([label, value])
    sheet.append([])


def _introduction(sheet: Worksheet, report: CouncilReport) -> None:
    _basis(sheet, "Rapportage uitstroom, verschillen, signaleringen en betalingen", report)
    sheet.append(["definitie", "versie", "betekenis"])
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD
    for definition in report.definitions:
        sheet.append([definition.name, definition.version, definition.summary])
    sheet.append([])
    sheet.append(["tabbladen"])
    sheet.cell(row=sheet.max_row, column=1).font = BOLD
    for table in report.tables:
        sheet.append([table.key, table.note])
    sheet.column_dimensions["A"].width = 32
    sheet.column_dimensions["B"].width = 60
    for row in sheet.iter_rows(min_col=2, max_col=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _table(sheet: Worksheet, table: Table, report: CouncilReport) -> None:
    _basis(sheet, table.title, report)
    sheet.append([NOTE, table.note])
    sheet.append([])
    sheet.append([c.name for c in table.columns])
    header = sheet.max_row
    for cell in sheet[header]:
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in table.rows:
        _append(sheet, table, row)
    last = sheet.max_row
    sheet.freeze_panes = f"A{header + 1}"
    sheet.auto_filter.ref = f"A{header}:{get_column_letter(len(table.columns))}{max(last, header)}"
    if table.total is not None:
        sheet.append([])
        _append(sheet, table, table.total)
        for cell in sheet[sheet.max_row]:
            cell.font = BOLD
    for number, column in enumerate(table.columns, start=1):
        width = max([len(column.name) * 0.6, 10.0] + [len(str(r[number - 1])) + 2.0 for r in table.rows[:200]])
        sheet.column_dimensions[get_column_letter(number)].width = min(width, 60.0)


def _append(sheet: Worksheet, table: Table, row: list[Any]) -> None:
    sheet.append([_value(c.kind, v) for c, v in zip(table.columns, row)])
    for column, cell in zip(table.columns, sheet[sheet.max_row]):
        if column.kind == EURO:
            cell.number_format = EURO_FORMAT
        elif column.kind == RATE:
            cell.number_format = RATE_FORMAT
        elif column.kind == COUNT:
            cell.number_format = "0"


def _value(kind: str, value: Any) -> Any:
    if kind == EURO and isinstance(value, int):
        return Decimal(value) / 100  # cents to euros, exactly
    return value
