"""Cross-check against the seeded synthetic history (``ledger.synthetic``): its stories tag
the findings auditors should see; the projections must find exactly those."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from ledger.application import Ledger
from projections import flags as f
from projections.definitions import BUILTIN, FAILURE
from projections.read_models import ReadModels
from projections.replay import replay_ledger
from projections.tables import projection_claim_flags, projection_refusals
from tests.support import new_settings

synthetic = pytest.importorskip("ledger.synthetic")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Ledger, Any]]:
    ledger = Ledger(new_settings(f"sqlite:///{tmp_path_factory.mktemp('synthetic')}/ledger.sqlite3"))
    history = synthetic.generate(seed=11, clients=150, operator_key=ledger.settings.operator_key,
                                 pseudonymise=ledger.pseudonym)
    for item in history.registry:
        ledger.submit(item.envelope)
    items = list(history.submissions)
    for i in range(0, len(items), 500):
        ledger.submit_batch([item.envelope for item in items[i:i + 500]])
    ReadModels(ledger.engine).catch_up(ledger)
    yield ledger, items
    ledger.close()


def flags_by_claim(ledger: Ledger) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    with ledger.engine.connect() as connection:
        rows = connection.execute(select(projection_claim_flags.c.claim_id, projection_claim_flags.c.flag))
        for claim_id, flag in rows:
            found.setdefault(claim_id, set()).add(flag)
    return found


def accepted_claims(items: list[Any]) -> list[Any]:
    return [i for i in items
            if i.envelope["payload"]["type"] == "PlacementClaimed" and i.expected_verdict == "accepted"]


@pytest.mark.parametrize(("tag", "flag", "both_ways"), [
    ("job-before-trajectory", f.APPLICATION_BEFORE_TRAJECTORY, True),
    ("secondment", f.SECONDMENT, True),
    ("short-contract", f.SHORT_CONTRACT, False),  # the flag also covers employment ended early
])
def test_the_tagged_findings_are_flagged(recorded: tuple[Ledger, Any], tag: str, flag: str, both_ways: bool) -> None:
    ledger, items = recorded
    found = flags_by_claim(ledger)
    claims = accepted_claims(items)
    tagged = {i.envelope["payload"]["claim_id"] for i in claims if tag in i.tags}
    flagged = {c for c, names in found.items() if flag in names}
    assert tagged, f"the history has no {tag} claim to check"
    assert tagged <= flagged
    if both_ways:
        assert flagged == tagged


def test_every_attempted_double_claim_is_a_recorded_refusal(recorded: tuple[Ledger, Any]) -> None:
    ledger, items = recorded
    attempts = sum("double-claim" in i.tags for i in items)
    with ledger.engine.connect() as connection:
        refused = connection.execute(
            select(projection_refusals.c.conflicting_claim).where(projection_refusals.c.rule == "claim.unique-job")
        ).scalars().all()
    assert attempts > 0 and len(refused) == attempts
    assert all(refused)


def test_anja_is_flagged_three_ways_and_her_job_pays_no_one(recorded: tuple[Ledger, Any]) -> None:
    ledger, items = recorded
    found = flags_by_claim(ledger)
    anja = [i.envelope["payload"] for i in accepted_claims(items) if "anja" in i.tags]
    assert anja
    result = replay_ledger(ledger, ledger.engine, BUILTIN, date(2026, 6, 30))
    by_trajectory = {r.trajectory_id: r for r in result.results}
    for claim in anja:
        assert {f.APPLICATION_BEFORE_TRAJECTORY, f.NO_MEDIATION, f.OVERLAPPING_TRAJECTORIES} <= found[claim["claim_id"]]
        verdicts = by_trajectory[claim["trajectory_id"]].verdicts
        for name in ("six-month-rule", "contract-6m"):
            assert (verdicts[name].outcome, verdicts[name].reason) == (FAILURE, "job-not-attributable")
