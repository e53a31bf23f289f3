"""The pages' figures from the sources' plain data: each chart with its numbers as a table and
as CSV (WCAG: the table beside the chart carries the same numbers). Pure: data and a gettext
callable in, tables and SVG markup out (charts by ``reporting.charts``).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from reporting.charts import bar_chart_svg, line_chart_svg

Gettext = Callable[[str], str]
ALL = "(all)"


@dataclass(frozen=True)
class Cell:
    text: str
    href: str | None = None
    numeric: bool = False


@dataclass(frozen=True)
class Table:
    key: str  # also the CSV's file name
    caption: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.headers)
        writer.writerows([cell.text for cell in row] for row in self.rows)
        return out.getvalue()


@dataclass(frozen=True)
class Figure:
    table: Table
    svg: str | None  # None when there is nothing to draw (the table says so)


def percent(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


def _rate_text(rate: float | None) -> str:
    value = percent(rate)
    return "-" if value is None else f"{value:.1f}"


def euros(cents: int) -> str:
    """Cents as euros with two decimals, Dutch style (1.234,50)."""
    whole, rest = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", ".")
    return f"{'-' if cents < 0 else ''}{grouped},{rest:02d}"


def _outcomes(row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["definition"]: o for o in row["outcomes"]}


def outflow_by_year(rates: dict[str, Any], _: Gettext) -> Figure:
    """Outflow (%) per start year, one line per definition and one "volgens contract" (each
    trajectory judged by the definition its own contract named): a definition changed
    mid-stream shows. Trajectories whose contract names a definition not installed get a
    column of their own, where there are any."""
    names = [d["name"] for d in rates["definitions"]]
    rows = [r for r in rates["items"] if r["group"] != ALL]
    years = [str(r["group"]) for r in rows]
    contract = _("volgens contract")
    unjudged = any(r["by_contract"]["unjudged"] for r in rates["items"])
    table = Table("uitstroom-per-jaar", _("Uitstroom per startjaar (%) onder elke definitie"),
                  [_("startjaar"), _("trajecten")] + [f"{n} (%)" for n in names] + [f"{contract} (%)"]
                  + [f"{n} {_('g/n/p')}" for n in names] + [f"{contract} {_('g/n/p')}"]
                  + ([_("contract met onbekende definitie")] if unjudged else []))
    for row in rows:
        found, own = _outcomes(row), row["by_contract"]
        table.rows.append([Cell(str(row["group"])), Cell(str(row["trajectories"]), numeric=True)]
                          + [Cell(_rate_text(found[n]["rate"]), numeric=True) for n in names]
                          + [Cell(_rate_text(own["rate"]), numeric=True)]
                          + [Cell(_tally(found[n])) for n in names] + [Cell(_tally(own))]
                          + ([Cell(str(own["unjudged"]), numeric=True)] if unjudged else []))
    if not years:
        return Figure(table, None)
    series = {n: [percent(_outcomes(r)[n]["rate"]) for r in rows] for n in names}
    series[contract] = [percent(r["by_contract"]["rate"]) for r in rows]
    return Figure(table, line_chart_svg(table.caption, years, series, _("uitstroom (%)")))


def _tally(outcome: dict[str, Any]) -> str:
    return f"{outcome['success']}/{outcome['failure']}/{outcome['pending']}"


def outflow_by_provider(rates: dict[str, Any], _: Gettext) -> Figure:
    names = [d["name"] for d in rates["definitions"]]
    rows = [r for r in rates["items"] if r["group"] != ALL]
    table = Table("uitstroom-per-aanbieder", _("Uitstroom per aanbieder (%)"),
                  [_("aanbieder"), _("trajecten")] + [f"{n} (%)" for n in names])
    for row in rows:
        found = _outcomes(row)
        table.rows.append([Cell(str(row["group"])), Cell(str(row["trajectories"]), numeric=True)]
                          + [Cell(_rate_text(found[n]["rate"]), numeric=True) for n in names])
    if not rows:
        return Figure(table, None)
    values = {n: [percent(_outcomes(r)[n]["rate"]) or 0.0 for r in rows] for n in names}
    return Figure(table, bar_chart_svg(table.caption, [str(r["group"]) for r in rows], values, _("uitstroom (%)")))


def outcome_counts(rates: dict[str, Any], _: Gettext) -> Table:
    """Success, failure and pending over all trajectories, per definition."""
    table = Table("aantallen", _("Aantallen per uitkomst"),
                  [_("definitie"), _("geslaagd"), _("niet geslaagd"), _("pending"), _("uitstroom (%)")])
    total = next((r for r in rates["items"] if r["group"] == ALL), None)
    for outcome in (total or {"outcomes": []})["outcomes"]:
        table.rows.append([Cell(outcome["definition"])] + [Cell(str(outcome[k]), numeric=True)
                                                            for k in ("success", "failure", "pending")]
                          + [Cell(_rate_text(outcome["rate"]), numeric=True)])
    return table


def payments_figure(found: dict[str, Any], _: Gettext) -> Figure:
    """Owed per provider and start year, in euros: under the contracts' definitions and under each other."""
    names: list[str] = list(found["definitions"])
    grouped: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in found["items"]:
        into = grouped[(row["provider"], row["year"])]
        into["trajectories"] += row["trajectories"]
        into["owed"] += row["owed_cents"]
        into["pending"] += row["pending_cents"]
        for other in row["owed_if"]:
            into["if:" + other["definition"]] += other["owed_cents"]
    table = Table("betalingen", _("Verschuldigd per aanbieder en startjaar (euro)"),
                  [_("aanbieder"), _("startjaar"), _("trajecten"), _("volgens contract (euro)"), _("nog afhankelijk (euro)")]
                  + [f"{_('als')} {n} (euro)" for n in names])
    for (provider, year), into in sorted(grouped.items()):
        table.rows.append([Cell(provider), Cell(str(year)), Cell(str(into["trajectories"]), numeric=True),
                           Cell(euros(into["owed"]), numeric=True), Cell(euros(into["pending"]), numeric=True)]
                          + [Cell(euros(into["if:" + n]), numeric=True) for n in names])
    providers = sorted({p for p, _year in grouped})
    if not providers:
        return Figure(table, None)
    series = {_("volgens contract"): [sum(v["owed"] for (p, _y), v in grouped.items() if p == provider) / 100
                                       for provider in providers]}
    for n in names:
        series[n] = [sum(v["if:" + n] for (p, _y), v in grouped.items() if p == provider) / 100 for provider in providers]
    return Figure(table, bar_chart_svg(_("Verschuldigd per aanbieder, alle jaren (euro)"), providers, series, _("euro")))


def flags_figure(flagged: Iterable[dict[str, Any]], _: Gettext) -> Figure:
    """Flagged claims per flag and provider per job-start year; each number links to its claims."""
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    years: set[str] = set()
    for item in flagged:
        year = str(item["job_start"])[:4]
        years.add(year)
        counts[(item["flag"]["name"], item["provider"])][year] += 1
    ordered = sorted(years)
    table = Table("signaleringen", _("Signaleringen per soort en aanbieder, naar startjaar van de baan"),
                  [_("signalering"), _("aanbieder")] + ordered + [_("totaal")])
    for (flag, provider), per_year in sorted(counts.items()):
        cells = [Cell(flag), Cell(provider)]
        for year in ordered:
            number = per_year.get(year, 0)
            link = "/claims?" + urlencode({"status": "all", "flag": flag, "provider": provider, "period": year})
            cells.append(Cell(str(number), href=link if number else None, numeric=True))
        total = "/claims?" + urlencode({"status": "all", "flag": flag, "provider": provider})
        cells.append(Cell(str(sum(per_year.values())), href=total, numeric=True))
        table.rows.append(cells)
    if not ordered:
        return Figure(table, None)
    by_flag: dict[str, list[float | None]] = {}
    for (flag, _provider), per_year in counts.items():
        line = by_flag.setdefault(flag, [0.0] * len(ordered))
        for i, year in enumerate(ordered):
            line[i] = (line[i] or 0.0) + per_year.get(year, 0)
    return Figure(table, line_chart_svg(_("Signaleringen per soort, naar startjaar van de baan"), ordered,
                                        dict(sorted(by_flag.items())), _("claims")))


def select_claims(claims: Iterable[dict[str, Any]], status: str, provider: str, flag: str,
                  period: str) -> list[dict[str, Any]]:
    """The queue's filters: status (``all`` for any), provider, flag, and a period that the job
    start begins with (``2025`` or ``2025-03``); an empty filter passes everything."""
    chosen = []
    for claim in claims:
        if status != "all" and claim["status"] != status:
            continue
        if provider and claim["provider"] != provider:
            continue
        if flag and flag not in {f["name"] for f in claim.get("flags") or []}:
            continue
        if period and not str(claim["job_start"]).startswith(period):
            continue
        chosen.append(claim)
    return sorted(chosen, key=lambda c: (str(c["claimed_on"]), c["claim_id"]))


def claims_table(claims: list[dict[str, Any]], _: Gettext) -> Table:
    table = Table("claims", _("Claims"), [_("claim"), _("aanbieder"), _("opdrachtgever"), _("start baan"),
                                          _("geclaimd op"), _("status"), _("signaleringen")])
    for claim in claims:
        href = f"/claims/{claim['client_ref']}/{claim['claim_id']}"
        flags = ", ".join(f["name"] for f in claim.get("flags") or []) or "-"
        table.rows.append([Cell(claim["claim_id"][:8], href=href), Cell(claim["provider"]), Cell(claim["funder"]),
                           Cell(str(claim["job_start"])), Cell(str(claim["claimed_on"])), Cell(_(claim["status"])),
                           Cell(flags)])
    return table
