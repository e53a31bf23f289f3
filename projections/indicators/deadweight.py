"""Deadweight: placements whose application preceded the trajectory - the client found the
job herself (the Haarlem case of Anja, seed 004), yet a provider placed it."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.domain.dossier.state import DossierState
from projections.indicators.placements import placements
from projections.indicators.tally import Tally

AREA = "deadweight"


def add_trajectory(tally: Tally, groups: Sequence[str], dossier: DossierState, trajectory_id: str, p: str) -> None:
    start = dossier.trajectories[trajectory_id]["start"]
    for _, claim in placements(dossier, trajectory_id, p):
        tally.add(groups, AREA, "application-before-trajectory", "all", "placements", int(claim["application_date"] < start))
