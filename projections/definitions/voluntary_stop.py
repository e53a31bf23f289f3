"""voluntary-stop: the client stopped the trajectory voluntarily and has had no benefit
since (Haarlem: 'zelf gestopt en sindsdien geen beroep op de bijstand').

'Since' is from the day after the recorded end through the peildatum.
"""

from __future__ import annotations

from projections.definitions.base import Verdict, failure, not_started, on_facts, pending, success
from projections.definitions.facts import TrajectoryFacts

NAME = "voluntary-stop"
VERSION = "1"
REASON = "voluntarily-stopped"


def decide(facts: TrajectoryFacts, p: str) -> Verdict:
    if facts.start > p:
        return not_started(facts)
    if facts.end_reason is None or facts.end > p:
        if facts.end <= p:
            return failure("not-stopped", f"the trajectory ran to its planned end {facts.planned_end}")
        return pending("trajectory-running", f"the trajectory runs until {facts.end}")
    if facts.end_reason != REASON:
        return failure("ended-" + facts.end_reason, f"the trajectory ended on {facts.end}: {facts.end_reason}")
    benefit_from = facts.benefit_from
    if benefit_from is not None and benefit_from <= p:
        return failure("benefit-since-stop",
                       f"{facts.benefit_kind} from {facts.benefit_start}, after the stop on {facts.end}")
    return success("stopped-no-benefit", f"stopped on {facts.end}, no benefit through {p}", facts.provider)


DEFINITION = on_facts(
    NAME, VERSION,
    "the client stopped voluntarily and has had no benefit since",
    decide,
)
judge = DEFINITION.judge
