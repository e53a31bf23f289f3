"""The witness (c2sp.org/tlog-witness): status codes, state, evidence, restarts - and its request
format against the spec's own example."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.checkpoint import Checkpoint, InvalidKeyError, sign_checkpoint, verifier_key_string
from ledger.domain.cosignature import cosigner_vkey
from ledger.domain.merkle import consistency_proof, leaf_hash, root_hash
from ledger.witness.request import MalformedRequest, format_request, parse_request
from ledger.witness.state import WitnessState
from ledger.witness.witness import SIZE_TYPE, Witness
from tests.unit.test_cosignature import spec_verify

ORIGIN = "log.example/l"

SPEC_REQUEST = (  # c2sp.org/tlog-witness, "add-checkpoint", verbatim
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\njrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n\n"
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+"
    "zyWE+xeMcTOAYQ8=\n"
    "\u2014 example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rov"
    "nzv++qbSzm9Q=\n"
).encode()


class Log:
    """A log the tests control: leaves, checkpoints signed by its key, proofs."""

    def __init__(self, key: Ed25519PrivateKey | None = None, prefix: bytes = b"entry") -> None:
        self.key = key or Ed25519PrivateKey.generate()
        self.vkey = verifier_key_string(ORIGIN, self.key.public_key().public_bytes_raw())
        self.leaves = [leaf_hash(prefix + b"%d" % i) for i in range(40)]

    def note(self, size: int) -> bytes:
        return sign_checkpoint(Checkpoint(ORIGIN, size, root_hash(self.leaves[:size])), ORIGIN, self.key)

    def request(self, old: int, size: int) -> bytes:
        proof = consistency_proof(self.leaves[:size], old) if 0 < old < size else []
        return format_request(old, proof, self.note(size))


@pytest.fixture
def witness_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def make(tmp_path: Path, log: Log, key: Ed25519PrivateKey) -> Witness:
    return Witness("auditor.example/w", key, [log.vkey], WitnessState(tmp_path / "witness.sqlite3"),
                   clock=lambda: 1_767_225_600.5)


def test_the_spec_example_request_parses() -> None:
    request = parse_request(SPEC_REQUEST)
    assert request.old_size == 20852014 and len(request.proof) == 4
    assert request.proof[0] == base64.b64decode("PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=")
    assert request.note.startswith(b"example.com/behind-the-sofa\n20852163\n") and request.note.count("\u2014".encode()) == 2
    assert format_request(request.old_size, request.proof, request.note) == SPEC_REQUEST


def test_the_spec_example_is_404_to_a_witness_of_another_log(tmp_path: Path, witness_key: Ed25519PrivateKey) -> None:
    assert make(tmp_path, Log(), witness_key).add_checkpoint(SPEC_REQUEST).status == 404


@pytest.mark.parametrize("body", [b"", b"old 01\n\n", b"old 1\nnot base64!\n\n", b"old 1\n", b"old -1\n\nx\n",
                                  b"new 1\n\n", b"old 1\n" + b"AAAA\n" + b"\n"])
def test_malformed_requests(body: bytes) -> None:
    with pytest.raises(MalformedRequest):
        parse_request(body)


def test_first_checkpoint_then_consistent_growth(tmp_path: Path, witness_key: Ed25519PrivateKey) -> None:
    log = Log()
    witness = make(tmp_path, log, witness_key)
    public = witness_key.public_key().public_bytes_raw()
    first = witness.add_checkpoint(log.request(0, 10))
    assert first.status == 200
    body = log.note(10)[:log.note(10).index(b"\n\n") + 1]
    assert spec_verify(first.body.decode(), "auditor.example/w", public, body) == 1_767_225_600
    grown = witness.add_checkpoint(log.request(10, 17))
    assert grown.status == 200
    assert spec_verify(grown.body.decode(), "auditor.example/w", public, log.note(17)[:log.note(17).index(b"\n\n") + 1])
    again = witness.add_checkpoint(log.request(17, 17))  # same size, same root: cosigned again
    assert again.status == 200
    stored = witness.state.cosigned(ORIGIN)
    assert stored is not None and stored.tree_size == 17 and stored.note == log.note(17)


def test_status_codes(tmp_path: Path, witness_key: Ed25519PrivateKey) -> None:
    log = Log()
    witness = make(tmp_path, log, witness_key)
    assert witness.add_checkpoint(b"old x\n\n").status == 400
    forged = Log()  # same origin, another key
    assert witness.add_checkpoint(forged.request(0, 5)).status == 403
    assert witness.add_checkpoint(format_request(6, [], log.note(5))).status == 400  # old above the size
    assert witness.add_checkpoint(format_request(0, [bytes(32)], log.note(5))).status == 422  # proof from 0
    assert witness.add_checkpoint(log.request(0, 5)).status == 200
    stale = witness.add_checkpoint(log.request(0, 8))
    assert (stale.status, stale.body, stale.content_type) == (409, b"5\n", SIZE_TYPE)
    assert witness.add_checkpoint(log.request(3, 8)).status == 409
    bad_proof = format_request(5, [bytes(32)] * len(consistency_proof(log.leaves[:8], 5)), log.note(8))
    assert witness.add_checkpoint(bad_proof).status == 422
    assert witness.add_checkpoint(log.request(5, 8)).status == 200
    assert witness.state.evidence() != []  # the 422 from a validly signed checkpoint was kept


def test_a_rollback_attempt_is_refused(tmp_path: Path, witness_key: Ed25519PrivateKey) -> None:
    log = Log()
    witness = make(tmp_path, log, witness_key)
    assert witness.add_checkpoint(log.request(0, 20)).status == 200
    assert witness.add_checkpoint(format_request(20, [], log.note(12))).status == 400  # old 20 > size 12
    refused = witness.add_checkpoint(log.request(0, 12))
    assert (refused.status, refused.body) == (409, b"20\n")
    stored = witness.state.cosigned(ORIGIN)
    assert stored is not None and stored.tree_size == 20  # the state did not go back


def test_a_split_view_is_refused_and_kept_as_evidence(tmp_path: Path, witness_key: Ed25519PrivateKey) -> None:
    log = Log()
    fork = Log(log.key, prefix=b"other")  # the same operator key signing another history
    fork.leaves[:6] = log.leaves[:6]
    witness = make(tmp_path, log, witness_key)
    assert witness.add_checkpoint(log.request(0, 10)).status == 200
    same_size = witness.add_checkpoint(fork.request(10, 10))
    assert (same_size.status, same_size.body) == (409, b"10\n")
    forked_on = witness.add_checkpoint(format_request(10, consistency_proof(fork.leaves[:14], 10), fork.note(14)))
    assert forked_on.status == 422
    evidence = witness.state.evidence()
    assert [e.note for e in evidence] == [fork.note(10), fork.note(14)]
    assert all(e.cosigned_note == log.note(10) and e.origin == ORIGIN for e in evidence)
    assert "another root hash" in evidence[0].reason and "no valid consistency proof" in evidence[1].reason
    assert witness.add_checkpoint(log.request(10, 11)).status == 200  # the honest history goes on


def test_a_restart_keeps_the_state(tmp_path: Path, witness_key: Ed25519PrivateKey) -> None:
    log = Log()
    assert make(tmp_path, log, witness_key).add_checkpoint(log.request(0, 9)).status == 200
    restarted = make(tmp_path, log, witness_key)  # a new process on the same file
    reply = restarted.add_checkpoint(log.request(0, 12))
    assert (reply.status, reply.body) == (409, b"9\n")
    assert restarted.add_checkpoint(log.request(9, 12)).status == 200


def test_a_rotated_log_key_is_trusted_when_both_are_given(tmp_path: Path, witness_key: Ed25519PrivateKey) -> None:
    log, rotated = Log(), Log()
    rotated.leaves = log.leaves
    witness = Witness("auditor.example/w", witness_key, [log.vkey, rotated.vkey], WitnessState(tmp_path / "w.db"))
    assert witness.add_checkpoint(log.request(0, 4)).status == 200
    assert witness.add_checkpoint(rotated.request(4, 6)).status == 200


def test_a_witness_needs_a_log_key(tmp_path: Path, witness_key: Ed25519PrivateKey) -> None:
    with pytest.raises(InvalidKeyError):
        Witness("auditor.example/w", witness_key, [], WitnessState(tmp_path / "w.db"))
    with pytest.raises(InvalidKeyError):  # a cosigner key is not a log key
        Witness("auditor.example/w", witness_key, [cosigner_vkey("x", bytes(32))], WitnessState(tmp_path / "w.db"))


def test_cosignature_times_never_go_back(tmp_path: Path, witness_key: Ed25519PrivateKey) -> None:
    log, now = Log(), [2_000_000_000.0]
    witness = Witness("auditor.example/w", witness_key, [log.vkey], WitnessState(tmp_path / "w.db"), clock=lambda: now[0])
    public = witness_key.public_key().public_bytes_raw()
    first = witness.add_checkpoint(log.request(0, 5))
    now[0] -= 3600  # the clock is set back an hour
    later = witness.add_checkpoint(log.request(5, 8))
    body = log.note(8)[:log.note(8).index(b"\n\n") + 1]
    assert spec_verify(later.body.decode(), "auditor.example/w", public, body) == 2_000_000_000
    assert first.status == 200
