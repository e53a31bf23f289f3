"""Selection at the gate: the share of referrals a provider declined, by the rung the client
was referred at, and the mix of referrals it accepted against the contract's target mix.

Koning (seed 003): No Cure No Pay gave 1.5 percentage points more refusals than No Cure Less
Pay. A referral counts from the day it was commissioned; the rung is the funder's
(``referral_rung``), ``unknown`` when the commission did not state it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ledger.domain.dossier.state import DossierState
from projections.indicators.tally import Tally

AREA = "selection"


def declined_referrals(dossiers: Iterable[tuple[str, DossierState]]) -> set[str]:
    """The ids of the referrals their provider declined (never trajectories: nothing is owed for them)."""
    return {tid for _, d in dossiers for tid, t in d.trajectories.items() if t.get("declined") is not None}


def rung_slice(rung: int | None) -> str:
    return "rung-unknown" if rung is None else f"rung-{rung}"


def add_referral(tally: Tally, groups: Sequence[str], trajectory: dict[str, Any]) -> None:
    """One referral: declined or not, overall and at its rung; and, when the contract has a
    target mix and the rung is known, the accepted mix against it."""
    declined = int(trajectory.get("declined") is not None)
    rung = trajectory.get("referral_rung")
    tally.add(groups, AREA, "declined", "all", "referrals", declined)
    tally.add(groups, AREA, "declined", rung_slice(rung), "referrals", declined)
    mix = trajectory.get("target_mix")
    if mix is None or rung is None or declined:
        return
    for r, target in enumerate(mix, start=1):  # every accepted referral is a denominator unit of every rung
        tally.add(groups, AREA, "accepted-mix", rung_slice(r), "referrals", int(r == rung), 1, target / 100)
