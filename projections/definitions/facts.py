"""What the built-in definitions need to know about one trajectory, read from its dossier
once, independent of the peildatum: ``trajectory_facts(dossier, trajectory_id)``.

Each built-in definition is ``decide(facts, peildatum)``; its ``judge(dossier, trajectory_id,
peildatum)`` is that applied to these facts, so there is one implementation, and the read
models can store the facts per trajectory and judge a hundred thousand trajectories without
loading a single dossier. The facts keep every date a peildatum can fall before or after:
a fact counts at peildatum P only if its own date (job start, benefit start, assessment day)
is on or before P. A claim's status is the one known (``as_known_at``): confirming a job is
knowledge about the job, not the job.

Dates are ISO strings (they compare in date order). Bump ``FACTS_VERSION`` whenever what is
extracted changes: stored facts must then be rebuilt.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ledger.domain.dossier.state import LIVE_CLAIM, DossierState
from projections.periods import add_months, next_day, six_months_through
from projections.verification import UNVERIFIED, Period, claim_verification

FACTS_VERSION = "3"  # 2: a claim applied for before the start is never awaiting, even undecided; 3: wage data
Record = dict[str, Any]


class Placement(NamedTuple):
    """A confirmed claim whose application started after the trajectory began."""

    job_start: str
    employer_kvk: str
    provider: str
    contract_end: str | None
    employment_end: str | None
    six_months_through: str  # the last day a job of six months from job_start must reach
    secondment: bool = False  # via the provider itself
    verification: str = UNVERIFIED  # what wage data says (``projections.verification``)
    verified_through: str | None = None  # the unbroken verified stretch from the job start ends here
    verified: tuple[Period, ...] = ()  # the verified periods at the claimed employer (read back from JSON as lists)


class TrajectoryFacts(NamedTuple):
    trajectory_id: str
    provider: str
    start: str
    planned_end: str
    end: str  # the last day: the recorded end, else the planned end
    end_reason: str | None  # None until the end is recorded
    window_end: str  # six calendar months after ``end``
    intake_rung: int | None
    intake_on: str | None
    intake_rubric: str | None
    step_up_on: str | None  # the first assessment during the trajectory above the intake rung
    step_up_rung: int | None
    step_up_rubric: str | None
    highest_rung: int | None  # the highest assessed during the trajectory
    benefit_start: str | None  # the earliest-starting benefit still running the day after ``end``
    benefit_kind: str | None
    benefit_from: str | None  # the first day after ``end`` with a benefit: that one's start, or the day after
    regular_job_start: str | None  # the earliest confirmed, attributable claim that is no secondment
    regular_job_kvk: str | None
    regular_job_provider: str | None
    awaiting_job_start: str | None  # the earliest attributable claim still awaiting its funder's decision
    unattributable_job_start: str | None  # the earliest live claim (decided or not) applied for before the start
    seconded_job_start: str | None  # the earliest confirmed, attributable secondment via the provider
    placements: tuple[Placement, ...]  # confirmed, attributable claims by job start (secondments too)


def attributable(claim: Record, trajectory: Record) -> bool:
    """A job counts for a trajectory only if the application started after it began."""
    return bool(claim["application_date"] >= trajectory["start"])


def _earliest(claims: list[Record]) -> Record | None:
    return min(claims, key=lambda c: c["job_start"]) if claims else None


def _placement(dossier: DossierState, claim_id: str) -> Placement:
    """A counted claim, with what wage data says about it."""
    c = dossier.claims[claim_id]
    start = c["job_start"]
    through = six_months_through(start)
    if not dossier.evidence:  # the common case: no wage data in this dossier at all
        return Placement(start, c["employer_kvk"], c["provider"], c["contract_end"], c["employment_end"], through,
                         c["secondment_via_provider"])
    v = claim_verification(dossier, claim_id)
    return Placement(start, c["employer_kvk"], c["provider"], c["contract_end"], c["employment_end"], through,
                     c["secondment_via_provider"], v.status, v.verified_through, v.periods)


def trajectory_facts(dossier: DossierState, trajectory_id: str) -> TrajectoryFacts:
    t = dossier.trajectories[trajectory_id]
    start = t["start"]
    ended = t["ended"]
    end = str(ended["end"]) if ended else str(t["planned_end"])

    intake = t["intake"]
    during = [a for a in t["assessments"] if start <= a["on"] <= end]
    up = [a for a in during if intake is not None and a["rung"] > intake["rung"]]
    step = min(up, key=lambda a: a["on"]) if up else None

    after = next_day(end)
    running = [b for b in dossier.benefits.values() if b["end"] is None or b["end"] >= after]
    benefit = min(running, key=lambda b: b["start"]) if running else None

    # Attribution first: a claim applied for before the start can never count for this
    # trajectory, whatever its funder decides, so it is never awaited.
    claims = [c for c in dossier.claims.values() if c["trajectory_id"] == trajectory_id]
    attributed = [c for c in claims if attributable(c, t)]
    counted = sorted((c for c in attributed if c["status"] == "confirmed"), key=lambda c: c["job_start"])
    regular = _earliest([c for c in counted if not c["secondment_via_provider"]])
    awaiting = _earliest([c for c in attributed if c["status"] == "claimed"])
    unattributable = _earliest([c for c in claims if c["status"] in LIVE_CLAIM and not attributable(c, t)])
    seconded = _earliest([c for c in counted if c["secondment_via_provider"]])

    return TrajectoryFacts(
        trajectory_id, t["provider"], start, t["planned_end"], end, ended["reason"] if ended else None,
        add_months(end, 6),
        intake["rung"] if intake else None, intake["on"] if intake else None,
        intake["rubric_version"] if intake else None,
        step["on"] if step else None, step["rung"] if step else None, step["rubric_version"] if step else None,
        max((a["rung"] for a in during), default=None),
        benefit["start"] if benefit else None, benefit["benefit"] if benefit else None,
        max(benefit["start"], after) if benefit else None,
        regular["job_start"] if regular else None, regular["employer_kvk"] if regular else None,
        regular["provider"] if regular else None,
        awaiting["job_start"] if awaiting else None,
        unattributable["job_start"] if unattributable else None,
        seconded["job_start"] if seconded else None,
        tuple(_placement(dossier, claim_id) for claim_id in sorted(
            (cid for cid, c in dossier.claims.items()
             if c["trajectory_id"] == trajectory_id and c["status"] == "confirmed" and attributable(c, t)),
            key=lambda cid: dossier.claims[cid]["job_start"])),
    )
