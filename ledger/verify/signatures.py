"""Ed25519 checks on every core: the main process streams and replays, workers verify.

A job is primitives only: (log_index, step, public key, signature, message). Jobs travel to
worker processes in chunks, each packed into one byte string (a key table, then fixed-size
record headers, signatures and messages), over a pipe per worker - no pickling of objects,
no helper threads in the main process. At most two chunks are in flight per worker, so
memory does not grow with the bundle. With ``workers=0`` jobs are verified in the calling
process (small bundles, tests). Failures come back as (log_index, step).
"""

from __future__ import annotations

import multiprocessing
import struct
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

Job = tuple[int, int, bytes, bytes, bytes]  # log_index, step, public key, signature, message
Failure = tuple[int, int]  # log_index, step
WHAT = {2: "receipt signature", 3: "envelope signature"}

_KEYS = struct.Struct("<H")  # number of public keys in the table that follows
_RECORD = struct.Struct("<QBHI")  # log_index, step, key slot, message length; then signature, message
_FAILURE = struct.Struct("<QB")
_IN_FLIGHT = 2  # chunks per worker


def verify_jobs(jobs: list[Job]) -> list[Failure]:
    """Verify each job's signature; return the ones that do not verify."""
    keys: dict[bytes, Ed25519PublicKey] = {}
    failures: list[Failure] = []
    for log_index, step, public_key, signature, message in jobs:
        key = keys.get(public_key)
        if key is None:
            key = keys[public_key] = Ed25519PublicKey.from_public_bytes(public_key)
        try:
            key.verify(signature, message)
        except InvalidSignature:
            failures.append((log_index, step))
    return failures


def pack(jobs: list[Job]) -> bytes:
    slots: dict[bytes, int] = {}
    parts: list[bytes] = []
    for log_index, step, public_key, signature, message in jobs:
        slot = slots.setdefault(public_key, len(slots))
        parts += (_RECORD.pack(log_index, step, slot, len(message)), signature, message)
    return _KEYS.pack(len(slots)) + b"".join(slots) + b"".join(parts)


def verify_packed(blob: bytes) -> list[Failure]:
    """``verify_jobs`` for a chunk made by ``pack``."""
    (count,) = _KEYS.unpack_from(blob, 0)
    position = _KEYS.size
    keys = [Ed25519PublicKey.from_public_bytes(blob[position + 32 * i: position + 32 * (i + 1)]) for i in range(count)]
    position += 32 * count
    failures: list[Failure] = []
    end, header = len(blob), _RECORD.size
    while position < end:
        log_index, step, slot, length = _RECORD.unpack_from(blob, position)
        signature_at = position + header
        position = signature_at + 64 + length
        try:
            keys[slot].verify(blob[signature_at:signature_at + 64], blob[signature_at + 64:position])
        except InvalidSignature:
            failures.append((log_index, step))
    return failures


def _serve(connection: Connection) -> None:
    """A worker: verify chunks until an empty one (or the end of the pipe)."""
    try:
        while blob := connection.recv_bytes():
            connection.send_bytes(b"".join(_FAILURE.pack(*failure) for failure in verify_packed(blob)))
    except (EOFError, OSError):  # the verifier stopped early and closed the pipe
        pass


def _start_method() -> str:
    """"fork" while this process has no other thread (instant, nothing to import again - a
    spawned worker would re-import the program that started it, the whole CLI); otherwise,
    or where there is no fork, "spawn"."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


@dataclass
class _Worker:
    process: BaseProcess
    connection: Connection
    in_flight: int = 0


class SignatureChecks:
    """Collects jobs and verifies them, inline or on ``workers`` processes."""

    def __init__(self, workers: int, chunk: int = 512) -> None:
        self._chunk = chunk
        self._jobs: list[Job] = []
        self._workers: list[_Worker] = []
        self._turn = 0
        self.failures: list[Failure] = []
        self.verified = 0
        context = multiprocessing.get_context(_start_method())
        for _ in range(workers):
            parent, child = context.Pipe()
            process = context.Process(target=_serve, args=(child,), daemon=True)
            process.start()
            child.close()
            self._workers.append(_Worker(process, parent))

    def add(self, job: Job) -> None:
        self._jobs.append(job)
        if len(self._jobs) >= self._chunk:
            self._send()

    def _send(self) -> None:
        jobs, self._jobs = self._jobs, []
        self.verified += len(jobs)
        if not self._workers:
            self.failures += verify_jobs(jobs)
            return
        worker = self._workers[self._turn]
        self._turn = (self._turn + 1) % len(self._workers)
        if worker.in_flight >= _IN_FLIGHT:
            self._receive(worker)
        worker.connection.send_bytes(pack(jobs))
        worker.in_flight += 1
        for other in self._workers:  # collect what is done, without waiting
            while other.in_flight and other.connection.poll():
                self._receive(other)

    def _receive(self, worker: _Worker) -> None:
        reply = worker.connection.recv_bytes()
        worker.in_flight -= 1
        self.failures += [_FAILURE.unpack_from(reply, at) for at in range(0, len(reply), _FAILURE.size)]

    def finish(self) -> list[Failure]:
        """Wait for every job sent so far; all failures, in no particular order."""
        if self._jobs:
            self._send()
        for worker in self._workers:
            while worker.in_flight:
                self._receive(worker)
        return self.failures

    def close(self) -> None:
        for worker in self._workers:
            try:
                worker.connection.send_bytes(b"")
            except OSError:
                pass
            worker.connection.close()
        for worker in self._workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join()
        self._workers = []
