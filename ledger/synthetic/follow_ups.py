"""After a client's story, with a behaviour (issue 16): the follow-ups of every ended trajectory
at 6, 12 and 18 months, and the placements made at a vacancy another provider brought.

Follow-ups are recorded by the funder (or the provider its contract named) within six weeks
of each moment, when the client is reached with ``follow_up_response``; a client in a job the
ledger knows to be running says so, others answer as people leaving benefit do. Each draw
comes from a generator seeded by the trajectory's or the claim's id, so the rest of the
history is unchanged.
"""

from __future__ import annotations

import random
import uuid
from datetime import date

from ledger.synthetic.behaviour import Behaviour
from ledger.synthetic.dates import LAST_DAY, add_months, days
from ledger.synthetic.parties import CONTRACTED
from ledger.synthetic.story import Claim, Story, Trajectory

MOMENTS = {"6-months": 6, "12-months": 12, "18-months": 18}
OTHER_STATUSES, OTHER_WEIGHTS = ("on-benefit", "employed", "self-employed", "in-education", "other"), (45, 20, 5, 10, 20)
SHARES = (25, 50, 50, 75)  # the partner's share of the fee, percent


def after_story(s: Story, behaviour: Behaviour) -> None:
    for t in s.trajectories:
        if t.ended is not None:
            _follow_up(s, t, behaviour, random.Random(f"follow-up:{t.id}"))
    for claim in s.claims:
        if claim.status == "confirmed":
            _cooperation(s, claim, behaviour, random.Random(f"cooperation:{claim.id}"))


def _working(s: Story, t: Trajectory, day: date) -> bool:
    return any(c.trajectory is t and c.status == "confirmed" and c.job_start <= day
               and all(end is None or day <= end for end in (c.employment_end, c.contract_end)) for c in s.claims)


def _follow_up(s: Story, t: Trajectory, behaviour: Behaviour, rng: random.Random) -> None:
    if t.ended is None:
        return
    for moment, months in MOMENTS.items():
        on = add_months(t.ended, months) + days(rng.randint(0, 42))
        if on > LAST_DAY:
            return
        if rng.random() >= behaviour.follow_up_kept:
            continue
        if rng.random() < behaviour.follow_up_response:
            working = _working(s, t, on) and rng.random() < 0.9
            status = "employed" if working else rng.choices(OTHER_STATUSES, OTHER_WEIGHTS)[0]
            found = rng.choices(("yes", "maybe", "no"), behaviour.found_without)[0]
            satisfaction: int | None = rng.choices(range(1, 6), behaviour.satisfaction)[0]
        else:
            status, found, satisfaction = "not-reached", "no-answer", None
        s.emit(on, t.follow_up_by or t.funder, "FollowUpRecorded", {
            "trajectory_id": t.id, "moment": moment, "status": status, "found_without": found,
            "satisfaction": satisfaction,
        }, envelope_id=_id(rng))


def _cooperation(s: Story, claim: Claim, behaviour: Behaviour, rng: random.Random) -> None:
    if rng.random() >= behaviour.cooperation:
        return
    t = claim.trajectory
    partners = [p for p in CONTRACTED[t.funder] if p != t.provider]
    s.emit(claim.on, t.provider, "PlacementCooperation", {
        "claim_id": claim.id, "partner": rng.choice(partners), "partner_share_percent": rng.choice(SHARES),
    }, envelope_id=_id(rng))


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
