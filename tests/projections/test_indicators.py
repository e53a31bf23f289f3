"""Each indicator on a worked case, the numbers computed by hand in the test (issue 16).

Dossiers are built with the ledger's own pure rules (``decide`` then ``evolve``), so every
fact below is one the ledger would accept."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from ledger.domain.dossier import Context, DossierState, decide, evolve
from ledger.domain.payloads import validate_payload
from projections.indicators import follow_up
from projections.indicators.parking import parking
from projections.indicators.report import indicators, only_areas
from projections.indicators.tally import ALL, Measure
from tests.support import claim, commission, new_id, not_found, payload

ROLES = {"gemeente-haarlem": "funder", "uwv": "funder", "werkfit": "provider", "baanzicht": "provider"}
MIX = [25, 25, 25, 25, 0, 0]


class Dossier:
    def __init__(self, name: str) -> None:
        self.ref = hashlib.sha256(name.encode()).hexdigest()
        self.state = DossierState()

    def add(self, submitter: str, p: dict[str, Any]) -> dict[str, Any]:
        validate_payload(p)
        decide(self.state, p, Context(submitter, ROLES[submitter], date(2026, 6, 30), ROLES.get))
        evolve(self.state, p, submitter, "2026-06-30T10:00:00.000000Z")
        return p

    def commission(self, start: str = "2024-01-01", end: str = "2024-12-31", **over: Any) -> str:
        tid = new_id()
        self.add("gemeente-haarlem", commission(self.ref, over.pop("provider", "werkfit"), tid, start=start,
                                                planned_end=end, **over))
        return tid

    def fact(self, submitter: str, kind: str, on: str, **fields: Any) -> dict[str, Any]:
        return self.add(submitter, payload(kind, self.ref, on, **fields))


def measures(dossiers: list[Dossier], by: str = "provider", peildatum: str = "2026-01-01", weeks: int = 8) -> dict[tuple[str, ...], Measure]:
    result = indicators([(d.ref, d.state) for d in dossiers], by, date.fromisoformat(peildatum), weeks)
    return {(m.group, m.area, m.indicator, m.slice): m for m in result.measures}


def counts(m: Measure) -> tuple[int, int]:
    return m.count, m.denominator


def test_selection_declined_by_rung_and_the_accepted_mix_against_the_target() -> None:
    """Four referrals to werkfit at rungs 1, 1, 2, 3, target 25% each of rungs 1-4; one at rung 1 declined."""
    d = Dossier("selection")
    tids = [d.commission(referral_rung=r, target_mix=MIX) for r in (1, 1, 2, 3)]
    d.fact("werkfit", "ReferralDeclined", "2024-01-02", trajectory_id=tids[0], reason="outside-target-group")
    d.commission(provider="baanzicht")  # no rung stated: counted as rung-unknown, not in the mix
    m = measures([d])
    assert counts(m["werkfit", "selection", "declined", "all"]) == (1, 4)
    assert counts(m["werkfit", "selection", "declined", "rung-1"]) == (1, 2)
    assert counts(m["werkfit", "selection", "declined", "rung-2"]) == (0, 1)
    assert counts(m["baanzicht", "selection", "declined", "rung-unknown"]) == (0, 1)
    rung1 = m["werkfit", "selection", "accepted-mix", "rung-1"]  # accepted: rungs 1, 2, 3 -> a third at rung 1
    assert counts(rung1) == (1, 3) and rung1.target == 0.25
    rung4 = m["werkfit", "selection", "accepted-mix", "rung-4"]
    assert counts(rung4) == (0, 3) and rung4.target == 0.25
    assert counts(m[ALL, "selection", "declined", "all"]) == (1, 5)
    # a declined referral is no trajectory: no parking, durability or follow-up measure
    assert ("werkfit", "parking", "parked-8w", "all") not in m


def test_parking_days_by_hand() -> None:
    """Intake 01-10, activities 02-01 and 05-01, ended 06-30 (2024), parked after 8 weeks (56 days):
    01-10 -> 02-01 is 22 days: nothing; 02-01 -> 05-01 is 90 days: days 57..89 after 02-01 are parked, 33;
    05-01 -> 06-30 is 60 days: days 57..60 after 05-01, 4. 37 parked of 173 days (01-10 .. 06-30)."""
    d = Dossier("parking")
    t = d.commission(end="2024-06-30")
    d.fact("werkfit", "IntakeCompleted", "2024-01-10", trajectory_id=t, rung=2, rubric_version="v1")
    for on in ("2024-02-01", "2024-05-01"):
        d.fact("werkfit", "ActivityRecorded", on, trajectory_id=t, instrument=12)
    d.fact("werkfit", "TrajectoryEnded", "2024-06-30", trajectory_id=t, reason="completed", end="2024-06-30")
    found = parking(d.state, t, "2026-01-01")
    assert found is not None and (found.days, found.parked_days, found.days_to_job) == (173, 37, None)
    assert parking(d.state, t, "2026-01-01", weeks=13).parked_days == 0  # type: ignore[union-attr]  # no gap over 91 days
    # placed: intake 01-10, activity 02-20, job 03-10: the window ends at the job, 60 days after the intake
    # (61 days, both included), none parked
    placed = d.commission(start="2024-01-01")
    d.fact("werkfit", "IntakeCompleted", "2024-01-10", trajectory_id=placed, rung=4, rubric_version="v1")
    d.fact("werkfit", "ActivityRecorded", "2024-02-20", trajectory_id=placed, instrument=29)
    d.add("werkfit", claim(d.ref, placed, kvk="11112222", job_start="2024-03-10", application_date="2024-02-25"))
    m = measures([d])
    assert counts(m["werkfit", "parking", "parked-8w", "all"]) == (1, 2)
    assert counts(m["werkfit", "parking", "parked-8w", "intake-rung-2"]) == (1, 1)
    assert counts(m["werkfit", "parking", "parked-time", "all"]) == (37, 173 + 61)
    assert counts(m["werkfit", "parking", "days-intake-to-job", "intake-rung-4"]) == (60, 1)
    assert "intake-rung-2" not in {k[3] for k in m if k[2] == "days-intake-to-job"}


def placed(name: str, job_start: str, contract_end: str | None, application: str = "2024-01-15") -> tuple[Dossier, str]:
    d = Dossier(name)
    t = d.commission(start="2024-01-01", end="2024-12-31")
    c = d.add("werkfit", claim(d.ref, t, kvk="12345678", job_start=job_start, application_date=application,
                               contract_end=contract_end))
    d.fact("gemeente-haarlem", "PlacementConfirmed", job_start, claim_id=c["claim_id"])
    return d, c["claim_id"]


def test_durability_deadweight_and_cooperation_by_hand() -> None:
    """A: 01-01 .. 04-30 (under 6m; applied before the trajectory; back on benefit from 06-01);
    B: open-ended from 02-01 (wage data finds no job in 2025-08); C: 03-01 .. 2025-03-01 (6-12m,
    placed with baanzicht's vacancy); D: 03-01 .. 2025-06-01 (over 12m). Employed at 6 months:
    B, C, D (3/4); at 12 months: B, C - on its last day - and D (3/4); at 18 months (2025-08/09):
    B's job was not found, C and D ended: 0/4. On benefit at 6 months: A (1/4)."""
    a, _ = placed("a", "2024-01-01", "2024-04-30", application="2023-12-01")
    a.fact("gemeente-haarlem", "BenefitStarted", "2024-06-01", benefit_id=new_id(), benefit="WWB", start="2024-06-01")
    b, claim_b = placed("b", "2024-02-01", None)
    b.add("gemeente-haarlem", not_found(b.ref, claim_b, period_from="2025-07-01", period_to="2025-09-30"))
    c, claim_c = placed("c", "2024-03-01", "2025-03-01")
    c.fact("werkfit", "PlacementCooperation", "2024-03-01", claim_id=claim_c, partner="baanzicht", partner_share_percent=50)
    d, _ = placed("d", "2024-03-01", "2025-06-01")
    m = measures([a, b, c, d])
    lengths = {s: counts(m["werkfit", "durability", "contract-length", s]) for s in ("under-6m", "6-12m", "over-12m", "open-ended")}
    assert lengths == {"under-6m": (1, 4), "6-12m": (1, 4), "over-12m": (1, 4), "open-ended": (1, 4)}
    assert [counts(m["werkfit", "durability", "employed-at", s]) for s in ("6m", "12m", "18m")] == [(3, 4), (3, 4), (0, 4)]
    assert counts(m["werkfit", "durability", "on-benefit-at", "6m"]) == (1, 4)
    assert counts(m["werkfit", "deadweight", "application-before-trajectory", "all"]) == (1, 4)
    assert counts(m["werkfit", "cooperation", "placements", "made-with-partner"]) == (1, 4)
    assert counts(m["baanzicht", "cooperation", "placements", "as-partner"]) == (1, 0)
    # at a peildatum of 2024-12-31 only the 6-month moments have passed (A 07-01, B 08-01, C and D 09-01)
    early = measures([a, b, c, d], peildatum="2024-12-31")
    assert counts(early["werkfit", "durability", "employed-at", "6m"]) == (3, 4)
    assert ("werkfit", "durability", "employed-at", "12m") not in early


def test_follow_up_plan_and_response_by_hand() -> None:
    """Ended 2024-06-30; at 2025-09-01 the 6-month moment (due 2024-12-30) is recorded and the
    client reached, the 12-month one (due 2025-06-30) is overdue (more than 8 weeks: after
    08-25), the 18-month one (due 2025-12-30) upcoming. A second trajectory, ended 2025-02-28,
    has its 6-month moment (08-28) due, within the grace, the client not reached when recorded."""
    d = Dossier("follow-up")
    t = d.commission(end="2024-06-30")
    d.fact("werkfit", "TrajectoryEnded", "2024-06-30", trajectory_id=t, reason="completed", end="2024-06-30")
    d.fact("gemeente-haarlem", "FollowUpRecorded", "2025-01-06", trajectory_id=t, moment="6-months", status="employed",
           found_without="yes", satisfaction=4)
    t2 = d.commission(start="2024-09-01", end="2025-02-28", provider="baanzicht")
    d.fact("baanzicht", "TrajectoryEnded", "2025-02-28", trajectory_id=t2, reason="dropped-out", end="2025-02-28")
    rows = follow_up.plan([(d.ref, d.state)], "2025-09-01")
    assert [(r.trajectory_id, r.moment, r.due_on, r.state, r.status) for r in rows] == [
        (t, "6-months", "2024-12-30", "recorded", "employed"), (t, "12-months", "2025-06-30", "overdue", None),
        (t, "18-months", "2025-12-30", "upcoming", None), (t2, "6-months", "2025-08-28", "due", None),
        (t2, "12-months", "2026-02-28", "upcoming", None), (t2, "18-months", "2026-08-28", "upcoming", None)]
    m = measures([d], by="contract", peildatum="2025-09-01")
    g = "no-cure-no-pay"
    assert counts(m[g, "follow-up", "recorded", "6-months"]) == (1, 2)
    assert counts(m[g, "follow-up", "response", "6-months"]) == (1, 2)
    assert counts(m[g, "follow-up", "overdue", "12-months"]) == (1, 1)
    assert counts(m[g, "follow-up", "in-work", "6-months"]) == (1, 1)
    assert counts(m[g, "follow-up", "would-have-found-without", "6-months"]) == (1, 1)
    assert counts(m[g, "follow-up", "satisfaction", "6-months"]) == (4, 1)


def test_grouping_by_contract_and_year_and_the_comparison() -> None:
    """NCNP: two referrals in 2024, one declined; NCLP: one in 2025, accepted. Declined: 50% vs 0%, +50 points."""
    d = Dossier("groups")
    t1 = d.commission(referral_rung=2)
    d.commission(referral_rung=2)
    d.commission(start="2025-01-01", end="2025-12-31", contract="no-cure-less-pay", base_fee_cents=1000, referral_rung=2)
    d.fact("werkfit", "ReferralDeclined", "2024-01-01", trajectory_id=t1, reason="no-capacity")
    by_year = measures([d], by="year")
    assert counts(by_year["2024", "selection", "declined", "all"]) == (1, 2)
    assert counts(by_year["2025", "selection", "declined", "all"]) == (0, 1)
    result = indicators([(d.ref, d.state)], "year", date(2026, 1, 1))
    [declined] = [c for c in result.comparison if (c.indicator, c.slice) == ("declined", "all")]
    assert declined.no_cure_no_pay is not None and counts(declined.no_cure_no_pay) == (1, 2)
    assert declined.no_cure_less_pay is not None and counts(declined.no_cure_less_pay) == (0, 1)
    assert declined.difference == 0.5
    only = only_areas(result, ["selection"])
    assert {m.area for m in only.measures} == {c.area for c in only.comparison} == {"selection"}
    assert [m.slice for m in only.measures if m.group == ALL] == ["all", "rung-2"]
    # a referral commissioned after the peildatum is not counted yet
    assert counts(measures([d], by="year", peildatum="2024-12-31")[ALL, "selection", "declined", "all"]) == (1, 2)


def test_a_definition_reads_the_follow_up() -> None:
    """The worked plugin ``employed-12m``: employed at the 12-month follow-up is a success, on benefit a
    failure, not reached or not yet recorded stays pending."""
    from projections.definitions.registry import DefinitionRegistry
    from projections.evaluation import evaluate
    from projections.examples.employed_12m import DEFINITION

    registry = DefinitionRegistry()
    registry.register(DEFINITION)
    outcomes = {}
    for name, status in (("in-work", "self-employed"), ("on-benefit", "on-benefit"), ("not-reached", "not-reached"),
                         ("nothing-yet", None)):
        d = Dossier(name)
        t = d.commission(end="2024-06-30")
        d.fact("werkfit", "TrajectoryEnded", "2024-06-30", trajectory_id=t, reason="completed", end="2024-06-30")
        if status is not None:
            reached = status != "not-reached"
            d.fact("gemeente-haarlem", "FollowUpRecorded", "2025-07-01", trajectory_id=t, moment="12-months", status=status,
                   found_without="no" if reached else "no-answer", satisfaction=3 if reached else None)
        [result] = evaluate([(d.ref, d.state)], [DEFINITION], date(2025, 12, 31), registry)
        outcomes[name] = (result.verdicts["employed-12m"].outcome, result.verdicts["employed-12m"].credited_provider)
    assert outcomes == {"in-work": ("success", "werkfit"), "on-benefit": ("failure", None),
                        "not-reached": ("pending", None), "nothing-yet": ("pending", None)}
