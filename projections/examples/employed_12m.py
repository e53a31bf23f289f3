"""employed-12m: a worked example of a definition that reads the follow-up (issue 16; not built in).

Success means: at the follow-up 12 months after the trajectory ended (``FollowUpRecorded``,
moment ``12-months``), the client said she was employed or self-employed. Any other status
recorded is a failure. Until that follow-up is recorded - or when the client was not reached -
the verdict stays pending: the definition does not guess. The follow-ups sit on the trajectory
in the dossier (``trajectory["follow_ups"][moment]``: status, found_without, satisfaction, on, by).

Not registered by this project (every installed definition is compared by default); an audit
office registers it through its own package's entry point, or in Python::

    registry = DefinitionRegistry()
    registry.register(DEFINITION)
"""

from __future__ import annotations

from datetime import date

from ledger.domain.dossier.state import DossierState
from projections.definitions.base import Definition, Verdict, failure, pending, success

NAME = "employed-12m"
VERSION = "1"
MOMENT = "12-months"
IN_WORK = ("employed", "self-employed")


def judge(dossier: DossierState, trajectory_id: str, peildatum: date) -> Verdict:
    trajectory = dossier.trajectories[trajectory_id]
    ended = trajectory["ended"]
    if ended is None or ended["end"] > peildatum.isoformat():
        return pending("trajectory-running", "the trajectory has not ended")
    record = trajectory.get("follow_ups", {}).get(MOMENT)
    if record is None or record["on"] > peildatum.isoformat():
        return pending("no-follow-up-yet", f"no {MOMENT} follow-up recorded by {peildatum.isoformat()}")
    if record["status"] == "not-reached":
        return pending("not-reached", f"the client was not reached on {record['on']}")
    if record["status"] in IN_WORK:
        return success("in-work-at-12-months", f"{record['status']} at the follow-up on {record['on']}",
                       trajectory["provider"])
    return failure("not-in-work-at-12-months", f"{record['status']} at the follow-up on {record['on']}")


DEFINITION = Definition(NAME, VERSION, "employed or self-employed at the follow-up 12 months after the trajectory", judge)
