"""Durable placements: contract lengths, and whether the client still works - or is back on
benefit - 6, 12 and 18 months after the job started (Koning, seed 003: No Cure No Pay's extra
placements were all contracts of at most 12 months).

Employed on a day: wage evidence for the claim (or its employer) covering the day decides when
there is any (``EmploymentVerified`` yes, ``EmploymentNotFound`` no); else the ledger's facts:
the job had started and neither its recorded end nor its contract's end is before the day.
A moment counts only once it has passed by the peildatum.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ledger.domain.dossier.state import DossierState
from projections.indicators.placements import placements
from projections.indicators.tally import Tally
from projections.periods import add_months, lasts_six_months

AREA = "durability"
MOMENTS = (6, 12, 18)
LENGTHS = ("under-6m", "6-12m", "over-12m", "open-ended")


def contract_length(claim: dict[str, Any]) -> str:
    start, end = claim["job_start"], claim["contract_end"]
    if end is None:
        return "open-ended"
    if not lasts_six_months(start, end):
        return "under-6m"
    return "6-12m" if end <= add_months(start, 12) else "over-12m"  # a year's contract, 01-15 to 01-15, is 6-12m


def employed_on(dossier: DossierState, claim_id: str, claim: dict[str, Any], day: str) -> bool:
    evidence = [e for e in dossier.evidence.values()  # wage data checked by a funder (issue 15)
                if (e["claim_id"] == claim_id or (e["claim_id"] is None and e["employer_kvk"] == claim["employer_kvk"]))
                and e["period_from"] <= day <= e["period_to"]]
    if evidence:
        return any(e["kind"] == "verified" for e in evidence)
    ends = [d for d in (claim["employment_end"], claim["contract_end"]) if d is not None]
    return claim["job_start"] <= day and all(day <= end for end in ends)


def on_benefit_on(dossier: DossierState, after: str, day: str) -> bool:
    """A benefit started after ``after`` (the job start) and running on ``day``."""
    return any(after < b["start"] <= day and (b["end"] is None or day <= b["end"]) for b in dossier.benefits.values())


def add_trajectory(tally: Tally, groups: Sequence[str], dossier: DossierState, trajectory_id: str, p: str) -> None:
    for claim_id, claim in placements(dossier, trajectory_id, p):
        length = contract_length(claim)
        for slice_ in LENGTHS:
            tally.add(groups, AREA, "contract-length", slice_, "placements", int(slice_ == length))
        for months in MOMENTS:
            day = add_months(claim["job_start"], months)
            if day > p:
                continue
            tally.add(groups, AREA, "employed-at", f"{months}m", "placements", int(employed_on(dossier, claim_id, claim, day)))
            tally.add(groups, AREA, "on-benefit-at", f"{months}m", "placements",
                      int(on_benefit_on(dossier, claim["job_start"], day)))
