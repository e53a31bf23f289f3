"""contract-6m-verified: version 2 of contract-6m, counting a placement only where wage data
verifies six months of it (issue 15).

As contract-6m (a confirmed, attributable placement with a contract of at least six
months), and the employment must be verified (``EmploymentVerified`` at the claimed
employer, ``projections.verification``) unbroken from the job start through six months.
Without such evidence the verdict stays pending (employment-not-verified,
verification-incomplete); where wage data finds no such employment or contradicts every
such placement, it fails (employment-not-found, verification-contradicts-claim).

Published under its own name, like six-month-rule-verified, so that contracts that named
contract-6m keep version 1 and their verdicts are never rewritten.
"""

from __future__ import annotations

from projections.definitions import contract_6m
from projections.definitions.base import Verdict, not_started, on_facts, success
from projections.definitions.facts import TrajectoryFacts
from projections.definitions.verified_outcome import covers, unverified_verdict

NAME = "contract-6m-verified"
VERSION = "2"


def decide(facts: TrajectoryFacts, p: str) -> Verdict:
    if facts.start > p:
        return not_started(facts)
    long_enough = [pl for pl in facts.placements if pl.job_start <= p and contract_6m.shortfall(pl, p) is None]
    for placement in long_enough:
        if covers(placement, placement.six_months_through):
            return success("verified-contract-six-months",
                           f"job at {placement.employer_kvk} from {placement.job_start} verified through "
                           f"{placement.verified_through}", placement.provider)
    base = contract_6m.decide(facts, p)
    if not long_enough:
        return base  # no placement of six months: version 1's verdict (pending or failure) stands
    return unverified_verdict(long_enough, long_enough[0].six_months_through)


DEFINITION = on_facts(
    NAME, VERSION,
    "contract-6m, version 2: six months of the placement verified by wage data",
    decide,
)
judge = DEFINITION.judge
