"""An Ed25519 worker of ``ledger.infra.ed25519_pool``: takes frames from the pool's queue, answers on it.

``python -m ledger.infra.ed25519_worker NICENESS QUEUE_FD``. The answering side of the pool's
wire format lives here (``Server``, also the calling process's in-line path), so that a worker
imports no more than ``cryptography``. It runs at a lower priority than the process that
started it (the bottleneck, which so keeps its core).

At start it reads its standard input to the end: the ``K`` frame (the signing key) or nothing.
Then it serves the queue, a Unix ``SOCK_SEQPACKET`` socket shared with the pool's other workers:
each ``recv`` takes one whole message, which no other worker gets: a frame's number (u64) and
the frame; it sends back one message, the number and the reply. It exits when the pool closes
its end of the queue, and on a frame it cannot answer (the pool then notices, as the worker's
standard output, which it never writes, ends). Its standard output is written to never.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
from collections.abc import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

NICENESS = 10
KEY, VERIFY, SIGN = b"K", b"V", b"S"  # the operations of the wire format (``ed25519_pool``)
_HEAD = struct.Struct("<cII")  # operation, count, body length
_KEYS = struct.Struct("<H")  # number of public keys in the table that follows
_ITEM = struct.Struct("<HI")  # key slot, message length; then signature, message
_LENGTH = struct.Struct("<I")
_NUMBER = struct.Struct("<Q")  # before each frame on the queue, and before its reply
MAX_FRAME = 1 << 20  # bytes of the largest frame the queue carries (the pool answers larger ones itself)


class Server:
    """Answers frames: the loop of a worker, and the in-line work of the calling process
    (which so takes the workers' path)."""

    def __init__(self, signing_key: Ed25519PrivateKey | None = None) -> None:
        self._key = signing_key
        self._frames = 0
        self._verifiers: dict[bytes, Callable[[bytes, bytes], None]] = {}

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


def serve(queue: socket.socket, server: Server) -> None:
    """Answer the queue's frames until the pool closes its end."""
    buffer = bytearray(_NUMBER.size + MAX_FRAME)
    view = memoryview(buffer)
    while True:
        size, _, flags, _ = queue.recvmsg_into([buffer])
        if not size:
            return  # the pool closed its end
        if flags & socket.MSG_TRUNC or size < _NUMBER.size:
            raise ValueError("a message on the queue is not a numbered frame of at most MAX_FRAME bytes")
        reply = server.answer_frame(bytes(view[_NUMBER.size:size]))
        queue.send(bytes(view[:_NUMBER.size]) + reply)


def main() -> None:
    niceness = int(sys.argv[1])
    if niceness:
        try:
            os.nice(niceness)
        except (AttributeError, OSError):  # not on this platform: same priority, still correct
            pass
    server = Server()
    key = sys.stdin.buffer.read()  # the K frame, or nothing
    if key:
        server.answer_frame(key)
    try:
        serve(socket.socket(fileno=int(sys.argv[2])), server)
    except (BrokenPipeError, ConnectionResetError):  # the pool closed its end while this answered
        pass


if __name__ == "__main__":
    main()
