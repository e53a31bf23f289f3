"""Given a dossier, when a declined referral, a follow-up or a cooperation, then accepted or this typed refusal (issue 16).

Who may submit, the dates, one follow-up per due moment, consent signed by the trajectory's
provider, and the fee's split that never exceeds the fee."""

from datetime import date
from typing import Any

import pytest
from hypothesis import given as for_all
from hypothesis import strategies as st

from ledger.domain.dossier import Context, DossierState, decide, evolve
from ledger.domain.dossier.cooperation import split_fee
from ledger.domain.dossier.follow_up import due_on, months_after
from ledger.domain.errors import MalformedSubmission, Refusal
from ledger.domain.payloads import validate_payload
from tests.support import claim, commission, new_id, payload

REF = "d" * 64
TODAY = date(2026, 6, 1)
ROLES = {"gemeente-haarlem": "funder", "uwv": "funder", "werkfit": "provider", "baanzicht": "provider",
         "nazorg-bv": "provider", "rekenkamer": "auditor"}


def ctx(submitter: str) -> Context:
    return Context(submitter, ROLES.get(submitter, ""), TODAY, ROLES.get)


def given(*facts: tuple[str, dict[str, Any]]) -> DossierState:
    state = DossierState()
    for submitter, p in facts:
        validate_payload(p)
        decide(state, p, ctx(submitter))
        evolve(state, p, submitter, "2026-06-01T00:00:00.000000Z")
    return state


def accept(state: DossierState, submitter: str, p: dict[str, Any]) -> None:
    validate_payload(p)
    decide(state, p, ctx(submitter))
    evolve(state, p, submitter, "2026-06-01T00:00:00.000000Z")


def refused(state: DossierState, submitter: str, p: dict[str, Any]) -> Refusal:
    validate_payload(p)
    with pytest.raises(Refusal) as err:
        decide(state, p, ctx(submitter))
    return err.value


T1 = new_id()
COMMISSIONED = ("gemeente-haarlem", commission(REF, "werkfit", T1, start="2024-01-10", planned_end="2024-12-31",
                                               occurred_on="2024-01-03", referral_rung=2, follow_up_by="nazorg-bv",
                                               target_mix=[10, 30, 30, 20, 10, 0]))


def declined(on: str = "2024-01-08", reason: str = "outside-target-group") -> dict[str, Any]:
    return payload("ReferralDeclined", REF, on, trajectory_id=T1, reason=reason)


# --- ReferralDeclined --------------------------------------------------------------------


def test_the_provider_declines_before_intake_and_the_referral_is_closed() -> None:
    state = given(COMMISSIONED)
    accept(state, "werkfit", declined())
    t = state.trajectories[T1]
    assert t["declined"] == {"reason": "outside-target-group", "on": "2024-01-08"}
    assert (t["referral_rung"], t["target_mix"], t["follow_up_by"]) == (2, [10, 30, 30, 20, 10, 0], "nazorg-bv")
    intake = payload("IntakeCompleted", REF, "2024-01-12", trajectory_id=T1, rung=2, rubric_version="v1")
    assert refused(state, "werkfit", intake).rule == "referral.declined"
    assert refused(state, "werkfit", declined("2024-01-09")).rule == "reference.exists"
    ended = payload("TrajectoryEnded", REF, "2024-01-09", trajectory_id=T1, reason="completed", end="2024-01-10")
    assert refused(state, "gemeente-haarlem", ended).rule == "referral.declined"


@pytest.mark.parametrize("submitter", ["gemeente-haarlem", "baanzicht", "rekenkamer"])
def test_only_the_trajectorys_provider_declines(submitter: str) -> None:
    assert refused(given(COMMISSIONED), submitter, declined()).rule == "role.not-allowed"


def test_no_decline_after_intake_before_the_referral_or_in_the_future() -> None:
    intake = ("werkfit", payload("IntakeCompleted", REF, "2024-01-12", trajectory_id=T1, rung=2, rubric_version="v1"))
    assert refused(given(COMMISSIONED, intake), "werkfit", declined("2024-01-13")).rule == "referral.after-intake"
    assert refused(given(COMMISSIONED), "werkfit", declined("2024-01-02")).rule == "dates.before-referral"
    assert refused(given(COMMISSIONED), "werkfit", declined("2026-06-02")).rule == "dates.not-future"
    assert refused(DossierState(), "werkfit", declined()).rule == "reference.unknown"


def test_the_decline_reason_is_a_code_and_commission_fields_are_checked() -> None:
    with pytest.raises(MalformedSubmission, match="field.choice"):
        validate_payload(declined(reason="the client smells"))
    with pytest.raises(MalformedSubmission, match="add up to 100"):
        validate_payload(commission(REF, target_mix=[10, 30, 30, 20, 10, 10]))
    with pytest.raises(MalformedSubmission, match="field.range"):
        validate_payload(commission(REF, referral_rung=7))
    unknown = commission(REF, "werkfit", new_id(), follow_up_by="nobody")
    assert refused(DossierState(), "gemeente-haarlem", unknown).rule == "reference.unknown"


def test_a_commission_stored_before_the_new_fields_still_validates() -> None:
    old = commission(REF)  # no referral_rung, target_mix or follow_up_by: as 0.1 stored them
    assert validate_payload(old) is old
    with pytest.raises(MalformedSubmission, match="field.unknown"):
        validate_payload({**old, "referral_rungs": 2})


# --- FollowUpRecorded --------------------------------------------------------------------

ENDED = ("werkfit", payload("TrajectoryEnded", REF, "2024-06-30", trajectory_id=T1, reason="placed", end="2024-06-30"))


def followed(moment: str, on: str, status: str = "employed", found: str = "maybe", satisfaction: int | None = 4) -> dict[str, Any]:
    return payload("FollowUpRecorded", REF, on, trajectory_id=T1, moment=moment, status=status,
                   found_without=found, satisfaction=satisfaction)


def test_due_dates_by_hand() -> None:
    assert months_after(date(2024, 8, 31), 6) == date(2025, 2, 28)
    assert [due_on("2024-06-30", m).isoformat() for m in ("6-months", "12-months", "18-months")] == \
        ["2024-12-30", "2025-06-30", "2025-12-30"]


def test_the_funder_and_the_named_provider_record_one_follow_up_per_due_moment() -> None:
    state = given(COMMISSIONED, ENDED)
    accept(state, "gemeente-haarlem", followed("6-months", "2024-12-30"))
    accept(state, "nazorg-bv", followed("12-months", "2025-07-02", status="not-reached", found="no-answer", satisfaction=None))
    again = refused(state, "gemeente-haarlem", followed("6-months", "2025-01-15", status="on-benefit"))
    assert (again.rule, again.field) == ("reference.exists", "payload.moment")
    assert set(state.trajectories[T1]["follow_ups"]) == {"6-months", "12-months"}
    assert state.trajectories[T1]["follow_ups"]["12-months"]["by"] == "nazorg-bv"


@pytest.mark.parametrize("submitter", ["werkfit", "baanzicht", "uwv", "rekenkamer"])
def test_nobody_else_records_a_follow_up(submitter: str) -> None:
    assert refused(given(COMMISSIONED, ENDED), submitter, followed("6-months", "2025-01-05")).rule == "role.not-allowed"


def test_not_before_it_is_due_not_before_the_end_and_no_answers_from_a_client_not_reached() -> None:
    state = given(COMMISSIONED, ENDED)
    early = refused(state, "gemeente-haarlem", followed("6-months", "2024-12-29"))
    assert (early.rule, early.field) == ("dates.follow-up-early", "payload.occurred_on")
    assert refused(given(COMMISSIONED), "gemeente-haarlem", followed("6-months", "2025-01-05")).rule == "state.transition"
    answers = refused(state, "gemeente-haarlem", followed("6-months", "2025-01-05", status="not-reached"))
    assert answers.rule == "follow-up.answers-without-contact"
    with pytest.raises(MalformedSubmission):
        validate_payload(followed("9-months", "2025-04-01"))
    with pytest.raises(MalformedSubmission):
        validate_payload(followed("6-months", "2025-01-05", satisfaction=6))


# --- PlacementCooperation ----------------------------------------------------------------

T2 = new_id()
CLAIMED = claim(REF, T2, job_start="2025-03-01", application_date="2025-02-10")
C1 = CLAIMED["claim_id"]
PLACED = (("uwv", commission(REF, "werkfit", T2, start="2025-01-01", planned_end="2025-12-31")), ("werkfit", CLAIMED))


def cooperation(partner: str = "baanzicht", share: int = 40, on: str = "2025-03-05") -> dict[str, Any]:
    return payload("PlacementCooperation", REF, on, claim_id=C1, partner=partner, partner_share_percent=share)


def test_the_trajectorys_provider_consents_once_and_the_claim_stays_the_only_claim() -> None:
    state = given(*PLACED)
    accept(state, "werkfit", cooperation())
    assert state.claims[C1]["cooperation"] == {"partner": "baanzicht", "partner_share_percent": 40, "on": "2025-03-05"}
    assert refused(state, "werkfit", cooperation(share=50)).rule == "reference.exists"
    # the partner may not claim the job itself: no trajectory of its own, and the job is claimed already
    t3 = new_id()
    accept(state, "uwv", commission(REF, "baanzicht", t3, start="2025-01-01", planned_end="2025-12-31"))
    second = refused(state, "baanzicht", claim(REF, t3, job_start="2025-03-01", application_date="2025-02-10"))
    assert (second.rule, second.conflicting_claim) == ("claim.unique-job", C1)


@pytest.mark.parametrize("submitter", ["baanzicht", "uwv", "nazorg-bv"])
def test_consent_is_signed_by_the_trajectorys_provider(submitter: str) -> None:
    assert refused(given(*PLACED), submitter, cooperation()).rule == "role.not-allowed"


def test_partner_claim_and_dates() -> None:
    state = given(*PLACED)
    assert refused(state, "werkfit", cooperation(partner="werkfit")).rule == "cooperation.same-provider"
    assert refused(state, "werkfit", cooperation(partner="uwv")).rule == "reference.unknown"
    assert refused(state, "werkfit", cooperation(on="2025-02-28")).rule == "dates.before-claim"
    withdrawn = given(*PLACED, ("werkfit", payload("PlacementWithdrawn", REF, "2025-03-02", claim_id=C1)))
    assert refused(withdrawn, "werkfit", cooperation()).rule == "state.transition"
    for share in (0, 101):
        with pytest.raises(MalformedSubmission, match="field.range"):
            validate_payload(cooperation(share=share))


def test_the_split_by_hand() -> None:
    assert split_fee(300_000, 40) == (180_000, 120_000)
    assert split_fee(99_999, 33) == (67_000, 32_999)  # 99,999 x 33 / 100 = 32,999.67: the partner's part rounds down
    assert split_fee(50_000, 100) == (0, 50_000)


@for_all(st.integers(0, 10**9), st.integers(0, 100))
def test_the_split_never_exceeds_the_fee(fee: int, share: int) -> None:
    lead, partner = split_fee(fee, share)
    assert lead + partner == fee and 0 <= partner <= fee and 0 <= lead <= fee
