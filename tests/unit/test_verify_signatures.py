"""The verifier's signature jobs on worker processes: packed chunks, with or without another
thread running, every failure back."""

from __future__ import annotations

import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.envelope import public_key_bytes
from ledger.infra.ed25519_pool import Ed25519Pool, Server, encode_verify
from ledger.verify.signatures import Failure, Job

KEYS = [Ed25519PrivateKey.generate() for _ in range(3)]


def jobs(count: int, bad: set[int]) -> list[Job]:
    made = []
    for index in range(count):
        key = KEYS[index % len(KEYS)]
        message = f"entry {index}".encode() * (index % 7 + 1)
        signature = key.sign(message if index not in bad else b"something else")
        made.append((index, 2 + index % 2, public_key_bytes(key), signature, message))
    return made


def verify_packed(chunk: list[Job]) -> list[Failure]:
    """A chunk as one frame, answered by a worker's code in this process."""
    reply = Server().answer_frame(encode_verify(job[2:] for job in chunk))
    assert reply is not None
    return [(job[0], job[1]) for job, ok in zip(chunk, reply) if not ok]


def test_a_packed_chunk_verifies_like_the_jobs_themselves() -> None:
    chunk = jobs(50, bad={3, 17, 49})
    assert verify_packed(chunk) == Ed25519Pool(0).verify_jobs(chunk) == [(3, 3), (17, 3), (49, 3)]
    assert verify_packed([]) == []


@pytest.mark.parametrize("other_thread", [False, True], ids=["alone", "another-thread"])
def test_workers_return_every_failure(other_thread: bool) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    if other_thread:
        thread.start()
    try:
        with Ed25519Pool(workers=2) as pool, pool.jobs(chunk=16) as checks:
            assert checks.parallel  # fresh interpreters, whatever else this process runs
            processes = [worker.process for worker in pool._workers]
            assert len(processes) == 2 and all("'-m', 'ledger.infra.ed25519_worker'" in str(p.args) for p in processes)
            for job in jobs(300, bad={0, 150, 299}):
                checks.add(*job)
            assert sorted(checks.finish()) == [(0, 2), (150, 2), (299, 3)]
            assert checks.verified == 300
        assert all(p.poll() is not None for p in processes) and not pool._workers  # closed: none left
    finally:
        stop.set()
        if other_thread:
            thread.join()
