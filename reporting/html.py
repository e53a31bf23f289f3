"""The council report as one self-contained HTML page (Jinja2 template ``templates/council.html.j2``).

The same tables as the workbook, plus the charts as inline SVG (``reporting.charts``): outflow per
start year under each definition, for all providers together and for each provider (the
"definition-by-year" figures, one chart each), and outflow per provider. No script, no external
stylesheet, font or image: the page opens without a network. ``lang="nl"``, every table has a
caption and headers with ``scope``, every chart a ``<title>``, a ``<desc>`` with its figures in
words and a caption stating the basis of its figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from reporting.charts import bar_chart_svg, line_chart_svg
from reporting.council import CONTRACT, COUNT, EURO, FLAG, RATE, CouncilReport, Series, Table

TITLE = "Rapportage re-integratietrajecten: uitstroom, verschillen, signaleringen en betalingen"
BY_YEAR, BY_PROVIDER = "by-year", "by-provider"  # the chart kinds, as the figures' classes


@dataclass(frozen=True)
class Cell:
    text: str
    number: bool


@dataclass(frozen=True)
class Chart:
    kind: str
    title: str
    caption: str
    svg: Markup


def render_html(report: CouncilReport) -> str:
    environment = Environment(loader=PackageLoader("reporting", "templates"), autoescape=True,
                              undefined=StrictUndefined, keep_trailing_newline=True)
    template = environment.get_template("council.html.j2")
    return template.render(title=TITLE, basis=report.basis, definitions=report.definitions, contract=CONTRACT,
                           charts=charts(report), tables=[_table(t) for t in report.tables])


def write_html(report: CouncilReport, path: Path) -> None:
    path.write_text(render_html(report), encoding="utf-8")


def charts(report: CouncilReport) -> list[Chart]:
    """The definition-by-year figures first (all providers, then each provider), then per provider."""
    if not report.by_year.labels:  # no trajectory had started by the peildatum: nothing to draw
        return []
    found = [_line(report.by_year, "Alle aanbieders samen.")]
    found += [_line(series, "") for series in report.by_provider_year.values()]
    if report.by_provider is not None and report.by_provider.labels:
        found.append(Chart(BY_PROVIDER, report.by_provider.title,
                           "Per aanbieder, alle startjaren samen; een staaf per definitie. Zonder beslist traject: 0.",
                           Markup(bar_chart_svg(report.by_provider.title, report.by_provider.labels,
                                                _no_gaps(report.by_provider.values), "uitstroom (%)"))))
    return found


def _line(series: Series, where: str) -> Chart:
    caption = (f"{where} Een lijn per definitie en een voor '{CONTRACT}': waar de lijnen uiteenlopen, hangt het "
               "oordeel af van de definitie. Een onderbreking: geen beslist traject in dat jaar.").strip()
    return Chart(BY_YEAR, series.title, caption,
                 Markup(line_chart_svg(series.title, series.labels, series.values, "uitstroom (%)")))


def _no_gaps(values: dict[str, list[float | None]]) -> dict[str, list[float]]:
    return {name: [0.0 if v is None else v for v in row] for name, row in values.items()}


def _table(table: Table) -> dict[str, Any]:
    def cells(row: list[Any]) -> list[Cell]:
        return [Cell(format_cell(c.kind, v), c.kind in (COUNT, EURO, RATE)) for c, v in zip(table.columns, row)]

    return {
        "id": "tabel-" + "-".join(table.key.lower().split()),
        "title": table.title,
        "note": table.note,
        "columns": [{"name": c.name, "number": c.kind in (COUNT, EURO, RATE)} for c in table.columns],
        "rows": [cells(row) for row in table.rows],
        "total": None if table.total is None else cells(table.total),
    }


def format_cell(kind: str, value: Any) -> str:
    """A value as the page shows it: percentages with one decimal, euros the Dutch way."""
    if value is None:
        return "–"
    if kind == RATE:
        return f"{100 * value:.1f}%".replace(".", ",")
    if kind == EURO and isinstance(value, int):
        whole, cents = divmod(value, 100)
        return f"€ {whole:,}".replace(",", ".") + f",{cents:02d}"
    if kind == FLAG:
        return "ja" if value else ""
    return str(value)
