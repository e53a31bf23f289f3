"""Ed25519 checks on every core: the main process streams and replays, workers verify.

A job is primitives only: (log_index, step, public key, signature, message). Jobs are packed
as they are added into chunks of one byte string each (a key table, then fixed-size record
headers, signatures and messages) and travel to worker processes over a pipe per worker -
no pickling of objects, no helper threads in the main process. A chunk is small enough
(``CHUNK_BYTES``) that the ones queued for a worker fit in the pipe's buffer, so sending
does not wait for a busy worker; each chunk goes to the worker with the fewest in flight,
and at most ``_IN_FLIGHT`` are in flight per worker, so memory does not grow with the
bundle. With ``workers=0`` chunks are verified in the calling process (small bundles,
tests). Failures come back as (log_index, step).
"""

from __future__ import annotations

import multiprocessing
import struct
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

Job = tuple[int, int, bytes, bytes, bytes]  # log_index, step, public key, signature, message
Failure = tuple[int, int]  # log_index, step
WHAT = {2: "receipt signature", 3: "envelope signature"}

_KEYS = struct.Struct("<H")  # number of public keys in the table that follows
_RECORD = struct.Struct("<QBHI")  # log_index, step, key slot, message length; then signature, message
_FAILURE = struct.Struct("<QB")
CHUNK_JOBS = 256  # a chunk is sent at this many jobs ...
CHUNK_BYTES = 40 * 1024  # ... or at this many bytes of messages (~48 KiB packed), whichever comes first
_IN_FLIGHT = 3  # chunks per worker: one being verified, two waiting in the pipe


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
    """Jobs as one chunk: the number of keys, the keys, then (header, signature, message) each."""
    slots: dict[bytes, int] = {}
    parts: list[bytes] = []
    for log_index, step, public_key, signature, message in jobs:
        parts += _record(slots, log_index, step, public_key, signature, message)
    return _blob(slots, parts)


def _record(slots: dict[bytes, int], log_index: int, step: int, public_key: bytes, signature: bytes,
            message: bytes) -> tuple[bytes, bytes, bytes]:
    if len(signature) != 64:
        raise ValueError("an Ed25519 signature is 64 bytes")
    slot = slots.get(public_key)
    if slot is None:
        slot = slots[public_key] = len(slots)
    return _RECORD.pack(log_index, step, slot, len(message)), signature, message


def _blob(slots: dict[bytes, int], parts: list[bytes]) -> bytes:
    return _KEYS.pack(len(slots)) + b"".join(slots) + b"".join(parts)


def verify_packed(blob: bytes) -> list[Failure]:
    """``verify_jobs`` for a chunk made by ``pack``."""
    (count,) = _KEYS.unpack_from(blob, 0)
    position = _KEYS.size
    verifiers = [Ed25519PublicKey.from_public_bytes(blob[position + 32 * i: position + 32 * (i + 1)]).verify
                 for i in range(count)]
    position += 32 * count
    failures: list[Failure] = []
    end, header, unpack = len(blob), _RECORD.size, _RECORD.unpack_from
    while position < end:
        log_index, step, slot, length = unpack(blob, position)
        signature_at = position + header
        position = signature_at + 64 + length
        try:
            verifiers[slot](blob[signature_at:signature_at + 64], blob[signature_at + 64:position])
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

    def __init__(self, workers: int, chunk: int = CHUNK_JOBS, chunk_bytes: int = CHUNK_BYTES) -> None:
        self._chunk_jobs, self._chunk_bytes = chunk, chunk_bytes
        self._slots: dict[bytes, int] = {}  # the chunk being packed
        self._parts: list[bytes] = []
        self._jobs = self._bytes = 0
        self._workers: list[_Worker] = []
        self.failures: list[Failure] = []
        self.verified = 0
        context = multiprocessing.get_context(_start_method())
        for _ in range(workers):
            parent, child = context.Pipe()
            process = context.Process(target=_serve, args=(child,), daemon=True)  # type: ignore[attr-defined]
            process.start()
            child.close()
            self._workers.append(_Worker(process, parent))

    def add(self, log_index: int, step: int, public_key: bytes, signature: bytes, message: bytes) -> None:
        # ``_record``, written out: this runs twice per entry
        if len(signature) != 64:
            raise ValueError("an Ed25519 signature is 64 bytes")
        slot = self._slots.get(public_key)
        if slot is None:
            slot = self._slots[public_key] = len(self._slots)
        self._parts += (_RECORD.pack(log_index, step, slot, len(message)), signature, message)
        self._jobs += 1
        self._bytes += len(message)
        if self._jobs >= self._chunk_jobs or self._bytes >= self._chunk_bytes:
            self._send()

    def _send(self) -> None:
        blob = _blob(self._slots, self._parts)
        self.verified += self._jobs
        self._slots, self._parts, self._jobs, self._bytes = {}, [], 0, 0
        if not self._workers:
            self.failures += verify_packed(blob)
            return
        for worker in self._workers:  # collect what is done, without waiting
            while worker.in_flight and worker.connection.poll():
                self._receive(worker)
        worker = min(self._workers, key=lambda w: w.in_flight)
        while worker.in_flight >= _IN_FLIGHT:  # every worker is full: wait for the first reply
            for ready in wait([w.connection for w in self._workers]):
                self._receive(next(w for w in self._workers if w.connection is ready))
            worker = min(self._workers, key=lambda w: w.in_flight)
        worker.connection.send_bytes(blob)
        worker.in_flight += 1

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
