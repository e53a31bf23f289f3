"""What each provider is owed per contract, and what it would be under other definitions."""

from __future__ import annotations

import pytest

from projections.definitions import BUILTIN, BUILTIN_NAMES, FAILURE, PENDING, SUCCESS
from projections.evaluation import evaluate
from projections.payments import ContractPayment, owed, payments
from tests.projections.support import JOBSTAP, MUNICIPALITY, UWV, WERKFIT, Client, day
from tests.support import World


@pytest.mark.parametrize(("contract", "outcome", "expected"), [
    ("no-cure-no-pay", SUCCESS, (1000, 0)),
    ("no-cure-no-pay", FAILURE, (0, 0)),
    ("no-cure-no-pay", PENDING, (0, 1000)),
    ("no-cure-less-pay", SUCCESS, (1300, 0)),
    ("no-cure-less-pay", FAILURE, (300, 0)),
    ("no-cure-less-pay", PENDING, (300, 1000)),
])
def test_fee_rules_per_contract_type(contract: str, outcome: str, expected: tuple[int, int]) -> None:
    assert owed(contract, 1000, 300, outcome) == expected


def by_contract(rows: list[ContractPayment]) -> dict[tuple[str, str], ContractPayment]:
    return {(r.funder, r.provider): r for r in rows}


def test_two_funders_one_job_only_the_confirmed_claimant_is_paid(world: World) -> None:
    client = Client.named(world, "anja-two-funders")
    benefit = client.benefit("2023-06-01")
    t1 = client.commission("2024-01-01", "2024-12-31", fee_cents=300000)
    t2 = client.commission("2024-02-01", "2024-10-31", funder=UWV, provider=JOBSTAP, definition="contract-6m",
                           contract="no-cure-less-pay", fee_cents=200000, base_fee_cents=50000)
    client.placed(t1, application_date="2024-03-01", job_start="2024-04-01")
    client.claim(t2, application_date="2024-03-01", job_start="2024-04-01", provider=JOBSTAP, accept=False)
    client.end_benefit(benefit, "2024-03-31")
    client.end(t1, "2024-04-30")
    results = evaluate([(client.ref, client.dossier())], BUILTIN, day("2025-06-01"))
    rows = by_contract(payments(results, BUILTIN_NAMES))
    werkfit, jobstap = rows[(MUNICIPALITY, WERKFIT)], rows[(UWV, JOBSTAP)]
    assert (werkfit.definition, werkfit.owed_cents, werkfit.pending_cents) == ("six-month-rule", 300000, 0)
    assert (jobstap.definition, jobstap.owed_cents) == ("contract-6m", 50000)  # the base fee only
    assert werkfit.owed_if["ladder-step"] == 0  # no intake rung: no ladder step
    assert werkfit.owed_if["contract-6m"] == 300000
    assert jobstap.owed_if["composite-2009"] == 50000


def test_an_uninstalled_contract_definition_is_counted_not_paid(world: World) -> None:
    client = Client.named(world, "unjudged")
    client.commission("2024-01-01", "2024-06-30", definition="paswerk-2008", fee_cents=1000)
    rows = payments(evaluate([(client.ref, client.dossier())], BUILTIN, day("2025-01-01")), ["six-month-rule"])
    assert [(r.definition, r.trajectories, r.unjudged, r.owed_cents) for r in rows] == [("paswerk-2008", 1, 1, 0)]
