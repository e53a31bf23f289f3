"""What a definition is: a named, versioned, pure function of a dossier as known at a
date, evaluated at a peildatum, returning a ``Verdict`` per trajectory."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from ledger.domain.dossier.state import DossierState
from projections.definitions.facts import TrajectoryFacts, trajectory_facts

SUCCESS = "success"
FAILURE = "failure"
PENDING = "pending"
OUTCOMES = (SUCCESS, FAILURE, PENDING)


class Verdict(NamedTuple):
    outcome: str  # success | failure | pending
    reason: str  # a stable code, e.g. "benefit-within-six-months"
    detail: str = ""  # for people: the facts and dates that decided it
    credited_provider: str | None = None  # whose work the success is; None unless success

    def as_dict(self) -> dict[str, str | None]:
        return {"outcome": self.outcome, "reason": self.reason, "detail": self.detail,
                "credited_provider": self.credited_provider}


Judge = Callable[[DossierState, str, date], Verdict]
Decide = Callable[[TrajectoryFacts, str], Verdict]  # the peildatum as ISO text, like every date in the facts


@dataclass(frozen=True)
class Definition:
    """``judge(dossier, trajectory_id, peildatum)`` must be pure: no clock, no I/O, the
    dossier unchanged.

    A built-in definition also has ``decide(facts, peildatum)`` over the peildatum-independent
    ``TrajectoryFacts`` (its ``judge`` is exactly that applied to ``trajectory_facts``), which
    lets the read models judge without loading dossiers. ``decide`` takes the peildatum as ISO
    text (``YYYY-MM-DD``), like every date in the facts. A composite names its ``components``
    and how to ``combine`` their verdicts, so an evaluator that has them need not judge twice.
    """

    name: str
    version: str
    summary: str
    judge: Judge
    components: tuple[str, ...] = ()
    combine: Callable[[Mapping[str, Verdict]], Verdict] | None = None
    decide: Decide | None = None

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def __call__(self, dossier: DossierState, trajectory_id: str, peildatum: date) -> Verdict:
        return self.judge(dossier, trajectory_id, peildatum)


def on_facts(name: str, version: str, summary: str, decide: Decide, **extra: object) -> Definition:
    """A definition decided on ``TrajectoryFacts``: ``judge`` extracts them and decides."""

    def judge(dossier: DossierState, trajectory_id: str, peildatum: date) -> Verdict:
        return decide(trajectory_facts(dossier, trajectory_id), peildatum.isoformat())

    return Definition(name, version, summary, judge, decide=decide, **extra)  # type: ignore[arg-type]


_new = tuple.__new__  # the helpers below build verdicts without NamedTuple's argument parsing (a hot path)


def success(reason: str, detail: str, provider: str) -> Verdict:
    return _new(Verdict, (SUCCESS, reason, detail, provider))


def failure(reason: str, detail: str = "") -> Verdict:
    return _new(Verdict, (FAILURE, reason, detail, None))


def pending(reason: str, detail: str = "") -> Verdict:
    return _new(Verdict, (PENDING, reason, detail, None))


def not_started(facts: TrajectoryFacts) -> Verdict:
    """The verdict of every definition on a trajectory that starts after the peildatum."""
    return pending("not-started", f"the trajectory starts on {facts.start}")
