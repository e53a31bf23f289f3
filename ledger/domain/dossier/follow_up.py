"""Following clients up after their trajectory ended (issue 16, the Haarlem audit note).

``FollowUpRecorded`` at 6, 12 and 18 months after a trajectory ended: by its funder, or by
the provider the funder named when commissioning it (``follow_up_by``). Not before the
moment is due (the end plus that many months), once per moment, and a client who was not
reached gave no answers. Answers are on fixed scales: no free text, no names.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import TYPE_CHECKING, Any

from ledger.domain.dossier.state import DossierState
from ledger.domain.errors import AlreadyExists, DateInconsistent, InvalidTransition, NotFound, Refusal, RoleViolation
from ledger.domain.payloads import FOLLOW_UP_MOMENTS

if TYPE_CHECKING:
    from ledger.domain.dossier.rules import Context

NOT_REACHED = "not-reached"
NO_ANSWER = "no-answer"


def months_after(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's last day (08-31 + 6 = 02-28)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def due_on(ended: str, moment: str) -> date:
    """When a follow-up moment is due: the trajectory's end plus its months."""
    return months_after(date.fromisoformat(ended), FOLLOW_UP_MOMENTS[moment])


def follow_up(state: DossierState, p: dict[str, Any], ctx: Context) -> None:
    trajectory = state.trajectories.get(p["trajectory_id"])
    if trajectory is None:
        raise NotFound("no such trajectory for this client", field="payload.trajectory_id")
    allowed = {trajectory["funder"], trajectory.get("follow_up_by")} - {None}
    if ctx.submitter not in allowed:
        raise RoleViolation("only the trajectory's funder, or the provider it named to follow up, records a follow-up",
                            field="submitter")
    if trajectory["ended"] is None:
        raise InvalidTransition("a follow-up comes after the trajectory ended; it has not", field="payload.trajectory_id")
    due = due_on(trajectory["ended"]["end"], p["moment"])
    if date.fromisoformat(p["occurred_on"]) < due:
        raise DateInconsistent(f"the {p['moment']} follow-up is due on {due.isoformat()}, not before",
                               rule="dates.follow-up-early", field="payload.occurred_on")
    if p["moment"] in trajectory.get("follow_ups", {}):
        raise AlreadyExists(f"the {p['moment']} follow-up was recorded already", field="payload.moment")
    if p["status"] == NOT_REACHED and (p["found_without"] != NO_ANSWER or p["satisfaction"] is not None):
        raise Refusal("a client who was not reached gave no answers: found_without 'no-answer', satisfaction null",
                      rule="follow-up.answers-without-contact", field="payload.found_without")
