"""One pool of Ed25519 worker processes, for the ledger's batches and the offline verifier.

Ed25519 holds the GIL, so threads do not help: the work goes to worker processes as bytes
and comes back as bytes. The composition root owns a pool: it creates it, ``start``s it and
``close``s it (or uses it as a context manager); no module keeps one and nothing is started
behind its back. Work runs in the calling process whenever the pool has no workers to give
(``workers=0``, one core, before ``start`` or after ``close``, while another job stream or
this thread holds them, or for ``RESPAWN_AFTER`` seconds after one failed): slower, never wrong.
A batch serves one thread at a time: another thread's batch waits for it (at most
``WAIT_FOR_WORKERS``), and each hands the workers back as soon as its answers are in, before
it commits, so that the next batch's checks run while this one commits. (Were the waiting
batch checked in-line instead, it would compete with the first for this process's one core
of Python: two submitters at once were about a fifth slower than one.)

- ``batch``: the ledger streams each envelope's check to the workers as soon as it has parsed
  the envelope (``Batch.check``) and decides the batch meanwhile, writes the rows (signing
  the write's one checkpoint itself), and asks for the answers (``results``) just before it
  commits. Each frame of checks goes to the worker owing the batch the fewest answers. When
  the answers are asked for, the ledger has nothing left to do but wait while the workers
  finish the checks sent last, and one of them is often behind (it shared a core with the
  deciding process, at a lower priority): the ledger then verifies the end of their queues
  itself, down to what it leaves each of them (``_tail_level``), and tells each worker,
  which skips those frames (``Batch.taken_over`` and the pool's ``taken_over`` count them).
  Without the pipes to tell them (not POSIX) it waits. A pool has as many workers as cores
  (not one fewer): while the ledger waits for its database, the worker sharing its core
  uses the time, and at a lower priority it takes little else from it.
  ``Batch.sign`` (signing on the workers, with a key the pool was given) is no longer used
  by the ledger, whose pool holds no key.
- ``jobs`` / ``verify_jobs``: the verifier streams (log_index, step, key, signature, message)
  jobs while it parses and replays a bundle, a bounded number of chunks in flight per worker;
  the jobs whose signature fails come back as (log_index, step).

A signing key, when the pool is given one, is handed to each worker once, as the first frame
on its pipe when it starts, never with a request, and kept in memory only. The ledger gives
none: one operator signature per write is cheaper than handing the key to other processes.

The workers are plain subprocesses (``python -m ledger.infra.ed25519_worker``) on pipes:
they import nothing of the caller's program (a spawned ``multiprocessing`` child imports the
caller's main module again, a fork is unsafe in a threaded server) and share none of its
connections or threads. They run at a lower priority (``nice``): the calling process's
one thread is the bottleneck and keeps its core, also on a machine shared with other work.

Wire format (encoded here, answered by ``ed25519_worker.Server``). Every request is a frame:
operation (1 byte), count (u32), body length (u32), body; integers little-endian. A worker
answers its frames in order, and numbers its ``V`` frames from 0. On a second pipe (POSIX)
the caller may send pairs of u64 (first, end): the ``V`` frames numbered first <= n < end were
verified by the caller; the worker answers each it has not started with ``SKIPPED`` (2) per
item, unverified, and the caller ignores whatever it answers for them.
- ``K`` (key), only as the first frame, count 1: the 32-byte raw private key; no reply;
- ``V`` (verify): the number of distinct public keys (u16), the keys (32 bytes each), then
  per item: key slot (u16), message length (u32), signature (64 bytes), message; the reply
  is ``count`` bytes, 1 where the signature verifies, else 0;
- ``S`` (sign): per item: message length (u32), message; the reply is ``count`` signatures
  of 64 bytes under the key of the ``K`` frame.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from struct import error as struct_error

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.infra.ed25519_worker import _HEAD, _ITEM, _KEYS, _LENGTH, _RANGE, KEY, NICENESS, SIGN, SKIPPED, VERIFY, Server

__all__ = ["CHUNK", "JOB_CHUNK", "KEY", "MAX_WORKERS", "MIN_PARALLEL", "NICENESS", "RESPAWN_AFTER", "SIGN", "SKIPPED", "VERIFY",
           "Batch", "Check", "Ed25519Pool", "Failure", "Job", "Jobs", "Server", "Signing",
           "encode_key", "encode_sign", "encode_taken", "encode_verify", "verify_all"]

Check = tuple[bytes, bytes, bytes]  # raw public key (32), raw signature (64), signed message
Job = tuple[int, int, bytes, bytes, bytes]  # log_index, step, public key, signature, message
Failure = tuple[int, int]  # log_index, step

MIN_PARALLEL = 32  # a batch of fewer envelopes is not worth the round trips
MAX_WORKERS = 8  # one per core, up to this many
RESPAWN_AFTER = 60.0  # seconds in-line after workers failed, before new ones are started
WAIT_FOR_WORKERS = 2.0  # seconds a batch waits for another thread's batch or job stream to hand the workers back
CHUNK = 16  # a batch's checks per frame: small, so the workers start while the batch is parsed
JOB_CHUNK = 256  # a verifier's chunk is sent at this many jobs ...
JOB_CHUNK_BYTES = 40 * 1024  # ... or this many bytes of messages, whichever comes first
JOBS_IN_FLIGHT = 3  # chunks per worker: one being verified, two waiting in the pipe
REPLY_BUDGET = 16 * 1024  # reply bytes left unread per worker: well within what a pipe holds
READ_SIZE = 64 * 1024  # bytes a reply's read asks for: what has arrived of the next ones too
STOP_WAIT = 5.0  # seconds a worker has to exit once its pipe is closed
CLOSE_WAIT = 60.0  # seconds ``close`` waits for a batch using the workers

_ITEM_FIXED = _ITEM.size + 64
_FAILED = (OSError, EOFError, ValueError, struct_error)  # a worker died or answered nonsense


# --- the wire format -------------------------------------------------------------------


def _new_slot(slots: dict[bytes, int], public_key: bytes) -> int:
    if len(public_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    if len(slots) >= 0xFFFF:
        raise ValueError("a frame holds at most 65,535 public keys")
    slot = slots[public_key] = len(slots)
    return slot


def encode_verify(checks: Iterable[Check]) -> bytes:
    """A ``V`` frame: is each signature valid for its key and message?"""
    slots: dict[bytes, int] = {}
    parts: list[bytes] = [b""]  # the key table goes first
    pack = _ITEM.pack
    for public_key, signature, message in checks:
        if len(signature) != 64:
            raise ValueError("an Ed25519 signature is 64 bytes")
        slot = slots.get(public_key)
        if slot is None:
            slot = _new_slot(slots, public_key)
        parts += (pack(slot, len(message)), signature, message)
    parts[0] = _KEYS.pack(len(slots)) + b"".join(slots)
    body = b"".join(parts)
    return _HEAD.pack(VERIFY, (len(parts) - 1) // 3, len(body)) + body


def encode_sign(messages: list[bytes]) -> bytes:
    """An ``S`` frame: sign these messages (with the key the worker was given at start-up)."""
    parts: list[bytes] = [b""]
    for message in messages:
        parts += (_LENGTH.pack(len(message)), message)
    parts[0] = _HEAD.pack(SIGN, len(messages), _LENGTH.size * len(messages) + sum(map(len, messages)))
    return b"".join(parts)


def encode_key(key: Ed25519PrivateKey) -> bytes:
    """The ``K`` frame, a worker's first: the key it signs with until it exits."""
    return _HEAD.pack(KEY, 1, 32) + key.private_bytes_raw()


def encode_taken(first: int, end: int) -> bytes:
    """A message on a worker's second pipe: the caller verified the V frames first <= n < end itself."""
    return _RANGE.pack(first, end)


def verify_all(checks: Iterable[Check]) -> list[bool]:
    """One bool per check, in order, in this process: does the signature verify against the key?"""
    return [answer == 1 for answer in Server().answer_frame(encode_verify(checks))]


# --- the workers -----------------------------------------------------------------------


@dataclass(slots=True)
class _Request:
    frame: bytes
    size: int  # of the reply
    owner: object  # what waits for it: a batch (its checks), a signing, a job stream
    take: Callable[[bytes], None]  # called with the reply


_TAKEN = object()  # the owner of a request the calling process answered itself: its reply is read and dropped


def _drop(_: bytes) -> None:
    pass


class _Worker:
    """One worker process and its requests not answered yet, oldest first."""

    def __init__(self, process: subprocess.Popen[bytes], taken_fd: int | None = None) -> None:
        assert process.stdin is not None and process.stdout is not None
        self.process = process
        self.fd_in, self.fd_out = process.stdin.fileno(), process.stdout.fileno()
        self.taken_fd = taken_fd  # where to say which V frames the calling process verified itself
        self.pending: deque[_Request] = deque()
        self.unread = 0  # reply bytes of the pending requests
        self.buffer = bytearray()  # read from the pipe, not handed over yet
        self.verify_frames = 0  # V frames sent: the worker numbers them the same way

    def send(self, request: _Request) -> None:
        """Send a request. Replies left unread first, where they would not fit the pipe with
        this one's: a worker writing a reply the pipe cannot hold reads no more frames until it
        is read, and a large frame would then wait for ever."""
        while self.pending and self.unread + request.size > REPLY_BUDGET:
            self.read_oldest()
        self.write(request.frame)
        self.pending.append(request)
        self.unread += request.size
        if request.frame[:1] == VERIFY:
            self.verify_frames += 1

    def take_over(self, count: int) -> None:
        """Say that this process verifies the last ``count`` V frames sent itself."""
        assert self.taken_fd is not None
        os.write(self.taken_fd, encode_taken(self.verify_frames - count, self.verify_frames))

    def write(self, data: bytes) -> None:
        written = os.write(self.fd_in, data)
        if written < len(data):  # a pipe may take part of a large frame at a time
            view = memoryview(data)[written:]
            while view:
                view = view[os.write(self.fd_in, view):]

    def read_oldest(self) -> None:
        """Read the reply to the oldest pending request and hand it over (reading whatever
        else has arrived too: one system call for several replies)."""
        request, buffer = self.pending[0], self.buffer
        while len(buffer) < request.size:
            part = os.read(self.fd_out, max(request.size - len(buffer), READ_SIZE))
            if not part:
                raise EOFError("a worker stopped")
            buffer += part
        reply = bytes(buffer[:request.size])
        del buffer[:request.size]
        self.pending.popleft()
        self.unread -= request.size
        request.take(reply)

    def has_reply(self) -> bool:
        """Whether the oldest pending request's reply has been read from the pipe already."""
        return bool(self.pending) and len(self.buffer) >= self.pending[0].size


def _spawn(niceness: int, key: Ed25519PrivateKey | None) -> _Worker:
    root = str(Path(__file__).resolve().parents[2])  # the directory holding the ledger package
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    taken_read, taken_write = os.pipe() if os.name == "posix" else (None, None)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "ledger.infra.ed25519_worker", str(niceness),
             *([] if taken_read is None else [str(taken_read)])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, env={**os.environ, "PYTHONPATH": path},
            pass_fds=() if taken_read is None else (taken_read,),
            process_group=0)  # a group of its own: Ctrl-C stops the parent, which closes its input
    except OSError:
        if taken_write is not None:
            os.close(taken_write)
        raise
    finally:
        if taken_read is not None:
            os.close(taken_read)  # the worker's end
    worker = _Worker(process, taken_write)
    if key is not None:
        try:
            worker.write(encode_key(key))
        except OSError:
            _stop([worker], wait=False)
            raise
    return worker


def _stop(workers: list[_Worker], wait: bool) -> None:
    """Close the workers' pipes (end of requests: they exit); kill those that do not, or all
    at once without ``wait``."""
    for worker in workers:
        try:
            worker.process.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass
        if worker.taken_fd is not None:
            with contextlib.suppress(OSError):
                os.close(worker.taken_fd)
            worker.taken_fd = None
    deadline = time.monotonic() + STOP_WAIT
    for worker in workers:
        try:
            if not wait:
                raise subprocess.TimeoutExpired(worker.process.args, 0)
            worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
        try:
            worker.process.stdout.close()  # type: ignore[union-attr]
        except OSError:
            pass


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# --- the pool ----------------------------------------------------------------------------


class Ed25519Pool:
    """Ed25519 worker processes for one process, used by one batch or job stream at a time.

    ``workers``: how many (None: one per core, at most ``MAX_WORKERS``, none on one core; 0:
    everything in the calling process). ``signing_key``: what ``Batch.sign`` signs with; each
    worker is handed it once, when it starts, and no request carries it. ``nice``: the
    workers' niceness. Nothing starts until ``start``."""

    def __init__(self, workers: int | None = None, signing_key: Ed25519PrivateKey | None = None, *,
                 nice: int = NICENESS) -> None:
        if workers is not None and workers < 0:
            raise ValueError("workers is 0 or more")
        self.size = (0 if _cores() < 2 else min(_cores(), MAX_WORKERS)) if workers is None else workers
        self.signing_key = signing_key
        self._nice = nice
        self._local = Server(signing_key)
        self._lock = threading.Lock()  # held by the batch or job stream using the workers
        self._holder: int | None = None  # the thread holding them
        self._workers: list[_Worker] = []
        self._started = False
        self._pid = os.getpid()
        self._broken_at: float | None = None  # when workers last failed
        self.taken_over = 0  # checks sent to workers and verified in this process after all, since created

    def start(self) -> None:
        """Start the workers now (a no-op when they run); should that fail, work runs in-line
        and new ones are tried ``RESPAWN_AFTER`` seconds later."""
        if self._started and self._workers and self._pid == os.getpid():
            return
        with self._lock:
            self._started = True
            self._ready()

    def close(self) -> None:
        """Stop the workers (after the batch using them, if any, is done); from now on work
        runs in-line, until ``start`` again."""
        held = self._lock.acquire(timeout=CLOSE_WAIT)  # a batch in flight: let it finish, within reason
        try:
            self._started = False
            workers, self._workers = self._workers, []
            if self._pid != os.getpid():
                return  # a forked child's copy: they are its parent's
            if held:
                _stop(workers, wait=True)
            else:  # the batch still holds their pipes: it fails over to in-line and closes them
                for worker in workers:
                    worker.process.kill()
        finally:
            if held:
                self._lock.release()

    def __enter__(self) -> Ed25519Pool:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextlib.contextmanager
    def batch(self, size: int) -> Iterator[Batch]:
        """Reserve the workers for one batch of about ``size`` envelopes; the batch works
        in-line when it is small or they are not to be had."""
        batch = Batch(self, self._acquire(WAIT_FOR_WORKERS) if size >= MIN_PARALLEL else [])
        try:
            yield batch
        finally:
            batch.close()

    @contextlib.contextmanager
    def jobs(self, chunk: int = JOB_CHUNK, chunk_bytes: int = JOB_CHUNK_BYTES) -> Iterator[Jobs]:
        """Reserve the workers for a stream of verification jobs (in-line without them)."""
        stream = Jobs(self, self._acquire(), chunk, chunk_bytes)
        try:
            yield stream
        finally:
            stream.close()

    def verify_jobs(self, jobs: Iterable[Job]) -> list[Failure]:
        """The jobs whose signature does not verify (on the workers, where there are any)."""
        with self.jobs() as stream:
            for job in jobs:
                stream.add(*job)
            return stream.finish()

    def _acquire(self, wait: float = 0.0) -> list[_Worker]:
        """The workers, reserved for the calling thread, once another thread has handed them
        back (waiting at most ``wait`` seconds); [] and no reservation when there are none, when
        they stay busy, or when this thread holds them already. ``_release`` hands them back."""
        if not self._started or not self.size or self._holder == threading.get_ident():
            return []
        if not (self._lock.acquire(timeout=wait) if wait > 0 else self._lock.acquire(blocking=False)):
            return []
        self._holder = threading.get_ident()
        try:
            workers = self._ready()
        except BaseException:
            self._release()
            raise
        if not workers:
            self._release()
        return workers

    def _ready(self) -> list[_Worker]:
        """The running workers, started first where needed (the lock held)."""
        if self._pid != os.getpid():  # a forked child: those are its parent's
            self._workers, self._pid, self._broken_at = [], os.getpid(), None
        if not self._started or not self.size:
            return []
        if not self._workers:
            if self._broken_at is not None and time.monotonic() - self._broken_at < RESPAWN_AFTER:
                return []
            workers: list[_Worker] = []
            try:
                for _ in range(self.size):
                    workers.append(_spawn(self._nice, self.signing_key))
            except OSError:
                _stop(workers, wait=False)
                self._broken_at = time.monotonic()
                return []
            self._workers, self._broken_at = workers, None
        return list(self._workers)

    def _release(self) -> None:
        self._holder = None
        self._lock.release()

    def _break_down(self, workers: list[_Worker]) -> None:
        """A worker failed: stop them all at once (the caller may hold a database lock); work
        runs in-line until new ones are started, ``RESPAWN_AFTER`` seconds on."""
        _stop(workers, wait=False)
        if self._workers == workers:
            self._workers, self._broken_at = [], time.monotonic()


class _Session:
    """One reservation of the pool's workers (none: everything in-line), reading each
    worker's replies in order. ``_workers`` is empty once they failed."""

    def __init__(self, pool: Ed25519Pool, workers: list[_Worker]) -> None:
        self._pool, self._workers = pool, workers
        self._reserved = bool(workers)

    @property
    def parallel(self) -> bool:
        """Whether workers do the work (else the calling process does)."""
        return bool(self._workers)

    def _submit(self, i: int, request: _Request) -> None:
        """Send a request to worker ``i``; in-line when there are no workers (or they fail)."""
        if self._workers:
            try:
                self._workers[i].send(request)
                return
            except _FAILED:
                self._break_down()
        self._answer_here(request)

    def _answer_here(self, request: _Request) -> None:
        """Do a request's work in this process (a signing's when its result is asked for; one
        taken over was done already)."""
        if not isinstance(request.owner, Signing) and request.owner is not _TAKEN:
            request.take(self._pool._local.answer_frame(request.frame))

    def _read_arrived(self) -> None:
        """Read every reply that has arrived, without waiting for more (POSIX: select on pipes)."""
        for worker in self._workers:
            while worker.pending and (worker.has_reply() or select.select([worker.fd_out], [], [], 0)[0]):
                worker.read_oldest()

    def _wait_for(self, owner: object) -> None:
        """Read replies, in each worker's order, until none is left for ``owner`` (``...``:
        for anyone)."""
        try:
            for worker in self._workers:
                owned = [i for i, request in enumerate(worker.pending) if owner is ... or request.owner is owner]
                for _ in range(owned[-1] + 1 if owned else 0):
                    worker.read_oldest()
        except _FAILED:
            self._break_down()

    def _break_down(self) -> None:
        """A worker failed: stop them, and answer what they still owed here."""
        workers, self._workers = self._workers, []
        self._pool._break_down(workers)
        for worker in workers:
            while worker.pending:
                self._answer_here(worker.pending.popleft())

    def close(self) -> None:
        """Read the replies still on their way (abandoned work), and hand the workers back."""
        self._wait_for(...)
        self._workers = []
        if self._reserved:
            self._reserved = False
            self._pool._release()


class Batch(_Session):
    """One batch's checks and signing: on the workers, or in-line."""

    def __init__(self, pool: Ed25519Pool, workers: list[_Worker]) -> None:
        super().__init__(pool, workers)
        self._unsent: list[Check] = []  # checks not sent yet
        self._answers = bytearray()  # per check sent, filled in as replies are read
        self._results: list[bool] | None = None
        self.taken_over = 0  # checks sent to a worker and verified in this process after all

    def check(self, item: Check) -> None:
        """Queue one signature check; it starts on a worker within ``CHUNK`` checks."""
        if len(item[1]) != 64:
            raise ValueError("an Ed25519 signature is 64 bytes")
        unsent = self._unsent
        unsent.append(item)
        if len(unsent) >= CHUNK and self._workers:
            self._flush()

    def results(self) -> list[bool]:
        """Whether each queued signature verifies, in order (waits for the workers). Once the
        answers are in, the workers are handed back: the next batch checks while this one commits."""
        if self._results is None:
            self._flush(last=True)
            self._take_over_the_tail()
            self._wait_for(self)
            self._results = [answer == 1 for answer in self._answers]
            self.close()
        return self._results

    def _take_over_the_tail(self) -> None:
        """Verify here the end of the queues of the workers furthest behind: as much as leaves
        each with no more than this process takes (``_tail_level``). A frame a worker may have
        started (the oldest it owes) stays with it; a frame verified both here and there costs
        time, never a wrong answer, for the worker's reply to it is dropped."""
        if not self._workers or any(w.taken_fd is None for w in self._workers):  # no taken pipes (not POSIX): wait
            return
        owed = self._owed()
        try:
            level = _tail_level(owed)
            taken: list[_Request] = []
            for worker, left in zip(self._workers, owed):
                mine: list[_Request] = []
                for request in reversed(worker.pending):  # the newest first: the worker reaches them last
                    if request.owner is not self or request is worker.pending[0] or left - request.size / 2 <= level:
                        break
                    mine.append(request)
                    left -= request.size
                if mine:
                    worker.take_over(len(mine))
                    taken += mine
        except _FAILED:
            self._break_down()  # answered here, all of it
            return
        for request in taken:
            take, request.take, request.owner = request.take, _drop, _TAKEN
            take(self._pool._local.answer_frame(request.frame))
            self.taken_over += request.size
            self._pool.taken_over += request.size

    def sign(self, messages: list[bytes]) -> Signing:
        """Start signing ``messages`` with the pool's key on the workers, after the checks
        queued so far; ``.result()`` gives the signatures."""
        if self._pool.signing_key is None:
            raise RuntimeError("this pool has no signing key")
        signing = Signing(self, self._pool.signing_key, messages)
        if self._workers and len(messages) >= MIN_PARALLEL:
            self._flush()  # the checks first (the workers may fail doing that)
        if not self._workers or len(messages) < MIN_PARALLEL:
            return signing  # signed here, by .result()
        size = -(-len(messages) // len(self._workers))
        for i, first in enumerate(range(0, len(messages), size)):
            part = messages[first:first + size]
            self._submit(i, _Request(encode_sign(part), 64 * len(part), signing, partial(signing._fill, first)))
        return signing

    def _flush(self, last: bool = False) -> None:
        """Send the checks not sent yet: as one frame to the worker that owes this batch the
        fewest answers (a worker sharing a core with the deciding process falls behind, and is
        given less); the ``last`` ones of the batch split so that every worker ends owing about
        as many. The batch waits for its slowest worker: evened out, no core is left idle at
        the end while one worker still holds frames another could have verified."""
        unsent = self._unsent
        if not unsent:
            return
        self._unsent = []
        owed = self._owed()
        if last and len(owed) > 1:
            share = -(-(sum(owed) + len(unsent)) // len(owed))  # what each worker should end owing
            start = 0
            for i in sorted(range(len(owed)), key=owed.__getitem__):
                part = unsent[start:start + max(0, share - owed[i])]
                if part:
                    self._send(i, part)
                    start += len(part)
            return
        self._send(min(range(len(owed)), key=owed.__getitem__), unsent)

    def _owed(self) -> list[int]:
        """Per worker, the checks of this batch it has not answered yet, the replies that have
        arrived read first (POSIX; elsewhere: what it was given); in-line, one count."""
        if self._workers and os.name == "posix":
            try:
                self._read_arrived()
            except _FAILED:
                self._break_down()
        if not self._workers:
            return [0]
        return [sum(request.size for request in worker.pending if request.owner is self) for worker in self._workers]

    def _send(self, i: int, checks: list[Check]) -> None:
        first = len(self._answers)
        self._answers += bytes(len(checks))
        self._submit(i, _Request(encode_verify(checks), len(checks), self, partial(self._take, first)))

    def _take(self, first: int, reply: bytes) -> None:
        self._answers[first:first + len(reply)] = reply


def _tail_level(owed: list[int]) -> int:
    """How many checks each worker keeps when the calling process takes over the rest of the
    queues above that level: the least level at which it takes no more than the level itself,
    so that it ends about when the slowest worker does."""
    return next(level for level in range(max(owed, default=0) + 1) if sum(max(0, n - level) for n in owed) <= level)


class Signing:
    """Signatures under way: ``result()`` waits for them (or signs here what the workers
    were not asked for)."""

    def __init__(self, batch: Batch, key: Ed25519PrivateKey, messages: list[bytes]) -> None:
        self._batch, self._key, self._messages = batch, key, messages
        self._signatures: list[bytes | None] = [None] * len(messages)

    def result(self) -> list[bytes]:
        self._batch._wait_for(self)
        for i, signature in enumerate(self._signatures):
            if signature is None:
                self._signatures[i] = self._key.sign(self._messages[i])
        return self._signatures  # type: ignore[return-value]

    def _fill(self, first: int, reply: bytes) -> None:
        for i in range(0, len(reply), 64):
            self._signatures[first + i // 64] = reply[i:i + 64]


class Jobs(_Session):
    """A verifier's stream of jobs: packed into chunks as they are added, each chunk to the
    worker with the fewest in flight (at most ``JOBS_IN_FLIGHT``), so memory does not grow
    with the stream. ``failures`` grows as replies come back."""

    def __init__(self, pool: Ed25519Pool, workers: list[_Worker], chunk: int = JOB_CHUNK,
                 chunk_bytes: int = JOB_CHUNK_BYTES) -> None:
        super().__init__(pool, workers)
        self._chunk_jobs, self._chunk_bytes = chunk, chunk_bytes
        self._slots: dict[bytes, int] = {}  # the chunk being packed
        self._parts: list[bytes] = [b"", b""]  # the frame's head and key table go first
        self._tags: list[Failure] = []
        self._bytes = 0
        self.failures: list[Failure] = []
        self.verified = 0  # jobs sent (or verified in-line) so far

    def add(self, log_index: int, step: int, public_key: bytes, signature: bytes, message: bytes) -> None:
        # ``encode_verify``'s loop, written out: the verifier calls this twice per entry
        if len(signature) != 64:
            raise ValueError("an Ed25519 signature is 64 bytes")
        slot = self._slots.get(public_key)
        if slot is None:
            slot = _new_slot(self._slots, public_key)
        self._parts += (_ITEM.pack(slot, len(message)), signature, message)
        self._tags.append((log_index, step))
        self._bytes += len(message)
        if len(self._tags) >= self._chunk_jobs or self._bytes >= self._chunk_bytes:
            self._send()

    def finish(self) -> list[Failure]:
        """Wait for every job added so far; all failures, in no particular order."""
        if self._tags:
            self._send()
        self._wait_for(self)
        return self.failures

    def _send(self) -> None:
        tags, slots, parts = self._tags, self._slots, self._parts
        parts[0] = _HEAD.pack(VERIFY, len(tags), _KEYS.size + 32 * len(slots) + _ITEM_FIXED * len(tags) + self._bytes)
        parts[1] = _KEYS.pack(len(slots)) + b"".join(slots)
        frame = b"".join(parts)
        self._slots, self._parts, self._tags, self._bytes = {}, [b"", b""], [], 0
        self.verified += len(tags)
        request = _Request(frame, len(tags), self, partial(self._take, tags))
        self._submit(self._choose(), request)

    def _choose(self) -> int:
        """The worker with the fewest chunks in flight (replies read first, where they are
        there); when every one has ``JOBS_IN_FLIGHT``, once one has answered."""
        self._collect(block=False)
        while self._workers:
            i = min(range(len(self._workers)), key=lambda i: len(self._workers[i].pending))
            if len(self._workers[i].pending) < JOBS_IN_FLIGHT:
                return i
            self._collect(block=True)
        return 0

    def _collect(self, block: bool) -> None:
        """Read the replies that are there (one per worker), or wait for the first."""
        busy = [worker for worker in self._workers if worker.pending]
        if not busy:
            return
        try:
            ready = [worker for worker in busy if worker.has_reply()]
            if not ready and os.name != "posix":  # no select on pipes: wait for the busiest worker
                ready = [max(busy, key=lambda worker: len(worker.pending))] if block else []
            elif os.name == "posix":
                fds = select.select([worker.fd_out for worker in busy], [], [], None if block and not ready else 0)[0]
                ready += [worker for worker in busy if worker.fd_out in fds and worker not in ready]
            for worker in ready:
                worker.read_oldest()
        except _FAILED:
            self._break_down()

    def _take(self, tags: list[Failure], reply: bytes) -> None:
        if 0 in reply:
            self.failures += [tag for tag, answer in zip(tags, reply) if not answer]
