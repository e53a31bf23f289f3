"""Ed25519 checks and signatures on worker processes give the same answers as in-line ones,
also when a worker dies or stops, and for batches of several threads at once; the workers
share one queue, from which the calling process takes what no worker has started; no request
carries the private key; ``close`` leaves no worker."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
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
    server = ed25519_pool.Server()
    assert server.answer_frame(ed25519_pool.encode_key(KEYS[0])) == b""  # the key: no reply
    assert server.answer_frame(ed25519_pool.encode_verify(sent)) == bytes([1, 1, 0, 1, 1])
    assert server.answer_frame(ed25519_pool.encode_verify(sent[:1])) == bytes([1])
    assert server.answer_frame(ed25519_pool.encode_sign([b"a", b""])) == KEYS[0].sign(b"a") + KEYS[0].sign(b"")


def test_a_truncated_or_unknown_request_is_an_error() -> None:
    with pytest.raises(ValueError, match="length"):
        ed25519_pool.Server().answer_frame(ed25519_pool.encode_verify(checks(2, set()))[:-1])
    with pytest.raises(ValueError, match="unknown operation"):
        ed25519_pool.Server().answer_frame(b"X" + bytes(8))


def test_the_key_is_handed_over_once_and_first_and_a_sign_request_carries_none() -> None:
    server = ed25519_pool.Server()
    server.answer_frame(ed25519_pool.encode_verify([]))
    with pytest.raises(ValueError, match="handed over once"):
        server.answer_frame(ed25519_pool.encode_key(KEYS[0]))
    with pytest.raises(ValueError, match="no signing key"):
        ed25519_pool.Server().answer_frame(ed25519_pool.encode_sign([b"m"]))
    frame = ed25519_pool.encode_sign([b"m" * 100] * 3)
    assert KEYS[0].private_bytes_raw() not in frame and len(frame) == 9 + 3 * 104


def test_a_worker_serves_numbered_frames_from_the_queue_until_it_is_closed() -> None:
    """The worker's side of the queue: its key on standard input, then one numbered reply
    per numbered frame, whichever order they are sent in; it exits when the pool's end closes."""
    if not hasattr(socket, "SOCK_SEQPACKET") or os.name != "posix":
        pytest.skip("no SOCK_SEQPACKET sockets here")
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    worker = subprocess.Popen([sys.executable, "-m", "ledger.infra.ed25519_worker", "0", str(theirs.fileno())],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, pass_fds=(theirs.fileno(),))
    theirs.close()
    worker.stdin.write(ed25519_pool.encode_key(KEYS[0]))  # type: ignore[union-attr]
    worker.stdin.close()  # type: ignore[union-attr]
    frames = {7: ed25519_pool.encode_verify(checks(3, {1})), 2**40: ed25519_pool.encode_sign([b"s"]),
              0: ed25519_pool.encode_verify(checks(1, set()))}
    for number, frame in frames.items():
        ours.send(number.to_bytes(8, "little") + frame)
    ours.settimeout(60)
    replies = dict((int.from_bytes(m[:8], "little"), m[8:]) for m in (ours.recv(1 << 16) for _ in frames))
    assert replies == {7: bytes([1, 0, 1]), 2**40: KEYS[0].sign(b"s"), 0: bytes([1])}
    ours.close()
    assert worker.wait(timeout=60) == 0
    with worker.stdout as output:  # type: ignore[union-attr]
        assert output.read() == b""


def test_workers_get_the_key_once_at_start_up_and_never_with_a_request(monkeypatch: pytest.MonkeyPatch) -> None:
    if workers() < 1:
        pytest.skip("one core: there are no workers")
    queued: list[bytes] = []
    put = Ed25519Pool._put
    spawned: list[object] = []
    spawn = ed25519_pool._spawn

    def recording(pool: Ed25519Pool, request: ed25519_pool._Request) -> bool:
        queued.append(request.frame)
        return put(pool, request)

    def spawning(niceness: int, key: Ed25519PrivateKey | None, queue: int) -> ed25519_pool._Worker:
        spawned.append(key)
        return spawn(niceness, key, queue)

    monkeypatch.setattr(Ed25519Pool, "_put", recording)
    monkeypatch.setattr(ed25519_pool, "_spawn", spawning)
    secret = KEYS[2].private_bytes_raw()
    messages = [b"receipt %d" % i for i in range(200)]
    with Ed25519Pool(workers(), signing_key=KEYS[2]) as pool:
        for _ in range(3):
            with pool.batch(100) as work:
                for check in checks(100, set()):
                    work.check(check)
                assert work.parallel and work.sign(messages).result() == [KEYS[2].sign(m) for m in messages]
    assert spawned == [KEYS[2]] * workers()  # on each one's standard input, once, when it starts
    assert any(frame[:1] == ed25519_pool.SIGN for frame in queued)
    assert not any(secret in frame for frame in queued)


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
def test_a_batch_s_checks_go_in_frames_of_chunk_and_its_last_ones_in_small_frames(
        monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    """Whoever verifies the end of a batch is not long alone at it: what is left when the
    answers are asked for goes in frames of ``LAST_CHUNK``."""
    if workers() < 1:
        pytest.skip("one core: there are no workers")
    counts: list[int] = []
    put = Ed25519Pool._put

    def recording(pool: Ed25519Pool, request: ed25519_pool._Request) -> bool:
        counts.append(request.size)
        return put(pool, request)

    monkeypatch.setattr(Ed25519Pool, "_put", recording)
    batch = checks(size, bad={1, size - 2, size - 1})  # failures in the last, small frames too
    with Ed25519Pool(2) as pool, pool.batch(size) as work:
        for check in batch:
            work.check(check)
        assert counts == [ed25519_pool.CHUNK] * (size // ed25519_pool.CHUNK)
        answers = work.results()
    rest = size % ed25519_pool.CHUNK
    assert counts[size // ed25519_pool.CHUNK:] == [min(ed25519_pool.LAST_CHUNK, rest - i)
                                                   for i in range(0, rest, ed25519_pool.LAST_CHUNK)]
    assert answers == ed25519_pool.verify_all(batch)


def test_a_stopped_worker_holds_up_nothing(pool: Ed25519Pool) -> None:
    """With one worker stopped (SIGSTOP) the whole time, a batch is answered by the other
    worker and the calling process: a free worker takes the next frame, none is given to one
    that does not answer."""
    if ed25519_pool._cores() < 2 or os.name != "posix":
        pytest.skip("needs workers and POSIX signals")
    batch = checks(160, bad={3, 77, 159})
    with pool.batch(ed25519_pool.MIN_PARALLEL) as warm:  # both workers started and answering
        for check in batch[:ed25519_pool.MIN_PARALLEL]:
            warm.check(check)
        assert warm.parallel and warm.results() == ed25519_pool.verify_all(batch[:ed25519_pool.MIN_PARALLEL])
    with stopped([pool._workers[1].process.pid]), pool.batch(160) as work:
        for i, check in enumerate(batch):
            work.check(check)
            if i % ed25519_pool.CHUNK == ed25519_pool.CHUNK - 1:
                time.sleep(0.05)  # time for the running worker to answer a frame
        assert work.results() == ed25519_pool.verify_all(batch)  # while one worker is still stopped
        assert work.taken_over < 160


def test_a_frame_larger_than_the_queue_carries_is_answered_here(pool: Ed25519Pool) -> None:
    if workers() < 1:
        pytest.skip("one core: there are no workers")
    large = [(public_key_bytes(KEYS[0]), KEYS[0].sign(m), m) for m in (os.urandom(3000) for _ in range(64))]
    pool._max_frame = 2048  # as if the kernel granted the socket that little
    with pool.batch(64) as work:
        for check in large:
            work.check(check)
        assert work.results() == [True] * 64 and not pool._pending
    assert pool._workers and pool._broken_at is None  # not a failure: the workers stay


@pytest.fixture(scope="module")
def shared_pool() -> Iterator[Ed25519Pool]:
    with Ed25519Pool(workers()) as fresh:
        yield fresh


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(0, 120), min_size=1, max_size=3), data=st.data())
def test_any_batches_open_at_once_get_the_in_line_answers(shared_pool: Ed25519Pool, sizes: list[int],
                                                         data: st.DataObject) -> None:
    """Property: however many batches are open at once, of whatever sizes, with whatever
    signatures bad, interleaved check by check, each gets exactly the in-line answers, and
    nothing is left on the queue."""
    batches = [checks(n, set(data.draw(st.sets(st.integers(0, max(0, n - 1)), max_size=5)))) for n in sizes]
    order = data.draw(st.permutations(range(len(sizes))))  # drawn before any check is queued
    with contextlib.ExitStack() as stack:
        works = [stack.enter_context(shared_pool.batch(max(n, ed25519_pool.MIN_PARALLEL))) for n in sizes]
        for i in range(max(sizes)):
            for work, items in zip(works, batches):
                if i < len(items):
                    work.check(items[i])
        for b in order:
            assert works[b].results() == ed25519_pool.verify_all(batches[b])
    assert not shared_pool._pending


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


def test_batches_and_job_streams_share_the_workers_at_once(pool: Ed25519Pool) -> None:
    if ed25519_pool._cores() < 2:
        pytest.skip("one core: there are no workers")
    items = checks(100, {5, 40})
    with pool.batch(100) as first, pool.batch(100) as second, pool.jobs(chunk=16) as jobs:
        assert first.parallel and second.parallel and jobs.parallel
        for item in items:
            first.check(item)
            second.check(item)
        for i, item in enumerate(items):
            jobs.add(i, 1, *item)
        assert sorted(jobs.finish()) == [(5, 1), (40, 1)]
        assert second.results() == first.results() == ed25519_pool.verify_all(items)


def test_another_thread_s_batch_is_checked_while_the_first_is_still_open(pool: Ed25519Pool) -> None:
    """A server's concurrent requests: the second batch does not wait for the first to ask for
    its answers (as it would while it decides and writes); both get theirs."""
    if ed25519_pool._cores() < 2:
        pytest.skip("one core: there are no workers")
    items = checks(64, {5, 40})
    expected = [i not in {5, 40} for i in range(64)]
    seen: dict[str, object] = {}

    def second_submitter() -> None:
        with pool.batch(100) as second:
            seen["parallel"] = second.parallel
            for item in items:
                second.check(item)
            seen["results"] = second.results()

    with pool.batch(100) as first:
        for item in items:
            first.check(item)
        other = threading.Thread(target=second_submitter)
        other.start()
        other.join(30)  # the first batch has not asked for its answers yet
        assert not other.is_alive()
        assert first.results() == expected
    assert seen == {"parallel": True, "results": expected}


def test_many_threads_submitting_at_once_each_get_their_own_answers(pool: Ed25519Pool) -> None:
    if ed25519_pool._cores() < 2:
        pytest.skip("one core: there are no workers")
    answers: dict[int, tuple[list[bool], list[bool]]] = {}

    def submitter(n: int) -> None:
        for round_ in range(3):
            items = checks(40 + 17 * n + round_, {n, 3 * n + round_})
            with pool.batch(len(items)) as work:
                for item in items:
                    work.check(item)
                answers[n * 10 + round_] = (work.results(), ed25519_pool.verify_all(items))

    threads = [threading.Thread(target=submitter, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(answers) == 18 and all(got == expected for got, expected in answers.values())
    assert not pool._pending


def test_a_dead_worker_falls_back_to_the_in_line_check(pool: Ed25519Pool) -> None:
    if ed25519_pool._cores() < 2:
        pytest.skip("one core: there are no workers to kill")
    with pool.batch(40) as work:
        work.check(checks(1, set())[0])
    pool._workers[0].process.kill()
    pool._workers[0].process.wait()
    batch = checks(64, bad={7})
    for _ in range(2):  # noticed when the batch starts: in-line, both times
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
    with pool.jobs() as after:  # noticed by then, if the stream did not need to
        assert not after.parallel and not pool._workers


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


def test_the_calling_process_takes_the_frames_no_worker_has_started(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both workers stopped (SIGSTOP) until after the batch has its answers: the calling
    process took every frame from the queue and answered it itself; the next batches, with
    the workers running again, stay in step."""
    if ed25519_pool._cores() < 2 or os.name != "posix":
        pytest.skip("needs workers and POSIX signals")
    batch = checks(200, bad={0, 5, 99, 150, 198, 199})
    with Ed25519Pool(2) as pool:
        with stopped([worker.process.pid for worker in pool._workers]) as pids, pool.batch(200) as work:
            for check in batch:
                work.check(check)
            answers = work.results()
            taken = work.taken_over
        assert answers == ed25519_pool.verify_all(batch)
        assert taken == 200 and pool.taken_over == taken and not pool._pending
        for _ in range(2):
            with pool.batch(200) as work:
                for check in batch[::-1]:
                    work.check(check)
                assert work.results() == ed25519_pool.verify_all(batch[::-1])
        assert pool._broken_at is None and [worker.process.pid for worker in pool._workers] == pids


@contextlib.contextmanager
def stopped(pids: list[int]) -> Iterator[list[int]]:
    """These worker processes stopped (SIGSTOP) until the block ends (or ``_resume``)."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield pids
    finally:
        _resume(pids)


def _resume(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


def test_a_reply_that_does_not_fit_its_request_stops_the_workers_and_the_answers_stay_right(pool: Ed25519Pool) -> None:
    if ed25519_pool._cores() < 2 or os.name != "posix":
        pytest.skip("needs workers and POSIX signals")
    batch = checks(100, bad={2, 50})
    with stopped([worker.process.pid for worker in pool._workers]) as pids, pool.batch(100) as work:
        for check in batch:
            work.check(check)
        number = min(pool._pending)
        assert pool._their_end is not None
        pool._their_end.send(number.to_bytes(8, "little") + b"\x01")  # as a worker gone wrong would
        assert work.results() == ed25519_pool.verify_all(batch)
    assert pool._broken_at is not None and not pool._workers and not pool._pending
    for pid in pids:  # killed and reaped by the pool
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_closing_the_pool_answers_what_is_on_the_queue(pool: Ed25519Pool) -> None:
    """A batch still waiting when the pool is closed (a server shutting down) gets its answers."""
    if ed25519_pool._cores() < 2 or os.name != "posix":
        pytest.skip("needs workers and POSIX signals")
    batch = checks(100, bad={0, 99})
    with stopped([worker.process.pid for worker in pool._workers]) as pids, pool.batch(100) as work:
        for check in batch:
            work.check(check)
        assert pool._pending
        threading.Timer(0.2, _resume, [pids]).start()  # so that they can exit, once the queue is closed
        pool.close()
        assert not pool._pending and not pool._workers
        assert work.results() == ed25519_pool.verify_all(batch) and work.taken_over == 0


def test_waiting_works_with_descriptors_beyond_what_select_takes() -> None:
    """A busy server holds many connections: the pool's queue and pipes may get descriptors
    over 1023, which ``select`` refuses; the waits use ``poll``."""
    if ed25519_pool._cores() < 2 or os.name != "posix":
        pytest.skip("needs workers and POSIX descriptors")
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip("this process may not open 1,200 files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1050)]
    try:
        batch = checks(100, bad={9})
        with Ed25519Pool(2) as pool, pool.batch(100) as idle, pool.batch(100) as work:
            assert pool._queue is not None and pool._queue.fileno() > 1023 and idle.parallel
            with stopped([worker.process.pid for worker in pool._workers]) as pids:
                for check in batch:
                    work.check(check)
                threading.Timer(0.5, _resume, [pids]).start()
                cpu = time.process_time()
                answers = work.results()  # waited for (another batch is open: none is taken here)
                cpu = time.process_time() - cpu
            assert answers == ed25519_pool.verify_all(batch) and work.taken_over == 0
            assert cpu < 0.2, "the wait slept while the workers were stopped, it did not spin"
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
