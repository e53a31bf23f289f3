"""What placement incentives make providers do, as parameters of the synthetic history (issue 16).

``Behaviour`` sets, per contract type, the chance a provider declines a referral by the rung the
client was referred at, the chance a trajectory is parked by the rung at intake (no activity
recorded after the intake), and the mix of contract lengths of its placements; and, for
everyone, the follow-up's response and answers and the share of placements made in cooperation.
``KONING`` plants what Koning (seed 003) measured: No Cure No Pay declines 1.5 points more,
parks low-rung clients and places more short contracts; ``NEUTRAL`` treats both contract
types alike. Without a behaviour (``generate(..., behaviour=None)``) the history is the one
the generator always wrote.

Every draw for a trajectory comes from a generator seeded by its id (``draws``), so two
histories with the same seed and different behaviours differ only where the behaviours do.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

NCNP, NCLP = "no-cure-no-pay", "no-cure-less-pay"
LENGTHS = (None, 12, 6, 0)  # open-ended, 12 months, 6 months, under six months (0: 30-150 days)
DEFAULT_LENGTH_WEIGHTS = (35, 30, 15, 20)  # as the generator always drew them


def _same(value: Sequence[float]) -> dict[str, Sequence[float]]:
    return {NCNP: value, NCLP: value}


@dataclass(frozen=True)
class Behaviour:
    decline: Mapping[str, Sequence[float]] = field(default_factory=lambda: _same((0.05,) * 6))  # per referral rung 1-6
    parking: Mapping[str, Sequence[float]] = field(default_factory=lambda: _same((0.1,) * 6))  # per intake rung 1-6
    lengths: Mapping[str, Sequence[float]] = field(default_factory=lambda: _same(DEFAULT_LENGTH_WEIGHTS))
    referral_rungs: Sequence[float] = (10, 25, 35, 20, 10, 0)  # weights of the rung at referral
    target_mix: Sequence[int] | None = (10, 25, 35, 20, 10, 0)  # the contracts' target mix (percent per rung)
    follow_up_kept: float = 0.9  # share of follow-up moments the funder records at all (the rest go overdue)
    follow_up_response: float = 0.55  # share of recorded moments at which the client is reached
    follow_up_by_provider: float = 0.2  # share of contracts naming the provider to follow up
    found_without: Sequence[float] = (20, 35, 45)  # yes / maybe / no
    satisfaction: Sequence[float] = (5, 10, 25, 40, 20)  # 1 to 5
    cooperation: float = 0.06  # share of confirmed placements at a vacancy another provider brought


NEUTRAL = Behaviour()
KONING = Behaviour(
    decline={NCNP: (0.065,) * 6, NCLP: (0.05,) * 6},
    parking={NCNP: (0.5, 0.4, 0.1, 0.1, 0.1, 0.1), NCLP: (0.1,) * 6},
    lengths={NCNP: (25, 30, 15, 30), NCLP: DEFAULT_LENGTH_WEIGHTS},
)

BEHAVIOURS = {"koning": KONING, "neutral": NEUTRAL}


@dataclass(frozen=True, slots=True)
class Draws:
    """One trajectory's draws: its referral rung, and the uniform numbers that decide a decline
    and parking (the same numbers under any behaviour)."""

    referral_rung: int
    decline: float
    park: float
    length: float
    follow_up: float


def draws(behaviour: Behaviour, trajectory_id: str) -> Draws:
    rng = random.Random(f"behaviour:{trajectory_id}")
    rung = rng.choices(range(1, 7), behaviour.referral_rungs)[0]
    return Draws(rung, rng.random(), rng.random(), rng.random(), rng.random())


def declines(behaviour: Behaviour, contract: str, d: Draws) -> bool:
    return d.decline < behaviour.decline[contract][d.referral_rung - 1]


def parks(behaviour: Behaviour, contract: str, intake_rung: int, d: Draws) -> bool:
    return d.park < behaviour.parking[contract][intake_rung - 1]


def contract_months(behaviour: Behaviour, contract: str, d: Draws) -> int | None:
    """The contract length class by the trajectory's own uniform draw (inverse of the weights)."""
    weights = behaviour.lengths[contract]
    point, total = d.length * sum(weights), 0.0
    for months, weight in zip(LENGTHS, weights, strict=True):
        total += weight
        if point < total:
            return months
    return LENGTHS[-1]
