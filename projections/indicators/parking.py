"""Parking: a trajectory formally runs, but nothing is done (Koning, seed 003).

From the intake to the end of the window - the trajectory's end (or planned end), the first
job start on it, or the peildatum, whichever comes first - a day is parked when the last
activity (an ``ActivityRecorded`` instrument; the intake counts as the first) was more than
``weeks`` weeks before it. Per trajectory: whether it had a parked day, its parked days over its
days, and for those placed the days from intake to the job. All by the rung at intake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ledger.domain.dossier.state import LIVE_CLAIM, DossierState
from projections.indicators.tally import Tally

AREA = "parking"
DEFAULT_WEEKS = 8


@dataclass(frozen=True, slots=True)
class Parking:
    days: int  # the days of the window, intake and last day included
    parked_days: int
    days_to_job: int | None  # intake to the first job start, for a placed trajectory


def _days(a: str, b: str) -> int:
    return (date.fromisoformat(b) - date.fromisoformat(a)).days


def parking(dossier: DossierState, trajectory_id: str, p: str, weeks: int = DEFAULT_WEEKS) -> Parking | None:
    """None before the intake (or without one)."""
    t = dossier.trajectories[trajectory_id]
    intake = t["intake"]
    if intake is None or intake["on"] > p:
        return None
    jobs = sorted(c["job_start"] for c in dossier.claims.values()
                  if c["trajectory_id"] == trajectory_id and c["status"] in LIVE_CLAIM and c["job_start"] >= intake["on"])
    job = jobs[0] if jobs and jobs[0] <= p else None
    end = min(dossier.period_end(t), p, *([job] if job else []))
    limit = 7 * weeks
    last, parked = intake["on"], 0
    for day in sorted({a["on"] for a in t["activities"] if intake["on"] < a["on"] <= end}):
        parked += max(0, _days(last, day) - limit - 1)  # days strictly between, more than the limit after the last
        last = day
    parked += max(0, _days(last, end) - limit)  # through the window's last day
    return Parking(_days(intake["on"], end) + 1, parked, None if job is None else _days(intake["on"], job))


def add_trajectory(tally: Tally, groups: Sequence[str], dossier: DossierState, trajectory_id: str, p: str,
                   weeks: int = DEFAULT_WEEKS) -> None:
    found = parking(dossier, trajectory_id, p, weeks)
    if found is None:
        return
    rung = f"intake-rung-{dossier.trajectories[trajectory_id]['intake']['rung']}"
    for slice_ in ("all", rung):
        tally.add(groups, AREA, f"parked-{weeks}w", slice_, "trajectories", int(found.parked_days > 0))
        tally.add(groups, AREA, "parked-time", slice_, "trajectory days", found.parked_days, found.days)
        if found.days_to_job is not None:
            tally.add(groups, AREA, "days-intake-to-job", slice_, "days per placed", found.days_to_job)
