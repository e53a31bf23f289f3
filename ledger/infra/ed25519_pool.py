"""One pool of Ed25519 worker processes, for the ledger's batches and the offline verifier.

Ed25519 holds the GIL, so threads do not help: the work goes to worker processes as bytes
and comes back as bytes. The composition root owns a pool: it creates it, ``start``s it and
``close``s it (or uses it as a context manager); no module keeps one and nothing is started
behind its back. Work runs in the calling process whenever the pool has no workers (``workers=0``,
one core, before ``start`` or after ``close``, where there are no ``SOCK_SEQPACKET`` Unix
sockets (Linux and the BSDs have them), or for ``RESPAWN_AFTER`` seconds after one failed):
slower, never wrong.

The workers share one queue, a Unix ``SOCK_SEQPACKET`` socket pair: the calling process sends
each frame of work, numbered, on its end; a worker that is free takes the next one from the
other end (a message is taken whole, by one reader) and sends back its number and its reply.
A worker that is behind (it shares a core with the deciding process, at a lower priority)
so takes less, without anyone choosing for it. Whoever waits for answers takes the frames no
worker has started from the same queue and answers them itself, then waits for the frames
the workers are on. Any number of batches, signings and job streams, from any threads, share
the queue at once: a batch arriving while another commits has its checks verified meanwhile.
A worker's death (its standard output, which it never writes, ends) stops them all, and
whatever they had not answered is answered here.

- ``batch``: the ledger streams each envelope's check to the workers as soon as it has parsed
  the envelope (``Batch.check``, a frame per ``CHUNK``) and decides the batch meanwhile, writes
  the rows (signing the write's one checkpoint itself), and asks for the answers (``results``)
  just before it commits. Its last checks go in frames of ``LAST_CHUNK``, so that whoever
  verifies the end of the batch is not long alone at it. ``Batch.taken_over`` and the pool's
  ``taken_over`` count the checks the calling process took from the queue. A pool has as many
  workers as cores (not one fewer): while the ledger waits for its database, the worker
  sharing its core uses the time, and at a lower priority it takes little else from it.
  ``Batch.sign`` (signing on the workers, with a key the pool was given) is no longer used by
  the ledger, whose pool holds no key.
- ``jobs`` / ``verify_jobs``: the verifier streams (log_index, step, key, signature, message)
  jobs while it parses and replays a bundle, at most ``JOBS_IN_FLIGHT`` chunks per worker
  queued; the jobs whose signature fails come back as (log_index, step).

A signing key, when the pool is given one, is handed to each worker once, on its standard
input when it starts, never with a request, and kept in memory only. The ledger gives none:
one operator signature per write is cheaper than handing the key to other processes.

The workers are plain subprocesses (``python -m ledger.infra.ed25519_worker``): they import
nothing of the caller's program (a spawned ``multiprocessing`` child imports the caller's main
module again, a fork is unsafe in a threaded server) and share none of its connections or
threads. They run at a lower priority (``nice``): the calling process's one thread is the
bottleneck and keeps its core, also on a machine shared with other work.

Wire format (encoded here, answered by ``ed25519_worker.Server``). Every request is a frame:
operation (1 byte), count (u32), body length (u32), body; integers little-endian. On the
queue a frame is one message, after its number (u64); the reply is one message, the number
and then the reply's bytes. A frame over ``MAX_FRAME`` bytes (or more than the socket's
buffer takes) is answered in the calling process.
- ``K`` (key), on a worker's standard input only, count 1: the 32-byte raw private key; no reply;
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
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from struct import error as struct_error

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.infra.ed25519_worker import _HEAD, _ITEM, _KEYS, _LENGTH, _NUMBER, KEY, MAX_FRAME, NICENESS, SIGN, VERIFY, Server

__all__ = ["CHUNK", "JOB_CHUNK", "KEY", "LAST_CHUNK", "MAX_FRAME", "MAX_WORKERS", "MIN_PARALLEL", "NICENESS", "RESPAWN_AFTER",
           "SIGN", "VERIFY", "Batch", "Check", "Ed25519Pool", "Failure", "Job", "Jobs", "Server", "Signing",
           "encode_key", "encode_sign", "encode_verify", "verify_all"]

Check = tuple[bytes, bytes, bytes]  # raw public key (32), raw signature (64), signed message
Job = tuple[int, int, bytes, bytes, bytes]  # log_index, step, public key, signature, message
Failure = tuple[int, int]  # log_index, step

MIN_PARALLEL = 32  # a batch of fewer envelopes is not worth the round trips
MAX_WORKERS = 8  # one per core, up to this many
RESPAWN_AFTER = 60.0  # seconds in-line after workers failed, before new ones are started
CHUNK = 16  # a batch's checks per frame: small, so the workers start while the batch is parsed
LAST_CHUNK = 4  # the checks per frame of a batch's last ones, sent when it asks for its answers
SIGN_CHUNK = 512  # messages per signing frame at most (a reply of 32 KiB)
JOB_CHUNK = 256  # a verifier's chunk is sent at this many jobs ...
JOB_CHUNK_BYTES = 40 * 1024  # ... or this many bytes of messages, whichever comes first
JOBS_IN_FLIGHT = 3  # chunks per worker a job stream has on the queue at most
QUEUE_BUFFER = 4 << 20  # bytes each end of the queue asks the kernel to hold (it may grant less)
POLL = 0.5  # seconds a wait for a reply sleeps at most before it looks again
STOP_WAIT = 5.0  # seconds a worker has to exit once the queue is closed

_FAILED = (OSError, EOFError, ValueError, struct_error)  # a worker died or answered nonsense
_ITEM_FIXED = _ITEM.size + 64
_REPLY_MAX = 64 * SIGN_CHUNK  # bytes of the largest reply (a signing frame's)


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


def verify_all(checks: Iterable[Check]) -> list[bool]:
    """One bool per check, in order, in this process: does the signature verify against the key?"""
    return [answer == 1 for answer in Server().answer_frame(encode_verify(checks))]


# --- the workers -----------------------------------------------------------------------


class _Owner:
    """What waits for replies (a batch's checks, a signing, a job stream); ``parallel``:
    whether its work goes to the workers (else this process does it)."""

    def __init__(self, pool: Ed25519Pool, parallel: bool) -> None:
        self._pool, self.parallel = pool, parallel
        self.outstanding = 0  # its requests on the queue not answered yet (changed with the pool's lock held)

    def _submit(self, request: _Request) -> None:
        if self.parallel:
            self._pool._send(request)
        else:
            request.take(self._pool._local.answer_frame(request.frame))


@dataclass(slots=True)
class _Request:
    frame: bytes
    size: int  # of the reply
    owner: _Owner
    take: Callable[[bytes], None]  # called with the reply


@dataclass(slots=True)
class _Worker:
    process: subprocess.Popen[bytes]

    @property
    def fd_out(self) -> int:
        """Its standard output, which it never writes: readable once it has exited."""
        return self.process.stdout.fileno()  # type: ignore[union-attr]


def _spawn(niceness: int, key: Ed25519PrivateKey | None, queue: int) -> _Worker:
    root = str(Path(__file__).resolve().parents[2])  # the directory holding the ledger package
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    process = subprocess.Popen(
        [sys.executable, "-m", "ledger.infra.ed25519_worker", str(niceness), str(queue)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, env={**os.environ, "PYTHONPATH": path},
        pass_fds=(queue,), process_group=0)  # a group of its own: Ctrl-C stops the parent, which closes the queue
    worker = _Worker(process)
    try:
        if key is not None:
            process.stdin.write(encode_key(key))  # type: ignore[union-attr]
        process.stdin.close()  # type: ignore[union-attr]
    except OSError:
        _reap([worker], wait=False)
        raise
    return worker


def _reap(workers: list[_Worker], wait: bool) -> None:
    """Wait for the workers to exit (the queue is closed), killing those that do not; all at
    once without ``wait``."""
    deadline = time.monotonic() + STOP_WAIT
    for worker in workers:
        try:
            if not wait:
                raise subprocess.TimeoutExpired(worker.process.args, 0)
            worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
        with contextlib.suppress(OSError):
            worker.process.stdout.close()  # type: ignore[union-attr]


def _ready(fds: list[int], writable: int | None = None) -> set[int]:
    """Which of ``fds`` are readable or closed at the other end (or ``writable`` has room),
    waiting at most ``POLL``. ``poll``, not ``select``: a server may hold descriptors beyond
    what ``select`` takes. A descriptor closed meanwhile by another thread counts as nothing."""
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    if writable is not None:
        poller.register(writable, select.POLLIN | select.POLLOUT)
    return {fd for fd, events in poller.poll(POLL * 1000) if not events & select.POLLNVAL}


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# --- the pool ----------------------------------------------------------------------------


class Ed25519Pool:
    """Ed25519 worker processes for one process, shared by its batches and job streams.

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
        self._lock = threading.Lock()  # the queue, the requests on it, the workers
        self._workers: list[_Worker] = []
        self._queue: socket.socket | None = None  # this process's end: frames out, replies in
        self._their_end: socket.socket | None = None  # the workers' end: this process takes frames from it too
        self._max_frame = 0  # bytes a message on the queue may have
        self._pending: dict[int, _Request] = {}  # on the queue, by number, not answered yet
        self._numbers = 0
        self._sessions = 0  # batches and job streams open on the workers, from any thread
        self._reply = bytearray(_NUMBER.size + _REPLY_MAX)
        self._started = False
        self._pid = os.getpid()
        self._broken_at: float | None = None  # when workers last failed
        self.taken_over = 0  # checks this process took from the queue and verified itself, since created

    def start(self) -> None:
        """Start the workers now (a no-op when they run); should that fail, work runs in-line
        and new ones are tried ``RESPAWN_AFTER`` seconds later."""
        with self._lock:
            self._started = True
            self._ready()

    def close(self) -> None:
        """Stop the workers; what they had not answered is answered here. From now on work
        runs in-line, until ``start`` again."""
        with self._lock:
            self._started = False
            self._stop(wait=True)

    def __enter__(self) -> Ed25519Pool:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextlib.contextmanager
    def batch(self, size: int) -> Iterator[Batch]:
        """One batch of about ``size`` envelopes: on the workers, or in-line when it is small
        or there are none."""
        with self._open(size >= MIN_PARALLEL) as parallel:
            yield Batch(self, parallel)

    @contextlib.contextmanager
    def jobs(self, chunk: int = JOB_CHUNK, chunk_bytes: int = JOB_CHUNK_BYTES) -> Iterator[Jobs]:
        """A stream of verification jobs (in-line without workers)."""
        with self._open(True) as parallel:
            yield Jobs(self, parallel, chunk, chunk_bytes)

    def verify_jobs(self, jobs: Iterable[Job]) -> list[Failure]:
        """The jobs whose signature does not verify (on the workers, where there are any)."""
        with self.jobs() as stream:
            for job in jobs:
                stream.add(*job)
            return stream.finish()

    # --- sending and waiting (any thread) ---------------------------------------------------

    @contextlib.contextmanager
    def _open(self, wanted: bool) -> Iterator[bool]:
        """A batch or job stream while it is open: whether its work goes to the workers
        (``wanted`` and they run, started where needed). A worker that exited while idle is
        noticed here (one that dies with a frame, by whoever waits for its reply)."""
        with self._lock:
            if any(worker.process.poll() is not None for worker in self._workers):
                self._break_down()
            parallel = wanted and self._ready()
            self._sessions += parallel
        try:
            yield parallel
        finally:
            with self._lock:
                self._sessions -= parallel

    def _send(self, request: _Request) -> None:
        """Put a request on the queue, or answer it here when there are no workers (or it is
        larger than the queue carries)."""
        with self._lock:
            if self._put(request):
                return
        request.take(self._local.answer_frame(request.frame))

    def _wait(self, owner: _Owner, most: int = 0) -> None:
        """Until no more than ``most`` of ``owner``'s requests on the queue are unanswered:
        read the replies that are there; take a frame no worker has started (anyone's) and
        answer it here, unless another batch or job stream is open (its thread has Python work
        for this process's one core of it); else wait for a reply."""
        while True:
            with self._lock:
                if owner.outstanding <= most:
                    return
                try:
                    self._read_replies()
                    alone = self._sessions <= 1
                    taken = self._take_from_queue() if alone and owner.outstanding > most else None
                except _FAILED:
                    self._break_down()
                    continue
                if owner.outstanding <= most:
                    return
                if self._queue is None:  # cannot be: stopping answers everything on the queue
                    raise RuntimeError("requests are owed by workers that are gone")
                watched = [self._queue.fileno(), *(worker.fd_out for worker in self._workers)]
            if taken is not None:
                reply = self._local.answer_frame(taken.frame)
                with self._lock:
                    self._deliver(taken, reply)
                    if taken.frame[:1] == VERIFY:
                        self.taken_over += taken.size
                    if isinstance(taken.owner, Batch):
                        taken.owner.taken_over += taken.size
                continue
            ready = _ready(watched)
            if any(fd != watched[0] for fd in ready):
                with self._lock:
                    if any(worker.fd_out in ready for worker in self._workers):
                        self._break_down()  # a worker exited

    # --- the queue (the lock held) -------------------------------------------------------

    def _put(self, request: _Request) -> bool:
        if not self._ready() or self._queue is None or _NUMBER.size + len(request.frame) > self._max_frame:
            return False
        number, self._numbers = self._numbers, self._numbers + 1
        message, queue = _NUMBER.pack(number) + request.frame, self._queue
        try:
            while True:
                try:
                    queue.send(message, socket.MSG_DONTWAIT)
                    break
                except BlockingIOError:  # the queue is full: read replies meanwhile, wait for room
                    self._read_replies()
                    watched = [worker.fd_out for worker in self._workers]
                    ready = _ready([queue.fileno(), *watched], writable=queue.fileno())
                    if any(fd in watched for fd in ready):
                        raise EOFError("a worker exited") from None
        except _FAILED:
            self._break_down()
            return False
        self._pending[number] = request
        request.owner.outstanding += 1
        return True

    def _read_replies(self) -> None:
        """Hand over every reply that has arrived, without waiting."""
        queue, buffer, pending = self._queue, self._reply, self._pending
        while queue is not None:
            try:
                size, _, flags, _ = queue.recvmsg_into([buffer], 0, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            (number,) = _NUMBER.unpack_from(buffer)
            request = pending.get(number)
            if flags & socket.MSG_TRUNC or request is None or size != _NUMBER.size + request.size:
                raise ValueError("a worker answered what it was not asked")  # what is pending is answered here
            del pending[number]
            self._deliver(request, bytes(buffer[_NUMBER.size:size]))

    def _take_from_queue(self) -> _Request | None:
        """The oldest request no worker has taken yet, taken off the queue; None if it is empty."""
        while True:
            try:  # the rest of the message, the frame, is dropped: this process has it
                message = self._their_end.recv(_NUMBER.size, socket.MSG_DONTWAIT)  # type: ignore[union-attr]
            except BlockingIOError:
                return None
            request = self._pending.pop(_NUMBER.unpack(message)[0], None)
            if request is not None:
                return request

    @staticmethod
    def _deliver(request: _Request, reply: bytes) -> None:
        request.take(reply)
        request.owner.outstanding -= 1

    # --- starting and stopping (the lock held) ----------------------------------------------

    def _ready(self) -> bool:
        """Whether workers run, started first where needed."""
        if self._pid != os.getpid():  # a forked child: those are its parent's
            self._workers, self._pending, self._queue, self._their_end, self._sessions = [], {}, None, None, 0
            self._pid, self._broken_at = os.getpid(), None
        if not self._started or not self.size:
            return False
        if self._workers:
            return True
        if self._broken_at is not None and time.monotonic() - self._broken_at < RESPAWN_AFTER:
            return False
        workers: list[_Worker] = []
        try:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        except (OSError, AttributeError):  # no such sockets here: in-line
            self._broken_at = time.monotonic()
            return False
        try:
            for end in (ours, theirs):
                end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, QUEUE_BUFFER)
            for _ in range(self.size):
                workers.append(_spawn(self._nice, self.signing_key, theirs.fileno()))
        except OSError:
            ours.close()
            theirs.close()
            _reap(workers, wait=False)
            self._broken_at = time.monotonic()
            return False
        self._workers, self._queue, self._their_end, self._broken_at = workers, ours, theirs, None
        # Linux reports twice the buffer it granted (the rest is for its bookkeeping): a message takes up to half
        self._max_frame = min(_NUMBER.size + MAX_FRAME, ours.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) // 2)
        return True

    def _stop(self, wait: bool) -> None:
        """Close the queue (the workers exit) and answer here every request on it not answered
        yet; without ``wait`` the workers are killed at once (the caller may hold a database lock)."""
        if wait:
            with contextlib.suppress(*_FAILED):
                self._read_replies()  # the answers that are in
        workers, queue, theirs = self._workers, self._queue, self._their_end
        self._workers, self._queue, self._their_end = [], None, None
        for end in (queue, theirs):
            if end is not None:
                end.close()
        _reap(workers, wait)
        pending, self._pending = self._pending, {}
        for request in pending.values():
            self._deliver(request, self._local.answer_frame(request.frame))

    def _break_down(self) -> None:
        """A worker failed: stop them all at once; work runs in-line until new ones are
        started, ``RESPAWN_AFTER`` seconds on."""
        self._stop(wait=False)
        self._broken_at = time.monotonic()


class Batch(_Owner):
    """One batch's checks and signing: on the workers, or in-line."""

    def __init__(self, pool: Ed25519Pool, parallel: bool) -> None:
        super().__init__(pool, parallel)
        self._unsent: list[Check] = []  # checks not sent yet
        self._answers = bytearray()  # per check sent, filled in as replies are read
        self._results: list[bool] | None = None
        self.taken_over = 0  # checks sent to the workers and verified in this process after all

    def check(self, item: Check) -> None:
        """Queue one signature check; it starts on a worker within ``CHUNK`` checks."""
        if len(item[1]) != 64:
            raise ValueError("an Ed25519 signature is 64 bytes")
        unsent = self._unsent
        unsent.append(item)
        if len(unsent) >= CHUNK and self.parallel:
            self._flush(CHUNK)

    def results(self) -> list[bool]:
        """Whether each queued signature verifies, in order (waits for the workers, taking
        the frames none has started yet)."""
        if self._results is None:
            self._flush(LAST_CHUNK if self.parallel else len(self._unsent))
            self._pool._wait(self)
            self._results = [answer == 1 for answer in self._answers]
        return self._results

    def sign(self, messages: list[bytes]) -> Signing:
        """Start signing ``messages`` with the pool's key on the workers, after the checks
        queued so far; ``.result()`` gives the signatures."""
        if self._pool.signing_key is None:
            raise RuntimeError("this pool has no signing key")
        signing = Signing(self._pool, self.parallel and len(messages) >= MIN_PARALLEL, self._pool.signing_key, messages)
        if not signing.parallel:
            return signing  # signed here, by .result()
        self._flush(CHUNK)  # the checks first
        size = min(SIGN_CHUNK, -(-len(messages) // self._pool.size))
        for first in range(0, len(messages), size):
            part = messages[first:first + size]
            signing._submit(_Request(encode_sign(part), 64 * len(part), signing, partial(signing._fill, first)))
        return signing

    def _flush(self, chunk: int) -> None:
        """Send the checks not sent yet, in frames of ``chunk``."""
        unsent, self._unsent = self._unsent, []
        for first in range(0, len(unsent), max(1, chunk)):
            part = unsent[first:first + chunk]
            at = len(self._answers)
            self._answers += bytes(len(part))
            self._submit(_Request(encode_verify(part), len(part), self, partial(self._take, at)))

    def _take(self, first: int, reply: bytes) -> None:
        self._answers[first:first + len(reply)] = reply


class Signing(_Owner):
    """Signatures under way: ``result()`` waits for them (or signs here what the workers
    were not asked for)."""

    def __init__(self, pool: Ed25519Pool, parallel: bool, key: Ed25519PrivateKey, messages: list[bytes]) -> None:
        super().__init__(pool, parallel)
        self._key, self._messages = key, messages
        self._signatures: list[bytes | None] = [None] * len(messages)

    def result(self) -> list[bytes]:
        self._pool._wait(self)
        for i, signature in enumerate(self._signatures):
            if signature is None:
                self._signatures[i] = self._key.sign(self._messages[i])
        return self._signatures  # type: ignore[return-value]

    def _fill(self, first: int, reply: bytes) -> None:
        for i in range(0, len(reply), 64):
            self._signatures[first + i // 64] = reply[i:i + 64]


class Jobs(_Owner):
    """A verifier's stream of jobs: packed into chunks as they are added, at most
    ``JOBS_IN_FLIGHT`` chunks per worker on the queue, so memory does not grow with the
    stream. ``failures`` grows as replies come back."""

    def __init__(self, pool: Ed25519Pool, parallel: bool, chunk: int = JOB_CHUNK,
                 chunk_bytes: int = JOB_CHUNK_BYTES) -> None:
        super().__init__(pool, parallel)
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
        self._pool._wait(self)
        return self.failures

    def _send(self) -> None:
        tags, slots, parts = self._tags, self._slots, self._parts
        parts[0] = _HEAD.pack(VERIFY, len(tags), _KEYS.size + 32 * len(slots) + _ITEM_FIXED * len(tags) + self._bytes)
        parts[1] = _KEYS.pack(len(slots)) + b"".join(slots)
        frame = b"".join(parts)
        self._slots, self._parts, self._tags, self._bytes = {}, [b"", b""], [], 0
        self.verified += len(tags)
        if self.parallel:  # a bounded number on the queue: take or wait for one first
            self._pool._wait(self, most=JOBS_IN_FLIGHT * max(1, self._pool.size) - 1)
        self._submit(_Request(frame, len(tags), self, partial(self._take, tags)))

    def _take(self, tags: list[Failure], reply: bytes) -> None:
        if 0 in reply:
            self.failures += [tag for tag, answer in zip(tags, reply) if not answer]
