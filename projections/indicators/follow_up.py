"""Follow-up after the trajectory (the Haarlem audit note, seed 004: "a basic system where
clients answer a few questions twice a year is enough"; Haarlem reached 4%).

Every ended trajectory (not a declined referral) is followed up 6, 12 and 18 months after
its end. ``plan`` lists each moment: ``recorded``, ``upcoming`` (not due yet), ``due`` (due,
within ``GRACE_DAYS``) or ``overdue``. The indicators: moments due by the peildatum, recorded,
the response rate (clients reached over moments due), and among those reached the share in
work, the share who would have found the job without the trajectory, and mean satisfaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ledger.domain.dossier.follow_up import NO_ANSWER, NOT_REACHED, due_on
from ledger.domain.dossier.state import DossierState
from ledger.domain.payloads import FOLLOW_UP_MOMENTS
from projections.indicators.tally import Tally

AREA = "follow-up"
GRACE_DAYS = 56  # eight weeks to reach the client once a moment is due
IN_WORK = ("employed", "self-employed")


@dataclass(frozen=True, slots=True)
class PlannedFollowUp:
    client_ref: str
    trajectory_id: str
    funder: str
    provider: str
    follow_up_by: str  # the funder, or the provider it named
    ended: str
    moment: str
    due_on: str
    state: str  # recorded, upcoming, due, overdue
    status: str | None  # the recorded status


def moments(trajectory: dict[str, Any], p: str) -> Iterable[tuple[str, str, str, dict[str, Any] | None]]:
    """(moment, due date, state, record) for an ended trajectory; nothing for one that has not."""
    ended = trajectory["ended"]
    if ended is None or trajectory.get("declined") is not None or ended["end"] > p:
        return
    records = trajectory.get("follow_ups", {})
    for moment in FOLLOW_UP_MOMENTS:
        due = due_on(ended["end"], moment)
        record = records.get(moment)
        if record is not None and record["on"] <= p:
            state = "recorded"
        elif due.isoformat() > p:
            state = "upcoming"
        else:
            state = "due" if date.fromisoformat(p) <= due + timedelta(days=GRACE_DAYS) else "overdue"
        yield moment, due.isoformat(), state, record if state == "recorded" else None


def plan(dossiers: Iterable[tuple[str, DossierState]], p: str) -> list[PlannedFollowUp]:
    rows = []
    for client, dossier in dossiers:
        for trajectory_id, t in dossier.trajectories.items():
            for moment, due, state, record in moments(t, p):
                rows.append(PlannedFollowUp(client, trajectory_id, t["funder"], t["provider"],
                                            t.get("follow_up_by") or t["funder"], t["ended"]["end"], moment, due, state,
                                            None if record is None else record["status"]))
    return rows


def add_trajectory(tally: Tally, groups: Sequence[str], dossier: DossierState, trajectory_id: str, p: str) -> None:
    for moment, _, state, record in moments(dossier.trajectories[trajectory_id], p):
        if state == "upcoming":
            continue
        tally.add(groups, AREA, "recorded", moment, "moments due", int(state == "recorded"))
        tally.add(groups, AREA, "overdue", moment, "moments due", int(state == "overdue"))
        reached = record is not None and record["status"] != NOT_REACHED
        tally.add(groups, AREA, "response", moment, "moments due", int(reached))
        if record is None or not reached:
            continue
        tally.add(groups, AREA, "in-work", moment, "clients reached", int(record["status"] in IN_WORK))
        if record["found_without"] != NO_ANSWER:
            tally.add(groups, AREA, "would-have-found-without", moment, "answers", int(record["found_without"] == "yes"))
        if record["satisfaction"] is not None:
            tally.add(groups, AREA, "satisfaction", moment, "points per answer", record["satisfaction"])
