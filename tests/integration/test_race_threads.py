"""Many threads of one ``Ledger`` claim the same jobs of the same clients at once.

The dossier is the consistency boundary: whatever the interleaving, every envelope gets a
receipt or a typed error, one claim per job is accepted, every envelope is recorded once,
and the stored dossiers stay contiguous and readable (``tests/consistency.py``).
"""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.domain.errors import LedgerError
from ledger.domain.receipt import Receipt
from tests.consistency import assert_consistent
from tests.support import World, claim, commission, make_world, new_id

THREADS, CLIENTS, ROUNDS = 8, 3, 50


def claims_world(url: str, threads: int = THREADS, clients: int = CLIENTS,
                 workers: int = 0) -> tuple[World, list[str], dict[tuple[str, str], str]]:
    """Providers ``p-0..`` each with a trajectory for each client: (world, client_refs, {(provider, ref): trajectory})."""
    world = make_world(url, workers)
    refs = [world.ledger.pseudonym(bsn) for bsn in ("111222333", "123456782", "100000009", "111111110")[:clients]]
    trajectories = {}
    for n in range(threads):
        provider = f"p-{n}"
        world.register(provider, "provider")
        for ref in refs:
            tid = new_id()
            assert world.submit("gemeente-haarlem", commission(ref, provider, tid, planned_end="2025-12-31")).accepted
            trajectories[(provider, ref)] = tid
    return world, refs, trajectories


def job(round_: int) -> dict[str, Any]:
    """Round ``r``'s job: one employer, one start (a fresh employer per round, so each round has a winner)."""
    return {"kvk": f"{10_000_000 + round_:08d}", "job_start": "2024-06-03"}


def run_threads(work: list[list[Any]], submit: Any) -> list[Any]:
    """Each thread submits its own items, all starting together; results in thread order."""
    barrier = threading.Barrier(len(work))
    results: list[list[Any]] = [[] for _ in work]

    def run(n: int) -> None:
        barrier.wait(timeout=60)
        for item in work[n]:
            try:
                results[n].append(submit(item))
            except LedgerError as exc:  # typed: fine; anything else fails the test below
                results[n].append(exc)
            except Exception as exc:  # noqa: BLE001  # reported, not swallowed
                results[n].append(("untyped", repr(exc)))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(work))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
        assert not t.is_alive(), "a submitting thread hung"
    return [r for per_thread in results for r in per_thread]


def assert_one_winner_per_job(results: list[Receipt], claims: list[dict[str, Any]]) -> None:
    by_job: dict[tuple[str, str, str], list[Receipt]] = {}
    payload_of = {c["payload"]["envelope_id"]: c["payload"] for c in claims}
    for receipt in results:
        p = payload_of[receipt.envelope_id]
        by_job.setdefault((p["client_ref"], p["employer_kvk"], p["job_start"]), []).append(receipt)
    for key, receipts in by_job.items():
        accepted = [r for r in receipts if r.accepted]
        assert len(accepted) == 1, (key, [r.as_dict() for r in receipts])
        winner = payload_of[accepted[0].envelope_id]["claim_id"]
        for r in receipts:
            if not r.accepted:
                assert r.refusal is not None and (r.refusal["rule"], r.refusal["conflicting_claim"]) == ("claim.unique-job", winner)


@pytest.mark.slow
def test_eight_threads_claim_the_same_jobs_of_three_clients_for_fifty_rounds(database_url: str) -> None:
    world, refs, trajectories = claims_world(database_url)
    ledger = world.ledger
    log_before = ledger.log_size()
    all_claims, all_results = [], []
    rng = random.Random(10)
    for round_ in range(ROUNDS):
        work = []
        for n in range(THREADS):
            provider = f"p-{n}"
            mine = [world.signed(provider, claim(ref, trajectories[(provider, ref)], **job(round_))) for ref in refs]
            rng.shuffle(mine)
            work.append(mine)
        results = run_threads(work, ledger.submit)
        assert all(isinstance(r, Receipt) for r in results), [r for r in results if not isinstance(r, Receipt)][:5]
        all_claims += [c for per_thread in work for c in per_thread]
        all_results += results
    assert_one_winner_per_job(all_results, all_claims)
    total = ROUNDS * THREADS * CLIENTS
    assert ledger.log_size() == log_before + total
    assert sorted(r.log_index for r in all_results) == list(range(log_before, log_before + total))
    assert_consistent(ledger)
    fresh = Ledger(ledger.settings)  # no cache: what another process would read
    for ref in refs:  # one accepted claim per round; every entry on it (Opened, commissions, claims) stored once
        dossier = fresh.dossier(ref)
        assert len(dossier.data["claims"]) == ROUNDS
        assert dossier.version == 1 + THREADS + ROUNDS * THREADS
    fresh.close()
    ledger.close()


@pytest.mark.slow
def test_threads_submit_batches_and_single_envelopes_on_shared_dossiers(database_url: str) -> None:
    """Half the threads send their round's claims as one batch (with a badly signed one), half one by one."""
    world, refs, trajectories = claims_world(database_url)
    ledger = world.ledger
    rounds = 15
    all_claims, all_results = [], []
    bad_ids = set()
    for round_ in range(rounds):
        work: list[list[Any]] = []
        for n in range(THREADS):
            provider = f"p-{n}"
            mine = [world.signed(provider, claim(ref, trajectories[(provider, ref)], **job(round_))) for ref in refs]
            all_claims += mine
            if n % 2:
                bad = world.signed(provider, claim(refs[0], trajectories[(provider, refs[0])], kvk="87654321"))
                bad["signature"] = world.signed(provider, claim(refs[0], trajectories[(provider, refs[0])]))["signature"]
                bad_ids.add(bad["payload"]["envelope_id"])
                work.append([mine + [bad]])
            else:
                work.append(mine)
        results = run_threads(work, lambda item: ledger.submit_batch(item) if isinstance(item, list) else ledger.submit(item))
        for r in results:
            for one in (r if isinstance(r, list) else [r]):
                if isinstance(one, Receipt):
                    all_results.append(one)
                else:
                    assert isinstance(one, LedgerError) and one.rule == "signature.invalid", one
    assert {r.envelope_id for r in all_results}.isdisjoint(bad_ids)
    assert len(all_results) == len(all_claims)
    assert_one_winner_per_job(all_results, all_claims)
    assert_consistent(ledger)
    ledger.close()
