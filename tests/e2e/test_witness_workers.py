"""``serve --workers 3`` with a witness policy, on SQLite and PostgreSQL: one process pushes each
checkpoint to the witness (counted at the witness, which answers slowly so that rounds of several
processes would overlap), and ``/v1/log/checkpoint`` serves the newest cosigned checkpoint, which
verifies under the policy."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.witness_app import create_witness_app
from ledger.application import Ledger
from ledger.domain.cosignature import cosigner_vkey
from ledger.domain.witness_policy import parse_policy
from ledger.settings import Settings, create_keys, load_keys
from ledger.verify.witnesses import check_witnesses
from ledger.witness.request import parse_request
from ledger.witness.state import WitnessState
from ledger.witness.witness import Reply, Witness
from tests.e2e.server import free_port, running, serving_process
from tests.support import World

WORKERS = 3
NAME = "a.example/w"


class CountingWitness(Witness):
    """A witness that answers after ``delay`` seconds and counts the checkpoint sizes it is sent."""

    delay = 0.3

    def __init__(self, name: str, key: Ed25519PrivateKey, log_vkey: str, state: WitnessState) -> None:
        super().__init__(name, key, [log_vkey], state)
        self.sizes: Counter[int] = Counter()
        self._count = threading.Lock()

    def add_checkpoint(self, body: bytes) -> Reply:
        time.sleep(self.delay)
        size = int(parse_request(body).note.split(b"\n")[1])
        with self._count:
            self.sizes[size] += 1
        return super().add_checkpoint(body)


@contextmanager
def served(tmp_path: Path, database_url: str, policy: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "TRAJECTLEDGER_KEY_DIR": str(tmp_path / "keys"), "TRAJECTLEDGER_DATABASE_URL": database_url,
           "TRAJECTLEDGER_WITNESS_POLICY": str(policy), "TRAJECTLEDGER_WITNESS_EVERY_SECONDS": "0.1",
           "TRAJECTLEDGER_API_SIGNING_WORKERS": "0", "PYTHONUNBUFFERED": "1"}
    with serving_process(["-m", "cli.main", "serve", "--port", str(port), "--workers", str(WORKERS)], env,
                        tmp_path / "server.log", port):
        yield f"http://127.0.0.1:{port}"


def published(url: str, size: int) -> bytes:
    """The note ``/v1/log/checkpoint`` serves, once it is of ``size`` entries (or 20 s have gone by)."""
    deadline = time.monotonic() + 20
    while True:
        response = httpx.get(f"{url}/v1/log/checkpoint")
        if (response.status_code == 200 and response.json()["tree_size"] == size) or time.monotonic() > deadline:
            assert response.status_code == 200, response.text
            return str(response.json()["note"]).encode()
        time.sleep(0.1)


@pytest.mark.slow
def test_one_process_pushes_each_checkpoint_to_the_witnesses(database_url: str, tmp_path: Path) -> None:
    create_keys(tmp_path / "keys")
    operator_key, pseudonym_key = load_keys(tmp_path / "keys")
    ledger = Ledger(Settings(database_url, operator_key, pseudonym_key))
    key = Ed25519PrivateKey.generate()
    witness = CountingWitness(NAME, key, ledger.transparency.verifier_key, WitnessState(tmp_path / "w.sqlite3"))
    with running(create_witness_app(witness), lifespan=True) as witness_url:
        policy_file = tmp_path / "policy.txt"
        policy_file.write_text(f"log {ledger.transparency.verifier_key}\n"
                               f"witness A {cosigner_vkey(NAME, key.public_key().public_bytes_raw())} {witness_url}\n"
                               "quorum A\n")
        policy = parse_policy(policy_file.read_bytes())
        with served(tmp_path, database_url, policy_file) as url:
            first = httpx.get(f"{url}/v1/log/checkpoint/newest").json()["tree_size"]
            assert check_witnesses(published(url, first), policy).tree_size == first
            World(ledger).register("late-provider", "provider")  # the log grows: a second checkpoint to push
            second = ledger.transparency.size()
            assert check_witnesses(published(url, second), policy).tree_size == second > first
            time.sleep(1.5)  # more rounds (every 0.1 s): nothing left to push
    ledger.close()
    assert witness.sizes[first] == 1 and witness.sizes[second] == 1, witness.sizes
    assert set(witness.sizes.values()) == {1}, witness.sizes  # with a round per worker: 3 of each
