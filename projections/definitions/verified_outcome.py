"""What wage data makes of a placement for the definitions that require verified employment
(``six-month-rule-verified``, ``contract-6m-verified``): counted, awaited, or refuted."""

from __future__ import annotations

from collections.abc import Sequence

from projections.definitions.base import Verdict, failure, pending
from projections.definitions.facts import Placement
from projections.verification import CONTRADICTED, NOT_FOUND, UNVERIFIED, VERIFIED

EMPLOYMENT_NOT_VERIFIED = "employment-not-verified"
VERIFICATION_INCOMPLETE = "verification-incomplete"
VERIFICATION_CONTRADICTS_CLAIM = "verification-contradicts-claim"
EMPLOYMENT_NOT_FOUND = "employment-not-found"


def covers(placement: Placement, through: str) -> bool:
    """Verified employment at the claimed employer runs unbroken from the job start through ``through``."""
    return placement.verification == VERIFIED and placement.verified_through is not None \
        and placement.verified_through >= through


def still_open(placement: Placement) -> bool:
    """Wage data may yet verify it: nothing recorded, or verified so far without a contradiction."""
    return placement.verification in (UNVERIFIED, VERIFIED)


def unverified_verdict(placements: Sequence[Placement], through: str) -> Verdict:
    """The verdict when no placement is verified through ``through``: pending while one may yet
    be, else a failure naming what the wage data showed."""
    waiting = [pl for pl in placements if still_open(pl)]
    if any(pl.verification == VERIFIED for pl in waiting):
        pl = next(pl for pl in waiting if pl.verification == VERIFIED)
        return pending(VERIFICATION_INCOMPLETE, f"employment at {pl.employer_kvk} verified through "
                                                f"{pl.verified_through}; it must be through {through}")
    if waiting:
        pl = waiting[0]
        return pending(EMPLOYMENT_NOT_VERIFIED, f"no wage data yet for the job at {pl.employer_kvk} from {pl.job_start}")
    refuted = [pl for pl in placements if pl.verification == CONTRADICTED]
    if refuted:
        pl = refuted[0]
        return failure(VERIFICATION_CONTRADICTS_CLAIM,
                       f"wage data contradicts the job at {pl.employer_kvk} from {pl.job_start}")
    missing = [pl for pl in placements if pl.verification == NOT_FOUND]
    where = ", ".join(f"{pl.employer_kvk} from {pl.job_start}" for pl in missing)
    return failure(EMPLOYMENT_NOT_FOUND, f"wage data shows no employment: {where}")
