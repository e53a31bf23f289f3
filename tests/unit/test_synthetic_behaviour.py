"""The incentive behaviours the generator can plant (issue 16): off by default, drawn per
trajectory so two behaviours share the same draws, and accepted by the rules as planned."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import replace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.synthetic import generate
from ledger.synthetic.behaviour import KONING, NCLP, NCNP, NEUTRAL, Behaviour, contract_months, declines, draws
from ledger.synthetic.history import History

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
NEW_TYPES = {"ReferralDeclined", "FollowUpRecorded", "PlacementCooperation"}


def history(behaviour: Behaviour | None, clients: int = 200) -> History:
    return generate(11, clients, KEY, lambda bsn: hashlib.sha256(bsn.encode()).hexdigest(), behaviour=behaviour)


def payloads(h: History) -> list[dict[str, Any]]:
    return [p for _, p, _ in h.submissions.unsigned()]


def test_without_a_behaviour_nothing_of_issue_16_is_written() -> None:
    found = payloads(history(None))
    assert not [p for p in found if p["type"] in NEW_TYPES]
    assert not [p for p in found if p["type"] == "TrajectoryCommissioned" and "referral_rung" in p]


def test_both_behaviours_draw_the_same_numbers_per_trajectory() -> None:
    """The rung at referral of a trajectory id is the same under NEUTRAL and KONING: only what
    the behaviours set apart differs."""
    rungs = [{p["trajectory_id"]: p["referral_rung"] for p in payloads(history(b))
              if p["type"] == "TrajectoryCommissioned"} for b in (NEUTRAL, KONING)]
    shared = set(rungs[0]) & set(rungs[1])
    assert len(shared) > 0.9 * len(rungs[0])
    assert all(rungs[0][t] == rungs[1][t] for t in shared)


def test_the_planted_chances_by_contract_type() -> None:
    d = draws(KONING, "0b6c2a55-1b8e-4f0e-9d7a-2f4c1f0b9a11")
    d_low = replace(d, decline=0.055)  # between NCLP's 5% and NCNP's 6.5%
    assert declines(KONING, NCNP, d_low) and not declines(KONING, NCLP, d_low)
    assert contract_months(KONING, NCNP, replace(d, length=0.75)) == 0  # NCNP's last 30%: under six months
    assert contract_months(KONING, NCLP, replace(d, length=0.75)) == 6  # NCLP's: 65-80% are six-month contracts
    assert contract_months(NEUTRAL, NCLP, replace(d, length=0.1)) is None  # open-ended first


def test_a_planted_history_writes_every_new_event_expecting_it_accepted() -> None:
    """(That the rules do accept them: tests/projections/test_incentive_simulation.py decides every
    submission with the pure rules, tests/integration/test_indicators_cli.py submits them to a ledger.)"""
    h = history(replace(KONING, cooperation=0.3), clients=300)
    kinds = Counter(p["type"] for p in payloads(h))
    assert all(kinds[t] > 0 for t in NEW_TYPES), kinds
    assert all(rule is None for _, p, rule in h.submissions.unsigned() if p["type"] in NEW_TYPES)
