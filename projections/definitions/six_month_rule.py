"""six-month-rule: a regular job attributable to the trajectory, and no benefit at any
time in the six months after the trajectory ended (Haarlem's original 'duurzame uitstroom').

Regular job: a confirmed claim on this trajectory whose application started after the
trajectory began and which is not a secondment via the provider itself. The window is the
day after the trajectory's last day through six calendar months later; until the peildatum
reaches the window's end the verdict is pending, unless a benefit in it has failed it already.
A claim awaiting its funder's decision keeps the verdict pending only if it is attributable:
one applied for before the trajectory began can never count (job-not-attributable).
"""

from __future__ import annotations

from projections.definitions.base import Verdict, failure, not_started, on_facts, pending, success
from projections.definitions.facts import TrajectoryFacts

NAME = "six-month-rule"
VERSION = "1"


def decide(facts: TrajectoryFacts, p: str) -> Verdict:
    if facts.start > p:
        return not_started(facts)
    if facts.end > p:
        return pending("trajectory-running", f"the trajectory runs until {facts.end}")
    job = facts.regular_job_start
    if job is None or job > p:
        if facts.awaiting_job_start is not None and facts.awaiting_job_start <= p:
            return pending("claim-awaiting-decision", "a placement claim awaits the funder's decision")
        if facts.unattributable_job_start is not None and facts.unattributable_job_start <= p:
            return failure("job-not-attributable", "the application started before the trajectory")
        if facts.seconded_job_start is not None and facts.seconded_job_start <= p:
            return failure("secondment-via-provider", "the only job is a secondment via the provider itself")
        return failure("no-regular-job", "no confirmed placement")
    window_end = facts.window_end
    benefit_from = facts.benefit_from
    if benefit_from is not None and benefit_from <= window_end and benefit_from <= p:
        return failure(
            "benefit-within-six-months",
            f"{facts.benefit_kind} from {facts.benefit_start}, within six months after the end on {facts.end}",
        )
    if window_end > p:
        return pending("six-months-not-over", f"no benefit so far; the six months end on {window_end}")
    return success(
        "regular-job-no-benefit",
        f"job at {facts.regular_job_kvk} from {job}, no benefit through {window_end}",
        str(facts.regular_job_provider),
    )


DEFINITION = on_facts(
    NAME, VERSION,
    "a regular job attributable to the trajectory and no benefit in the six months after it ended",
    decide,
)
judge = DEFINITION.judge
