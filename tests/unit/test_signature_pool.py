"""Batch signature checks on worker processes give the same answers as in-line checks,
also when a worker dies."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import signature_pool
from ledger.envelope import public_key_bytes

KEYS = [Ed25519PrivateKey.generate() for _ in range(3)]


def checks(n: int, bad: set[int]) -> list[signature_pool.Check]:
    out = []
    for i in range(n):
        key = KEYS[i % 3]
        message = f"message {i}".encode() * (i % 7 + 1)
        signature = key.sign(message)
        if i in bad:
            signature = bytes([signature[0] ^ 1]) + signature[1:]
        out.append((public_key_bytes(key), signature, message))
    return out


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[signature_pool._Pool]:
    """A pool of this test's own, so a broken one does not outlive the test."""
    fresh = signature_pool._Pool()
    monkeypatch.setattr(signature_pool, "_pool", fresh)
    yield fresh
    fresh.close()


def test_requests_round_trip_through_the_wire_format() -> None:
    sent = checks(5, set()) + [(b"k" * 32, b"s" * 64, b"")]
    stream = io.BytesIO(signature_pool.encode_request(sent) + signature_pool.encode_request(sent[:1]))
    assert signature_pool.read_request(stream) == sent
    assert signature_pool.read_request(stream) == sent[:1]
    assert signature_pool.read_request(stream) is None


def test_a_truncated_request_is_an_error() -> None:
    with pytest.raises(EOFError):
        signature_pool.read_request(io.BytesIO(signature_pool.encode_request(checks(2, set()))[:-1]))


def test_workers_answer_like_the_in_line_check(pool: signature_pool._Pool) -> None:
    batch = checks(101, bad={0, 50, 100})
    pending = signature_pool.start(batch)
    answers = pending.result()
    assert answers == signature_pool.verify_all(batch)
    assert [i for i, ok in enumerate(answers) if not ok] == [0, 50, 100]
    if signature_pool._cores() > 1:
        assert pool._workers, "a large batch on a multi-core machine goes to the workers"


def test_a_dead_worker_falls_back_to_the_in_line_check(pool: signature_pool._Pool) -> None:
    if signature_pool._cores() < 2:
        pytest.skip("one core: there are no workers to kill")
    signature_pool.start(checks(40, set())).result()  # start the workers
    pool._workers[0].kill()
    pool._workers[0].wait()
    batch = checks(64, bad={7})
    assert signature_pool.start(batch).result() == signature_pool.verify_all(batch)
    assert signature_pool.start(batch).result() == signature_pool.verify_all(batch)  # in-line from now on
    assert pool._broken
