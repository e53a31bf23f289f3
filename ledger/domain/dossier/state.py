"""What the ledger knows about one client, built by applying accepted payloads in order.

Plain JSON-able data (dates as ISO strings) so the aggregate snapshots cleanly and the
offline verifier and the projections can rebuild it without the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LIVE_CLAIM = ("claimed", "confirmed")


@dataclass
class DossierState:
    trajectories: dict[str, dict[str, Any]] = field(default_factory=dict)
    claims: dict[str, dict[str, Any]] = field(default_factory=dict)
    benefits: dict[str, dict[str, Any]] = field(default_factory=dict)
    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)  # wage-data checks, by envelope_id
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)  # auditors' findings, by envelope_id

    def period_end(self, trajectory: dict[str, Any]) -> str:
        """The last day of a trajectory: its end if it ended, else its planned end."""
        ended = trajectory.get("ended")
        return str(ended["end"]) if ended else str(trajectory["planned_end"])


def evolve(state: DossierState, payload: dict[str, Any], submitter: str, recorded_at: str) -> None:
    """Apply one accepted dossier payload (mutates ``state``)."""
    kind = payload["type"]
    handler = _HANDLERS[kind]
    handler(state, payload, submitter, recorded_at)


def _commissioned(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
    state.trajectories[p["trajectory_id"]] = {
        "funder": submitter,
        "provider": p["provider"],
        "start": p["start"],
        "planned_end": p["planned_end"],
        "definition": p["definition"],
        "contract": p["contract"],
        "fee_cents": p["fee_cents"],
        "base_fee_cents": p["base_fee_cents"],
        "commissioned_on": p["occurred_on"],
        # issue 16 (omittable: None when the commission left them out)
        "referral_rung": p.get("referral_rung"),
        "target_mix": p.get("target_mix"),
        "follow_up_by": p.get("follow_up_by"),
        "intake": None,
        "assessments": [],
        "activities": [],
        "aftercare": [],
        "ended": None,
    }


def _extended(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
    state.trajectories[p["trajectory_id"]]["planned_end"] = p["planned_end"]


def _intake(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
    state.trajectories[p["trajectory_id"]]["intake"] = {
        "rung": p["rung"], "on": p["occurred_on"], "rubric_version": p["rubric_version"],
    }


def _assessed(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
    state.trajectories[p["trajectory_id"]]["assessments"].append(
        {"rung": p["rung"], "on": p["occurred_on"], "rubric_version": p["rubric_version"], "assessor": p["assessor"]}
    )


def _activity(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
    state.trajectories[p["trajectory_id"]]["activities"].append(
        {"instrument": p["instrument"], "on": p["occurred_on"]}
    )


def _aftercare(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
    state.trajectories[p["trajectory_id"]]["aftercare"].append(p["occurred_on"])


def _ended(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
    state.trajectories[p["trajectory_id"]]["ended"] = {"reason": p["reason"], "end": p["end"], "by": submitter}


def _claimed(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
    trajectory = state.trajectories[p["trajectory_id"]]
    state.claims[p["claim_id"]] = {
        "trajectory_id": p["trajectory_id"],
        "provider": submitter,
        "funder": trajectory["funder"],
        "employer_kvk": p["employer_kvk"],
        "application_date": p["application_date"],
        "job_start": p["job_start"],
        "contract_end": p["contract_end"],
        "employment_end": None,
        "hours_per_week": p["hours_per_week"],
        "secondment_via_provider": p["secondment_via_provider"],
        "evidence_sha256": p["evidence_sha256"],
        "status": "claimed",
        "claimed_on": p["occurred_on"],
        "decided_on": None,
        "contests": [],
    }


def _status(status: str) -> Any:
    def apply(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
        claim = state.claims[p["claim_id"]]
        claim["status"] = status
        claim["decided_on"] = p["occurred_on"]
        if "reason" in p:
            claim["reason"] = p["reason"]

    return apply


def _contested(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
    state.claims[p["claim_id"]]["contests"].append({"by": submitter, "reason": p["reason"], "on": p["occurred_on"]})


def _employment_ended(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
    state.claims[p["claim_id"]]["employment_end"] = p["end"]


def _benefit_started(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
    state.benefits[p["benefit_id"]] = {"benefit": p["benefit"], "funder": submitter, "start": p["start"], "end": None}


def _benefit_ended(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
    state.benefits[p["benefit_id"]]["end"] = p["end"]


def _evidence(kind: str) -> Any:
    """EmploymentVerified / EmploymentNotFound: kept beside the claims, never changing them."""
    def apply(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
        state.evidence[p["envelope_id"]] = {
            "kind": kind, "claim_id": p["claim_id"], "employer_kvk": p["employer_kvk"],
            "period_from": p["period_from"], "period_to": p["period_to"],
            "hours_per_week": p.get("hours_per_week"), "wage_cents": p.get("wage_cents"),
            "source": p["source"], "evidence_sha256": p["evidence_sha256"], "by": submitter, "on": p["occurred_on"],
        }

    return apply


def _finding(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
    """An auditor's finding sits beside the claim: its status is not touched."""
    state.findings[p["envelope_id"]] = {
        "claim_id": p["claim_id"], "outcome": p["outcome"], "reason": p["reason"],
        "evidence_sha256": p["evidence_sha256"], "by": submitter, "on": p["occurred_on"], "recorded_at": recorded_at,
    }


def _declined(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
    state.trajectories[p["trajectory_id"]]["declined"] = {"reason": p["reason"], "on": p["occurred_on"]}


def _followed_up(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
    """Kept on the trajectory by moment (a trajectory stored before issue 16 has no ``follow_ups``)."""
    state.trajectories[p["trajectory_id"]].setdefault("follow_ups", {})[p["moment"]] = {
        "status": p["status"], "found_without": p["found_without"], "satisfaction": p["satisfaction"],
        "on": p["occurred_on"], "by": submitter,
    }


def _cooperation(state: DossierState, p: dict[str, Any], submitter: str, recorded_at: str) -> None:
    state.claims[p["claim_id"]]["cooperation"] = {
        "partner": p["partner"], "partner_share_percent": p["partner_share_percent"], "on": p["occurred_on"],
    }


_HANDLERS = {
    "TrajectoryCommissioned": _commissioned,
    "TrajectoryExtended": _extended,
    "IntakeCompleted": _intake,
    "LadderRungAssessed": _assessed,
    "ActivityRecorded": _activity,
    "AftercareContact": _aftercare,
    "TrajectoryEnded": _ended,
    "PlacementClaimed": _claimed,
    "PlacementWithdrawn": _status("withdrawn"),
    "PlacementConfirmed": _status("confirmed"),
    "PlacementRejected": _status("rejected"),
    "PlacementContested": _contested,
    "EmploymentEnded": _employment_ended,
    "BenefitStarted": _benefit_started,
    "BenefitEnded": _benefit_ended,
    "EmploymentVerified": _evidence("verified"),
    "EmploymentNotFound": _evidence("not-found"),
    "AuditFinding": _finding,
    "ReferralDeclined": _declined,
    "FollowUpRecorded": _followed_up,
    "PlacementCooperation": _cooperation,
}
