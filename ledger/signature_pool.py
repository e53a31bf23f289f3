"""Checking a batch's Ed25519 signatures on every core while the batch is decided.

Ed25519 verification holds the GIL, so threads do not help: a batch's checks go to worker
processes as primitives - (public key, signature, message) - and come back as one byte
each. ``start`` returns at once; the ledger decides the batch in memory meanwhile and
writes it only after ``result()`` says which signatures hold.

The workers are plain subprocesses (``python -m ledger.signature_worker``) talking over
pipes: they import nothing of the caller's program, share none of its database
connections or threads, and are started once per process, on the first large batch. One
batch at a time uses them; a batch arriving meanwhile (another thread), a small batch, a
one-core machine, or workers that died verify in the calling process: slower, never wrong.

Wire format, per worker and batch: request = count (u32) then, per check, public key (32
bytes), signature (64 bytes), message length (u32), message; reply = count bytes, 1 where
the signature verifies.
"""

from __future__ import annotations

import atexit
import os
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

Check = tuple[bytes, bytes, bytes]  # raw public key (32), raw signature (64), signed message

MIN_PARALLEL = 32  # fewer checks than this are not worth the round trip
MAX_WORKERS = 8  # one per core, up to this many: a batch is at most a few hundred checks
COUNT = struct.Struct("<I")


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


def encode_request(checks: list[Check]) -> bytes:
    parts = [COUNT.pack(len(checks))]
    for public_key, signature, message in checks:
        if len(public_key) != 32 or len(signature) != 64:
            raise ValueError("an Ed25519 public key is 32 bytes and a signature 64")
        parts += (public_key, signature, COUNT.pack(len(message)), message)
    return b"".join(parts)


def read_request(stream: IO[bytes]) -> list[Check] | None:
    """The next request from ``stream``; None at its end."""
    head = stream.read(COUNT.size)
    if len(head) < COUNT.size:
        return None
    checks = []
    for _ in range(COUNT.unpack(head)[0]):
        fixed = _read_exactly(stream, 32 + 64 + COUNT.size)
        (length,) = COUNT.unpack_from(fixed, 96)
        checks.append((fixed[:32], fixed[32:96], _read_exactly(stream, length)))
    return checks


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the stream ended inside a message")
    return data


class Pending:
    """Checks under way in the workers (or done already)."""

    def __init__(self, checks: list[Check], sent: list[tuple[subprocess.Popen[bytes], int]] | None) -> None:
        self._checks = checks
        self._sent = sent
        self._results: list[bool] | None = None if sent else verify_all(checks)

    def result(self) -> list[bool]:
        """Wait for the answers (safe to call more than once)."""
        if self._results is None:
            try:
                self._results = [ok for worker, count in self._sent or [] for ok in _reply(worker, count)]
                _pool.release()
            except (OSError, EOFError, ValueError):
                _pool.break_down()
                self._results = verify_all(self._checks)
        return self._results


def start(checks: list[Check]) -> Pending:
    """Begin checking; ``.result()`` waits for the answers."""
    if len(checks) < MIN_PARALLEL:
        return Pending(checks, None)
    workers = _pool.acquire()
    if not workers:
        return Pending(checks, None)
    size = -(-len(checks) // len(workers))
    sent = []
    try:
        for worker, i in zip(workers, range(0, len(checks), size)):
            chunk = checks[i:i + size]
            worker.stdin.write(encode_request(chunk))  # type: ignore[union-attr]
            worker.stdin.flush()  # type: ignore[union-attr]
            sent.append((worker, len(chunk)))
    except (OSError, ValueError):
        _pool.break_down()
        return Pending(checks, None)
    return Pending(checks, sent)


def _reply(worker: subprocess.Popen[bytes], count: int) -> list[bool]:
    answer = _read_exactly(worker.stdout, count)  # type: ignore[arg-type]
    return [byte == 1 for byte in answer]


class _Pool:
    """The worker processes of this process, used by one batch at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._workers: list[subprocess.Popen[bytes]] = []
        self._owner_pid = 0
        self._broken = False

    def acquire(self) -> list[subprocess.Popen[bytes]]:
        """The workers, reserved for one batch; [] when they are busy or unavailable."""
        if self._broken or _cores() < 2 or not self._lock.acquire(blocking=False):
            return []
        try:
            if self._owner_pid != os.getpid():  # first use, or a forked child: its own workers
                self._workers, self._owner_pid = [_spawn() for _ in range(min(_cores(), MAX_WORKERS))], os.getpid()
        except OSError:
            self._broken = True
            self._lock.release()
            return []
        return self._workers

    def release(self) -> None:
        self._lock.release()

    def break_down(self) -> None:
        """A worker failed: stop them all; this process verifies in-line from now on."""
        self._broken = True
        self.close()
        if self._lock.locked():
            self._lock.release()

    def close(self) -> None:
        if self._owner_pid != os.getpid():
            return
        for worker in self._workers:
            try:
                worker.stdin.close()  # type: ignore[union-attr]  # end of requests: the worker exits
                worker.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                worker.kill()
                worker.wait()
            worker.stdout.close()  # type: ignore[union-attr]
        self._workers = []


def _spawn() -> subprocess.Popen[bytes]:
    root = str(Path(__file__).resolve().parents[1])  # the directory holding the ledger package
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.Popen([sys.executable, "-m", "ledger.signature_worker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": path})


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


_pool = _Pool()
atexit.register(_pool.close)
