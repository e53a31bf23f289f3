"""Worked cases, one story per definition, built through a real ledger on SQLite with
signed envelopes and judged by the pure definitions."""

from __future__ import annotations

import pytest

from projections.definitions import (
    BUILTIN,
    FAILURE,
    PENDING,
    SUCCESS,
    DefinitionRegistry,
    composite_2009,
    contract_6m,
    ladder_step,
    six_month_rule,
    voluntary_stop,
)
from projections.evaluation import evaluate
from tests.projections.support import JOBSTAP, UWV, WERKFIT, Client, day
from tests.support import World


def placed_and_off_benefit(world: World, name: str) -> tuple[Client, str]:
    """On WWB, placed in an indefinite job through the trajectory, benefit ended, trajectory
    ended on 2024-04-30: the six months after it run 2024-05-01 .. 2024-10-30."""
    client = Client.named(world, name)
    benefit = client.benefit("2023-06-01")
    tid = client.commission("2024-01-01", "2024-12-31")
    client.activity(tid, 29, "2024-03-01")
    client.placed(tid, application_date="2024-03-10", job_start="2024-04-01")
    client.end_benefit(benefit, "2024-03-31")
    client.end(tid, "2024-04-30", "placed")
    return client, tid


# --- six-month-rule ---------------------------------------------------------------------


def test_six_month_rule_succeeds_after_six_months_without_benefit(world: World) -> None:
    client, tid = placed_and_off_benefit(world, "six-month-success")
    verdict = six_month_rule.judge(client.dossier(), tid, day("2024-10-30"))
    assert verdict.outcome == SUCCESS
    assert verdict.reason == "regular-job-no-benefit"
    assert verdict.credited_provider == WERKFIT


@pytest.mark.parametrize(("peildatum", "reason"), [
    ("2023-12-31", "not-started"),
    ("2024-04-29", "trajectory-running"),
    ("2024-10-29", "six-months-not-over"),
])
def test_six_month_rule_is_pending_until_six_months_after_the_end(world: World, peildatum: str, reason: str) -> None:
    client, tid = placed_and_off_benefit(world, "six-month-pending")
    verdict = six_month_rule.judge(client.dossier(), tid, day(peildatum))
    assert (verdict.outcome, verdict.reason, verdict.credited_provider) == (PENDING, reason, None)


def test_a_job_found_before_the_trajectory_is_not_attributable_and_not_payable(world: World) -> None:
    client = Client.named(world, "anja")
    benefit = client.benefit("2023-06-01")
    tid = client.commission("2024-03-01", "2024-12-31", contract="no-cure-no-pay", fee_cents=250000)
    client.placed(tid, application_date="2024-02-10", job_start="2024-03-15")
    client.end_benefit(benefit, "2024-03-14")
    client.end(tid, "2024-03-31", "placed")
    dossier = client.dossier()
    for definition in (six_month_rule, contract_6m):
        verdict = definition.judge(dossier, tid, day("2025-06-01"))
        assert (verdict.outcome, verdict.reason) == (FAILURE, "job-not-attributable")
        assert verdict.credited_provider is None
    [result] = evaluate([(client.ref, dossier)], BUILTIN, day("2025-06-01"))
    assert result.contract_verdict is not None and result.contract_verdict.outcome == FAILURE


def test_back_on_benefit_in_month_five_fails_six_month_rule_but_passes_ladder_step(world: World) -> None:
    client = Client.named(world, "month-five")
    benefit = client.benefit("2023-06-01")
    tid = client.commission("2024-01-01", "2024-12-31")
    client.intake(tid, 2, "2024-01-10")
    client.assess(tid, 4, "2024-03-01")
    client.placed(tid, application_date="2024-02-01", job_start="2024-03-01")
    client.end_benefit(benefit, "2024-02-29")
    client.end(tid, "2024-03-31", "placed")
    client.benefit("2024-08-15", "WW", funder=UWV)  # month five after the end
    dossier = client.dossier()
    six = six_month_rule.judge(dossier, tid, day("2025-01-01"))
    assert (six.outcome, six.reason) == (FAILURE, "benefit-within-six-months")
    assert "2024-08-15" in six.detail
    ladder = ladder_step.judge(dossier, tid, day("2025-01-01"))
    assert (ladder.outcome, ladder.credited_provider) == (SUCCESS, WERKFIT)
    composite = composite_2009.judge(dossier, tid, day("2025-01-01"))
    assert (composite.outcome, composite.reason) == (SUCCESS, "via-ladder-step")
    # measured before the new benefit began, the six months were still clean (valid time)
    assert six_month_rule.judge(dossier, tid, day("2024-08-14")).outcome == PENDING


def test_a_secondment_via_the_provider_is_not_a_regular_job(world: World) -> None:
    client = Client.named(world, "secondment")
    tid = client.commission("2024-01-01", "2024-12-31")
    client.placed(tid, application_date="2024-02-01", job_start="2024-03-01", secondment=True)
    client.end(tid, "2024-03-31", "placed")
    verdict = six_month_rule.judge(client.dossier(), tid, day("2025-01-01"))
    assert (verdict.outcome, verdict.reason) == (FAILURE, "secondment-via-provider")


def test_an_undecided_claim_keeps_six_month_rule_pending(world: World) -> None:
    client = Client.named(world, "undecided")
    tid = client.commission("2024-01-01", "2024-12-31")
    client.claim(tid, application_date="2024-02-01", job_start="2024-03-01")
    client.end(tid, "2024-03-31", "placed")
    verdict = six_month_rule.judge(client.dossier(), tid, day("2025-01-01"))
    assert (verdict.outcome, verdict.reason) == (PENDING, "claim-awaiting-decision")


# --- ladder-step ------------------------------------------------------------------------


def test_ladder_step_without_a_higher_rung_fails_once_the_trajectory_is_over(world: World) -> None:
    client = Client.named(world, "no-step")
    tid = client.commission("2024-01-01", "2024-06-30")
    client.intake(tid, 3, "2024-01-05")
    client.assess(tid, 3, "2024-03-01")
    client.assess(tid, 2, "2024-05-01")
    dossier = client.dossier()
    assert ladder_step.judge(dossier, tid, day("2024-06-29")).outcome == PENDING
    verdict = ladder_step.judge(dossier, tid, day("2024-06-30"))
    assert (verdict.outcome, verdict.reason) == (FAILURE, "no-rung-up")


def test_ladder_step_explains_its_success_by_the_highest_rung_reached(world: World) -> None:
    client = Client.named(world, "step-highest")
    tid = client.commission("2024-01-01", "2024-06-30")
    client.intake(tid, 2, "2024-01-05")
    client.assess(tid, 3, "2024-02-01")
    client.assess(tid, 5, "2024-04-01")
    client.assess(tid, 4, "2024-06-01")
    dossier = client.dossier()
    verdict = ladder_step.judge(dossier, tid, day("2024-07-01"))
    assert (verdict.outcome, verdict.reason, verdict.credited_provider) == (SUCCESS, "rung-up", WERKFIT)
    assert verdict.detail == ("rung 2 at intake, highest during the trajectory 5; "
                              "first above intake: 3 on 2024-02-01 (rubric 2009 / 2009)")
    # while it runs, the explanation names no rung assessed after the peildatum
    running = ladder_step.judge(dossier, tid, day("2024-03-01"))
    assert (running.outcome, running.detail) == (
        SUCCESS, "rung 2 at intake, 3 on 2024-02-01 (rubric 2009 / 2009); the trajectory runs until 2024-06-30")


def test_ladder_step_counts_only_assessments_made_by_the_peildatum(world: World) -> None:
    client = Client.named(world, "step-later")
    tid = client.commission("2024-01-01", "2024-12-31")
    client.intake(tid, 1, "2024-01-05")
    client.assess(tid, 2, "2024-09-01")
    dossier = client.dossier()
    assert ladder_step.judge(dossier, tid, day("2024-08-31")).outcome == PENDING
    assert ladder_step.judge(dossier, tid, day("2024-09-01")).outcome == SUCCESS


# --- voluntary-stop ---------------------------------------------------------------------


def stopped(world: World, name: str, reason: str = "voluntarily-stopped") -> tuple[Client, str]:
    client = Client.named(world, name)
    benefit = client.benefit("2023-10-01")
    tid = client.commission("2024-01-01", "2024-12-31", definition="voluntary-stop")
    client.end_benefit(benefit, "2024-02-29")
    client.end(tid, "2024-03-01", reason, by="gemeente-haarlem")
    return client, tid


def test_a_voluntary_stop_without_benefit_since_succeeds(world: World) -> None:
    client, tid = stopped(world, "stopped")
    dossier = client.dossier()
    verdict = voluntary_stop.judge(dossier, tid, day("2025-01-01"))
    assert (verdict.outcome, verdict.credited_provider) == (SUCCESS, WERKFIT)
    assert six_month_rule.judge(dossier, tid, day("2025-01-01")).reason == "no-regular-job"
    assert composite_2009.judge(dossier, tid, day("2025-01-01")).reason == "via-voluntary-stop"


def test_a_voluntary_stop_followed_by_benefit_fails(world: World) -> None:
    client, tid = stopped(world, "stopped-then-benefit")
    client.benefit("2024-06-01")
    dossier = client.dossier()
    assert voluntary_stop.judge(dossier, tid, day("2024-05-31")).outcome == SUCCESS
    verdict = voluntary_stop.judge(dossier, tid, day("2024-06-01"))
    assert (verdict.outcome, verdict.reason) == (FAILURE, "benefit-since-stop")


def test_another_end_reason_is_not_a_voluntary_stop(world: World) -> None:
    client, tid = stopped(world, "dropped-out", reason="dropped-out")
    verdict = voluntary_stop.judge(client.dossier(), tid, day("2025-01-01"))
    assert (verdict.outcome, verdict.reason) == (FAILURE, "ended-dropped-out")


# --- contract-6m ------------------------------------------------------------------------


@pytest.mark.parametrize(("contract_end", "outcome"), [
    ("2024-07-31", FAILURE),  # a fixed-term contract of five months
    ("2024-08-30", FAILURE),  # one day short
    ("2024-08-31", SUCCESS),  # six months exactly
    (None, SUCCESS),  # indefinite
])
def test_contract_6m_needs_a_contract_of_six_months(world: World, contract_end: str | None, outcome: str) -> None:
    client = Client.named(world, f"contract-{contract_end}")
    tid = client.commission("2024-01-01", "2024-12-31", definition="contract-6m")
    client.placed(tid, application_date="2024-02-01", job_start="2024-03-01", contract_end=contract_end)
    verdict = contract_6m.judge(client.dossier(), tid, day("2024-03-01"))
    assert verdict.outcome == outcome
    assert verdict.reason == ("contract-six-months" if outcome == SUCCESS else "under-six-months")


def test_contract_6m_fails_when_employment_ends_within_six_months(world: World) -> None:
    client = Client.named(world, "ended-early")
    tid = client.commission("2024-01-01", "2024-12-31", definition="contract-6m")
    claim_id = client.placed(tid, application_date="2024-02-01", job_start="2024-03-01")
    client.employment_ended(claim_id, "2024-05-15")
    dossier = client.dossier()
    assert contract_6m.judge(dossier, tid, day("2024-05-14")).outcome == SUCCESS
    verdict = contract_6m.judge(dossier, tid, day("2024-05-15"))
    assert (verdict.outcome, verdict.reason) == (FAILURE, "under-six-months")


def test_contract_6m_without_placement_fails_after_the_trajectory(world: World) -> None:
    client = Client.named(world, "no-placement")
    tid = client.commission("2024-01-01", "2024-06-30", definition="contract-6m")
    dossier = client.dossier()
    assert contract_6m.judge(dossier, tid, day("2024-06-29")).outcome == PENDING
    assert contract_6m.judge(dossier, tid, day("2024-07-01")).reason == "no-confirmed-placement"


# --- composite-2009 ---------------------------------------------------------------------


def test_composite_fails_only_when_every_component_fails(world: World) -> None:
    client = Client.named(world, "nothing")
    tid = client.commission("2024-01-01", "2024-06-30", definition="composite-2009")
    client.intake(tid, 2, "2024-01-05")
    dossier = client.dossier()
    running = composite_2009.judge(dossier, tid, day("2024-03-01"))
    assert (running.outcome, running.reason) == (PENDING, "components-pending")
    verdict = composite_2009.judge(dossier, tid, day("2025-06-01"))
    assert (verdict.outcome, verdict.reason) == (FAILURE, "no-component-succeeded")
    assert "six-month-rule: failure (no-regular-job)" in verdict.detail


def test_the_evaluator_combines_components_to_the_same_verdict_as_judging(world: World) -> None:
    client, tid = placed_and_off_benefit(world, "combined")
    dossier = client.dossier()
    for peildatum in ("2024-02-01", "2024-06-01", "2025-01-01"):
        [result] = evaluate([(client.ref, dossier)], BUILTIN, day(peildatum))
        assert result.verdicts["composite-2009"] == composite_2009.judge(dossier, tid, day(peildatum))


# --- payment definition and the others beside it --------------------------------------


def test_each_trajectory_is_judged_by_its_contracts_definition_beside_the_chosen_ones(world: World) -> None:
    client = Client.named(world, "contract-definition")
    tid = client.commission("2024-01-01", "2024-06-30", definition="ladder-step", provider=JOBSTAP, funder=UWV)
    client.intake(tid, 2, "2024-01-05", provider=JOBSTAP)
    client.assess(tid, 3, "2024-04-01", provider=JOBSTAP)
    [result] = evaluate([(client.ref, client.dossier())], [six_month_rule.DEFINITION], day("2025-01-01"),
                        DefinitionRegistry())
    assert set(result.verdicts) == {"six-month-rule", "ladder-step"}
    assert result.contract_verdict is not None and result.contract_verdict.outcome == SUCCESS
    assert result.verdicts["six-month-rule"].outcome == FAILURE


def test_a_contract_naming_an_uninstalled_definition_has_no_contract_verdict(world: World) -> None:
    client = Client.named(world, "paswerk-2008")
    client.commission("2024-01-01", "2024-06-30", definition="paswerk-2008")
    [result] = evaluate([(client.ref, client.dossier())], BUILTIN, day("2025-01-01"))
    assert result.contract_verdict is None
    assert set(result.verdicts) == {d.name for d in BUILTIN}
