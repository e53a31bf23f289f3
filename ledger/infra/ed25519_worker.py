"""An Ed25519 worker of ``ledger.infra.ed25519_pool``: reads frames on stdin, answers on stdout.

``python -m ledger.infra.ed25519_worker [NICENESS [TAKEN_FD]]``. The answering side of the
pool's wire format lives here (``Server``, also the calling process's in-line path), so that a
worker imports no more than ``cryptography``. It runs at a lower priority than the process
that started it (the bottleneck, which so keeps its core) and exits at the end of its input or
on a frame it cannot answer.

``TAKEN_FD``: a pipe on which the caller says which ``V`` frames it verified itself (``Taken``):
the worker numbers its ``V`` frames from 0 and answers such a frame, if it has not started it,
with ``SKIPPED`` per item, unverified.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Callable
from typing import IO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

NICENESS = 10
KEY, VERIFY, SIGN = b"K", b"V", b"S"  # the operations of the wire format (``ed25519_pool``)
_HEAD = struct.Struct("<cII")  # operation, count, body length
_KEYS = struct.Struct("<H")  # number of public keys in the table that follows
_ITEM = struct.Struct("<HI")  # key slot, message length; then signature, message
_LENGTH = struct.Struct("<I")
_RANGE = struct.Struct("<QQ")  # on the taken pipe: V frames numbered first <= n < end
SKIPPED = 2  # a reply's byte for an item of a frame the caller took over (not verified here)


class Server:
    """Answers frames: the loop of a worker, and the in-line work of the calling process
    (which so takes the workers' path)."""

    def __init__(self, signing_key: Ed25519PrivateKey | None = None) -> None:
        self._key = signing_key
        self._frames = 0
        self._verifiers: dict[bytes, Callable[[bytes, bytes], None]] = {}

    def answer(self, stream: IO[bytes], taken: Taken | None = None) -> bytes | None:
        """Read the next frame from ``stream`` and return its reply (b"" for ``K``); None at its
        end. A ``V`` frame the caller has ``taken`` over is answered ``SKIPPED``, unverified."""
        head = stream.read(_HEAD.size)
        if not head:
            return None
        if len(head) < _HEAD.size:
            raise EOFError("the stream ended inside a frame")
        operation, count, length = _HEAD.unpack(head)
        body = _read_exactly(stream, length)
        if operation == VERIFY and taken is not None and taken.next_is_taken():
            self._frames += 1
            skipped: bytes = bytes([SKIPPED]) * count
            return skipped
        return self.reply(operation, count, body)

    def answer_frame(self, frame: bytes) -> bytes:
        operation, count, length = _HEAD.unpack_from(frame)
        if len(frame) != _HEAD.size + length:
            raise ValueError("the frame's length does not match its head")
        return self.reply(operation, count, frame[_HEAD.size:])

    def reply(self, operation: bytes, count: int, body: bytes) -> bytes:
        self._frames += 1
        if operation == VERIFY:
            return self._verify(count, body)
        if operation == SIGN:
            return self._sign(count, body)
        if operation == KEY:
            if self._frames > 1 or self._key is not None:
                raise ValueError("the signing key is handed over once, in the first frame")
            self._key = Ed25519PrivateKey.from_private_bytes(body)
            return b""
        raise ValueError(f"unknown operation {operation!r}")

    def _verify(self, count: int, body: bytes) -> bytes:
        (keys,) = _KEYS.unpack_from(body, 0)
        at = _KEYS.size
        verifiers = []
        for _ in range(keys):
            raw = body[at:at + 32]
            at += 32
            verifier = self._verifiers.get(raw)
            if verifier is None:
                if len(self._verifiers) >= 4096:
                    self._verifiers.clear()
                verifier = self._verifiers[raw] = Ed25519PublicKey.from_public_bytes(raw).verify
            verifiers.append(verifier)
        answers = bytearray(count)
        unpack, fixed = _ITEM.unpack_from, _ITEM.size
        for i in range(count):
            slot, length = unpack(body, at)
            signature_at = at + fixed
            at = signature_at + 64 + length
            try:
                verifiers[slot](body[signature_at:signature_at + 64], body[signature_at + 64:at])
                answers[i] = 1
            except InvalidSignature:
                pass
        if at != len(body):
            raise ValueError("the frame's items do not fill its body")
        return bytes(answers)

    def _sign(self, count: int, body: bytes) -> bytes:
        if self._key is None:
            raise ValueError("no signing key was handed over")
        sign, at, signatures = self._key.sign, 0, []
        for _ in range(count):
            (length,) = _LENGTH.unpack_from(body, at)
            at += _LENGTH.size
            signatures.append(sign(body[at:at + length]))
            at += length
        if at != len(body):
            raise ValueError("the frame's items do not fill its body")
        return b"".join(signatures)


class Taken:
    """The ``V`` frames the caller verified itself, read from its pipe (non-blocking) before
    each frame: ranges of frame numbers, ``_RANGE`` each."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        os.set_blocking(fd, False)
        self._number = -1  # of the last V frame read
        self._ranges: list[tuple[int, int]] = []
        self._partial = b""

    def next_is_taken(self) -> bool:
        """Number the next ``V`` frame; has the caller taken it over?"""
        self._number += 1
        try:
            while data := os.read(self._fd, 4096):
                data = self._partial + data
                cut = len(data) - len(data) % _RANGE.size
                self._partial = data[cut:]
                self._ranges += _RANGE.iter_unpack(data[:cut])
        except BlockingIOError:  # nothing more said
            pass
        number = self._number
        self._ranges = [(first, end) for first, end in self._ranges if end > number]  # the past ones go
        return any(first <= number for first, _ in self._ranges)


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the stream ended inside a frame")
    return data


def main() -> None:
    niceness = int(sys.argv[1]) if len(sys.argv) > 1 else NICENESS
    if niceness:
        try:
            os.nice(niceness)
        except (AttributeError, OSError):  # not on this platform: same priority, still correct
            pass
    taken = Taken(int(sys.argv[2])) if len(sys.argv) > 2 else None
    server, stdin, stdout = Server(), sys.stdin.buffer, sys.stdout.buffer
    while (reply := server.answer(stdin, taken)) is not None:
        if reply:
            stdout.write(reply)
            stdout.flush()


if __name__ == "__main__":
    main()
