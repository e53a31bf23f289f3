"""Ed25519 checks and signatures on worker processes give the same answers as in-line ones,
also when a worker dies; no request carries the private key; ``close`` leaves no worker."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.envelope import public_key_bytes
from ledger.infra import ed25519_pool
from ledger.infra.ed25519_pool import Ed25519Pool

KEYS = [Ed25519PrivateKey.generate() for _ in range(3)]


def checks(n: int, bad: set[int]) -> list[ed25519_pool.Check]:
    out = []
    for i in range(n):
        key = KEYS[i % 3]
        message = f"message {i}".encode() * (i % 7 + 1)
        signature = key.sign(message)
        if i in bad:
            signature = bytes([signature[0] ^ 1]) + signature[1:]
        out.append((public_key_bytes(key), signature, message))
    return out


def workers(n: int = 2) -> int:
    """What a pool on this machine would have by default, at most ``n`` (keeps the test cheap)."""
    return min(n, Ed25519Pool().size)


@pytest.fixture
def pool() -> Iterator[Ed25519Pool]:
    """A pool of this test's own, signing with ``KEYS[1]``, so a broken one does not outlive the test."""
    with Ed25519Pool(workers(), signing_key=KEYS[1]) as fresh:
        yield fresh


def test_requests_round_trip_through_the_wire_format() -> None:
    sent = checks(5, {2})
    stream = io.BytesIO(ed25519_pool.encode_key(KEYS[0]) + ed25519_pool.encode_verify(sent)
                        + ed25519_pool.encode_verify(sent[:1]) + ed25519_pool.encode_sign([b"a", b""]))
    server = ed25519_pool.Server()
    assert server.answer(stream) == b""  # the key: no reply
    assert server.answer(stream) == bytes([1, 1, 0, 1, 1])
    assert server.answer(stream) == bytes([1])
    assert server.answer(stream) == KEYS[0].sign(b"a") + KEYS[0].sign(b"")
    assert server.answer(stream) is None


def test_a_truncated_or_unknown_request_is_an_error() -> None:
    with pytest.raises(EOFError):
        ed25519_pool.Server().answer(io.BytesIO(ed25519_pool.encode_verify(checks(2, set()))[:-1]))
    with pytest.raises(ValueError, match="unknown operation"):
        ed25519_pool.Server().answer(io.BytesIO(b"X" + bytes(8)))


def test_the_key_is_handed_over_once_and_first_and_a_sign_request_carries_none() -> None:
    server = ed25519_pool.Server()
    server.answer(io.BytesIO(ed25519_pool.encode_verify([])))
    with pytest.raises(ValueError, match="handed over once"):
        server.answer(io.BytesIO(ed25519_pool.encode_key(KEYS[0])))
    with pytest.raises(ValueError, match="no signing key"):
        ed25519_pool.Server().answer(io.BytesIO(ed25519_pool.encode_sign([b"m"])))
    frame = ed25519_pool.encode_sign([b"m" * 100] * 3)
    assert KEYS[0].private_bytes_raw() not in frame and len(frame) == 9 + 3 * 104


def test_workers_get_the_key_once_at_start_up_and_never_with_a_request(monkeypatch: pytest.MonkeyPatch) -> None:
    if workers() < 1:
        pytest.skip("one core: there are no workers")
    written: dict[int, list[bytes]] = {}
    write = ed25519_pool._Worker.write

    def recording(worker: ed25519_pool._Worker, data: bytes) -> None:
        written.setdefault(worker.process.pid, []).append(bytes(data))
        write(worker, data)

    monkeypatch.setattr(ed25519_pool._Worker, "write", recording)
    secret = KEYS[2].private_bytes_raw()
    messages = [b"receipt %d" % i for i in range(200)]
    with Ed25519Pool(workers(), signing_key=KEYS[2]) as pool:
        for _ in range(3):
            with pool.batch(100) as work:
                for check in checks(100, set()):
                    work.check(check)
                assert work.parallel and work.sign(messages).result() == [KEYS[2].sign(m) for m in messages]
    assert len(written) == workers()
    for frames in written.values():
        assert frames[0] == ed25519_pool.encode_key(KEYS[2])  # the first frame, once
        assert any(frame[:1] == ed25519_pool.SIGN for frame in frames[1:])
        assert not any(secret in frame for frame in frames[1:])


def test_close_leaves_no_worker_alive_and_work_runs_in_line_after() -> None:
    if workers() < 1:
        pytest.skip("one core: there are no workers")
    pool = Ed25519Pool(workers(), signing_key=KEYS[0])
    with pool.batch(100) as work:
        assert not work.parallel  # not started: in-line
    pool.start()
    pool.start()  # idempotent
    processes = [worker.process for worker in pool._workers]
    assert len(processes) == workers() and all(p.poll() is None for p in processes)
    with pool.batch(100) as work:
        assert work.parallel
    pool.close()
    assert all(p.poll() is not None for p in processes) and not pool._workers
    with pool.batch(100) as work:
        assert not work.parallel
        for check in checks(40, {1}):
            work.check(check)
        assert work.results() == [i != 1 for i in range(40)]
        assert work.sign([b"m"] * 40).result() == [KEYS[0].sign(b"m")] * 40
    assert pool.verify_jobs([(7, 2, *checks(2, {1})[1])]) == [(7, 2)]


def test_a_pool_without_a_key_does_not_sign() -> None:
    with Ed25519Pool(0) as pool, pool.batch(1) as work, pytest.raises(RuntimeError, match="no signing key"):
        work.sign([b"m"])


@pytest.mark.parametrize("size", [ed25519_pool.CHUNK - 1, ed25519_pool.CHUNK, 101, 333])
def test_workers_answer_like_the_in_line_check(pool: Ed25519Pool, size: int) -> None:
    batch = checks(size, bad={0, size // 2, size - 1})
    with pool.batch(max(size, ed25519_pool.MIN_PARALLEL)) as work:
        for check in batch:
            work.check(check)
        if ed25519_pool._cores() > 1:
            assert work.parallel and pool._workers, "a large batch on a multi-core machine goes to the workers"
        answers = work.results()
        assert work.results() is answers  # asked twice, checked once
    assert answers == ed25519_pool.verify_all(batch)
    assert [i for i, ok in enumerate(answers) if not ok] == sorted({0, size // 2, size - 1})


@pytest.mark.parametrize("size", [ed25519_pool.MIN_PARALLEL, 101, 200, 333])
def test_a_batch_s_checks_end_evenly_owed_by_the_workers(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    """The batch waits for its slowest worker: when it asks for its answers, each worker owes
    as many checks as the others, give or take one (read before the tail is taken over)."""
    owed: list[list[int]] = []
    take_over = ed25519_pool.Batch._take_over_the_tail

    def noting(work: ed25519_pool.Batch) -> None:
        owed.append(work._owed())
        take_over(work)

    monkeypatch.setattr(ed25519_pool.Batch, "_take_over_the_tail", noting)
    batch = checks(size, bad={1, size - 2, size - 1})  # failures in the last, split frame too
    with Ed25519Pool(2) as pool, pool.batch(size) as work:
        for check in batch:
            work.check(check)
        answers = work.results()
    assert answers == ed25519_pool.verify_all(batch)
    if ed25519_pool._cores() > 1 and os.name == "posix":
        assert len(owed) == 1 and len(owed[0]) == 2 and max(owed[0]) - min(owed[0]) <= 1


def test_a_worker_that_answers_is_given_more_than_one_that_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each frame goes to the worker owing the batch the fewest answers: with one worker
    stopped (SIGSTOP) while the batch is checked, nearly all go to the other."""
    if ed25519_pool._cores() < 2 or os.name != "posix":
        pytest.skip("needs workers and POSIX signals")
    sent: dict[int, int] = {}
    send = ed25519_pool._Worker.send

    def counting(worker: ed25519_pool._Worker, request: ed25519_pool._Request) -> None:
        sent[worker.process.pid] = sent.get(worker.process.pid, 0) + request.size
        send(worker, request)

    monkeypatch.setattr(ed25519_pool._Worker, "send", counting)
    batch = checks(160, bad={3, 77, 159})
    with Ed25519Pool(2) as pool:
        with pool.batch(ed25519_pool.MIN_PARALLEL) as warm:  # both workers started and answering
            for check in batch[:ed25519_pool.MIN_PARALLEL]:
                warm.check(check)
            assert warm.parallel and all(warm.results()[i] == (i != 3) for i in range(ed25519_pool.MIN_PARALLEL))
        running, stopped = (worker.process.pid for worker in pool._workers)
        sent.clear()
        os.kill(stopped, signal.SIGSTOP)
        try:
            with pool.batch(160) as work:
                for i, check in enumerate(batch):
                    work.check(check)
                    if i % ed25519_pool.CHUNK == ed25519_pool.CHUNK - 1:
                        time.sleep(0.05)  # time for the running worker to answer its frame
                os.kill(stopped, signal.SIGCONT)
                assert work.results() == ed25519_pool.verify_all(batch)
        finally:
            os.kill(stopped, signal.SIGCONT)
    assert sent.get(running, 0) >= 0.75 * 160 > sent.get(stopped, 0)


@pytest.mark.parametrize("count", [1, ed25519_pool.MIN_PARALLEL, 200, 5001])  # 5001: replies beyond a pipe's buffer
def test_workers_sign_like_the_key_itself(pool: Ed25519Pool, count: int) -> None:
    messages = [f"receipt {i}".encode() * (i % 5) for i in range(count)]
    with pool.batch(ed25519_pool.MIN_PARALLEL) as work:
        work.check(checks(1, set())[0])
        signatures = work.sign(messages).result()
    assert signatures == [KEYS[1].sign(m) for m in messages]  # Ed25519 signatures are deterministic


def test_signing_queued_behind_checks_and_abandoned_signing_leave_the_workers_in_step(pool: Ed25519Pool) -> None:
    batch = checks(70, bad={3, 69})
    messages = [b"receipt %d" % i for i in range(90)]
    with pool.batch(70) as work:
        for check in batch[:50]:
            work.check(check)
        abandoned = work.sign(messages[:40])  # never asked for: close() reads its replies
        for check in batch[50:]:
            work.check(check)
        signing = work.sign(messages)  # sent before the answers to the checks are read
        assert work.results() == ed25519_pool.verify_all(batch)
        assert signing.result() == [KEYS[1].sign(m) for m in messages]
        assert abandoned is not None
    with pool.batch(70) as work:  # the next batch reads its own answers, not leftovers
        for check in batch:
            work.check(check)
        assert work.results() == ed25519_pool.verify_all(batch)
        assert work.sign(messages[::-1]).result() == [KEYS[1].sign(m) for m in messages[::-1]]


def test_a_small_batch_stays_in_this_process(pool: Ed25519Pool) -> None:
    pool.close()
    pool.start()  # the workers are started explicitly, never by a batch
    with pool.batch(ed25519_pool.MIN_PARALLEL - 1) as work:
        assert not work.parallel
        work.check(checks(1, {0})[0])
        assert work.results() == [False]
    assert Ed25519Pool(0).size == 0
    with Ed25519Pool(0) as inline, inline.batch(100) as work:
        assert not work.parallel and not inline._workers


def test_the_workers_serve_one_batch_at_a_time(pool: Ed25519Pool) -> None:
    if ed25519_pool._cores() < 2:
        pytest.skip("one core: there are no workers")
    with pool.batch(100) as first, pool.batch(100) as second:
        assert first.parallel and not second.parallel
        with pool.jobs() as jobs:
            assert not jobs.parallel
    with pool.batch(100) as third:
        assert third.parallel  # handed back


def test_another_thread_s_batch_waits_for_the_workers_which_are_handed_back_once_the_answers_are_in(
        pool: Ed25519Pool) -> None:
    if ed25519_pool._cores() < 2:
        pytest.skip("one core: there are no workers")
    items = checks(64, {5, 40})
    seen: dict[str, object] = {}
    answered = threading.Event()

    def second_submitter() -> None:
        with pool.batch(100) as second:
            seen["after_first_answered"] = answered.is_set()
            seen["parallel"] = second.parallel
            for item in items:
                second.check(item)
            seen["results"] = second.results()

    with pool.batch(100) as first:
        assert first.parallel
        for item in items:
            first.check(item)
        other = threading.Thread(target=second_submitter)
        other.start()
        other.join(0.3)
        assert other.is_alive() and "parallel" not in seen  # waiting: not checking in-line meanwhile
        answered.set()
        expected = [i not in {5, 40} for i in range(64)]
        assert first.results() == expected
        other.join(10)  # handed back before this batch ends (as a commit would follow)
        assert not other.is_alive()
    assert seen == {"after_first_answered": True, "parallel": True, "results": expected}


def test_a_batch_waits_for_the_workers_no_longer_than_the_limit(pool: Ed25519Pool,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    if ed25519_pool._cores() < 2:
        pytest.skip("one core: there are no workers")
    monkeypatch.setattr(ed25519_pool, "WAIT_FOR_WORKERS", 0.2)
    seen: dict[str, object] = {}

    def second_submitter() -> None:
        start = time.monotonic()
        with pool.batch(100) as second:
            seen["waited"], seen["parallel"] = time.monotonic() - start, second.parallel
            second.check(checks(1, set())[0])
            seen["results"] = second.results()

    with pool.jobs() as stream:  # a job stream holds the workers for as long as it runs
        assert stream.parallel
        other = threading.Thread(target=second_submitter)
        other.start()
        other.join(10)
    assert not other.is_alive()
    assert seen["parallel"] is False and seen["results"] == [True]  # in-line, after the limit
    assert 0.15 <= seen["waited"] < 5  # type: ignore[operator]


def test_a_dead_worker_falls_back_to_the_in_line_check(pool: Ed25519Pool) -> None:
    if ed25519_pool._cores() < 2:
        pytest.skip("one core: there are no workers to kill")
    with pool.batch(40) as work:
        work.check(checks(1, set())[0])
    pool._workers[0].process.kill()
    pool._workers[0].process.wait()
    batch = checks(64, bad={7})
    for _ in range(2):  # the second time in-line from the start
        with pool.batch(64) as work:
            for check in batch:
                work.check(check)
            assert work.results() == ed25519_pool.verify_all(batch)
            assert work.sign([b"m"] * 40).result() == [KEYS[1].sign(b"m")] * 40
    assert pool._broken_at is not None
    pool._broken_at -= ed25519_pool.RESPAWN_AFTER  # a minute later: new workers
    with pool.batch(64) as work:
        assert work.parallel
        for check in batch:
            work.check(check)
        assert work.results() == ed25519_pool.verify_all(batch)
    assert pool._broken_at is None and all(worker.process.poll() is None for worker in pool._workers)


def test_a_worker_dying_under_a_job_stream_loses_no_failure(pool: Ed25519Pool) -> None:
    if ed25519_pool._cores() < 2:
        pytest.skip("one core: there are no workers to kill")
    jobs = [(i, 2, *check) for i, check in enumerate(checks(600, bad={5, 300, 599}))]
    with pool.jobs(chunk=16) as stream:
        assert stream.parallel
        for job in jobs[:100]:
            stream.add(*job)
        pool._workers[0].process.kill()
        for job in jobs[100:]:
            stream.add(*job)
        assert sorted(stream.finish()) == [(5, 2), (300, 2), (599, 2)] and stream.verified == 600
    assert not pool._workers


def test_an_unread_large_signing_does_not_stall_the_next_one(pool: Ed25519Pool) -> None:
    """A worker writing a reply larger than its pipe holds reads nothing until it is read:
    a batch that abandons one signing (a bad signature: written again) and asks for
    another must read the first reply before sending."""
    if ed25519_pool._cores() < 2:
        pytest.skip("one core: there are no workers")
    messages = [b"r" * 200 + b"%d" % i for i in range(2400)]  # ~77 KB of signatures and requests per worker
    done: list[list[bytes]] = []

    def batch() -> None:
        with pool.batch(100) as work:
            work.check(checks(1, set())[0])
            work.sign(messages)  # abandoned
            done.append(work.sign(messages).result())

    thread = threading.Thread(target=batch, daemon=True)
    thread.start()
    thread.join(timeout=120)
    if thread.is_alive():
        for worker in pool._workers:
            worker.process.kill()
        pytest.fail("the batch and its workers waited for each other")
    assert done == [[KEYS[1].sign(m) for m in messages]]


def test_a_worker_skips_the_frames_its_caller_says_it_took_over() -> None:
    """The second pipe's ranges, sent before the frames: frames 0 and 1 skipped, 2 verified,
    3 (a new range, after a gap) skipped; a sign frame is not numbered."""
    read, write = os.pipe()
    frames = [ed25519_pool.encode_verify(checks(3, {1})) for _ in range(4)]
    os.write(write, ed25519_pool.encode_taken(0, 2) + ed25519_pool.encode_taken(3, 4))
    worker = subprocess.run([sys.executable, "-m", "ledger.infra.ed25519_worker", "0", str(read)],
                            input=ed25519_pool.encode_key(KEYS[0]) + frames[0] + frames[1]
                            + ed25519_pool.encode_sign([b"s"]) + frames[2] + frames[3],
                            capture_output=True, pass_fds=(read,), timeout=60, check=True)
    os.close(read)
    os.close(write)
    skipped = bytes([ed25519_pool.SKIPPED]) * 3
    assert worker.stdout == skipped + skipped + KEYS[0].sign(b"s") + bytes([1, 0, 1]) + skipped


@pytest.mark.parametrize(("owed", "level"), [([], 0), ([0, 0], 0), ([0, 100], 50), ([4, 68], 34), ([36, 36], 24),
                                             ([100, 0, 0, 0], 50)])
def test_the_caller_takes_over_down_to_the_level_it_ends_with_the_workers(owed: list[int], level: int) -> None:
    assert ed25519_pool._tail_level(owed) == level


@given(st.lists(st.integers(0, 1000), max_size=8))
def test_the_tail_level_is_the_least_at_which_the_caller_takes_no_more_than_it(owed: list[int]) -> None:
    level = ed25519_pool._tail_level(owed)
    assert sum(max(0, n - level) for n in owed) <= level
    assert level == 0 or sum(max(0, n - level + 1) for n in owed) > level - 1


def test_the_batch_takes_over_the_queues_of_workers_far_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both workers stopped (SIGSTOP) until after the batch asks for its answers: the calling
    process verifies the end of their queues itself, the workers skip exactly those frames once
    they run again, the answers are right and the next batches stay in step."""
    if ed25519_pool._cores() < 2 or os.name != "posix":
        pytest.skip("needs workers and POSIX signals")
    dropped: list[bytes] = []
    monkeypatch.setattr(ed25519_pool, "_drop", dropped.append)
    batch = checks(200, bad={0, 5, 99, 150, 198, 199})
    with Ed25519Pool(2) as pool:
        stopped = [worker.process.pid for worker in pool._workers]
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)

        def resume() -> None:
            for pid in stopped:
                os.kill(pid, signal.SIGCONT)

        timer = threading.Timer(1.0, resume)
        try:
            with pool.batch(200) as work:
                for check in batch:
                    work.check(check)
                timer.start()  # the batch asks for its answers now, each stopped worker owing 100 checks
                answers = work.results()
                taken = work.taken_over
        finally:
            timer.cancel()
            resume()
        assert answers == ed25519_pool.verify_all(batch)
        # each owed frames of 16 x 6 and 4: level 67 (2 x (100 - 67) <= 67); from the newest, 4 + 16 + 16 go
        # (left 64; one more frame would leave 48, further below the level than 64 is above it)
        assert taken == 2 * 36 and pool.taken_over == taken
        assert b"".join(dropped) == bytes([ed25519_pool.SKIPPED]) * taken, "the workers skipped every frame taken over"
        for _ in range(2):
            with pool.batch(200) as work:
                for check in batch[::-1]:
                    work.check(check)
                assert work.results() == ed25519_pool.verify_all(batch[::-1])
