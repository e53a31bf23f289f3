"""A provider declines a funder's referral before intake (issue 16).

``ReferralDeclined`` is signed by the trajectory's provider, before any intake, on a
trajectory not yet ended, on or after the day it was commissioned. A declined referral is
closed: nothing more is written to it (``rules._trajectory`` refuses), and the indicators
count it against the rung the funder referred the client at (``referral_rung``).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from ledger.domain.dossier.state import DossierState
from ledger.domain.errors import AlreadyExists, DateInconsistent, InvalidTransition, NotFound, RoleViolation

if TYPE_CHECKING:
    from ledger.domain.dossier.rules import Context


def declined(trajectory: dict[str, Any]) -> bool:
    return trajectory.get("declined") is not None


def decline(state: DossierState, p: dict[str, Any], ctx: Context) -> None:
    trajectory = state.trajectories.get(p["trajectory_id"])
    if trajectory is None:
        raise NotFound("no such trajectory for this client", field="payload.trajectory_id")
    if ctx.submitter != trajectory["provider"]:
        raise RoleViolation("only the trajectory's provider declines its referral", field="submitter")
    if declined(trajectory):
        raise AlreadyExists("the referral was declined already", field="payload.trajectory_id")
    if trajectory["intake"] is not None:
        raise InvalidTransition("a referral is declined before intake; this one had its intake",
                                rule="referral.after-intake", field="payload.trajectory_id")
    if trajectory["ended"] is not None:
        raise InvalidTransition("the trajectory has ended", field="payload.trajectory_id")
    if date.fromisoformat(p["occurred_on"]) < date.fromisoformat(trajectory["commissioned_on"]):
        raise DateInconsistent(f"declined on {p['occurred_on']}, before the referral on {trajectory['commissioned_on']}",
                               rule="dates.before-referral", field="payload.occurred_on")
