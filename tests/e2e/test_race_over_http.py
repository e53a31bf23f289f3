"""Eight providers' clients claim the same job of three clients at the same moment, round
after round, over real HTTP: one served ledger (uvicorn's thread pool), and two server
processes on one database. No answer is a 500; every claim gets a verified receipt; one
claim per job is accepted; the stored dossiers stay contiguous (``tests/consistency.py``).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.app import create_app
from api.settings import ApiSettings
from ledger.application import Ledger
from ledger.domain.envelope import b64encode, public_key_bytes
from ledger.domain.receipt import Receipt
from ledger.settings import Settings, create_keys, load_keys
from sdk.client import LedgerClient
from tests.consistency import assert_consistent
from tests.e2e.server import free_port, running, serving_process
from tests.support import new_id, new_settings

PROVIDERS, BSNS = 8, ("111222333", "123456782", "100000009")
FUNDER = "gemeente-haarlem"
COMMISSION = dict(start="2024-01-01", planned_end="2025-12-31", definition="six-month-rule",
                  contract="no-cure-no-pay", fee_cents=250000, base_fee_cents=0)


class Statuses:
    """Every HTTP status the server answered (an httpx response hook), thread-safe."""

    def __init__(self) -> None:
        self.seen: Counter[int] = Counter()
        self._lock = threading.Lock()

    def hook(self, response: httpx.Response) -> None:
        with self._lock:
            self.seen[response.status_code] += 1


def client(url: str, party: str, key: Ed25519PrivateKey, statuses: Statuses) -> LedgerClient:
    http = httpx.Client(base_url=url, timeout=60, event_hooks={"response": [statuses.hook]})
    return LedgerClient(http, party, key, attempts=8)


def race(urls: list[str], operator_key: Ed25519PrivateKey, rounds: int) -> tuple[Statuses, list[Receipt], list[dict[str, Any]]]:
    """Register the cast, commission a trajectory per provider and client, then race the claims."""
    statuses = Statuses()
    operator = client(urls[0], "operator", operator_key, statuses)
    keys = {f"p-{n}": Ed25519PrivateKey.generate() for n in range(PROVIDERS)}
    funder_key = Ed25519PrivateKey.generate()
    registered = operator.submit_batch([
        operator.envelope("PartyRegistered", "2024-01-01", party_id=party, role=role, public_key=b64encode(public_key_bytes(key)))
        for party, role, key in [(FUNDER, "funder", funder_key), *((p, "provider", k) for p, k in keys.items())]])
    assert all(isinstance(r, Receipt) and r.accepted for r in registered), registered
    funder = client(urls[0], FUNDER, funder_key, statuses)
    refs = [operator.pseudonym(bsn) for bsn in BSNS]
    trajectories = {}
    for party in keys:
        for ref in refs:
            trajectories[(party, ref)] = tid = new_id()
            assert funder.submit(funder.envelope("TrajectoryCommissioned", "2024-01-01", client_ref=ref, trajectory_id=tid,
                                                 provider=party, **COMMISSION)).accepted
    providers = [client(urls[n % len(urls)], party, key, statuses) for n, (party, key) in enumerate(keys.items())]
    receipts: list[Receipt] = []
    claims: list[dict[str, Any]] = []
    failures: list[str] = []
    lock = threading.Lock()
    for round_ in range(rounds):
        barrier = threading.Barrier(PROVIDERS)

        def claim_all(provider: LedgerClient, round_: int = round_, barrier: threading.Barrier = barrier) -> None:
            envelopes = [provider.envelope(
                "PlacementClaimed", "2024-06-03", client_ref=ref, trajectory_id=trajectories[(provider.party_id, ref)],
                claim_id=new_id(), employer_kvk=f"{20_000_000 + round_:08d}", application_date="2024-05-01",
                job_start="2024-06-03", contract_end=None, hours_per_week=32, secondment_via_provider=False,
                evidence_sha256="ab" * 32) for ref in refs]
            barrier.wait(timeout=60)
            for envelope in envelopes:
                try:
                    receipt = provider.submit(envelope)
                except Exception as exc:  # noqa: BLE001  # reported below, failing the test
                    with lock:
                        failures.append(repr(exc))
                    continue
                with lock:
                    receipts.append(receipt)
                    claims.append(envelope.payload)

        threads = [threading.Thread(target=claim_all, args=(p,)) for p in providers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    for c in [operator, funder, *providers]:
        c.close()
    assert not failures, failures[:5]
    return statuses, receipts, claims


def assert_one_winner_per_job(receipts: list[Receipt], claims: list[dict[str, Any]], rounds: int) -> None:
    assert len(receipts) == rounds * PROVIDERS * len(BSNS)
    payload = {c["envelope_id"]: c for c in claims}
    winners = Counter((payload[r.envelope_id]["client_ref"], payload[r.envelope_id]["employer_kvk"]) for r in receipts if r.accepted)
    assert len(winners) == rounds * len(BSNS) and set(winners.values()) == {1}
    refused = [r for r in receipts if not r.accepted]
    assert {r.refusal["rule"] for r in refused if r.refusal} == {"claim.unique-job"}
    assert len({r.log_index for r in receipts}) == len(receipts)  # each recorded once


@pytest.mark.slow
def test_one_server_many_threads(database_url: str) -> None:
    rounds = 40
    settings = ApiSettings(new_settings(database_url))
    app = create_app(settings)
    try:
        with running(app) as url:
            statuses, receipts, claims = race([url], settings.ledger.operator_key, rounds)
    finally:
        app.state.ledger.close()
    assert statuses.seen[500] == 0 and set(statuses.seen) <= {200, 201, 409}, statuses.seen
    assert_one_winner_per_job(receipts, claims, rounds)
    ledger = Ledger(settings.ledger)
    assert ledger.log_size() == 1 + 1 + PROVIDERS + PROVIDERS * len(BSNS) + len(receipts)  # genesis, cast, commissions, claims
    assert_consistent(ledger)
    ledger.close()


@contextmanager
def server_process(tmp_path: Path, keys: Path, database_url: str, name: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "TRAJECTLEDGER_KEY_DIR": str(keys), "TRAJECTLEDGER_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    log = tmp_path / f"{name}.log"
    with serving_process(["-c", f"from api.serve import serve; serve('127.0.0.1', {port})"], env, log, port):
        yield f"http://127.0.0.1:{port}"
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


@pytest.mark.slow
def test_two_server_processes_on_one_database(database_url: str, tmp_path: Path) -> None:
    rounds = 15
    create_keys(tmp_path / "keys")
    operator_key, pseudonym_key = load_keys(tmp_path / "keys")
    Ledger(Settings(database_url, operator_key, pseudonym_key)).close()  # migrated and initialised once, first
    with ExitStack() as stack:
        urls = [stack.enter_context(server_process(tmp_path, tmp_path / "keys", database_url, f"server-{n}")) for n in range(2)]
        statuses, receipts, claims = race(urls, operator_key, rounds)
    assert statuses.seen[500] == 0, statuses.seen
    assert_one_winner_per_job(receipts, claims, rounds)
    ledger = Ledger(Settings(database_url, operator_key, pseudonym_key))
    assert sorted(r.log_index for r in receipts) == sorted(set(r.log_index for r in receipts))
    assert_consistent(ledger)
    ledger.close()
