"""Replay: the dossiers as known at T, judged at peildatum P under several definitions,
side by side - outflow rates per group, the trajectories the definitions disagree on,
and the flagged claims.

``as_known_at`` None means "everything recorded", read from the (caught-up) read models;
a cut-off folds the entry sequence itself, leaving out what was recorded later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine

from ledger.domain.dossier.state import DossierState
from projections.definitions.base import FAILURE, PENDING, SUCCESS, Definition
from projections.definitions.registry import DefinitionRegistry
from projections.evaluation import TrajectoryResult, evaluate
from projections.flags import claim_flags
from projections.history import dossiers_as_known_at
from projections.read_models import ReadModels
from projections.source import EntrySource, FoldedSource

ALL_GROUPS = "(all)"


@dataclass
class Counts:
    success: int = 0
    failure: int = 0
    pending: int = 0

    def add(self, outcome: str, sign: int = 1) -> None:
        if outcome == SUCCESS:
            self.success += sign
        elif outcome == FAILURE:
            self.failure += sign
        elif outcome == PENDING:
            self.pending += sign
        else:
            raise ValueError(f"not an outcome: {outcome!r}")

    def merge(self, other: Counts) -> None:
        self.success += other.success
        self.failure += other.failure
        self.pending += other.pending

    @property
    def rate(self) -> float | None:
        """Successes among the decided (success + failure); None while nothing is decided."""
        decided = self.success + self.failure
        return None if decided == 0 else self.success / decided


@dataclass
class RateRow:
    group: str
    trajectories: int = 0
    counts: dict[str, Counts] = field(default_factory=dict)  # per chosen definition
    contract: Counts = field(default_factory=Counts)  # each trajectory under the definition its contract named
    unjudged: int = 0  # trajectories whose contract names a definition not installed here (not in ``contract``)

    def add(self, result: TrajectoryResult, names: Sequence[str], sign: int = 1) -> None:
        """Count a trajectory (``sign`` -1: take it out again) under each of ``names`` and under
        its contract's own definition."""
        self.trajectories += sign
        for name in names:
            self.counts[name].add(result.verdicts[name].outcome, sign)
        verdict = result.contract_verdict
        if verdict is None:  # its contract names a definition not installed here
            self.unjudged += sign
        else:
            self.contract.add(verdict.outcome, sign)

    def merge(self, other: RateRow) -> None:
        """Add another row's counts (of the same definitions) to this one's."""
        self.trajectories += other.trajectories
        for name, counts in other.counts.items():
            self.counts[name].merge(counts)
        self.contract.merge(other.contract)
        self.unjudged += other.unjudged

    def as_dict(self) -> dict[str, Any]:
        """The row as ``GET /v1/outflow-rates`` (and the offline dashboard) gives it."""
        return {"group": self.group, "trajectories": self.trajectories,
                "outcomes": [{"definition": name, **_counts(c)} for name, c in self.counts.items()],
                "by_contract": {**_counts(self.contract), "unjudged": self.unjudged}}


def _counts(counts: Counts) -> dict[str, Any]:
    return {"success": counts.success, "failure": counts.failure, "pending": counts.pending, "rate": counts.rate}


def rate_rows(results: Iterable[TrajectoryResult], names: Sequence[str],
              key: Callable[[TrajectoryResult], Any]) -> dict[Any, RateRow]:
    """One row per group ``key`` gives (sorted by it), then ``ALL_GROUPS``'s for all trajectories
    together (the sum of the groups: each trajectory is in one). A row's ``group`` is its key
    where that is text."""
    rows: dict[Any, RateRow] = {}
    for result in results:
        group = key(result)
        row = rows.get(group)
        if row is None:
            row = rows[group] = RateRow(group if isinstance(group, str) else "", counts={n: Counts() for n in names})
        row.add(result, names)
    total = RateRow(ALL_GROUPS, counts={name: Counts() for name in names})
    for row in rows.values():
        total.merge(row)
    return {**{group: rows[group] for group in sorted(rows)}, ALL_GROUPS: total}


@dataclass(frozen=True)
class Replay:
    definitions: tuple[Definition, ...]
    peildatum: date
    as_known_at: str | None  # the recorded_at cut-off, or None for everything recorded
    results: list[TrajectoryResult]

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.definitions]

    def rates(self, by: str) -> list[RateRow]:
        """One row per group (sorted), then the row for all trajectories together."""
        return list(rate_rows(self.results, self.names, lambda result: result.group(by)).values())

    def differences(self) -> list[TrajectoryResult]:
        """Every trajectory whose outcome is not the same under all the chosen definitions."""
        names = self.names
        return [r for r in self.results if len({r.verdicts[n].outcome for n in names}) > 1]


def replay(
    dossiers: Iterable[tuple[str, DossierState]],
    definitions: Sequence[Definition],
    peildatum: date,
    as_known_at: str | None = None,
    registry: DefinitionRegistry | None = None,
) -> Replay:
    return Replay(tuple(definitions), peildatum, as_known_at, evaluate(dossiers, definitions, peildatum, registry))


def replay_ledger(
    source: EntrySource,
    engine: Engine | None,
    definitions: Sequence[Definition],
    peildatum: date,
    as_known_at: str | None = None,
    registry: DefinitionRegistry | None = None,
) -> Replay:
    """``replay`` of a ledger (or any source): with no cut-off and an engine, from the read
    models brought up to date first (judged from their stored facts where it can); with a
    cut-off, from the entries recorded by then."""
    return Replay(tuple(definitions), peildatum, as_known_at,
                  evaluate_ledger(source, engine, definitions, peildatum, as_known_at, registry))


def evaluate_ledger(
    source: EntrySource,
    engine: Engine | None,
    definitions: Sequence[Definition],
    peildatum: date,
    as_known_at: str | None = None,
    registry: DefinitionRegistry | None = None,
) -> list[TrajectoryResult]:
    if as_known_at is not None or engine is None:
        return evaluate(load_dossiers(source, None, as_known_at), definitions, peildatum, registry)
    models = ReadModels(engine)
    models.catch_up(source)
    return models.evaluate(definitions, peildatum, registry)


def load_dossiers(
    source: EntrySource, engine: Engine | None, as_known_at: str | None
) -> Iterable[tuple[str, DossierState]]:
    """The dossiers as known at the cut-off: from the entries when there is one, else from
    the read models brought up to date first (or, with no engine, as a ``FoldedSource``
    holds them, else from the entries)."""
    if as_known_at is None and engine is None and isinstance(source, FoldedSource):
        return sorted(source.folded().items())
    if as_known_at is not None or engine is None:
        return sorted(dossiers_as_known_at(source, as_known_at).items())
    models = ReadModels(engine)
    models.catch_up(source)
    return models.dossiers()


@dataclass(frozen=True, slots=True)
class FlaggedClaim:
    claim_id: str
    trajectory_id: str
    client_ref: str
    funder: str
    provider: str
    employer_kvk: str
    job_start: str
    status: str
    flag: str
    detail: str


def flag_listing(
    dossiers: Iterable[tuple[str, DossierState]], peildatum: date | None = None, only: Sequence[str] = ()
) -> list[FlaggedClaim]:
    """Every flag on every claim for a job started by the peildatum (all claims without one)."""
    p = None if peildatum is None else peildatum.isoformat()
    listing = []
    for client, dossier in dossiers:
        for claim_id, claim in dossier.claims.items():
            if p is not None and claim["job_start"] > p:
                continue
            for flag in claim_flags(dossier, claim_id, peildatum):
                if only and flag.name not in only:
                    continue
                listing.append(FlaggedClaim(
                    claim_id, claim["trajectory_id"], client, claim["funder"], claim["provider"],
                    claim["employer_kvk"], claim["job_start"], claim["status"], flag.name, flag.detail,
                ))
    return listing
