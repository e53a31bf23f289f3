"""The body of ``POST <submission prefix>/add-checkpoint`` (c2sp.org/tlog-witness).

``old <size>`` line, zero to 63 base64 consistency proof lines, an empty line, then the signed
checkpoint note; every line newline-terminated. ``format_request`` writes one, ``parse_request``
reads one and raises ``MalformedRequest`` (answered 400) for anything else.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_PROOF_LINES = 63
_SIZE = re.compile(rb"0|[1-9][0-9]{0,19}")


class MalformedRequest(ValueError):
    """Not an add-checkpoint body."""


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    note: bytes  # the signed checkpoint note, as sent


def format_request(old_size: int, proof: Sequence[bytes], note: bytes) -> bytes:
    lines = [b"old %d\n" % old_size, *(base64.b64encode(h) + b"\n" for h in proof), b"\n"]
    return b"".join(lines) + note


def parse_request(body: bytes) -> AddCheckpoint:
    first, newline, rest = body.partition(b"\n")
    if not newline or not first.startswith(b"old ") or not _SIZE.fullmatch(first[4:]):
        raise MalformedRequest("the first line must be 'old <size>' (decimal, no leading zeroes)")
    old_size = int(first[4:])
    if old_size >= 2**64:
        raise MalformedRequest("old size is not a uint64")
    proof: list[bytes] = []
    while True:
        line, newline, rest = rest.partition(b"\n")
        if not newline:
            raise MalformedRequest("no empty line between the proof and the checkpoint")
        if line == b"":
            break
        if len(proof) == MAX_PROOF_LINES:
            raise MalformedRequest(f"more than {MAX_PROOF_LINES} consistency proof lines")
        try:
            digest = base64.b64decode(line, validate=True)
        except ValueError as exc:
            raise MalformedRequest(f"proof line {len(proof) + 1} is not base64") from exc
        if len(digest) != 32 or base64.b64encode(digest) != line:
            raise MalformedRequest(f"proof line {len(proof) + 1} is not one canonical base64 SHA-256 hash")
        proof.append(digest)
    if not rest:
        raise MalformedRequest("no checkpoint after the empty line")
    return AddCheckpoint(old_size, tuple(proof), rest)
