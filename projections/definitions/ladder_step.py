"""ladder-step: the highest rung reached during the trajectory is above the rung at intake
(Haarlem from 2009: 'een trede hoger op de re-integratieladder').

Success as soon as an assessment during the trajectory (on or before the peildatum) is
above the intake rung; failure once the trajectory is over without one; else pending.
Once the trajectory is over, the explanation names the highest rung reached during it;
while it runs, the first rung above intake (later assessments may be after the peildatum).
"""

from __future__ import annotations

from projections.definitions.base import Verdict, failure, not_started, on_facts, pending, success
from projections.definitions.facts import TrajectoryFacts

NAME = "ladder-step"
VERSION = "1"


def rung_up_detail(facts: TrajectoryFacts, over: bool) -> str:
    first = f"{facts.step_up_rung} on {facts.step_up_on} (rubric {facts.intake_rubric} / {facts.step_up_rubric})"
    if over:  # every assessment during the trajectory is on or before the peildatum
        return (f"rung {facts.intake_rung} at intake, highest during the trajectory {facts.highest_rung}; "
                f"first above intake: {first}")
    return f"rung {facts.intake_rung} at intake, {first}; the trajectory runs until {facts.end}"


def decide(facts: TrajectoryFacts, p: str) -> Verdict:
    if facts.start > p:
        return not_started(facts)
    over = facts.end <= p
    if facts.intake_on is None or facts.intake_on > p:
        if over:
            return failure("no-intake-rung", "no intake rung was recorded")
        return pending("no-intake-yet", "no intake rung recorded yet")
    if facts.step_up_on is not None and facts.step_up_on <= p:
        return success("rung-up", rung_up_detail(facts, over), facts.provider)
    if over:
        highest = facts.intake_rung if facts.highest_rung is None else facts.highest_rung
        return failure("no-rung-up", f"rung {facts.intake_rung} at intake, highest during the trajectory {highest}")
    return pending("trajectory-running", f"rung {facts.intake_rung} at intake, none higher yet")


DEFINITION = on_facts(
    NAME, VERSION,
    "the highest rung reached during the trajectory is above the rung at intake",
    decide,
)
judge = DEFINITION.judge
