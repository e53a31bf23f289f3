"""Judge every trajectory under several definitions at one peildatum.

Each trajectory is judged, for payment, by the definition its contract named when it was
commissioned; the chosen definitions are computed beside it. Only trajectories that had
started by the peildatum are in the population.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from ledger.domain.dossier.state import DossierState
from projections.definitions.base import Definition, Verdict
from projections.definitions.facts import TrajectoryFacts, trajectory_facts
from projections.definitions.registry import DefinitionRegistry

GROUPS = ("provider", "funder", "cohort")


@dataclass(slots=True)
class TrajectoryResult:
    trajectory_id: str
    client_ref: str
    funder: str
    provider: str
    start: str
    contract: str
    contract_definition: str  # as named at commissioning
    fee_cents: int
    base_fee_cents: int
    verdicts: dict[str, Verdict]  # the chosen definitions and the contract's (when installed)

    @property
    def cohort(self) -> int:
        return int(self.start[:4])

    @property
    def contract_verdict(self) -> Verdict | None:
        """None when the contract names a definition that is not installed here."""
        return self.verdicts.get(self.contract_definition)

    def group(self, by: str) -> str:
        if by == "provider":
            return self.provider
        if by == "funder":
            return self.funder
        if by == "cohort":
            return str(self.cohort)
        raise ValueError(f"group by one of {', '.join(GROUPS)}, not {by!r}")


def evaluation_order(definitions: Sequence[Definition]) -> list[Definition]:
    """Plain definitions first, so composites can combine verdicts already computed."""
    return [d for d in definitions if not d.components] + [d for d in definitions if d.components]


COMBINE, DECIDE, JUDGE = 0, 1, 2
Step = tuple[str, Callable[..., Verdict], int]


def plan(order: Sequence[Definition]) -> list[Step]:
    """How to reach each definition's verdict: combine components already judged, decide on
    the trajectory's facts, or judge the dossier."""
    steps: list[Step] = []
    done: set[str] = set()
    for d in order:
        if d.combine is not None and all(c in done for c in d.components):
            steps.append((d.name, d.combine, COMBINE))
        elif d.decide is not None:
            steps.append((d.name, d.decide, DECIDE))
        else:
            steps.append((d.name, d.judge, JUDGE))
        done.add(d.name)
    return steps


def judge_all(
    dossier: DossierState | None,
    trajectory_id: str,
    peildatum: date,
    steps: Sequence[Step],
    facts: TrajectoryFacts | None = None,
) -> dict[str, Verdict]:
    """Every step of a ``plan`` for one trajectory. Definitions decided on facts share one
    extraction (or the ``facts`` given; then ``dossier`` may be None if no step judges it)."""
    verdicts: dict[str, Verdict] = {}
    p = peildatum.isoformat()
    for name, function, kind in steps:
        if kind == DECIDE:
            if facts is None:
                if dossier is None:
                    raise ValueError("neither a dossier nor facts to judge")
                facts = trajectory_facts(dossier, trajectory_id)
            verdicts[name] = function(facts, p)
        elif kind == COMBINE:
            verdicts[name] = function(verdicts)
        elif dossier is None:
            raise ValueError(f"{name} judges a dossier, and none was given")
        else:
            verdicts[name] = function(dossier, trajectory_id, peildatum)
    return verdicts


def decide_all(facts: TrajectoryFacts, p: str, steps: Sequence[Step]) -> dict[str, Verdict]:
    """``judge_all`` for a plan that judges no dossier (``Orders.needs_dossier`` is False),
    with the peildatum as ISO text: the hot path of judging every trajectory from stored facts."""
    verdicts: dict[str, Verdict] = {}
    for name, function, kind in steps:
        verdicts[name] = function(facts, p) if kind == DECIDE else function(verdicts)
    return verdicts


class Orders:
    """The plan per contract definition: the chosen definitions, plus the contract's own
    when it is installed and not among them."""

    def __init__(self, definitions: Sequence[Definition], registry: DefinitionRegistry | None) -> None:
        self.definitions = list(definitions)
        self.registry = registry or DefinitionRegistry()
        self._chosen = {d.name for d in definitions}
        self._plans: dict[str, list[Step]] = {}
        self._needs_dossier: dict[str, bool] = {}

    def extra(self, contract_definition: str) -> list[Definition]:
        if contract_definition in self._chosen or contract_definition not in self.registry:
            return []
        return [self.registry.get(contract_definition)]

    def __call__(self, contract_definition: str) -> list[Step]:
        steps = self._plans.get(contract_definition)
        if steps is None:
            steps = self._plans[contract_definition] = plan(
                evaluation_order([*self.definitions, *self.extra(contract_definition)]))
            self._needs_dossier[contract_definition] = any(kind == JUDGE for _, _, kind in steps)
        return steps

    def needs_dossier(self, contract_definition: str) -> bool:
        """Whether a trajectory under this contract definition needs its dossier judged."""
        if contract_definition not in self._needs_dossier:
            self(contract_definition)
        return self._needs_dossier[contract_definition]


def evaluate(
    dossiers: Iterable[tuple[str, DossierState]],
    definitions: Sequence[Definition],
    peildatum: date,
    registry: DefinitionRegistry | None = None,
) -> list[TrajectoryResult]:
    """One result per trajectory started by ``peildatum``, in client then commissioning order."""
    with collector_paused():
        return _evaluate(dossiers, Orders(definitions, registry), peildatum)


def _evaluate(dossiers: Iterable[tuple[str, DossierState]], orders: Orders, peildatum: date) -> list[TrajectoryResult]:
    p = peildatum.isoformat()
    results = []
    for client, dossier in dossiers:
        for trajectory_id, t in dossier.trajectories.items():
            if t["start"] > p:
                continue
            name = t["definition"]
            results.append(TrajectoryResult(
                trajectory_id, client, t["funder"], t["provider"], t["start"], t["contract"], name,
                t["fee_cents"], t["base_fee_cents"], judge_all(dossier, trajectory_id, peildatum, orders(name)),
            ))
    return results


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while working in bulk.

    Judging allocates a few small objects per verdict that all stay alive until the end and
    form no reference cycles; the collector would traverse them again and again (at 100,000
    trajectories that doubles the time). Applying a page of entries is alike: the page's
    decoded entries live until it is written (a fifth of a rebuild from the ledger went to the
    collector). Reference counting still frees everything as usual. The collector is
    re-enabled afterwards unless it was off already.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
