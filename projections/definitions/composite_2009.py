"""composite-2009: any of six-month-rule, ladder-step, voluntary-stop (Haarlem's broader
definition from 2009). Success if any component succeeds (credited to the first that
does, in that order), pending if none does but one is pending, failure otherwise."""

from __future__ import annotations

from collections.abc import Mapping

from projections.definitions import ladder_step, six_month_rule, voluntary_stop
from projections.definitions.base import FAILURE, PENDING, SUCCESS, Verdict, on_facts
from projections.definitions.facts import TrajectoryFacts

NAME = "composite-2009"
VERSION = "1"
COMPONENTS = (six_month_rule.DEFINITION, ladder_step.DEFINITION, voluntary_stop.DEFINITION)
COMPONENT_NAMES = tuple(d.name for d in COMPONENTS)
_DECIDERS = tuple((d.name, d.decide) for d in COMPONENTS)


SIX, LADDER, STOP = COMPONENT_NAMES


def combine(verdicts: Mapping[str, Verdict]) -> Verdict:
    six, ladder, stop = verdicts[SIX], verdicts[LADDER], verdicts[STOP]
    detail = (f"{SIX}: {six.outcome} ({six.reason}); {LADDER}: {ladder.outcome} ({ladder.reason}); "
              f"{STOP}: {stop.outcome} ({stop.reason})")
    for name, verdict in ((SIX, six), (LADDER, ladder), (STOP, stop)):
        if verdict.outcome == SUCCESS:
            return Verdict(SUCCESS, "via-" + name, detail, verdict.credited_provider)
    if PENDING in (six.outcome, ladder.outcome, stop.outcome):
        return Verdict(PENDING, "components-pending", detail)
    return Verdict(FAILURE, "no-component-succeeded", detail)


def decide(facts: TrajectoryFacts, p: str) -> Verdict:
    return combine({name: component(facts, p) for name, component in _DECIDERS})  # type: ignore[misc]


DEFINITION = on_facts(
    NAME, VERSION,
    "any of six-month-rule, ladder-step, voluntary-stop",
    decide,
    components=COMPONENT_NAMES,
    combine=combine,
)
judge = DEFINITION.judge
