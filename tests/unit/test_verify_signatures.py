"""Signature checks on worker processes: packed chunks, both start methods, every failure back."""

from __future__ import annotations

import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.envelope import public_key_bytes
from ledger.verify.signatures import Job, SignatureChecks, _start_method, pack, verify_jobs, verify_packed

KEYS = [Ed25519PrivateKey.generate() for _ in range(3)]


def jobs(count: int, bad: set[int]) -> list[Job]:
    made = []
    for index in range(count):
        key = KEYS[index % len(KEYS)]
        message = f"entry {index}".encode() * (index % 7 + 1)
        signature = key.sign(message if index not in bad else b"something else")
        made.append((index, 2 + index % 2, public_key_bytes(key), signature, message))
    return made


def test_a_packed_chunk_verifies_like_the_jobs_themselves() -> None:
    chunk = jobs(50, bad={3, 17, 49})
    assert verify_packed(pack(chunk)) == verify_jobs(chunk) == [(3, 3), (17, 3), (49, 3)]
    assert verify_packed(pack([])) == []


@pytest.mark.parametrize("other_thread", [False, True], ids=["fork", "spawn"])
def test_workers_return_every_failure(other_thread: bool) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    alone = threading.active_count() == 1  # earlier tests in the same run may have left a thread
    if other_thread:
        thread.start()
    try:
        assert _start_method() == ("fork" if alone and not other_thread else "spawn")
        checks = SignatureChecks(workers=2, chunk=16)
        try:
            for job in jobs(300, bad={0, 150, 299}):
                checks.add(*job)
            assert sorted(checks.finish()) == [(0, 2), (150, 2), (299, 3)]
            assert checks.verified == 300
        finally:
            checks.close()
    finally:
        stop.set()
        if other_thread:
            thread.join()
