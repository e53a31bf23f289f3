"""Given a dossier, when a submission, then accepted or this typed refusal."""

from datetime import date
from typing import Any

import pytest

from ledger.domain.dossier import Context, DossierState, decide, evolve
from ledger.domain.errors import Refusal
from tests.support import claim, commission, new_id, payload

REF = "c" * 64
TODAY = date(2025, 6, 1)
ROLES = {"gemeente-haarlem": "funder", "uwv": "funder", "werkfit": "provider", "jobstap": "provider"}


def ctx(submitter: str) -> Context:
    return Context(submitter, ROLES.get(submitter, ""), TODAY, ROLES.get)


def given(*facts: tuple[str, dict[str, Any]]) -> DossierState:
    state = DossierState()
    for submitter, p in facts:
        decide(state, p, ctx(submitter))  # the history itself must be valid
        evolve(state, p, submitter, "2025-06-01T00:00:00.000000Z")
    return state


def refused(state: DossierState, submitter: str, p: dict[str, Any]) -> Refusal:
    with pytest.raises(Refusal) as err:
        decide(state, p, ctx(submitter))
    return err.value


T1 = new_id()
T2 = new_id()
BASE = (("gemeente-haarlem", commission(REF, "werkfit", T1, start="2024-01-01", planned_end="2024-12-31")),)


def test_only_a_funder_commissions() -> None:
    err = refused(DossierState(), "werkfit", commission(REF))
    assert (err.rule, err.field) == ("role.not-allowed", "submitter")


def test_commissioning_needs_a_registered_provider() -> None:
    err = refused(DossierState(), "gemeente-haarlem", commission(REF, provider="uwv"))
    assert (err.rule, err.field) == ("reference.unknown", "payload.provider")


def test_planned_end_after_start() -> None:
    err = refused(DossierState(), "uwv", commission(REF, start="2024-05-01", planned_end="2024-05-01"))
    assert err.rule == "dates.end-after-start"


def test_only_the_trajectorys_provider_writes_to_it() -> None:
    state = given(*BASE)
    err = refused(state, "jobstap", payload("ActivityRecorded", REF, "2024-02-01", trajectory_id=T1, instrument=30))
    assert (err.rule, err.field) == ("role.not-allowed", "submitter")
    decide(state, payload("ActivityRecorded", REF, "2024-02-01", trajectory_id=T1, instrument=30), ctx("werkfit"))


def test_activity_outside_the_trajectory_period() -> None:
    err = refused(given(*BASE), "werkfit", payload("ActivityRecorded", REF, "2023-12-31", trajectory_id=T1, instrument=3))
    assert err.rule == "dates.outside-trajectory"


def test_no_future_events() -> None:
    err = refused(given(*BASE), "werkfit", payload("ActivityRecorded", REF, "2025-06-02", trajectory_id=T1, instrument=3))
    assert (err.rule, err.field) == ("dates.not-future", "payload.occurred_on")


def test_intake_only_once() -> None:
    intake = payload("IntakeCompleted", REF, "2024-01-10", trajectory_id=T1, rung=2, rubric_version="2011")
    state = given(*BASE, ("werkfit", intake))
    err = refused(state, "werkfit", {**intake, "envelope_id": new_id()})
    assert err.rule == "reference.exists"


def test_claim_needs_a_trajectory_whose_period_contains_the_job_start() -> None:
    err = refused(given(*BASE), "werkfit", claim(REF, T1, job_start="2025-02-01", application_date="2025-01-01"))
    assert (err.rule, err.field) == ("dates.outside-trajectory", "payload.job_start")
    err = refused(given(*BASE), "werkfit", claim(REF, new_id()))
    assert (err.rule, err.field) == ("reference.unknown", "payload.trajectory_id")


def test_application_date_not_after_job_start() -> None:
    err = refused(given(*BASE), "werkfit", claim(REF, T1, job_start="2024-06-01", application_date="2024-06-02"))
    assert err.rule == "dates.application-before-job"


def test_contract_end_after_job_start() -> None:
    err = refused(given(*BASE), "werkfit", claim(REF, T1, contract_end="2024-06-01"))
    assert (err.rule, err.field) == ("dates.end-after-start", "payload.contract_end")


TWO_FUNDERS = BASE + (("uwv", commission(REF, "jobstap", T2, start="2024-02-01", planned_end="2025-01-31")),)


def test_double_claim_across_funders_names_the_first_claim() -> None:
    first = claim(REF, T1, job_start="2024-06-01")
    state = given(*TWO_FUNDERS, ("werkfit", first))
    err = refused(state, "jobstap", claim(REF, T2, job_start="2024-06-01"))
    assert (err.rule, err.field, err.conflicting_claim) == ("claim.unique-job", "payload.employer_kvk", first["claim_id"])


@pytest.mark.parametrize(
    ("first_end", "second_start", "conflict"),
    [
        ("2024-07-31", "2024-07-15", True),   # overlaps
        ("2024-07-31", "2024-08-31", True),   # starts 31 days after the first ended
        ("2024-07-31", "2024-09-01", False),  # 32 days after: a new job
        (None, "2024-11-30", True),           # the first is open-ended
    ],
)
def test_double_claim_window(first_end: str | None, second_start: str, conflict: bool) -> None:
    first = claim(REF, T1, job_start="2024-06-01", contract_end=first_end)
    state = given(*TWO_FUNDERS, ("werkfit", first))
    second = claim(REF, T2, job_start=second_start, application_date="2024-05-01")
    if conflict:
        assert refused(state, "jobstap", second).conflicting_claim == first["claim_id"]
    else:
        decide(state, second, ctx("jobstap"))


def test_same_provider_cannot_claim_the_same_job_twice_either() -> None:
    first = claim(REF, T1)
    err = refused(given(*BASE, ("werkfit", first)), "werkfit", claim(REF, T1))
    assert err.conflicting_claim == first["claim_id"]


def test_other_employer_is_no_double_claim() -> None:
    state = given(*TWO_FUNDERS, ("werkfit", claim(REF, T1)))
    decide(state, claim(REF, T2, kvk="87654321"), ctx("jobstap"))


@pytest.mark.parametrize(("kind", "by"), [("PlacementRejected", "gemeente-haarlem"), ("PlacementWithdrawn", "werkfit")])
def test_rejected_or_withdrawn_claim_frees_the_job(kind: str, by: str) -> None:
    first = claim(REF, T1)
    fields = {"reason": "no-evidence"} if kind == "PlacementRejected" else {}
    end = payload(kind, REF, "2024-06-10", claim_id=first["claim_id"], **fields)
    state = given(*TWO_FUNDERS, ("werkfit", first), (by, end))
    decide(state, claim(REF, T2), ctx("jobstap"))


def test_only_the_claims_funder_confirms() -> None:
    first = claim(REF, T1)
    state = given(*TWO_FUNDERS, ("werkfit", first))
    confirm = payload("PlacementConfirmed", REF, "2024-06-10", claim_id=first["claim_id"])
    assert refused(state, "uwv", confirm).rule == "role.not-allowed"
    assert refused(state, "werkfit", confirm).rule == "role.not-allowed"
    decide(state, confirm, ctx("gemeente-haarlem"))


def test_a_decided_claim_cannot_be_decided_or_withdrawn_again() -> None:
    first = claim(REF, T1)
    confirm = payload("PlacementConfirmed", REF, "2024-06-10", claim_id=first["claim_id"])
    state = given(*BASE, ("werkfit", first), ("gemeente-haarlem", confirm))
    assert refused(state, "gemeente-haarlem", {**confirm, "envelope_id": new_id()}).rule == "state.transition"
    withdraw = payload("PlacementWithdrawn", REF, "2024-06-11", claim_id=first["claim_id"])
    assert refused(state, "werkfit", withdraw).rule == "state.transition"


def test_contest_by_another_party_of_this_client_only() -> None:
    first = claim(REF, T1)
    state = given(*TWO_FUNDERS, ("werkfit", first))
    contest = payload("PlacementContested", REF, "2024-06-10", claim_id=first["claim_id"], reason="found-herself")
    assert refused(state, "werkfit", contest).rule == "role.not-allowed"
    decide(state, contest, ctx("jobstap"))
    decide(state, contest, ctx("uwv"))


def test_trajectory_ends_once_and_not_before_start() -> None:
    end = payload("TrajectoryEnded", REF, "2024-10-01", trajectory_id=T1, reason="placed", end="2024-10-01")
    state = given(*BASE, ("werkfit", end))
    assert refused(state, "werkfit", {**end, "envelope_id": new_id()}).rule == "state.transition"
    early = payload("TrajectoryEnded", REF, "2024-10-01", trajectory_id=T1, reason="placed", end="2023-10-01")
    assert refused(given(*BASE), "werkfit", early).rule == "dates.end-after-start"
    assert refused(given(*BASE), "jobstap", early).rule == "role.not-allowed"


def test_benefits_by_funders_and_ended_by_the_same_funder() -> None:
    bid = new_id()
    start = payload("BenefitStarted", REF, "2024-01-01", benefit_id=bid, benefit="WWB", start="2024-01-01")
    assert refused(DossierState(), "werkfit", start).rule == "role.not-allowed"
    state = given(("gemeente-haarlem", start))
    end = payload("BenefitEnded", REF, "2024-03-01", benefit_id=bid, end="2024-03-01")
    assert refused(state, "uwv", end).rule == "role.not-allowed"
    assert refused(state, "gemeente-haarlem", {**end, "end": "2023-12-31"}).rule == "dates.end-after-start"
    decide(state, end, ctx("gemeente-haarlem"))


def test_extension_by_the_funder_moves_the_end_later() -> None:
    state = given(*BASE)
    ext = payload("TrajectoryExtended", REF, "2024-11-01", trajectory_id=T1, planned_end="2025-03-31")
    assert refused(state, "werkfit", ext).rule == "role.not-allowed"
    assert refused(state, "gemeente-haarlem", {**ext, "planned_end": "2024-06-30"}).rule == "dates.end-after-start"
    decide(state, ext, ctx("gemeente-haarlem"))


def test_a_double_claim_outside_the_claimants_own_period_is_still_a_double_claim() -> None:
    first = claim(REF, T1, job_start="2024-06-01")
    late = (("uwv", commission(REF, "jobstap", T2, start="2024-08-01", planned_end="2025-01-31")),)
    state = given(*BASE, *late, ("werkfit", first))
    err = refused(state, "jobstap", claim(REF, T2, job_start="2024-06-01"))
    assert (err.rule, err.conflicting_claim) == ("claim.unique-job", first["claim_id"])


def test_a_trajectory_cannot_end_before_what_was_recorded_on_it_or_after_its_planned_end() -> None:
    activity = payload("ActivityRecorded", REF, "2024-05-01", trajectory_id=T1, instrument=30)
    state = given(*BASE, ("werkfit", activity))
    early = payload("TrajectoryEnded", REF, "2024-04-01", trajectory_id=T1, reason="dropped-out", end="2024-04-01")
    err = refused(state, "werkfit", early)
    assert (err.rule, err.field) == ("dates.end-before-recorded", "payload.end")
    late = payload("TrajectoryEnded", REF, "2025-02-01", trajectory_id=T1, reason="completed", end="2025-02-01")
    assert refused(state, "werkfit", late).rule == "dates.outside-trajectory"
    decide(state, {**early, "end": "2024-05-01", "occurred_on": "2024-05-01"}, ctx("werkfit"))
