"""employed-q2: a worked example of a plugin definition (not built in).

Success means: on the last day of the second calendar quarter after the quarter in which
the trajectory ended, the client was employed in a job attributable to the trajectory - a
confirmed claim whose application started after the trajectory began, still running on
that day (no recorded end of employment or contract before it). The measurement style
follows quarterly labour statistics: one reference day per quarter.

Register it through ``pyproject.toml``::

    [project.entry-points."trajectledger.definitions"]
    employed-q2 = "projections.examples.employed_q2:DEFINITION"

or, in a test, ``DefinitionRegistry().register(DEFINITION)``.
"""

from __future__ import annotations

from datetime import date

from ledger.domain.dossier.state import DossierState
from projections.definitions.base import Definition, Verdict, failure, pending, success
from projections.definitions.facts import Record, attributable
from projections.periods import quarter_end

NAME = "employed-q2"
VERSION = "1"


def employed_on(claim: Record, day: str) -> bool:
    last = claim["employment_end"] or claim["contract_end"]
    return bool(claim["job_start"] <= day and (last is None or last >= day))


def judge(dossier: DossierState, trajectory_id: str, peildatum: date) -> Verdict:
    p = peildatum.isoformat()
    trajectory = dossier.trajectories[trajectory_id]
    if trajectory["start"] > p:
        return pending("not-started", f"the trajectory starts on {trajectory['start']}")
    end = dossier.period_end(trajectory)
    if end > p:
        return pending("trajectory-running", f"the trajectory runs until {end}")
    reference = quarter_end(end, 2)
    if reference > p:
        return pending("quarter-not-over", f"the reference day is {reference}")
    for claim in dossier.claims.values():
        if (claim["trajectory_id"] == trajectory_id and claim["status"] == "confirmed"
                and attributable(claim, trajectory) and employed_on(claim, reference)):
            return success("employed-on-reference-day", f"job at {claim['employer_kvk']} on {reference}",
                           claim["provider"])
    return failure("not-employed-on-reference-day", f"no attributable job running on {reference}")


DEFINITION = Definition(
    NAME, VERSION,
    "employed in an attributable job at the end of the second quarter after the trajectory ended",
    judge,
)
