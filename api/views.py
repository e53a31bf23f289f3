"""Views of a client dossier as one caller may see it (``api.access``). Pure.

The input is the dossier aggregate's plain data (``Dossier.data``: trajectories, claims and
benefits by id); the output is JSON-able dicts shaped like ``api.schemas``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.access import Caller
from ledger.domain.dossier.state import DossierState
from projections.evaluation import TrajectoryResult
from projections.flags import OVERLAPPING_TRAJECTORIES, REVOLVING_DOOR, claim_flags
from projections.verification import claim_verification

# Flags whose detail names another funder's or provider's trajectory, claim or benefit:
# only the operator reads those details; everyone else gets what the flag means.
_REDACTED = {
    OVERLAPPING_TRAJECTORIES: "another trajectory of this client, from another funder, overlaps this one",
    REVOLVING_DOOR: "the client was on benefit again, or placed again, soon after this job started",
}
ANOTHER_PARTY = "another party"


def flag_view(caller: Caller, name: str, detail: str) -> dict[str, str]:
    if not caller.sees_all and name in _REDACTED:
        detail = _REDACTED[name]
    return {"name": name, "detail": detail}


def judged_differently(caller: Caller, result: TrajectoryResult, names: Sequence[str]) -> dict[str, Any]:
    """A trajectory the definitions disagree on. A verdict's detail may name another funder's benefit or
    claim: only the operator reads it; a success credited to a party the caller may not see is "another party"."""
    def verdict(name: str) -> dict[str, Any]:
        v = result.verdicts[name]
        credited = v.credited_provider
        if credited is not None and not caller.sees_all and credited != result.provider:
            credited = ANOTHER_PARTY
        return {"definition": name, "outcome": v.outcome, "reason": v.reason,
                "detail": v.detail if caller.sees_all else None, "credited_provider": credited}

    return {"trajectory_id": result.trajectory_id, "client_ref": result.client_ref, "funder": result.funder,
            "provider": result.provider, "cohort": result.cohort, "contract_definition": result.contract_definition,
            "verdicts": [verdict(name) for name in names]}


def trajectories(caller: Caller, data: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"trajectory_id": tid, **t} for tid, t in data["trajectories"].items() if caller.sees(t["funder"], t["provider"])]


def claims(caller: Caller, data: dict[str, Any], status: str | None = None) -> list[dict[str, Any]]:
    state = DossierState(**data)
    views = []
    for claim_id, claim in data["claims"].items():
        if not caller.sees(claim["funder"], claim["provider"]) or status not in (None, claim["status"]):
            continue
        view = {"claim_id": claim_id, **claim, "reason": claim.get("reason"),
                "contests": [_contest(caller, claim, c) for c in claim["contests"]], "flags": None}
        if caller.sees_flags:
            view["flags"] = [flag_view(caller, f.name, f.detail) for f in claim_flags(state, claim_id)]
            check = claim_verification(state, claim_id)
            view["verification"] = {"status": check.status, "detail": check.detail,
                                    "verified_through": check.verified_through}
        views.append(view)
    return views


def _contest(caller: Caller, claim: dict[str, Any], contest: dict[str, Any]) -> dict[str, Any]:
    """A contest names its party only to those who may know that party works with this client."""
    known = caller.sees_all or contest["by"] in (caller.party_id, claim["funder"], claim["provider"])
    return {**contest, "by": contest["by"] if known else ANOTHER_PARTY}


def benefits(caller: Caller, data: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"benefit_id": bid, **b} for bid, b in data["benefits"].items() if caller.sees_benefit(b["funder"])]


def summary(caller: Caller, client_ref: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """Counts of what the caller may see; None when that is nothing at all."""
    counts = {"trajectories": len(trajectories(caller, data)),
              "claims": sum(1 for c in data["claims"].values() if caller.sees(c["funder"], c["provider"])),
              "benefits": len(benefits(caller, data))}
    if not any(counts.values()):
        return None
    return {"client_ref": client_ref, **counts}
