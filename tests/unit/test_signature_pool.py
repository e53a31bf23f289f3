"""Batch signature checks on worker processes give the same answers as in-line checks,
also when a worker dies."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.envelope import public_key_bytes
from ledger.infra import signature_pool

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
    sent = checks(5, {2})
    stream = io.BytesIO(signature_pool.encode_request(sent) + signature_pool.encode_request(sent[:1])
                        + signature_pool.encode_sign_request(KEYS[0].private_bytes_raw(), [b"a", b""]))
    assert signature_pool.answer(stream) == bytes([1, 1, 0, 1, 1])
    assert signature_pool.answer(stream) == bytes([1])
    assert signature_pool.answer(stream) == KEYS[0].sign(b"a") + KEYS[0].sign(b"")
    assert signature_pool.answer(stream) is None


def test_a_truncated_or_unknown_request_is_an_error() -> None:
    with pytest.raises(EOFError):
        signature_pool.answer(io.BytesIO(signature_pool.encode_request(checks(2, set()))[:-1]))
    with pytest.raises(ValueError, match="unknown operation"):
        signature_pool.answer(io.BytesIO(b"X" + bytes(4)))


@pytest.mark.parametrize("size", [signature_pool.CHUNK - 1, signature_pool.CHUNK, 101, 333])
def test_workers_answer_like_the_in_line_check(pool: signature_pool._Pool, size: int) -> None:
    batch = checks(size, bad={0, size // 2, size - 1})
    with signature_pool.start(max(size, signature_pool.MIN_PARALLEL)) as work:
        for check in batch:
            work.check(check)
        if signature_pool._cores() > 1:
            assert work.parallel and pool._workers, "a large batch on a multi-core machine goes to the workers"
        answers = work.results()
        assert work.results() is answers  # asked twice, checked once
    assert answers == signature_pool.verify_all(batch)
    assert [i for i, ok in enumerate(answers) if not ok] == sorted({0, size // 2, size - 1})


@pytest.mark.parametrize("count", [1, signature_pool.MIN_PARALLEL, 200, 5001])  # 5001: replies beyond a pipe's buffer
def test_workers_sign_like_the_key_itself(pool: signature_pool._Pool, count: int) -> None:
    messages = [f"receipt {i}".encode() * (i % 5) for i in range(count)]
    with signature_pool.start(signature_pool.MIN_PARALLEL) as work:
        work.check(checks(1, set())[0])
        signatures = work.sign(KEYS[1], messages).result()
    assert signatures == [KEYS[1].sign(m) for m in messages]  # Ed25519 signatures are deterministic


def test_signing_queued_behind_checks_and_abandoned_signing_leave_the_workers_in_step(pool: signature_pool._Pool) -> None:
    batch = checks(70, bad={3, 69})
    messages = [b"receipt %d" % i for i in range(90)]
    with signature_pool.start(70) as work:
        for check in batch[:50]:
            work.check(check)
        abandoned = work.sign(KEYS[0], messages[:40])  # never asked for: close() reads its replies
        for check in batch[50:]:
            work.check(check)
        signing = work.sign(KEYS[1], messages)  # sent before the answers to the checks are read
        assert work.results() == signature_pool.verify_all(batch)
        assert signing.result() == [KEYS[1].sign(m) for m in messages]
        assert abandoned is not None
    with signature_pool.start(70) as work:  # the next batch reads its own answers, not leftovers
        for check in batch:
            work.check(check)
        assert work.results() == signature_pool.verify_all(batch)
        assert work.sign(KEYS[2], messages).result() == [KEYS[2].sign(m) for m in messages]


def test_a_small_batch_stays_in_this_process(pool: signature_pool._Pool) -> None:
    with signature_pool.start(signature_pool.MIN_PARALLEL - 1) as work:
        assert not work.parallel
        work.check(checks(1, {0})[0])
        assert work.results() == [False]
    assert not pool._workers


def test_the_workers_serve_one_batch_at_a_time(pool: signature_pool._Pool) -> None:
    if signature_pool._cores() < 2:
        pytest.skip("one core: there are no workers")
    with signature_pool.start(100) as first, signature_pool.start(100) as second:
        assert first.parallel and not second.parallel
    with signature_pool.start(100) as third:
        assert third.parallel  # handed back


def test_a_dead_worker_falls_back_to_the_in_line_check(pool: signature_pool._Pool) -> None:
    if signature_pool._cores() < 2:
        pytest.skip("one core: there are no workers to kill")
    with signature_pool.start(40) as work:  # start the workers
        work.check(checks(1, set())[0])
    pool._workers[0].kill()
    pool._workers[0].wait()
    batch = checks(64, bad={7})
    for _ in range(2):  # the second time in-line from the start
        with signature_pool.start(64) as work:
            for check in batch:
                work.check(check)
            assert work.results() == signature_pool.verify_all(batch)
            assert work.sign(KEYS[2], [b"m"] * 40).result() == [KEYS[2].sign(b"m")] * 40
    assert pool._broken_at is not None
    pool._broken_at -= signature_pool.RESPAWN_AFTER  # a minute later: new workers
    with signature_pool.start(64) as work:
        assert work.parallel
        for check in batch:
            work.check(check)
        assert work.results() == signature_pool.verify_all(batch)
    assert pool._broken_at is None and all(worker.poll() is None for worker in pool._workers)


def test_an_unread_large_signing_does_not_stall_the_next_one(pool: signature_pool._Pool) -> None:
    """A worker writing a reply larger than its pipe holds reads nothing until it is read:
    a batch that abandons one signing (a bad signature: written again) and asks for
    another must read the first reply before sending."""
    if signature_pool._cores() < 2:
        pytest.skip("one core: there are no workers")
    messages = [b"r" * 200 + b"%d" % i for i in range(2400)]  # ~77 KB of signatures and requests per worker
    done: list[list[bytes]] = []

    def batch() -> None:
        with signature_pool.start(100) as work:
            work.check(checks(1, set())[0])
            work.sign(KEYS[0], messages)  # abandoned
            done.append(work.sign(KEYS[1], messages).result())

    thread = threading.Thread(target=batch, daemon=True)
    thread.start()
    thread.join(timeout=120)
    if thread.is_alive():
        for worker in pool._workers:
            worker.kill()
        pytest.fail("the batch and its workers waited for each other")
    assert done == [[KEYS[1].sign(m) for m in messages]]
