"""Cooperation placements (issue 16, seed 002): a placement at a vacancy another provider
brought, its credit shared (``PlacementCooperation``). Counted for the trajectory's provider
(``made-with-partner``, over its placements) and, grouped by provider, for the partner
(``as-partner``: placements of other providers' clients it brought the vacancy for).

``shares`` gives payments the split: per trajectory, the partner and its share of the fee,
from the live claim that carries a cooperation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ledger.domain.dossier.state import LIVE_CLAIM, DossierState
from projections.indicators.placements import placements
from projections.indicators.tally import ALL, Tally

AREA = "cooperation"


def add_trajectory(tally: Tally, groups: Sequence[str], dossier: DossierState, trajectory_id: str, p: str,
                   by_provider: bool) -> None:
    for _, claim in placements(dossier, trajectory_id, p):
        shared = claim.get("cooperation")
        tally.add(groups, AREA, "placements", "made-with-partner", "placements", int(shared is not None))
        if shared is not None:  # no denominator: the partner's count of vacancies it brought
            tally.add([shared["partner"], ALL] if by_provider else groups, AREA, "placements", "as-partner",
                      "placements", 1, 0)


def shares(dossiers: Iterable[tuple[str, DossierState]]) -> dict[str, tuple[str, int]]:
    """trajectory_id -> (partner, partner's share in percent), from its live claim with a cooperation."""
    found: dict[str, tuple[str, int]] = {}
    for _, dossier in dossiers:
        for claim in dossier.claims.values():
            shared = claim.get("cooperation")
            if shared is not None and claim["status"] in LIVE_CLAIM:
                found[claim["trajectory_id"]] = (shared["partner"], shared["partner_share_percent"])
    return found
