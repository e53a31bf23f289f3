"""Definitions that require verified employment (issue 15): a claim with matching
EmploymentVerified succeeds, one with EmploymentNotFound fails, and the verdicts under the
older versions (six-month-rule, contract-6m) are the same with or without the evidence."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.domain.dossier import Context, DossierState, decide, evolve
from projections.definitions import FAILURE, PENDING, SUCCESS, contract_6m, six_month_rule
from projections.definitions import contract_6m_verified as contract_v2
from projections.definitions import six_month_rule_verified as six_v2
from projections.definitions.earnings_threshold import earnings_threshold
from projections.definitions.facts import trajectory_facts
from projections.rows import FACT_COLUMNS, facts_from_row, facts_rows
from projections.verification import CONTRADICTED, NOT_FOUND, UNVERIFIED, VERIFIED, claim_verification
from tests.support import claim, commission, new_id, not_found, payload, verified

REF = "d" * 64
ROLES = {"gemeente-haarlem": "funder", "werkfit": "provider"}
T1 = new_id()
CLAIMED = claim(REF, T1, kvk="12345678", application_date="2024-03-10", job_start="2024-04-01")
C1 = CLAIMED["claim_id"]
AFTER = date(2024, 11, 15)  # after the six months that follow the end (2024-05-01 .. 2024-10-30)


def placed() -> DossierState:
    """Commissioned 2024-01-01, placed in an indefinite job from 2024-04-01 (confirmed), ended 2024-04-30."""
    state = DossierState()
    for submitter, p in (
        ("gemeente-haarlem", commission(REF, "werkfit", T1, start="2024-01-01", planned_end="2024-12-31")),
        ("werkfit", CLAIMED),
        ("gemeente-haarlem", payload("PlacementConfirmed", REF, "2024-04-10", claim_id=C1)),
        ("werkfit", payload("TrajectoryEnded", REF, "2024-04-30", trajectory_id=T1, reason="placed", end="2024-04-30")),
    ):
        add(state, submitter, p)
    return state


def add(state: DossierState, submitter: str, p: dict[str, Any]) -> DossierState:
    decide(state, p, Context(submitter, ROLES[submitter], date(2025, 6, 1), ROLES.get))
    evolve(state, p, submitter, "2025-01-01T00:00:00.000000Z")
    return state


def with_evidence(*evidence: dict[str, Any]) -> DossierState:
    state = placed()
    for p in evidence:
        add(state, "gemeente-haarlem", p)
    return state


OLD = (six_month_rule.DEFINITION, contract_6m.DEFINITION)


def test_matching_wage_data_makes_a_success_under_the_versions_that_require_it() -> None:
    state = with_evidence(verified(REF, C1, period_from="2024-04-01", period_to="2024-11-30"))
    assert claim_verification(state, C1).status == VERIFIED
    for definition in (six_v2.DEFINITION, contract_v2.DEFINITION):
        verdict = definition(state, T1, AFTER)
        assert (verdict.outcome, verdict.credited_provider) == (SUCCESS, "werkfit"), definition.label
    assert six_v2.judge(state, T1, date(2024, 10, 1)).reason == "six-months-not-over"


def test_employment_not_found_makes_a_failure_and_old_verdicts_do_not_move() -> None:
    before = placed()
    state = with_evidence(not_found(REF, C1, period_from="2024-04-01", period_to="2024-10-31"))
    assert claim_verification(state, C1).status == NOT_FOUND
    for definition in (six_v2.DEFINITION, contract_v2.DEFINITION):
        verdict = definition(state, T1, AFTER)
        assert (verdict.outcome, verdict.reason) == (FAILURE, "employment-not-found"), definition.label
    assert six_v2.judge(state, T1, date(2024, 6, 1)).outcome == FAILURE  # refuted before the six months are over
    for definition in OLD:  # version 1 judges on the provider's word and the funder's confirmation, as it always did
        assert definition(state, T1, AFTER) == definition(before, T1, AFTER)
        assert definition(state, T1, AFTER).outcome == SUCCESS


def test_without_wage_data_the_verified_versions_wait() -> None:
    state = placed()
    assert claim_verification(state, C1).status == UNVERIFIED
    for definition in (six_v2.DEFINITION, contract_v2.DEFINITION):
        verdict = definition(state, T1, AFTER)
        assert (verdict.outcome, verdict.reason) == (PENDING, "employment-not-verified"), definition.label
    partial = with_evidence(verified(REF, C1, period_from="2024-04-01", period_to="2024-07-31"))
    assert six_v2.judge(partial, T1, AFTER).reason == "verification-incomplete"


def test_wage_data_at_another_employer_or_a_shorter_period_contradicts_the_claim() -> None:
    elsewhere = with_evidence(verified(REF, C1, kvk="87654321", period_from="2024-04-01", period_to="2024-11-30"))
    assert claim_verification(elsewhere, C1).status == CONTRADICTED
    assert (six_v2.judge(elsewhere, T1, AFTER).outcome, six_v2.judge(elsewhere, T1, AFTER).reason) == \
        (FAILURE, "verification-contradicts-claim")
    shorter = with_evidence(verified(REF, None, period_from="2024-04-01", period_to="2024-06-30"),
                            not_found(REF, None, period_from="2024-07-01", period_to="2024-10-31"))
    check = claim_verification(shorter, C1)
    assert (check.status, check.verified_through) == (CONTRADICTED, "2024-06-30")
    assert contract_v2.judge(shorter, T1, AFTER).reason == "verification-contradicts-claim"
    late = with_evidence(verified(REF, C1, period_from="2024-06-01", period_to="2024-11-30"))
    assert claim_verification(late, C1).status == CONTRADICTED


def test_payslips_month_by_month_join_into_one_verified_stretch() -> None:
    months = [("2024-04-01", "2024-04-30"), ("2024-05-01", "2024-05-31"), ("2024-06-01", "2024-09-30")]
    state = with_evidence(*(verified(REF, C1, period_from=a, period_to=b, source="payslip") for a, b in months))
    assert claim_verification(state, C1).verified_through == "2024-09-30"
    assert contract_v2.judge(state, T1, AFTER).outcome == SUCCESS  # six months through 2024-09-30
    assert six_v2.judge(state, T1, AFTER).reason == "verification-incomplete"  # the window runs to 2024-10-30


def test_earnings_threshold_counts_verified_hours_once_a_day() -> None:
    threshold = earnings_threshold(hours_per_week=16, weeks=26)  # 416 hours
    # 32 h a week: 416 hours after 91 days, 2024-04-01 .. 2024-06-30; a payslip over the same days adds nothing
    state = with_evidence(verified(REF, C1, period_from="2024-04-01", period_to="2024-06-29"),
                          verified(REF, C1, period_from="2024-04-01", period_to="2024-06-29", source="payslip"))
    assert threshold(state, T1, AFTER).reason == "below-threshold"
    add(state, "gemeente-haarlem", verified(REF, C1, period_from="2024-06-30", period_to="2024-06-30"))
    verdict = threshold(state, T1, AFTER)
    assert (verdict.outcome, verdict.credited_provider) == (SUCCESS, "werkfit")
    # a wage only: 416 hours at 1406 cents an hour
    waged = with_evidence(verified(REF, C1, period_from="2024-04-01", period_to="2024-09-30", hours_per_week=None,
                                   wage_cents=416 * 1406))
    assert threshold(waged, T1, AFTER).outcome == SUCCESS
    assert threshold(placed(), T1, date(2026, 1, 2)).reason == "threshold-not-reached"  # 24 months from the start


def test_the_stored_facts_judge_the_same_as_the_dossier() -> None:
    state = with_evidence(verified(REF, C1, period_from="2024-04-01", period_to="2024-11-30", hours_per_week=None,
                                   wage_cents=900_000))
    [row] = facts_rows(REF, state)
    facts = facts_from_row(tuple(row[c] for c in FACT_COLUMNS))
    assert facts == trajectory_facts(state, T1)
    for definition in (six_v2.DEFINITION, contract_v2.DEFINITION, earnings_threshold()):
        assert definition.decide is not None
        assert definition.decide(facts, AFTER.isoformat()) == definition(state, T1, AFTER)
