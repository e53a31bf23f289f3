"""six-month-rule-verified: version 2 of six-month-rule, counting a job only where wage data
verifies it (issue 15).

As six-month-rule (a regular, attributable job and no benefit in the six months after the
trajectory), and the job must be verified employment (``EmploymentVerified`` at the claimed
employer, ``projections.verification``) unbroken from the job start through the end of
those six months. Without such evidence the verdict stays pending (employment-not-verified,
verification-incomplete); where wage data finds no such employment or contradicts the claim
for every regular job, it fails (employment-not-found, verification-contradicts-claim).

It is published under its own name so that every contract that named six-month-rule keeps
being judged by version 1: a commission names a definition, and a name never changes what
it means. Verdicts under six-month-rule are never rewritten.
"""

from __future__ import annotations

from projections.definitions import six_month_rule
from projections.definitions.base import FAILURE, SUCCESS, Verdict, on_facts, success
from projections.definitions.facts import TrajectoryFacts
from projections.definitions.verified_outcome import covers, still_open, unverified_verdict

NAME = "six-month-rule-verified"
VERSION = "2"
WAITING = ("not-started", "trajectory-running", "claim-awaiting-decision")


def decide(facts: TrajectoryFacts, p: str) -> Verdict:
    base = six_month_rule.decide(facts, p)
    if base.outcome == FAILURE or base.reason in WAITING:
        return base
    # a regular job exists and no benefit has failed the six months: so far (pending) or through their end
    regular = [pl for pl in facts.placements if not pl.secondment and pl.job_start <= p]
    window_end = facts.window_end
    if base.outcome == SUCCESS:
        for placement in regular:
            if covers(placement, window_end):
                return success("verified-job-no-benefit",
                               f"job at {placement.employer_kvk} from {placement.job_start} verified through "
                               f"{placement.verified_through}, no benefit through {window_end}", placement.provider)
        return unverified_verdict(regular, window_end)
    if not any(still_open(pl) for pl in regular):
        return unverified_verdict(regular, window_end)  # wage data refutes every regular job already
    return base


DEFINITION = on_facts(
    NAME, VERSION,
    "six-month-rule, version 2: the job verified by wage data through the six months after the trajectory",
    decide,
)
judge = DEFINITION.judge
