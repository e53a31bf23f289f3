"""Anja's case (``ledger.synthetic.scenarios.anja``), with the dates the synthetic history
draws for her with seed 7 (60 clients, as in tests/unit/test_synthetic.py).

She applied for the job on 2022-03-26, before either trajectory began: UWV's on 2022-04-15
and the municipality's on 2022-08-25. The municipal provider claims the job on 2022-09-26
and the municipality confirms it on 2022-10-11. While the claim awaits that decision it can
never count for the municipal trajectory, so it must neither keep a verdict pending nor
hold the fee as pending.
"""

from __future__ import annotations

from typing import Any

from ledger.domain.dossier.state import DossierState, evolve
from projections.definitions import BUILTIN, BUILTIN_NAMES, FAILURE, PENDING, SUCCESS, composite_2009, contract_6m, six_month_rule
from projections.evaluation import evaluate
from projections.payments import payments
from tests.projections.support import JOBSTAP, MUNICIPALITY, UWV, WERKFIT, Client, day
from tests.support import World

UWV_TRAJECTORY, GEMEENTE_TRAJECTORY, CLAIM = "t-uwv", "t-gemeente", "claim-gemeente"
APPLICATION, JOB_START, CONTRACT_END = "2022-03-26", "2022-09-17", "2023-07-17"
AWAITING = day("2022-10-10")  # claimed on 2022-09-26, confirmed on 2022-10-11


def commissioned(trajectory_id: str, provider: str, start: str, planned_end: str, definition: str, contract: str,
                 fee_cents: int, base_fee_cents: int) -> dict[str, Any]:
    return {"type": "TrajectoryCommissioned", "trajectory_id": trajectory_id, "provider": provider, "start": start,
            "planned_end": planned_end, "definition": definition, "contract": contract, "fee_cents": fee_cents,
            "base_fee_cents": base_fee_cents}


# (occurred_on, submitter, payload) in log order, as known on AWAITING
STORY: list[tuple[str, str, dict[str, Any]]] = [
    ("2022-01-28", UWV, {"type": "BenefitStarted", "benefit_id": "ww", "benefit": "WW", "start": "2022-01-28"}),
    ("2022-04-01", UWV, commissioned(UWV_TRAJECTORY, JOBSTAP, "2022-04-15", "2023-04-15", "contract-6m",
                                     "no-cure-no-pay", 417000, 0)),
    ("2022-04-20", JOBSTAP, {"type": "IntakeCompleted", "trajectory_id": UWV_TRAJECTORY, "rung": 3,
                             "rubric_version": "2019.1"}),
    ("2022-08-01", UWV, {"type": "BenefitEnded", "benefit_id": "ww", "end": "2022-08-01"}),
    ("2022-08-18", MUNICIPALITY, {"type": "BenefitStarted", "benefit_id": "wwb", "benefit": "WWB",
                                  "start": "2022-08-18"}),
    ("2022-08-20", MUNICIPALITY, commissioned(GEMEENTE_TRAJECTORY, WERKFIT, "2022-08-25", "2023-08-25",
                                              "six-month-rule", "no-cure-less-pay", 219000, 78000)),
    ("2022-09-02", WERKFIT, {"type": "IntakeCompleted", "trajectory_id": GEMEENTE_TRAJECTORY, "rung": 3,
                             "rubric_version": "2019.1"}),
    ("2022-09-17", WERKFIT, {"type": "LadderRungAssessed", "trajectory_id": GEMEENTE_TRAJECTORY, "rung": 6,
                             "rubric_version": "2019.1", "assessor": "werkfit-cw7"}),
    ("2022-09-17", MUNICIPALITY, {"type": "BenefitEnded", "benefit_id": "wwb", "end": "2022-09-17"}),
    ("2022-09-22", WERKFIT, {"type": "TrajectoryEnded", "trajectory_id": GEMEENTE_TRAJECTORY, "reason": "placed",
                             "end": "2022-09-22"}),
    ("2022-09-26", WERKFIT, {"type": "PlacementClaimed", "trajectory_id": GEMEENTE_TRAJECTORY, "claim_id": CLAIM,
                             "employer_kvk": "20986393", "application_date": APPLICATION, "job_start": JOB_START,
                             "contract_end": CONTRACT_END, "hours_per_week": 32, "secondment_via_provider": False,
                             "evidence_sha256": "ab" * 32}),
]
CONFIRMED = ("2022-10-11", MUNICIPALITY, {"type": "PlacementConfirmed", "claim_id": CLAIM})


def dossier_of(events: list[tuple[str, str, dict[str, Any]]]) -> DossierState:
    state = DossierState()
    for occurred_on, submitter, payload in events:
        evolve(state, {**payload, "occurred_on": occurred_on}, submitter, occurred_on + "T12:00:00.000000Z")
    return state


def test_a_claim_awaiting_decision_that_is_not_attributable_keeps_nothing_pending() -> None:
    awaiting = dossier_of(STORY)
    assert awaiting.claims[CLAIM]["status"] == "claimed"
    for definition in (six_month_rule, contract_6m):
        verdict = definition.judge(awaiting, GEMEENTE_TRAJECTORY, AWAITING)
        assert (verdict.outcome, verdict.reason, verdict.credited_provider) == (FAILURE, "job-not-attributable", None)
    # the ladder step succeeds it; its six-month-rule component fails instead of waiting
    composite = composite_2009.judge(awaiting, GEMEENTE_TRAJECTORY, AWAITING)
    assert (composite.outcome, composite.reason) == (SUCCESS, "via-ladder-step")
    assert "six-month-rule: failure (job-not-attributable)" in composite.detail
    # the decision changes nothing: confirmed, the job still does not count
    confirmed = dossier_of([*STORY, CONFIRMED])
    for definition in (six_month_rule, contract_6m):
        verdict = definition.judge(confirmed, GEMEENTE_TRAJECTORY, AWAITING)
        assert (verdict.outcome, verdict.reason) == (FAILURE, "job-not-attributable")


def test_a_claim_awaiting_decision_that_is_not_attributable_holds_no_fee(world: World) -> None:
    client = Client.named(world, "anja-awaiting-decision")
    ww = client.benefit("2022-01-28", "WW", funder=UWV)
    t_uwv = client.commission("2022-04-15", "2023-04-15", funder=UWV, provider=JOBSTAP, definition="contract-6m",
                              fee_cents=417000)
    client.end_benefit(ww, "2022-08-01", funder=UWV)
    wwb = client.benefit("2022-08-18")
    t_gemeente = client.commission("2022-08-25", "2023-08-25", contract="no-cure-less-pay", fee_cents=219000,
                                   base_fee_cents=78000)
    client.end_benefit(wwb, JOB_START)
    client.end(t_gemeente, "2022-09-22", "placed")
    client.claim(t_gemeente, application_date=APPLICATION, job_start=JOB_START, contract_end=CONTRACT_END)
    results = evaluate([(client.ref, client.dossier())], BUILTIN, AWAITING)
    verdicts = {r.trajectory_id: r.contract_verdict for r in results}
    gemeente = verdicts[t_gemeente]
    assert gemeente is not None and (gemeente.outcome, gemeente.reason) == (FAILURE, "job-not-attributable")
    rows = {(r.funder, r.provider): r for r in payments(results, BUILTIN_NAMES)}
    werkfit = rows[(MUNICIPALITY, WERKFIT)]
    assert (werkfit.definition, werkfit.owed_cents, werkfit.pending_cents) == ("six-month-rule", 78000, 0)
    uwv = verdicts[t_uwv]  # UWV's trajectory still runs: its fee is pending, for that reason
    assert uwv is not None and (uwv.outcome, uwv.reason) == (PENDING, "trajectory-running")
    assert (rows[(UWV, JOBSTAP)].owed_cents, rows[(UWV, JOBSTAP)].pending_cents) == (0, 417000)
