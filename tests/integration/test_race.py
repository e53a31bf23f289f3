"""Eight processes claim the same job of the same client at the same moment; four
processes submit batches that open the same new dossiers and claim that job too.

Exactly one claim is accepted; the others are recorded as refusals naming the winner's
claim; nothing is lost. Runs on SQLite (one file) and PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
import random
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.domain.envelope import private_key_pem
from ledger.domain.receipt import Receipt
from ledger.settings import Settings
from ledger.synthetic.bsn import draw_bsns
from tests.support import claim, commission, make_world, new_id

PROCESSES = 8
BATCHES, NEW_CLIENTS = 4, 39


def _submitter(url: str, operator_pem: bytes, pseudonym_key: bytes, envelopes: dict[str, Any] | list[dict[str, Any]],
               barrier: Any, out: Any) -> None:
    """In its own process: one envelope with ``submit`` (puts its receipt), or a list with
    ``submit_batch`` (puts the list of results); an error is put for the parent to fail on."""
    from ledger.domain.envelope import load_private_key

    ledger = Ledger(Settings(url, load_private_key(operator_pem), pseudonym_key))
    barrier.wait(timeout=60)
    try:
        if isinstance(envelopes, dict):
            out.put(ledger.submit(envelopes).as_dict())
        else:
            out.put([r.as_dict() if isinstance(r, Receipt) else {"error": repr(r)} for r in ledger.submit_batch(envelopes)])
    except Exception as exc:  # reported to the parent, which fails the test
        out.put({"error": repr(exc)} if isinstance(envelopes, dict) else [{"error": repr(exc)}])
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
        ctx.Process(target=_submitter, args=(database_url, private_key_pem(settings.operator_key),
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


@pytest.mark.slow
def test_four_processes_submit_batches_that_open_the_same_dossiers_and_claim_one_job(database_url: str) -> None:
    world = make_world(database_url)
    ref = world.ledger.pseudonym("111222333")
    new_clients = [world.ledger.pseudonym(bsn) for bsn in draw_bsns(random.Random(3), NEW_CLIENTS)]
    batches, claims = [], []
    for n in range(BATCHES):
        provider, funder, tid = f"provider-{n}", "gemeente-haarlem" if n % 2 else "uwv", new_id()
        world.register(provider, "provider")
        assert world.submit(funder, commission(ref, provider, tid)).accepted
        batch = [world.signed(funder, commission(client, provider)) for client in new_clients]
        claims.append(world.signed(provider, claim(ref, tid, job_start="2024-06-03")))
        batch.insert(7 * n, claims[-1])  # the claim sits elsewhere in each batch
        batches.append(batch)
    log_before = world.ledger.log_size()

    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(BATCHES), ctx.Queue()
    settings = world.ledger.settings
    procs = [ctx.Process(target=_submitter, args=(database_url, private_key_pem(settings.operator_key),
                                                  settings.pseudonym_key, batch, barrier, out))
             for batch in batches]
    for p in procs:
        p.start()
    results = [r for _ in procs for r in out.get(timeout=180)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0

    assert not [r for r in results if "error" in r], [r for r in results if "error" in r]
    claim_ids = {c["payload"]["envelope_id"] for c in claims}
    on_claims = [r for r in results if r["envelope_id"] in claim_ids]
    others = [r for r in results if r["envelope_id"] not in claim_ids]
    assert len(others) == BATCHES * NEW_CLIENTS and all(r["verdict"] == "accepted" for r in others)
    accepted = [r for r in on_claims if r["verdict"] == "accepted"]
    assert len(accepted) == 1
    winner = next(c for c in claims if c["payload"]["envelope_id"] == accepted[0]["envelope_id"])
    refused = [r for r in on_claims if r["verdict"] == "refused"]
    assert len(refused) == BATCHES - 1
    assert {(r["refusal"]["rule"], r["refusal"]["conflicting_claim"]) for r in refused} == {
        ("claim.unique-job", winner["payload"]["claim_id"])}
    # nothing lost: one entry per envelope, dense, each with its own receipt
    total = BATCHES * (NEW_CLIENTS + 1)
    assert world.ledger.log_size() == log_before + total
    assert sorted(r["log_index"] for r in results) == list(range(log_before, log_before + total))
    for client in new_clients:
        assert len(world.ledger.dossier(client).data["trajectories"]) == BATCHES
    world.ledger.close()
