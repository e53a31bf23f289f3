"""Client life stories: each function writes one client's history into a ``Story``.

``regular`` is most clients: a benefit, one to three trajectories, perhaps a job. The
others are the cases auditors look for, each written so the ledger must decide it one
way: the Haarlem "Anja" case, double claims, a claim after the trajectory ended, a job
found before the trajectory began, a claim re-made after the first one was released,
and the revolving door. Every date lies in [FIRST_DAY, LAST_DAY]; events after the
horizon are not written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from ledger.synthetic.dates import FIRST_DAY, LAST_DAY, SIX_MONTHS, add_months, between, days
from ledger.synthetic.parties import MUNICIPALITY, UWV
from ledger.synthetic.story import Benefit, Claim, Story, Trajectory, other_funder

OUTCOMES = ("placed", "completed", "dropped-out", "voluntarily-stopped", "sanctioned", "medical", "moved", "deceased")
OUTCOME_WEIGHTS = (38, 17, 14, 9, 5, 9, 6, 2)
ENDED_BY_FUNDER = frozenset({"sanctioned", "moved", "deceased"})
LEAVES_BENEFIT = frozenset({"voluntarily-stopped", "moved", "deceased"})
DOUBLE_CLAIM = "claim.unique-job"
OUTSIDE_TRAJECTORY = "dates.outside-trajectory"


def first_benefit(s: Story, latest: date = date(2025, 9, 30), funder: str | None = None) -> Benefit:
    funder = funder or s.rng.choices((MUNICIPALITY, UWV), (60, 40))[0]
    return s.start_benefit(funder, s.benefit_kind(funder), between(s.rng, FIRST_DAY, latest))


def place(s: Story, t: Trajectory, job_start: date, application: date, *,
          short: bool = False, mediation: bool = True) -> tuple[Claim, date]:
    """The provider's work up to the job, its claim, the funder's decision, the end of the
    trajectory and of the benefit, and aftercare. Returns the claim and the trajectory's end."""
    rng = s.rng
    end = min(job_start + days(rng.randint(0, 14)), t.planned_end)
    s.work(t, end, job_start=job_start, mediation=mediation)
    claim = s.claim(t, employer_kvk=s.fresh_employer(), application=application, job_start=job_start,
                    contract_end=s.contract_end(job_start, short, t), on=job_start + days(rng.randint(0, 21)))
    s.settle(claim)
    s.end(t, "placed", end)
    s.end_benefits(job_start)
    s.aftercare(t, end)
    return claim, end


def employment_end(s: Story, claim: Claim, force: bool = False) -> date | None:
    """When the job ended, if it did: most short contracts, some longer ones."""
    rng = s.rng
    contract_end = claim.contract_end
    if contract_end is not None and contract_end < add_months(claim.job_start, 6):
        end = contract_end if force or rng.random() < 0.8 else None
    elif contract_end is not None:
        end = contract_end if force or rng.random() < 0.3 else None
    else:
        end = claim.job_start + days(rng.randint(60, 700)) if force or rng.random() < 0.1 else None
    if end is not None:
        s.employment_ended(claim, end)
    return end


def regular(s: Story) -> None:
    career(s, first_benefit(s))


def revolving_door(s: Story) -> None:
    """Placed on a short contract, back on benefit within six months of the trajectory."""
    career(s, first_benefit(s, latest=date(2025, 3, 31)), first="placed", revolving=True)


def career(s: Story, benefit: Benefit, first: str | None = None, revolving: bool = False) -> None:
    """Up to three trajectories for one client, each ending one of the ways trajectories end."""
    rng = s.rng
    on = benefit.start
    for _ in range(3):
        funder = benefit.funder
        start = on + days(rng.randint(20, 150))
        if start > LAST_DAY - days(30):
            return
        t = s.commission(funder, s.provider_for(funder), start, months=rng.choice((6, 9, 12, 12, 12)))
        if s.declined(t):  # the provider declined the referral (a behaviour, issue 16): the funder refers again
            on = t.start
            continue
        outcome, first = first or rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0], None
        if outcome == "placed":
            job_start = between(rng, t.start + days(30), t.planned_end - days(7))
            application = between(rng, max(t.start, job_start - days(60)), job_start)
            claim, end = place(s, t, job_start, application, short=revolving)
            job_end = employment_end(s, claim, force=revolving)
            if job_end is None or not (revolving or rng.random() < 0.5):
                return
            again = job_end + days(rng.randint(1, 20))
            tags = ("revolving-door",) if again - end <= SIX_MONTHS else ()
            benefit = s.start_benefit(funder, s.benefit_kind(funder), again, tags=tags)
            on, revolving = again, False
            continue
        if outcome == "completed":
            if rng.random() < 0.1:
                s.extend(t, rng.choice((3, 6)))
            end = t.planned_end
        else:
            end = between(rng, t.start + days(21), t.planned_end - days(1))
        s.work(t, end)
        s.end(t, outcome, end, by=t.funder if outcome in ENDED_BY_FUNDER else None)
        if outcome in LEAVES_BENEFIT:
            s.end_benefits(end)
            return
        if rng.random() > 0.45:
            return
        on = end + days(rng.randint(30, 240))
        if benefit.kind == "WW" and rng.random() < 0.5:  # WW runs out; the municipality takes over
            s.end_benefits(on)
            on += days(1)
            benefit = s.start_benefit(MUNICIPALITY, "WWB", on)


def job_before_trajectory(s: Story) -> None:
    """She applied before the trajectory began; the provider claims the job anyway (accepted,
    flagged), with no mediation before the job started."""
    rng = s.rng
    benefit = first_benefit(s, latest=date(2025, 6, 30))
    funder = benefit.funder
    t = s.commission(funder, s.provider_for(funder), benefit.start + days(rng.randint(20, 150)),
                     months=rng.choice((6, 12)))
    application = t.start - days(rng.randint(5, 75))
    claim, _ = place(s, t, t.start + days(rng.randint(3, 40)), application, mediation=False)
    employment_end(s, claim)


def claim_after_trajectory(s: Story) -> None:
    """A job that started after the trajectory ended, claimed anyway: refused."""
    rng = s.rng
    benefit = first_benefit(s, latest=date(2024, 6, 30))
    funder = benefit.funder
    t = s.commission(funder, s.provider_for(funder), benefit.start + days(rng.randint(20, 150)),
                     months=rng.choice((6, 12)))
    s.work(t, t.planned_end)
    s.end(t, "completed", t.planned_end)
    job_start = t.planned_end + days(rng.randint(10, 90))
    s.claim(t, employer_kvk=s.fresh_employer(), application=job_start - days(rng.randint(0, 40)),
            job_start=job_start, contract_end=s.contract_end(job_start), on=job_start + days(rng.randint(0, 14)),
            rule=OUTSIDE_TRAJECTORY, tags=("claim-after-trajectory",))
    s.end_benefits(job_start)


def two_trajectories(s: Story) -> tuple[Trajectory, Trajectory, date, date]:
    """Two providers at once, from the same funder or from both: (first, second, the
    application date and the start of the job the first provider finds)."""
    rng = s.rng
    benefit = first_benefit(s, latest=date(2024, 12, 31))
    f1 = benefit.funder
    t1 = s.commission(f1, s.provider_for(f1), benefit.start + days(rng.randint(20, 120)), months=12)
    f2 = other_funder(f1) if rng.random() < 0.5 else f1
    start2 = t1.start + days(rng.randint(20, 90))
    tags: tuple[str, ...] = ()
    if f2 != f1:  # a second benefit (WW beside a WWB top-up, or the reverse) and a second funder
        s.start_benefit(f2, s.benefit_kind(f2), between(rng, benefit.start, start2 - days(7)))
        tags = ("overlapping-funders",)
    t2 = s.commission(f2, s.provider_for(f2, other_than=t1.provider), start2, months=12, tags=tags)
    job_start = between(rng, t2.start + days(14), t1.planned_end - days(90))
    application = between(rng, max(t1.start, job_start - days(60)), job_start - days(1))
    return t1, t2, application, job_start


def double_claim(s: Story) -> None:
    """The first provider's claim stands; the second provider claims the same job: refused."""
    rng = s.rng
    t1, t2, application, job_start = two_trajectories(s)
    end1 = job_start + days(rng.randint(0, 14))
    s.work(t1, end1, job_start=job_start)
    kvk, contract_end = s.fresh_employer(), s.contract_end(job_start)
    first = s.claim(t1, employer_kvk=kvk, application=application, job_start=job_start,
                    contract_end=contract_end, on=job_start + days(rng.randint(0, 21)))
    if rng.random() < 0.9:
        s.confirm(first, first.on + days(rng.randint(5, 30)))
    s.end(t1, "placed", end1)
    s.end_benefits(job_start)
    s.aftercare(t1, end1)
    second_on = first.on + days(rng.randint(1, 60))
    s.work(t2, second_on)
    s.claim(t2, employer_kvk=kvk, application=between(rng, application, job_start),
            job_start=job_start + days(rng.randint(0, 3)), contract_end=contract_end, on=second_on,
            rule=DOUBLE_CLAIM, tags=("double-claim",))
    s.end(t2, rng.choice(("placed", "completed")), second_on)


def claim_released(s: Story) -> None:
    """The first claim is withdrawn or rejected; then the other provider's claim for the
    same job is accepted (only live claims block)."""
    rng = s.rng
    t1, t2, application, job_start = two_trajectories(s)
    kvk, contract_end = s.fresh_employer(), s.contract_end(job_start)
    first = s.claim(t1, employer_kvk=kvk, application=application, job_start=job_start,
                    contract_end=contract_end, on=job_start + days(rng.randint(0, 21)))
    if rng.random() < 0.5:
        s.withdraw(first, first.on + days(rng.randint(1, 20)))
    else:
        s.reject(first, first.on + days(rng.randint(5, 30)))
    released = first.decided_on or first.on
    s.work(t1, released, job_start=job_start)
    s.end(t1, "completed", released)
    second_on = released + days(rng.randint(1, 30))
    s.work(t2, second_on, job_start=job_start)
    second = s.claim(t2, employer_kvk=kvk, application=application, job_start=job_start,
                     contract_end=contract_end, on=second_on, tags=("claim-after-release",))
    s.confirm(second, second_on + days(rng.randint(5, 30)))
    end2 = second_on + days(rng.randint(0, 10))
    s.end(t2, "placed", end2)
    s.end_benefits(job_start)
    s.aftercare(t2, end2)


def anja(s: Story) -> None:
    """The Haarlem case: WW and a UWV trajectory; then bijstand and a municipal Work First
    trajectory; within a month she starts a job she had applied for before either began.
    The municipal provider's claim is accepted (and flagged); the UWV provider's claim for
    the same job later is refused as a double claim."""
    rng = s.rng
    ww = s.start_benefit(UWV, "WW", between(rng, FIRST_DAY, date(2024, 6, 30)))
    t_uwv = s.commission(UWV, s.provider_for(UWV), ww.start + days(rng.randint(60, 150)), months=12)
    application = t_uwv.start - days(rng.randint(10, 45))
    gemeente_start = t_uwv.start + days(rng.randint(90, 180))
    s.end_benefits(gemeente_start - days(rng.randint(14, 28)))  # WW runs out
    s.start_benefit(MUNICIPALITY, "WWB", gemeente_start - days(rng.randint(7, 13)))
    t_gem = s.commission(MUNICIPALITY, s.provider_for(MUNICIPALITY, other_than=t_uwv.provider), gemeente_start,
                         months=12, tags=("overlapping-funders", "anja"))
    job_start = gemeente_start + days(rng.randint(7, 30))
    kvk, contract_end = s.fresh_employer(), add_months(job_start, rng.choice((7, 10, 12)))
    end_gem = job_start + days(rng.randint(0, 7))
    s.work(t_gem, end_gem, job_start=job_start, mediation=False)
    first = s.claim(t_gem, employer_kvk=kvk, application=application, job_start=job_start,
                    contract_end=contract_end, on=job_start + days(rng.randint(5, 20)), secondment=False,
                    tags=("anja",))
    s.confirm(first, first.on + days(rng.randint(10, 30)))
    s.end(t_gem, "placed", end_gem)
    s.end_benefits(job_start)
    s.aftercare(t_gem, end_gem)
    second_on = job_start + days(rng.randint(30, 90))
    s.work(t_uwv, second_on)
    s.claim(t_uwv, employer_kvk=kvk, application=application, job_start=job_start, contract_end=contract_end,
            on=second_on, secondment=False, rule=DOUBLE_CLAIM, tags=("anja", "double-claim"))
    s.end(t_uwv, "placed", second_on + days(rng.randint(0, 10)))


SCENARIOS: dict[str, Callable[[Story], None]] = {
    "anja": anja,
    "double-claim": double_claim,
    "claim-released": claim_released,
    "job-before-trajectory": job_before_trajectory,
    "claim-after-trajectory": claim_after_trajectory,
    "revolving-door": revolving_door,
    "regular": regular,
}
# share of clients per special scenario (at least one each when there are clients enough)
SHARES = (
    ("anja", 0.005),
    ("double-claim", 0.015),
    ("claim-released", 0.005),
    ("job-before-trajectory", 0.02),
    ("claim-after-trajectory", 0.01),
    ("revolving-door", 0.04),
)
