"""Eight processes claim the same job of the same client at the same moment.

Exactly one claim is accepted; the seven others are recorded as refusals naming the
winner's claim; nothing is lost. Runs on SQLite (one file) and PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.envelope import private_key_pem
from ledger.settings import Settings
from tests.support import claim, commission, make_world, new_id

PROCESSES = 8


def _claimant(url: str, operator_pem: bytes, pseudonym_key: bytes, envelope: dict[str, Any], barrier: Any, out: Any) -> None:
    from ledger.envelope import load_private_key

    ledger = Ledger(Settings(url, load_private_key(operator_pem), pseudonym_key))
    barrier.wait(timeout=60)
    try:
        out.put(ledger.submit(envelope).as_dict())
    except Exception as exc:  # reported to the parent, which fails the test
        out.put({"error": repr(exc)})
    finally:
        ledger.close()


@pytest.mark.slow
def test_eight_processes_claim_one_job(database_url: str) -> None:
    world = make_world(database_url)
    ref = world.ledger.pseudonym("111222333")
    envelopes = []
    for n in range(PROCESSES):
        provider = f"provider-{n}"
        world.register(provider, "provider")
        tid = new_id()
        funder = "gemeente-haarlem" if n % 2 else "uwv"
        assert world.submit(funder, commission(ref, provider, tid)).accepted
        envelopes.append(world.signed(provider, claim(ref, tid, job_start="2024-06-03")))
    log_before = world.ledger.log_size()

    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(PROCESSES), ctx.Queue()
    settings = world.ledger.settings
    procs = [
        ctx.Process(target=_claimant, args=(database_url, private_key_pem(settings.operator_key),
                                            settings.pseudonym_key, env, barrier, out))
        for env in envelopes
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0

    assert not [r for r in results if "error" in r], results
    accepted = [r for r in results if r["verdict"] == "accepted"]
    refused = [r for r in results if r["verdict"] == "refused"]
    assert len(accepted) == 1 and len(refused) == PROCESSES - 1
    winner = next(e for e in envelopes if e["payload"]["envelope_id"] == accepted[0]["envelope_id"])
    assert {r["refusal"]["rule"] for r in refused} == {"claim.unique-job"}
    assert {r["refusal"]["conflicting_claim"] for r in refused} == {winner["payload"]["claim_id"]}
    # nothing lost: eight new entries, dense, each with its own receipt
    assert world.ledger.log_size() == log_before + PROCESSES
    assert sorted(r["log_index"] for r in results) == list(range(log_before, log_before + PROCESSES))
    for r in results:
        assert world.ledger.receipt(r["envelope_id"]).as_dict() == r  # type: ignore[union-attr]
    # recorded_at grows with the log index, so "as known at T" is a prefix of the log
    stamps = [entry["recorded_at"] for _, entry in world.ledger.entries(0, 10_000)]
    assert stamps == sorted(stamps)
    world.ledger.close()
