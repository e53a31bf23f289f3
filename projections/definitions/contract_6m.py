"""contract-6m: a confirmed, attributable placement with an employment contract of at
least six months (UWV paid per contract of at least six months).

No contract end means indefinite, which counts. A contract that ends before six months
fails, and so does employment that ended before six months (once that end has come).
A secondment via the provider is an employment contract too; it is flagged, not excluded.
A claim awaiting its funder's decision keeps the verdict pending only if it is attributable.
"""

from __future__ import annotations

from projections.definitions.base import Verdict, failure, not_started, on_facts, pending, success
from projections.definitions.facts import Placement, TrajectoryFacts

NAME = "contract-6m"
VERSION = "1"


def shortfall(placement: Placement, p: str) -> str | None:
    """Why a placement falls short of six months at ``p``, or None if it does not."""
    start, contract_end, employment_end = placement.job_start, placement.contract_end, placement.employment_end
    through = placement.six_months_through
    if contract_end is not None and contract_end < through:
        return f"the contract runs {start} .. {contract_end}"
    if employment_end is not None and employment_end <= p and employment_end < through:
        return f"the employment from {start} ended on {employment_end}"
    return None


def decide(facts: TrajectoryFacts, p: str) -> Verdict:
    if facts.start > p:
        return not_started(facts)
    short = []
    for placement in facts.placements:
        if placement.job_start > p:
            break
        why = shortfall(placement, p)
        if why is None:
            term = "indefinite" if placement.contract_end is None else f"until {placement.contract_end}"
            return success("contract-six-months", f"job at {placement.employer_kvk} from {placement.job_start}, {term}",
                           placement.provider)
        short.append(why)
    if facts.awaiting_job_start is not None and facts.awaiting_job_start <= p:
        return pending("claim-awaiting-decision", "a placement claim awaits the funder's decision")
    if short:
        return failure("under-six-months", "; ".join(short))
    if facts.end > p:
        return pending("trajectory-running", f"the trajectory runs until {facts.end}")
    if facts.unattributable_job_start is not None and facts.unattributable_job_start <= p:
        return failure("job-not-attributable", "the application started before the trajectory")
    return failure("no-confirmed-placement", "no confirmed placement")


DEFINITION = on_facts(
    NAME, VERSION,
    "a confirmed placement with an employment contract of at least six months",
    decide,
)
judge = DEFINITION.judge
