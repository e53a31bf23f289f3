"""Typed errors of the reports, each naming the field and the rule (STYLE 5).

They extend ``ledger.domain.errors.LedgerError`` so the CLI translates them in its one place.
"""

from __future__ import annotations

from ledger.domain.errors import LedgerError


class ReportError(LedgerError):
    """A report cannot be made from what it was given."""

    rule = "report"


class InvalidChart(ReportError):
    """The data handed to a chart does not fit it (lengths differ, a value is not a number)."""

    rule = "report.chart"


class UnsupportedReportFormat(ReportError):
    """The output file's suffix names no format the report can write."""

    rule = "report.format"

