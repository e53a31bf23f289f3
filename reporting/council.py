"""The council report as plain data: tables of typed columns and the figures their charts draw.

``council_report(results, dossiers, definitions, basis)`` takes what the CLI's reports take (the
trajectories judged under each definition, the dossiers as known at the cut-off) and gives every
table the xlsx and the html print, so the two can never disagree with each other or with the
JSON reports: the counts are ``projections.replay.Replay.rates``'s, the differences its
``differences()``, the flags ``flag_listing``'s, the amounts ``projections.payments.payments``'s.

Years are cohorts: the year a trajectory started. "Volgens contract" judges each trajectory by the
definition its contract named when it was commissioned (what was reported and paid at the time);
beside it every chosen definition judges all of them: the story of a definition changed mid-stream.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.domain.dossier.state import DossierState
from projections.definitions.base import Definition
from projections.evaluation import TrajectoryResult
from projections.flags import FLAGS
from projections.indicators.cooperation import shares
from projections.payments import ContractPayment, payments
from projections.replay import ALL_GROUPS, Counts, RateRow, Replay, flag_listing, rate_rows
from reporting.basis import Basis

CONTRACT = "volgens contract"  # the series judged by each contract's own definition
TEXT, COUNT, RATE, EURO, FLAG = "text", "count", "rate", "euro", "flag"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # TEXT | COUNT | RATE (a fraction, or None when nothing is decided) | EURO (cents) | FLAG (bool)


@dataclass(frozen=True)
class Table:
    key: str  # the sheet's name (at most 31 characters) and the html section's id
    title: str
    note: str  # what the table counts, in one or two sentences
    columns: list[Column]
    rows: list[list[Any]]
    total: list[Any] | None = None  # printed apart from the rows: summing the rows never counts it twice


@dataclass(frozen=True)
class Series:
    """The figures of one chart: values per label, one list per series (None: nothing decided)."""

    title: str
    labels: list[str]
    values: dict[str, list[float | None]]


@dataclass(frozen=True)
class CouncilReport:
    basis: Basis
    definitions: list[Definition]
    tables: list[Table]
    by_year: Series  # every provider together, per cohort: one line per definition and the contracts'
    by_provider_year: dict[str, Series] = field(default_factory=dict)  # the same, per provider
    by_provider: Series | None = None  # rate per provider, one bar per definition


def council_report(results: Sequence[TrajectoryResult], dossiers: Iterable[tuple[str, DossierState]],
                   definitions: Sequence[Definition], basis: Basis) -> CouncilReport:
    replay = Replay(tuple(definitions), date.fromisoformat(basis.peildatum), basis.as_known_at, list(results))
    names = replay.names
    held = list(dossiers)
    by_year = rate_rows(results, names, lambda r: str(r.cohort))
    by_provider = rate_rows(results, names, lambda r: r.provider)
    by_provider_year = rate_rows(results, names, lambda r: (r.provider, str(r.cohort)))
    tables = [
        _rates_table("Uitstroom per jaar", "Uitstroom per startjaar, alle aanbieders, onder elke definitie naast "
                     "elkaar; 'volgens contract' beoordeelt elk traject met de definitie die zijn contract noemde.",
                     ["startjaar"], by_year, names, _contract_definitions(results)),
        _rates_table("Uitstroom per aanbieder", "Uitstroom per aanbieder, alle jaren samen.", ["aanbieder"],
                     by_provider, names),
        _rates_table("Uitstroom aanbieder en jaar", "Uitstroom per aanbieder en startjaar, onder elke definitie "
                     "naast elkaar.", ["aanbieder", "startjaar"], by_provider_year, names),
        _differences(replay),
        _flags(held, replay.peildatum),
        _payments(results, names, shares(held)),
    ]
    years = [key for key in by_year if key != ALL_GROUPS]
    return CouncilReport(
        basis, list(definitions), tables,
        by_year=_series("Uitstroom per startjaar, per definitie", years, by_year, names),
        by_provider_year={
            provider: _series(f"Uitstroom per startjaar bij {provider}, per definitie", years, rows, names)
            for provider, rows in _by_provider(by_provider_year).items()
        },
        by_provider=_series("Uitstroom per aanbieder, per definitie", [k for k in by_provider if k != ALL_GROUPS],
                            by_provider, names),
    )


# --- outflow ----------------------------------------------------------------------------------


def _contract_definitions(results: Iterable[TrajectoryResult]) -> dict[Any, str]:
    named: dict[str, Counter[str]] = defaultdict(Counter)
    for result in results:
        named[str(result.cohort)][result.contract_definition] += 1
        named[ALL_GROUPS][result.contract_definition] += 1
    return {year: ", ".join(f"{n} ({c})" for n, c in sorted(counts.items())) for year, counts in named.items()}


def _rates_table(title: str, note: str, group_columns: list[str], rows: dict[Any, RateRow], names: Sequence[str],
                 contract_named: dict[Any, str] | None = None) -> Table:
    columns = [Column(c, TEXT) for c in group_columns] + [Column("trajecten", COUNT)]
    if contract_named is not None:
        columns.append(Column("definitie in contract (trajecten)", TEXT))
    for name in [*names, CONTRACT]:
        columns += [Column(f"{name}: geslaagd", COUNT), Column(f"{name}: niet geslaagd", COUNT),
                    Column(f"{name}: pending", COUNT), Column(f"{name}: uitstroom", RATE)]
    body, total = [], None
    for key, row in rows.items():
        group = list(key) if isinstance(key, tuple) else [key]
        cells: list[Any] = [*group, row.trajectories]
        if contract_named is not None:
            cells.append(contract_named.get(key, ""))
        for name in [*names, CONTRACT]:
            c = _counts(row, name)
            cells += [c.success, c.failure, c.pending, c.rate]
        if key == ALL_GROUPS:
            total = ["totaal"] + [""] * (len(group_columns) - 1) + cells[len(group_columns):]
        else:
            body.append(cells)
    return Table(title, title, note, columns, body, total)


def _series(title: str, labels: list[str], rows: dict[Any, RateRow], names: Sequence[str]) -> Series:
    values: dict[str, list[float | None]] = {}
    for name in [*names, CONTRACT]:
        values[name] = [_percent(_counts(rows[label], name).rate) if label in rows else None for label in labels]
    return Series(title, labels, values)


def _counts(row: RateRow, name: str) -> Counts:
    """A row's counts under a definition, or (``CONTRACT``) under each contract's own."""
    return row.contract if name == CONTRACT else row.counts[name]


def _by_provider(rows: dict[Any, RateRow]) -> dict[str, dict[str, RateRow]]:
    found: dict[str, dict[str, RateRow]] = defaultdict(dict)
    for key, row in rows.items():
        if key != ALL_GROUPS:
            provider, year = key
            found[provider][year] = row
    return {provider: found[provider] for provider in sorted(found)}


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


# --- differences, flags, payments --------------------------------------------------------------


def _differences(replay: Replay) -> Table:
    names = replay.names
    columns = [Column(c, TEXT) for c in ("traject", "opdrachtgever", "aanbieder", "startjaar", "definitie in contract")]
    columns += [Column(name, TEXT) for name in names]
    rows = [[r.trajectory_id, r.funder, r.provider, str(r.cohort), r.contract_definition]
            + [f"{r.verdicts[n].outcome}: {r.verdicts[n].reason}" for n in names] for r in replay.differences()]
    return Table("Verschillen tussen definities", "Verschillen tussen definities",
                 f"De {len(rows)} trajecten die niet onder alle gekozen definities dezelfde uitkomst hebben, met per "
                 "definitie de uitkomst en de reden.", columns, rows)


def _flags(dossiers: Iterable[tuple[str, DossierState]], peildatum: date) -> Table:
    listing = flag_listing(dossiers, peildatum)
    claims: dict[str, dict[str, Any]] = {}
    for flag in listing:
        claim = claims.setdefault(flag.claim_id, {"flag": flag, "names": [], "details": []})
        claim["names"].append(flag.flag)
        claim["details"].append(f"{flag.flag}: {flag.detail}")
    columns = [Column(c, TEXT) for c in ("claim", "traject", "client_ref", "opdrachtgever", "aanbieder", "werkgever (KvK)",
                                         "start baan", "status")]
    columns += [Column("signaleringen", COUNT)] + [Column(name, FLAG) for name in FLAGS] + [Column("toelichting", TEXT)]
    rows = []
    for claim_id in sorted(claims):
        f, names = claims[claim_id]["flag"], claims[claim_id]["names"]
        rows.append([claim_id, f.trajectory_id, f.client_ref, f.funder, f.provider, f.employer_kvk, f.job_start, f.status,
                     len(names), *(name in names for name in FLAGS), "; ".join(claims[claim_id]["details"])])
    return Table("Signaleringen per claim", "Signaleringen per claim",
                 f"{len(rows)} plaatsingsclaims met een baan begonnen op of voor de peildatum en ten minste één "
                 f"signalering ({len(listing)} signaleringen); één rij per claim.", columns, rows)


def _payments(results: Sequence[TrajectoryResult], names: Sequence[str], shared: Mapping[str, tuple[str, int]]) -> Table:
    """``payments`` per start year, its contracts then gathered per provider (a partner's part of a fee
    shared in cooperation goes to the partner's row, as ``payments`` owes it)."""
    cohorts: dict[str, list[TrajectoryResult]] = defaultdict(list)
    for result in results:
        cohorts[str(result.cohort)].append(result)
    groups: dict[tuple[str, str], list[ContractPayment]] = defaultdict(list)
    for year, judged in cohorts.items():
        for contract in payments(judged, names, shared):
            groups[(contract.provider, year)].append(contract)
    columns = [Column("aanbieder", TEXT), Column("startjaar", TEXT), Column("trajecten", COUNT),
               Column("verschuldigd (euro)", EURO), Column("nog afhankelijk van uitkomst (euro)", EURO),
               Column("niet beoordeeld", COUNT)] + [Column(f"verschuldigd als {n} (euro)", EURO) for n in names]
    rows: list[list[Any]] = []
    for key in sorted(groups):
        contracts = groups[key]
        rows.append([*key, sum(c.trajectories for c in contracts), sum(c.owed_cents for c in contracts),
                     sum(c.pending_cents for c in contracts), sum(c.unjudged for c in contracts)]
                    + [sum(c.owed_if[n] for c in contracts) for n in names])
    total: list[Any] = ["totaal", ""] + [sum(row[i] for row in rows) for i in range(2, len(columns))]
    return Table("Betalingen", "Betalingen per aanbieder en jaar",
                 "Wat elke aanbieder verschuldigd is volgens de definitie die zijn contract noemde (no cure no pay: "
                 "de fee bij succes; no cure less pay: de basisfee altijd, plus de fee bij succes), en wat het zou zijn "
                 "onder elke andere definitie; bij een plaatsing in samenwerking gaat het deel van de fee van de partner "
                 "naar de partner. 'Nog afhankelijk van uitkomst': fees van trajecten die op de "
                 "peildatum pending zijn. 'Niet beoordeeld': het contract noemt een definitie die hier niet "
                 "geïnstalleerd is.", columns, rows, total)
