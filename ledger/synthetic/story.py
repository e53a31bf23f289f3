"""One client's facts as the generator writes them: the payloads, who signs each, and the
verdict the ledger should give.

``Story`` knows the payload shapes (``ledger.domain.payloads``) and keeps just enough of the
client's dossier (trajectories, claims, open benefits) for the scenarios to stay consistent.
It does not ask the ledger's rules for verdicts: the scenarios state them, and the tests
check the ledger agrees.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.domain.payloads import MEDIATION_INSTRUMENTS
from ledger.synthetic import behaviour as incentives
from ledger.synthetic.dates import LAST_DAY, add_months, between, days, iso
from ledger.synthetic.parties import BENEFITS_OF, CONTRACTED, MUNICIPALITY, UWV

GENERAL_INSTRUMENTS = tuple(i for i in range(1, 35) if i not in MEDIATION_INSTRUMENTS)
MEDIATION = tuple(sorted(MEDIATION_INSTRUMENTS))
INTAKE_RUNGS, INTAKE_WEIGHTS = (1, 2, 3, 4, 5), (5, 20, 35, 30, 10)
REJECTION_REASONS = ("no-evidence", "not-attributable", "job-not-verified", "contract-too-short")


@dataclass(slots=True)
class Planned:
    """A payload not yet signed: ``on`` (its occurred_on) orders the submissions."""

    on: date
    submitter: str
    payload: dict[str, Any]
    rule: str | None  # None: to be accepted; else the rule of the expected refusal
    tags: tuple[str, ...]


@dataclass(slots=True)
class Trajectory:
    id: str
    funder: str
    provider: str
    start: date
    planned_end: date
    contract: str = ""
    draws: incentives.Draws | None = None  # with a behaviour (issue 16)
    ended: date | None = None  # once TrajectoryEnded is written
    follow_up_by: str | None = None


@dataclass(slots=True)
class Claim:
    id: str
    trajectory: Trajectory
    employer_kvk: str
    application: date
    job_start: date
    contract_end: date | None
    on: date
    status: str = "claimed"  # as the ledger will see it once this story is submitted
    decided_on: date | None = None
    employment_end: date | None = None  # once EmploymentEnded is written


@dataclass(slots=True)
class Benefit:
    id: str
    funder: str
    kind: str
    start: date


@dataclass(frozen=True)
class World:
    """What every story shares: the employers of the region."""

    employers: tuple[str, ...]


@dataclass
class Story:
    rng: random.Random
    client_ref: str
    world: World
    events: list[Planned] = field(default_factory=list)
    open_benefits: list[Benefit] = field(default_factory=list)
    employers_used: set[str] = field(default_factory=set)
    behaviour: incentives.Behaviour | None = None  # incentive behaviours (issue 16); None: none planted
    trajectories: list[Trajectory] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)  # the accepted claims, for what follows them (wage data)

    # --- plumbing ---------------------------------------------------------------------

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def emit(self, on: date, submitter: str, kind: str, fields: dict[str, Any],
             rule: str | None = None, tags: tuple[str, ...] = (), envelope_id: str | None = None) -> None:
        """Write one fact, unless it happens after the horizon (then neither it nor anything
        that depends on it - which always happens later - is written)."""
        envelope_id = envelope_id or self.new_id()
        if on > LAST_DAY:
            return
        payload = {"envelope_id": envelope_id, "type": kind, "occurred_on": iso(on), "client_ref": self.client_ref}
        payload.update(fields)
        self.events.append(Planned(on, submitter, payload, rule, tags))

    def benefit_kind(self, funder: str) -> str:
        kinds = BENEFITS_OF[funder]
        return kinds[0] if len(kinds) == 1 else self.rng.choices(kinds, (70, 15, 15))[0]

    def provider_for(self, funder: str, other_than: str | None = None) -> str:
        return self.rng.choice([p for p in CONTRACTED[funder] if p != other_than])

    def fresh_employer(self) -> str:
        """An employer this client never had a claim at, so ordinary claims never collide."""
        while True:
            kvk = self.rng.choice(self.world.employers)
            if kvk not in self.employers_used:
                self.employers_used.add(kvk)
                return kvk

    # --- benefits ---------------------------------------------------------------------

    def start_benefit(self, funder: str, kind: str, start: date, tags: tuple[str, ...] = ()) -> Benefit:
        benefit = Benefit(self.new_id(), funder, kind, start)
        self.emit(start, funder, "BenefitStarted",
                  {"benefit_id": benefit.id, "benefit": kind, "start": iso(start)}, tags=tags)
        self.open_benefits.append(benefit)
        return benefit

    def end_benefits(self, end: date) -> None:
        for benefit in self.open_benefits:
            self.emit(end, benefit.funder, "BenefitEnded", {"benefit_id": benefit.id, "end": iso(end)})
        self.open_benefits.clear()

    # --- trajectories -----------------------------------------------------------------

    def commission(self, funder: str, provider: str, start: date, months: int,
                   tags: tuple[str, ...] = ()) -> Trajectory:
        rng = self.rng
        t = Trajectory(self.new_id(), funder, provider, start, add_months(start, months))
        if rng.random() < (0.6 if funder == MUNICIPALITY else 0.2):
            contract, base, fee = "no-cure-less-pay", rng.randrange(75, 151) * 1000, rng.randrange(150, 301) * 1000
        else:
            contract, base, fee = "no-cure-no-pay", 0, rng.randrange(250, 501) * 1000
        fields = {
            "trajectory_id": t.id, "provider": provider, "start": iso(start), "planned_end": iso(t.planned_end),
            "definition": definition_for(funder, start), "contract": contract,
            "fee_cents": fee, "base_fee_cents": base,
        }
        t.contract = contract
        if self.behaviour is not None:
            fields.update(self.referral(t))
        self.emit(start - days(rng.randint(0, 14)), funder, "TrajectoryCommissioned", fields, tags=tags)
        self.trajectories.append(t)
        return t

    def referral(self, t: Trajectory) -> dict[str, Any]:
        """The commission's issue-16 fields: the rung at referral, the target mix, who follows up."""
        if self.behaviour is None:
            raise ValueError("a referral's issue-16 fields come from a behaviour")
        t.draws = incentives.draws(self.behaviour, t.id)
        fields: dict[str, Any] = {"referral_rung": t.draws.referral_rung}
        if self.behaviour.target_mix is not None:
            fields["target_mix"] = list(self.behaviour.target_mix)
        if t.draws.follow_up < self.behaviour.follow_up_by_provider:
            t.follow_up_by = fields["follow_up_by"] = t.provider
        return fields

    def declined(self, t: Trajectory) -> bool:
        """With a behaviour, the provider may decline the referral before intake (then it is closed)."""
        if self.behaviour is None or t.draws is None or not incentives.declines(self.behaviour, t.contract, t.draws):
            return False
        self.emit(t.start, t.provider, "ReferralDeclined", {
            "trajectory_id": t.id, "reason": self.rng.choice(("no-capacity", "outside-target-group", "too-far-from-work")),
        })
        self.trajectories.remove(t)
        return True

    def extend(self, t: Trajectory, months: int) -> None:
        on = t.planned_end - days(self.rng.randint(10, 40))
        t.planned_end = add_months(t.planned_end, months)
        self.emit(on, t.funder, "TrajectoryExtended", {"trajectory_id": t.id, "planned_end": iso(t.planned_end)})

    def work(self, t: Trajectory, until: date, job_start: date | None = None, mediation: bool = True) -> None:
        """Intake, ladder assessments and activities between the start and ``until``.

        With a ``job_start``, the last assessment is on that day and (unless ``mediation`` is
        off: the client found the job herself) some mediation precedes it."""
        rng = self.rng
        intake_on = min(t.start + days(rng.randint(2, 20)), until)
        rung = rng.choices(INTAKE_RUNGS, INTAKE_WEIGHTS)[0]
        parked = False
        if self.behaviour is not None and t.draws is not None:  # the intake confirms the rung at referral
            rung = min(5, t.draws.referral_rung)
            parked = incentives.parks(self.behaviour, t.contract, rung, t.draws)
        self.emit(intake_on, t.provider, "IntakeCompleted",
                  {"trajectory_id": t.id, "rung": rung, "rubric_version": rubric_version(intake_on)})
        last = until if job_start is None else job_start
        on = intake_on + days(rng.randint(60, 120))
        while on < last:
            rung = min(5, max(1, rung + rng.choice((-1, 0, 0, 1, 1))))
            self.assess(t, on, rung)
            on += days(rng.randint(60, 120))
        if job_start is not None:
            self.assess(t, job_start, rng.choice((5, 6, 6)))
        for _ in range(min(12, max(1, (until - t.start).days // 45))):
            on = between(rng, t.start, until)
            before_job = job_start is not None and on < job_start
            pool = MEDIATION if before_job and mediation and rng.random() < 0.4 else GENERAL_INSTRUMENTS
            if not before_job and rng.random() < 0.15:
                pool = MEDIATION
            instrument = rng.choice(pool)
            if not parked:  # a parked trajectory: drawn all the same, so the rest of the story is unchanged
                self.activity(t, on, instrument)
        if job_start is not None and mediation and job_start > t.start:
            on, instrument = between(rng, t.start, job_start - days(1)), rng.choice(MEDIATION)
            if not parked:
                self.activity(t, on, instrument)

    def assess(self, t: Trajectory, on: date, rung: int) -> None:
        self.emit(on, t.provider, "LadderRungAssessed", {
            "trajectory_id": t.id, "rung": rung, "rubric_version": rubric_version(on),
            "assessor": f"{t.provider}-cw{self.rng.randint(1, 9)}",
        })

    def activity(self, t: Trajectory, on: date, instrument: int) -> None:
        self.emit(on, t.provider, "ActivityRecorded", {"trajectory_id": t.id, "instrument": instrument})

    def end(self, t: Trajectory, reason: str, end: date, by: str | None = None) -> None:
        t.ended = end if end <= LAST_DAY else None
        self.emit(end, by or t.provider, "TrajectoryEnded", {"trajectory_id": t.id, "reason": reason, "end": iso(end)})

    def aftercare(self, t: Trajectory, after: date) -> None:
        """Monthly contacts, most months, for the six months of aftercare."""
        for month in range(1, 7):
            if self.rng.random() < 0.7:
                self.emit(after + days(30 * month + self.rng.randint(-5, 5)), t.provider, "AftercareContact",
                          {"trajectory_id": t.id})

    # --- placements -------------------------------------------------------------------

    def contract_end(self, job_start: date, short: bool = False, t: Trajectory | None = None) -> date | None:
        months = self.rng.choices((None, 12, 6, 0), (35, 30, 15, 20))[0] if not short else 0
        if self.behaviour is not None and t is not None and t.draws is not None and not short:
            months = incentives.contract_months(self.behaviour, t.contract, t.draws)  # its own draw
        if months is None:
            return None
        return add_months(job_start, months) if months else job_start + days(self.rng.randint(30, 150))

    def claim(self, t: Trajectory, *, employer_kvk: str, application: date, job_start: date,
              contract_end: date | None, on: date, secondment: bool | None = None,
              rule: str | None = None, tags: tuple[str, ...] = ()) -> Claim:
        rng = self.rng
        claim = Claim(self.new_id(), t, employer_kvk, application, job_start, contract_end, on)
        if secondment is None:
            secondment = rng.random() < 0.08
        tags += claim_findings(claim, secondment)
        if rule is not None:
            claim.status = "refused"
        else:
            self.claims.append(claim)
        self.emit(on, t.provider, "PlacementClaimed", {
            "trajectory_id": t.id, "claim_id": claim.id, "employer_kvk": employer_kvk,
            "application_date": iso(application), "job_start": iso(job_start),
            "contract_end": None if contract_end is None else iso(contract_end),
            "hours_per_week": rng.choice((12, 16, 20, 24, 24, 28, 32, 32, 36, 36, 38, 40)),
            "secondment_via_provider": secondment, "evidence_sha256": f"{rng.getrandbits(256):064x}",
        }, rule=rule, tags=tags)
        return claim

    def confirm(self, claim: Claim, on: date) -> None:
        claim.status, claim.decided_on = "confirmed", on
        self.emit(on, claim.trajectory.funder, "PlacementConfirmed", {"claim_id": claim.id})

    def reject(self, claim: Claim, on: date) -> None:
        claim.status, claim.decided_on = "rejected", on
        self.emit(on, claim.trajectory.funder, "PlacementRejected",
                  {"claim_id": claim.id, "reason": self.rng.choice(REJECTION_REASONS)})

    def withdraw(self, claim: Claim, on: date) -> None:
        claim.status, claim.decided_on = "withdrawn", on
        self.emit(on, claim.trajectory.provider, "PlacementWithdrawn", {"claim_id": claim.id})

    def settle(self, claim: Claim, confirm_share: float = 0.85) -> None:
        """The funder confirms most claims and rejects some; providers withdraw a few."""
        on = claim.on + days(self.rng.randint(5, 45))
        draw = self.rng.random()
        if draw < confirm_share:
            self.confirm(claim, on)
        elif draw < confirm_share + (1 - confirm_share) / 2:
            self.reject(claim, on)
        else:
            self.withdraw(claim, claim.on + days(self.rng.randint(1, 20)))

    def employment_ended(self, claim: Claim, end: date) -> None:
        """Recorded only on a live claim (the ledger refuses it on a rejected or withdrawn one)."""
        if claim.status not in ("claimed", "confirmed"):
            return
        on = max(end, claim.decided_on or claim.on)
        claim.employment_end = end
        by = claim.trajectory.provider if self.rng.random() < 0.6 else claim.trajectory.funder
        self.emit(on, by, "EmploymentEnded", {"claim_id": claim.id, "end": iso(end)})


def claim_findings(claim: Claim, secondment: bool) -> tuple[str, ...]:
    """The auditors' flags this claim should raise (as tags on the item)."""
    tags = []
    if claim.application < claim.trajectory.start:
        tags.append("job-before-trajectory")
    if claim.contract_end is not None and claim.contract_end < add_months(claim.job_start, 6):
        tags.append("short-contract")
    if secondment:
        tags.append("secondment")
    return tuple(tags)


def definition_for(funder: str, start: date) -> str:
    """The outflow definition a contract names; the municipality changed it over the years."""
    if funder == UWV:
        return "contract-6m"
    if start.year <= 2021:
        return "composite-2009"
    if start.year == 2022:
        return "six-month-rule"
    if start.year <= 2024:
        return "ladder-step"
    return "voluntary-stop"


def rubric_version(on: date) -> str:
    return "2019.1" if on.year < 2024 else "2024.1"


def other_funder(funder: str) -> str:
    return UWV if funder == MUNICIPALITY else MUNICIPALITY
