"""The funders' wage-data checks on confirmed claims (issue 15), written after a client's story.

Most confirmed claims are checked against UWV's polisadministratie (some by payslip or the
employer's statement) some eight months after the job started; most checks verify the job
as claimed, and a realistic few contradict it: no income relationship at all, a job that
ended within weeks, or wages from another employer. Each claim's check is drawn from its own
generator (seeded by the claim's id), so the rest of the history is the same with or
without these checks.
"""

from __future__ import annotations

import random
from datetime import date
from uuid import UUID

from ledger.synthetic.dates import LAST_DAY, add_months, days, iso
from ledger.synthetic.story import Claim, Story

CHECKED = 0.85  # share of confirmed claims whose employment the funder checks
# what a check finds: as claimed, nothing, a shorter job, another employer
FINDS, FIND_WEIGHTS = ("verified", "not-found", "shorter", "other-employer"), (90, 4, 4, 2)
SOURCES, SOURCE_WEIGHTS = ("polis", "payslip", "employer"), (85, 10, 5)
HOURS = (16, 20, 24, 24, 28, 32, 32, 36, 36, 38, 40)


def check_wage_data(s: Story) -> None:
    for claim in s.claims:
        if claim.status == "confirmed":
            _check(s, claim, random.Random(f"wage-data:{claim.id}"))


def _id(rng: random.Random) -> str:
    return str(UUID(int=rng.getrandbits(128), version=4))


def _check(s: Story, claim: Claim, rng: random.Random) -> None:
    if rng.random() >= CHECKED:
        return
    on = max(add_months(claim.job_start, 8) + days(rng.randint(0, 45)), (claim.decided_on or claim.on) + days(1))
    if on > LAST_DAY:
        return
    last = on - days(rng.randint(10, 30))  # wage returns lag a few weeks
    for end in (claim.employment_end, claim.contract_end):
        if end is not None:
            last = min(last, end)
    if last < claim.job_start:
        return
    find = rng.choices(FINDS, FIND_WEIGHTS)[0]
    source = rng.choices(SOURCES, SOURCE_WEIGHTS)[0]
    funder = claim.trajectory.funder
    if find == "not-found":  # only the polisadministratie shows that there is no income relationship
        _emit(s, rng, on, funder, "EmploymentNotFound", claim, claim.employer_kvk, claim.job_start, last, "polis")
        return
    if find == "shorter" and (last - claim.job_start).days > 60:
        ended = claim.job_start + days(rng.randint(14, 45))
        _verified(s, rng, on, funder, claim, claim.employer_kvk, claim.job_start, ended, source)
        _emit(s, rng, on, funder, "EmploymentNotFound", claim, claim.employer_kvk, ended + days(1), last, "polis")
        return
    kvk = claim.employer_kvk
    if find == "other-employer":
        kvk = rng.choice([k for k in s.world.employers if k != claim.employer_kvk])
    _verified(s, rng, on, funder, claim, kvk, claim.job_start, last, source)


def _verified(s: Story, rng: random.Random, on: date, funder: str, claim: Claim, kvk: str,
              first: date, last: date, source: str) -> None:
    hours = rng.choice(HOURS)
    weeks = ((last - first).days + 1) / 7
    wage = max(1, round(hours * weeks * rng.randint(1406, 2600)))  # cents: at least the minimum wage an hour
    _emit(s, rng, on, funder, "EmploymentVerified", claim, kvk, first, last, source,
          hours_per_week=hours, wage_cents=None if source == "employer" else wage)  # an employer states hours


def _emit(s: Story, rng: random.Random, on: date, funder: str, kind: str, claim: Claim, kvk: str,
          first: date, last: date, source: str, **amounts: int | None) -> None:
    fields = {"claim_id": claim.id if rng.random() < 0.9 else None, "employer_kvk": kvk,
              "period_from": iso(first), "period_to": iso(last), **amounts,
              "source": source, "evidence_sha256": f"{rng.getrandbits(256):064x}"}
    if kind == "EmploymentVerified" and kvk != claim.employer_kvk:
        fields["claim_id"] = claim.id  # wages elsewhere say something about this claim only when it is named
    s.emit(on, funder, kind, fields, tags=("wage-data",), envelope_id=_id(rng))
