"""Payments split the fee of a placement made in cooperation by the recorded share (issue 16)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from projections.definitions.base import FAILURE, PENDING, SUCCESS, Verdict
from projections.evaluation import TrajectoryResult
from projections.payments import payments


def result(trajectory_id: str, outcome: str, contract: str = "no-cure-less-pay", fee: int = 3000, base: int = 1000) -> TrajectoryResult:
    verdict = Verdict(outcome, "test")
    return TrajectoryResult(trajectory_id, "c" * 64, "gemeente-haarlem", "werkfit", "2024-01-01", contract,
                            "six-month-rule", fee, base, {"six-month-rule": verdict, "ladder-step": Verdict(SUCCESS, "t")})


def test_the_fee_not_the_base_fee_is_split_by_hand() -> None:
    """No Cure Less Pay, base 1,000, fee 3,000, baanzicht's share 40%: success -> werkfit 1,000 + 1,800,
    baanzicht 1,200; a pending one keeps 1,800 and 1,200 pending; a failure owes werkfit the base only."""
    rows = payments([result("t1", SUCCESS), result("t2", PENDING), result("t3", FAILURE)], ["ladder-step"],
                    {"t1": ("baanzicht", 40), "t2": ("baanzicht", 40), "t3": ("baanzicht", 40)})
    by = {r.provider: r for r in rows}
    werkfit, baanzicht = by["werkfit"], by["baanzicht"]
    assert (werkfit.trajectories, werkfit.owed_cents, werkfit.pending_cents, werkfit.cooperation_cents) == (3, 2800 + 1000 + 1000, 1800, -1200)
    assert (baanzicht.trajectories, baanzicht.owed_cents, baanzicht.pending_cents, baanzicht.cooperation_cents) == (0, 1200, 1200, 1200)
    assert werkfit.owed_if["ladder-step"] == 3 * (1000 + 1800) and baanzicht.owed_if["ladder-step"] == 3 * 1200
    alone = payments([result("t1", SUCCESS)], ["ladder-step"])
    assert [(r.provider, r.owed_cents, r.cooperation_cents) for r in alone] == [("werkfit", 4000, 0)]


@given(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(1, 100), st.sampled_from([SUCCESS, PENDING, FAILURE]),
       st.sampled_from(["no-cure-no-pay", "no-cure-less-pay"]))
def test_shared_or_not_the_contract_pays_the_same_in_all(fee: int, base: int, share: int, outcome: str, contract: str) -> None:
    shared = payments([result("t", outcome, contract, fee, base)], [], {"t": ("baanzicht", share)})
    single = payments([result("t", outcome, contract, fee, base)], [])
    assert sum(r.owed_cents for r in shared) == sum(r.owed_cents for r in single)
    assert sum(r.pending_cents for r in shared) == sum(r.pending_cents for r in single)
    assert sum(r.cooperation_cents for r in shared) == 0
    assert all(0 <= r.owed_cents <= fee + base for r in shared)


def test_nothing_is_owed_for_a_declined_referral() -> None:
    """No Cure Less Pay owes its base fee even on failure - but not for a referral the provider declined."""
    rows = payments([result("t1", FAILURE), result("t2", FAILURE)], [], declined={"t2"})
    assert [(r.provider, r.trajectories, r.owed_cents) for r in rows] == [("werkfit", 1, 1000)]
