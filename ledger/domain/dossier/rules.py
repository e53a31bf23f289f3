"""The invariants of a client dossier, as one pure function: ``decide``.

``decide(state, payload, ctx)`` returns nothing when the submission may be accepted and
raises a typed ``Refusal`` (rule + field) when it may not. The ledger and the offline
verifier call the same function, so they cannot disagree about what the rules say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Callable

from ledger.domain.dossier.cooperation import cooperation
from ledger.domain.dossier.evidence import audit_finding, employment_evidence
from ledger.domain.dossier.follow_up import follow_up
from ledger.domain.dossier.referral import decline, declined
from ledger.domain.dossier.state import LIVE_CLAIM, DossierState
from ledger.domain.dossier.versions import FIRST_RULES, JOB_START_LIMIT_DAYS
from ledger.domain.errors import (
    AlreadyExists,
    DateInconsistent,
    DoubleClaim,
    InvalidTransition,
    NotFound,
    RoleViolation,
)

DOUBLE_CLAIM_WINDOW = timedelta(days=31)
FAR_FUTURE = date.max


def _no_mandates(party_id: str) -> list[str]:
    return []


@dataclass(frozen=True)
class Context:
    submitter: str
    role: str
    today: date  # the recording date (Europe/Amsterdam); nothing may happen after it
    role_of: Callable[[str], str | None]  # registry lookup for other parties
    rules: int = FIRST_RULES  # the rules version in force (``versions``)
    audits_of: Callable[[str], list[str]] = _no_mandates  # the funders an auditor holds a mandate for


def decide(state: DossierState, payload: dict[str, Any], ctx: Context) -> None:
    _not_future(payload, "occurred_on", ctx)
    _RULES[payload["type"]](state, payload, ctx)


def _d(text: str | None) -> date:
    return FAR_FUTURE if text is None else date.fromisoformat(text)


def _not_future(p: dict[str, Any], name: str, ctx: Context) -> None:
    if p.get(name) is not None and _d(p[name]) > ctx.today:
        raise DateInconsistent(f"{name} {p[name]} is after today ({ctx.today})", rule="dates.not-future", field=f"payload.{name}")


def _trajectory(state: DossierState, p: dict[str, Any]) -> dict[str, Any]:
    trajectory = state.trajectories.get(p["trajectory_id"])
    if trajectory is None:
        raise NotFound("no such trajectory for this client", field="payload.trajectory_id")
    if declined(trajectory):
        raise InvalidTransition("the provider declined this referral: nothing more is written to it",
                                rule="referral.declined", field="payload.trajectory_id")
    return trajectory


def _claim(state: DossierState, p: dict[str, Any]) -> dict[str, Any]:
    claim = state.claims.get(p["claim_id"])
    if claim is None:
        raise NotFound("no such claim for this client", field="payload.claim_id")
    return claim


def _only(ctx: Context, allowed: set[str], what: str) -> None:
    if ctx.submitter not in allowed:
        raise RoleViolation(f"only {what} may submit this", field="submitter")


def _within_period(state: DossierState, trajectory: dict[str, Any], p: dict[str, Any], name: str) -> None:
    day = _d(p[name])
    if day < _d(trajectory["start"]) or day > _d(state.period_end(trajectory)):
        raise DateInconsistent(
            f"{name} {p[name]} is outside the trajectory ({trajectory['start']} .. {state.period_end(trajectory)})",
            rule="dates.outside-trajectory",
            field=f"payload.{name}",
        )


def _open(trajectory: dict[str, Any]) -> None:
    if trajectory["ended"] is not None:
        raise InvalidTransition("the trajectory has ended", field="payload.trajectory_id")


def commission(state: DossierState, p: dict[str, Any], ctx: Context) -> None:
    if ctx.role != "funder":
        raise RoleViolation("only a funder commissions a trajectory", field="submitter")
    if ctx.role_of(p["provider"]) != "provider":
        raise NotFound(f"no registered provider {p['provider']!r}", field="payload.provider")
    if p.get("follow_up_by") is not None and ctx.role_of(p["follow_up_by"]) != "provider":
        raise NotFound(f"no registered provider {p['follow_up_by']!r} to follow up", field="payload.follow_up_by")
    if p["trajectory_id"] in state.trajectories:
        raise AlreadyExists("the trajectory exists already", field="payload.trajectory_id")
    if _d(p["planned_end"]) <= _d(p["start"]):
        raise DateInconsistent("planned_end must be after start", rule="dates.end-after-start", field="payload.planned_end")


def extend(state: DossierState, p: dict[str, Any], ctx: Context) -> None:
    trajectory = _trajectory(state, p)
    _only(ctx, {trajectory["funder"]}, "the trajectory's funder")
    _open(trajectory)
    if _d(p["planned_end"]) <= _d(trajectory["planned_end"]):
        raise DateInconsistent("an extension moves planned_end later", rule="dates.end-after-start", field="payload.planned_end")


def provider_report(state: DossierState, p: dict[str, Any], ctx: Context) -> None:
    """Intake, ladder assessment, activity: by the trajectory's provider, inside its period."""
    trajectory = _trajectory(state, p)
    _only(ctx, {trajectory["provider"]}, "the trajectory's provider")
    _within_period(state, trajectory, p, "occurred_on")
    if p["type"] == "IntakeCompleted" and trajectory["intake"] is not None:
        raise AlreadyExists("the intake was recorded already", field="payload.trajectory_id")


def aftercare(state: DossierState, p: dict[str, Any], ctx: Context) -> None:
    trajectory = _trajectory(state, p)
    _only(ctx, {trajectory["provider"]}, "the trajectory's provider")
    if _d(p["occurred_on"]) < _d(trajectory["start"]):
        raise DateInconsistent("aftercare before the trajectory began", rule="dates.outside-trajectory", field="payload.occurred_on")


def end_trajectory(state: DossierState, p: dict[str, Any], ctx: Context) -> None:
    trajectory = _trajectory(state, p)
    _only(ctx, {trajectory["provider"], trajectory["funder"]}, "the trajectory's provider or funder")
    _open(trajectory)
    _not_future(p, "end", ctx)
    if _d(p["end"]) < _d(trajectory["start"]):
        raise DateInconsistent("end is before the trajectory's start", rule="dates.end-after-start", field="payload.end")
    if _d(p["end"]) > _d(trajectory["planned_end"]):
        raise DateInconsistent("end is after planned_end: extend the trajectory first", rule="dates.outside-trajectory", field="payload.end")
    last = last_reported(state, p["trajectory_id"])
    if last is not None and _d(p["end"]) < last:
        raise DateInconsistent(f"end is before facts already recorded on the trajectory ({last})",
                               rule="dates.end-before-recorded", field="payload.end")


def last_reported(state: DossierState, trajectory_id: str) -> date | None:
    """The latest intake, assessment, activity or job start recorded on a trajectory."""
    trajectory = state.trajectories[trajectory_id]
    days = [_d(a["on"]) for a in trajectory["assessments"] + trajectory["activities"]]
    if trajectory["intake"] is not None:
        days.append(_d(trajectory["intake"]["on"]))
    days += [_d(c["job_start"]) for c in state.claims.values()
             if c["trajectory_id"] == trajectory_id and c["status"] in LIVE_CLAIM]
    return max(days, default=None)


def claim(state: DossierState, p: dict[str, Any], ctx: Context) -> None:
    trajectory = _trajectory(state, p)
    _only(ctx, {trajectory["provider"]}, "the trajectory's provider")
    if p["claim_id"] in state.claims:
        raise AlreadyExists("the claim exists already", field="payload.claim_id")
    _job_start_in_time(p, ctx)
    _not_future(p, "application_date", ctx)
    if _d(p["application_date"]) > _d(p["job_start"]):
        raise DateInconsistent("application_date is after job_start", rule="dates.application-before-job", field="payload.application_date")
    if p["contract_end"] is not None and _d(p["contract_end"]) <= _d(p["job_start"]):
        raise DateInconsistent("contract_end must be after job_start", rule="dates.end-after-start", field="payload.contract_end")
    # the double claim first: an attempt on someone else's job is audit evidence as such
    conflict = conflicting_claim(state, p["employer_kvk"], _d(p["job_start"]), _d(p["contract_end"]))
    if conflict is not None:
        raise DoubleClaim(
            "this job of this client is claimed already",
            field="payload.employer_kvk",
            conflicting_claim=conflict,
        )
    _within_period(state, trajectory, p, "job_start")


def _job_start_in_time(p: dict[str, Any], ctx: Context) -> None:
    """Rules 1: the job has started. Rules 2: it starts at most ``JOB_START_LIMIT_DAYS`` after the claim date."""
    if ctx.rules < 2:
        _not_future(p, "job_start", ctx)
        return
    limit = _d(p["occurred_on"]) + timedelta(days=JOB_START_LIMIT_DAYS)
    if _d(p["job_start"]) > limit:
        raise DateInconsistent(f"job_start {p['job_start']} is more than {JOB_START_LIMIT_DAYS} days after the claim "
                               f"date {p['occurred_on']} (at most {limit})", rule="dates.job-start-too-far", field="payload.job_start")


def conflicting_claim(state: DossierState, kvk: str, start: date, end: date) -> str | None:
    """The first live claim at the same employer whose employment overlaps [start, end]
    or lies within 31 days of it - whichever provider or funder made it."""
    for claim_id, other in state.claims.items():
        if other["status"] not in LIVE_CLAIM or other["employer_kvk"] != kvk:
            continue
        other_start = _d(other["job_start"])
        other_end = _d(other["employment_end"] or other["contract_end"])
        gap = max(other_start - end, start - other_end, timedelta(0))  # 0 when they overlap
        if gap <= DOUBLE_CLAIM_WINDOW:
            return claim_id
    return None


def withdraw(state: DossierState, p: dict[str, Any], ctx: Context) -> None:
    c = _claim(state, p)
    _only(ctx, {c["provider"]}, "the claim's provider")
    if c["status"] != "claimed":
        raise InvalidTransition(f"a {c['status']} claim cannot be withdrawn", field="payload.claim_id")


def funder_decision(state: DossierState, p: dict[str, Any], ctx: Context) -> None:
    c = _claim(state, p)
    _only(ctx, {c["funder"]}, "the claim's funder")
    if c["status"] != "claimed":
        raise InvalidTransition(f"the claim is {c['status']} already", field="payload.claim_id")


def contest(state: DossierState, p: dict[str, Any], ctx: Context) -> None:
    c = _claim(state, p)
    involved = {t["funder"] for t in state.trajectories.values()} | {t["provider"] for t in state.trajectories.values()}
    _only(ctx, involved - {c["provider"]}, "another funder or provider of this client")
    if c["status"] not in LIVE_CLAIM:
        raise InvalidTransition(f"the claim is {c['status']}", field="payload.claim_id")


def employment_ended(state: DossierState, p: dict[str, Any], ctx: Context) -> None:
    c = _claim(state, p)
    _only(ctx, {c["provider"], c["funder"]}, "the claim's provider or funder")
    if c["status"] not in LIVE_CLAIM:
        raise InvalidTransition(f"the claim is {c['status']}", field="payload.claim_id")
    if c["employment_end"] is not None:
        raise AlreadyExists("the employment's end was recorded already", field="payload.claim_id")
    _not_future(p, "end", ctx)
    if _d(p["end"]) < _d(c["job_start"]):
        raise DateInconsistent("end is before job_start", rule="dates.end-after-start", field="payload.end")


def benefit_started(state: DossierState, p: dict[str, Any], ctx: Context) -> None:
    if ctx.role != "funder":
        raise RoleViolation("only a funder records a benefit", field="submitter")
    if p["benefit_id"] in state.benefits:
        raise AlreadyExists("the benefit period exists already", field="payload.benefit_id")
    _not_future(p, "start", ctx)


def benefit_ended(state: DossierState, p: dict[str, Any], ctx: Context) -> None:
    benefit = state.benefits.get(p["benefit_id"])
    if benefit is None:
        raise NotFound("no such benefit period for this client", field="payload.benefit_id")
    _only(ctx, {benefit["funder"]}, "the funder that pays the benefit")
    if benefit["end"] is not None:
        raise AlreadyExists("the benefit has ended already", field="payload.benefit_id")
    _not_future(p, "end", ctx)
    if _d(p["end"]) < _d(benefit["start"]):
        raise DateInconsistent("end is before the benefit's start", rule="dates.end-after-start", field="payload.end")


_RULES: dict[str, Callable[[DossierState, dict[str, Any], Context], None]] = {
    "TrajectoryCommissioned": commission,
    "TrajectoryExtended": extend,
    "IntakeCompleted": provider_report,
    "LadderRungAssessed": provider_report,
    "ActivityRecorded": provider_report,
    "AftercareContact": aftercare,
    "TrajectoryEnded": end_trajectory,
    "PlacementClaimed": claim,
    "PlacementWithdrawn": withdraw,
    "PlacementConfirmed": funder_decision,
    "PlacementRejected": funder_decision,
    "PlacementContested": contest,
    "EmploymentEnded": employment_ended,
    "BenefitStarted": benefit_started,
    "BenefitEnded": benefit_ended,
    "EmploymentVerified": employment_evidence,
    "EmploymentNotFound": employment_evidence,
    "AuditFinding": audit_finding,
    "ReferralDeclined": decline,
    "FollowUpRecorded": follow_up,
    "PlacementCooperation": cooperation,
}
