"""Interoperability with an independent C2SP implementation, aics-witness / aics-tlog (PyPI), when
it is importable (it requires Python 3.12 or later, so it is not a dependency of this project):

* its client (``WitnessClient``) against our witness over HTTP, its ``verify_cosignature`` on our
  cosignatures, and its 409 handling against ours;
* our ledger's witnessing round against its witness, both libraries verifying the cosignature.
"""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.witness_app import create_witness_app
from ledger.domain.checkpoint import Checkpoint, parse_checkpoint_body, sign_checkpoint, split_note, verifier_key_string
from ledger.domain.cosignature import cosigner_vkey, verify_cosignatures
from ledger.domain.merkle import consistency_proof, leaf_hash, root_hash
from ledger.domain.witness_policy import parse_policy
from ledger.infra.transparency.witnessing import Witnessing
from ledger.witness.state import WitnessState
from ledger.witness.witness import Witness
from tests.e2e.server import running
from tests.support import make_world

aics_witness = pytest.importorskip("aics_witness", reason="aics-witness (Python >= 3.12) is not installed")
aics_cosign = pytest.importorskip("aics_tlog.cosign")

ORIGIN = "log.example/interop"
LEAVES = [leaf_hash(b"e%d" % i) for i in range(50)]


def their_verdict(line: str, name: str, public_key: bytes, note: bytes) -> bool:
    checkpoint = parse_checkpoint_body(split_note(note)[0])
    blob = base64.b64decode(line.strip().split(" ")[2])
    return bool(aics_cosign.verify_cosignature(blob[4:], name, public_key, checkpoint.origin, checkpoint.size,
                                               checkpoint.root_hash, list(checkpoint.extensions)))


def test_their_client_against_our_witness(tmp_path: Path) -> None:
    log_key, witness_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    public = witness_key.public_key().public_bytes_raw()

    def note(size: int) -> bytes:
        return sign_checkpoint(Checkpoint(ORIGIN, size, root_hash(LEAVES[:size]), ("time 2026-12-04T00:00:00Z",)),
                               ORIGIN, log_key)

    def proof(old: int, new: int) -> list[bytes]:
        return consistency_proof(LEAVES[:new], old) if 0 < old < new else []

    ours = Witness("ours.example/w", witness_key, [verifier_key_string(ORIGIN, log_key.public_key().public_bytes_raw())],
                   WitnessState(tmp_path / "ours.sqlite3"))
    vkey = cosigner_vkey("ours.example/w", public)
    with running(create_witness_app(ours)) as url:
        with aics_witness.WitnessClient(url, vkey) as client:
            for size in (7, 7, 20, 33):
                assert their_verdict(client.submit(note(size), proof), "ours.example/w", public, note(size))
        with aics_witness.WitnessClient(url, vkey) as fresh:  # starts from 0 and follows our 409
            assert their_verdict(fresh.submit(note(40), proof), "ours.example/w", public, note(40))
        with aics_witness.WitnessClient(url, vkey) as stale, pytest.raises(aics_witness.FeederError):
            stale.submit(note(10), proof)  # a rollback: our 409 names 40
    stored = ours.state.cosigned(ORIGIN)
    assert stored is not None and stored.tree_size == 40


def test_our_ledger_against_their_witness(tmp_path: Path) -> None:
    world = make_world(f"sqlite:///{tmp_path}/ledger.sqlite3")
    log = world.ledger.transparency
    key = Ed25519PrivateKey.generate()
    store = aics_witness.WitnessStore(tmp_path / "aics.sqlite3", create=True)
    logs = [aics_witness.LogConfig.from_strings(log.origin, [log.verifier_key], extension_lines=True)]
    server = aics_witness.make_server(aics_witness.Witness("aics.example/w", key, store, logs))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        public = key.public_key().public_bytes_raw()
        policy = parse_policy(f"log {log.verifier_key}\nwitness T {cosigner_vkey('aics.example/w', public)} "
                              f"http://127.0.0.1:{server.server_address[1]}\nquorum T\n".encode())
        for grow in range(2):
            world.register(f"late-{grow}", "provider")
            world.ledger.checkpoint()
            witnessing = Witnessing(log, policy, timeout=5)  # a fresh client each time: old 0, then their 409
            try:
                assert [o.problem for o in witnessing.round()] == [None]
            finally:
                witnessing.close()
            newest = log.latest()
            assert newest is not None
            found = verify_cosignatures(newest.note, [policy.witnesses["T"].cosigner])
            assert len(found) == 1 and their_verdict(found[0].line, "aics.example/w", public, newest.note)
    finally:
        server.shutdown()
        server.server_close()
        world.ledger.close()
