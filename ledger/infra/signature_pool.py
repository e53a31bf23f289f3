"""A batch's Ed25519 work - checking its envelopes' signatures, signing its receipts - on
every core while the batch is decided and written.

Ed25519 holds the GIL, so threads do not help: the work goes to worker processes as
primitives and comes back as bytes. ``start`` reserves the workers for one batch; the
ledger streams each envelope's check to them as soon as it has parsed the envelope
(``check``) and decides the batch meanwhile; once it knows the entries' log indexes it
has the workers sign the receipts (``sign``) while it writes the rows, and asks for the
check answers (``results``) and the signatures just before it would commit.

The workers are plain subprocesses (``python -m ledger.infra.signature_worker``) talking over
pipes: they import nothing of the caller's program, share none of its database
connections or threads, and are started once per process, on the first large batch. One
batch at a time uses them; a batch arriving meanwhile (another thread), a small batch, a
one-core machine, or workers that died (for a minute, then new ones are started) work in
the calling process: slower, never wrong.
To sign, a worker is sent the 32-byte private key with each request, over its private
pipe; it keeps it in memory only, like the calling process does.

Wire format, per request: operation (1 byte) and count (u32), then
- ``V`` (verify), per item: public key (32 bytes), signature (64), message length (u32),
  message; the reply is count bytes, 1 where the signature verifies;
- ``S`` (sign): the private key (32 bytes), then per item: message length (u32), message;
  the reply is count signatures of 64 bytes.
"""

from __future__ import annotations

import atexit
import os
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import IO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

Check = tuple[bytes, bytes, bytes]  # raw public key (32), raw signature (64), signed message

MIN_PARALLEL = 32  # fewer envelopes than this are not worth the round trips
MAX_WORKERS = 8  # one per core, up to this many: a batch is at most a few hundred checks
RESPAWN_AFTER = 60.0  # seconds in-line after workers failed, before new ones are started
CHUNK = 16  # checks per request: small enough that the workers start while the batch is parsed
COUNT = struct.Struct("<I")
VERIFY, SIGN = b"V", b"S"


def verify_all(checks: list[Check]) -> list[bool]:
    """One bool per check, in order: does the signature verify against the key?"""
    keys: dict[bytes, Ed25519PublicKey] = {}
    results = []
    for public_key, signature, message in checks:
        key = keys.get(public_key)
        if key is None:
            key = keys[public_key] = Ed25519PublicKey.from_public_bytes(public_key)
        try:
            key.verify(signature, message)
            results.append(True)
        except InvalidSignature:
            results.append(False)
    return results


def sign_all(private_key: bytes, messages: list[bytes]) -> list[bytes]:
    key = Ed25519PrivateKey.from_private_bytes(private_key)
    return [key.sign(message) for message in messages]


def encode_request(checks: list[Check]) -> bytes:
    parts = [VERIFY, COUNT.pack(len(checks))]
    for public_key, signature, message in checks:
        if len(public_key) != 32 or len(signature) != 64:
            raise ValueError("an Ed25519 public key is 32 bytes and a signature 64")
        parts += (public_key, signature, COUNT.pack(len(message)), message)
    return b"".join(parts)


def encode_sign_request(private_key: bytes, messages: list[bytes]) -> bytes:
    if len(private_key) != 32:
        raise ValueError("an Ed25519 private key is 32 bytes")
    parts = [SIGN, COUNT.pack(len(messages)), private_key]
    for message in messages:
        parts += (COUNT.pack(len(message)), message)
    return b"".join(parts)


def answer(stream: IO[bytes]) -> bytes | None:
    """Read the next request from ``stream`` and compute its reply; None at its end."""
    head = stream.read(1 + COUNT.size)
    if len(head) < 1 + COUNT.size:
        return None
    operation, (count,) = head[:1], COUNT.unpack_from(head, 1)
    if operation == VERIFY:
        checks = []
        for _ in range(count):
            fixed = _read_exactly(stream, 32 + 64 + COUNT.size)
            (length,) = COUNT.unpack_from(fixed, 96)
            checks.append((fixed[:32], fixed[32:96], _read_exactly(stream, length)))
        return bytes(verify_all(checks))
    if operation == SIGN:
        private_key = _read_exactly(stream, 32)
        messages = [_read_exactly(stream, COUNT.unpack(_read_exactly(stream, COUNT.size))[0]) for _ in range(count)]
        return b"".join(sign_all(private_key, messages))
    raise ValueError(f"unknown operation {operation!r}")


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the stream ended inside a message")
    return data


class Signing:
    """Signatures under way: ``result()`` waits for them (or signs here what the workers
    could not)."""

    def __init__(self, batch: Batch, key: Ed25519PrivateKey, messages: list[bytes]) -> None:
        self._batch, self._key, self._messages = batch, key, messages
        self._signatures: list[bytes | None] = [None] * len(messages)

    def result(self) -> list[bytes]:
        self._batch._wait_for(self)
        for i, signature in enumerate(self._signatures):
            if signature is None:  # not sent, or its worker failed
                self._signatures[i] = self._key.sign(self._messages[i])
        return self._signatures  # type: ignore[return-value]

    def _fill(self, first: int, reply: bytes) -> None:
        for i in range(0, len(reply), 64):
            self._signatures[first + i // 64] = reply[i:i + 64]


Request = tuple["Signing | None", int, int]  # (None for checks, else the signing), first item, count


class Batch:
    """One batch's use of the workers (or of this process alone, when it has none). Each
    worker answers its requests in order; ``_requests`` lists the unanswered ones."""

    def __init__(self, workers: list[subprocess.Popen[bytes]]) -> None:
        self._workers = workers
        self._checks: list[Check] = []
        self._sent = 0  # checks handed to the workers so far
        self._requests: list[deque[Request]] = [deque() for _ in workers]
        self._answers: list[bool] = []  # per check sent, filled in as replies are read
        self._results: list[bool] | None = None

    @property
    def parallel(self) -> bool:
        """Whether workers check the signatures (else ``results`` checks them here)."""
        return bool(self._workers)

    def check(self, check: Check) -> None:
        """Queue one signature check; it starts on a worker within ``CHUNK`` checks."""
        self._checks.append(check)
        if self._workers and len(self._checks) - self._sent >= CHUNK:
            self._send_checks()

    def results(self) -> list[bool]:
        """Whether each queued signature verifies, in order (waits for the workers)."""
        if self._results is None:
            self._send_checks()
            self._wait_for(None)
            if self._workers and len(self._answers) == len(self._checks):
                self._results = self._answers
            else:  # no workers, or they failed
                self._results = verify_all(self._checks)
        return self._results

    def sign(self, key: Ed25519PrivateKey, messages: list[bytes]) -> Signing:
        """Start signing ``messages`` under ``key`` on the workers, after the checks
        queued so far; ``.result()`` gives the signatures."""
        signing = Signing(self, key, messages)
        if not self._workers or len(messages) < MIN_PARALLEL:
            return signing  # signed here, by .result()
        self._send_checks()
        private = key.private_bytes_raw()
        size = -(-len(messages) // len(self._workers))
        try:
            for i, first in zip(range(len(self._workers)), range(0, len(messages), size)):
                part = messages[first:first + size]
                self._request(i, encode_sign_request(private, part), (signing, first, len(part)))
        except (OSError, EOFError, ValueError):
            self._break_down()
        return signing

    def close(self) -> None:
        """Hand the workers back (reading any answers still on their way)."""
        if self._workers:
            self.results()
            self._wait_for(...)
        if self._workers:
            self._workers = []
            _pool.release()

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _send_checks(self) -> None:
        """Send the checks not yet sent, ``CHUNK`` at a time, to the workers in turn."""
        try:
            while self._workers and self._sent < len(self._checks):
                part = self._checks[self._sent:self._sent + CHUNK]
                i = (self._sent // CHUNK) % len(self._workers)
                self._request(i, encode_request(part), (None, self._sent, len(part)))
                self._sent += len(part)
                self._answers += [False] * len(part)
        except (OSError, EOFError, ValueError):
            self._break_down()

    def _request(self, i: int, request: bytes, expected: Request) -> None:
        """Send a request to worker ``i``. If an earlier signing's reply is still unread
        there, read it first: a worker writing a reply larger than its pipe holds reads no
        more requests until it is read, and a large request would then wait for ever."""
        while any(owner is not None for owner, _, _ in self._requests[i]):
            self._read_oldest(i)
        _send(self._workers[i], request)
        self._requests[i].append(expected)

    def _wait_for(self, what: Signing | None | object) -> None:
        """Read replies, in each worker's order, until none is left for ``what`` (None:
        the checks; a ``Signing``; ``...``: everything)."""
        try:
            for i, requests in enumerate(self._requests):
                while any(what is ... or owner is what for owner, _, _ in requests):
                    self._read_oldest(i)
        except (OSError, EOFError, ValueError):
            self._break_down()

    def _read_oldest(self, i: int) -> None:
        """Read worker ``i``'s reply to its oldest unanswered request."""
        owner, first, count = self._requests[i].popleft()
        stdout = self._workers[i].stdout
        if owner is None:
            reply = _read_exactly(stdout, count)  # type: ignore[arg-type]
            self._answers[first:first + count] = [byte == 1 for byte in reply]
        else:
            owner._fill(first, _read_exactly(stdout, 64 * count))  # type: ignore[arg-type]

    def _break_down(self) -> None:
        self._workers = []
        self._requests = []
        _pool.break_down()


def _send(worker: subprocess.Popen[bytes], request: bytes) -> None:
    worker.stdin.write(request)  # type: ignore[union-attr]
    worker.stdin.flush()  # type: ignore[union-attr]


def start(expected: int) -> Batch:
    """Reserve the workers for a batch of about ``expected`` envelopes (none for a small one)."""
    if expected < MIN_PARALLEL:
        return Batch([])
    return Batch(_pool.acquire())


class _Pool:
    """The worker processes of this process, used by one batch at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._workers: list[subprocess.Popen[bytes]] = []
        self._owner_pid = 0
        self._broken_at: float | None = None  # when workers last failed

    def acquire(self) -> list[subprocess.Popen[bytes]]:
        """The workers, reserved for one batch; [] when they are busy or unavailable (for
        ``RESPAWN_AFTER`` seconds after they failed)."""
        if self._broken_at is not None and time.monotonic() - self._broken_at < RESPAWN_AFTER:
            return []
        if _cores() < 2 or not self._lock.acquire(blocking=False):
            return []
        try:
            if self._owner_pid != os.getpid() or not self._workers:  # first use, a forked child, or after a failure
                self._workers, self._owner_pid = [_spawn() for _ in range(min(_cores(), MAX_WORKERS))], os.getpid()
                self._broken_at = None
        except OSError:
            self._broken_at = time.monotonic()
            self._lock.release()
            return []
        return list(self._workers)

    def release(self) -> None:
        self._lock.release()

    def break_down(self) -> None:
        """A worker failed: stop them all at once (the caller may hold a database lock);
        this process works in-line until new ones are started, ``RESPAWN_AFTER`` seconds on."""
        self._broken_at = time.monotonic()
        self.close(wait=False)
        if self._lock.locked():
            self._lock.release()

    def close(self, wait: bool = True) -> None:
        if self._owner_pid != os.getpid():
            return
        for worker in self._workers:
            try:
                if not wait:
                    raise subprocess.TimeoutExpired(worker.args, 0)
                worker.stdin.close()  # type: ignore[union-attr]  # end of requests: the worker exits
                worker.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                worker.kill()
                worker.wait()
            for pipe in (worker.stdin, worker.stdout):
                try:
                    pipe.close()  # type: ignore[union-attr]
                except OSError:
                    pass
        self._workers = []


def _spawn() -> subprocess.Popen[bytes]:
    root = str(Path(__file__).resolve().parents[1])  # the directory holding the ledger package
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.Popen([sys.executable, "-m", "ledger.infra.signature_worker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": path})


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


_pool = _Pool()
atexit.register(_pool.close)
