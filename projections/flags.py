"""Attribution findings per placement claim: not refusals, but what auditors must see.

``claim_flags(dossier, claim_id, peildatum)`` is pure. With a peildatum, only facts whose
own date is on or before it count; without one, every fact known counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.domain.dossier.state import LIVE_CLAIM, DossierState
from ledger.domain.payloads import MEDIATION_INSTRUMENTS
from projections.periods import add_months, lasts_six_months, overlaps
from projections.verification import CONTRADICTED, NOT_FOUND, UNVERIFIED, claim_verification

APPLICATION_BEFORE_TRAJECTORY = "application-before-trajectory"
NO_MEDIATION = "no-mediation-before-job"
SECONDMENT = "secondment-via-provider"
SHORT_CONTRACT = "contract-under-six-months"
OVERLAPPING_TRAJECTORIES = "overlapping-trajectories"
REVOLVING_DOOR = "revolving-door"
EMPLOYMENT_NOT_VERIFIED = "employment-not-verified"
VERIFICATION_CONTRADICTS_CLAIM = "verification-contradicts-claim"
FLAGS = (
    APPLICATION_BEFORE_TRAJECTORY, NO_MEDIATION, SECONDMENT, SHORT_CONTRACT, OVERLAPPING_TRAJECTORIES, REVOLVING_DOOR,
    EMPLOYMENT_NOT_VERIFIED, VERIFICATION_CONTRADICTS_CLAIM,
)

LATEST = "9999-12-31"


@dataclass(frozen=True, slots=True)
class Flag:
    name: str
    detail: str


def claim_flags(dossier: DossierState, claim_id: str, peildatum: date | None = None) -> list[Flag]:
    p = LATEST if peildatum is None else peildatum.isoformat()
    claim = dossier.claims[claim_id]
    trajectory = dossier.trajectories[claim["trajectory_id"]]
    found = [
        _application_before(claim, trajectory),
        _no_mediation(claim, trajectory),
        _secondment(claim),
        _short_contract(claim, p),
        _overlapping(dossier, trajectory, p),
        _revolving_door(dossier, claim_id, claim, p),
        _wage_data(dossier, claim_id, claim),
    ]
    return [flag for flag in found if flag is not None]


def _application_before(claim: dict[str, Any], trajectory: dict[str, Any]) -> Flag | None:
    if claim["application_date"] < trajectory["start"]:
        return Flag(APPLICATION_BEFORE_TRAJECTORY,
                    f"applied on {claim['application_date']}, the trajectory began on {trajectory['start']}")
    return None


def _no_mediation(claim: dict[str, Any], trajectory: dict[str, Any]) -> Flag | None:
    if any(a["instrument"] in MEDIATION_INSTRUMENTS and a["on"] < claim["job_start"] for a in trajectory["activities"]):
        return None
    codes = ", ".join(str(i) for i in sorted(MEDIATION_INSTRUMENTS))
    return Flag(NO_MEDIATION, f"no activity with instrument {codes} before the job started on {claim['job_start']}")


def _secondment(claim: dict[str, Any]) -> Flag | None:
    if claim["secondment_via_provider"]:
        return Flag(SECONDMENT, "the client is seconded via the provider itself, not regular work")
    return None


def _short_contract(claim: dict[str, Any], p: str) -> Flag | None:
    start, contract_end, employment_end = claim["job_start"], claim["contract_end"], claim["employment_end"]
    if contract_end is not None and not lasts_six_months(start, contract_end):
        return Flag(SHORT_CONTRACT, f"the contract runs {start} .. {contract_end}")
    if employment_end is not None and employment_end <= p and not lasts_six_months(start, employment_end):
        return Flag(SHORT_CONTRACT, f"the employment from {start} ended on {employment_end}")
    return None


def _overlapping(dossier: DossierState, trajectory: dict[str, Any], p: str) -> Flag | None:
    end = dossier.period_end(trajectory)
    for other_id, other in dossier.trajectories.items():
        if other["funder"] == trajectory["funder"] or other["start"] > p:
            continue
        if overlaps(trajectory["start"], end, other["start"], dossier.period_end(other)):
            return Flag(OVERLAPPING_TRAJECTORIES,
                        f"trajectory {other_id} of {other['funder']} (provider {other['provider']}) "
                        f"runs {other['start']} .. {dossier.period_end(other)}")
    return None


def _revolving_door(dossier: DossierState, claim_id: str, claim: dict[str, Any], p: str) -> Flag | None:
    """Back on benefit within six months of the job start, or placed twice in a year; only
    a live claim (claimed or confirmed) is a placement."""
    if claim["status"] not in LIVE_CLAIM:
        return None
    start = claim["job_start"]
    six_months = add_months(start, 6)
    for benefit in sorted(dossier.benefits.values(), key=lambda b: b["start"]):
        if start < benefit["start"] <= min(six_months, p):
            return Flag(REVOLVING_DOOR, f"back on {benefit['benefit']} from {benefit['start']}, "
                                        f"within six months of the job start {start}")
    year_before, year_after = add_months(start, -12), add_months(start, 12)
    for other_id, other in sorted(dossier.claims.items(), key=lambda item: item[1]["job_start"]):
        if other_id == claim_id or other["status"] not in LIVE_CLAIM or other["job_start"] > p:
            continue
        if year_before < other["job_start"] < year_after:
            return Flag(REVOLVING_DOOR, f"placed twice in a year: also from {other['job_start']} "
                                        f"at {other['employer_kvk']} (claim {other_id})")
    return None


def _wage_data(dossier: DossierState, claim_id: str, claim: dict[str, Any]) -> Flag | None:
    """A confirmed claim that wage data has not verified, or that wage data contradicts (another
    employer, a shorter period, no income relationship at all): ``projections.verification``."""
    if claim["status"] != "confirmed":
        return None
    check = claim_verification(dossier, claim_id)
    if check.status == UNVERIFIED:
        return Flag(EMPLOYMENT_NOT_VERIFIED, "confirmed without wage data verifying the employment")
    if check.status in (CONTRADICTED, NOT_FOUND):
        return Flag(VERIFICATION_CONTRADICTS_CLAIM, check.detail)
    return None
