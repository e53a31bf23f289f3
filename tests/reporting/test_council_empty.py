"""A report with nothing to count (no trajectory started by the peildatum) is still a report."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from projections.definitions.registry import installed
from reporting.basis import Basis
from reporting.council import council_report
from reporting.html import render_html
from reporting.xlsx import write_xlsx

BASIS = Basis("trajectledger.example/log", 1, "A" * 43 + "=", "2020-01-01", None)


def test_an_empty_report_says_so_in_both_formats(tmp_path: Path) -> None:
    registry = installed()
    report = council_report([], [], registry.resolve(["six-month-rule", "ladder-step"]), BASIS)
    html = render_html(report)
    assert "<svg" not in html and "er is niets te tekenen" in html and 'lang="nl"' in html
    write_xlsx(report, tmp_path / "leeg.xlsx")
    book = load_workbook(tmp_path / "leeg.xlsx")
    payments = book["Betalingen"]
    assert [c.value for c in payments[payments.max_row]][:3] == ["totaal", None, 0]
    assert book["Toelichting"]["B2"].value == "2020-01-01"
