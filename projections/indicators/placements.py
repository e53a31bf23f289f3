"""The placements the indicators count: live claims (claimed or confirmed) for a job started
by the peildatum, on a trajectory that was not declined; credited to the trajectory's group."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ledger.domain.dossier.state import LIVE_CLAIM, DossierState


def placements(dossier: DossierState, trajectory_id: str, p: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for claim_id, claim in dossier.claims.items():
        if claim["trajectory_id"] == trajectory_id and claim["status"] in LIVE_CLAIM and claim["job_start"] <= p:
            yield claim_id, claim
