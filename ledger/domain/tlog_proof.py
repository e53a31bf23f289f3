"""C2SP transparency log proofs (c2sp.org/tlog-proof, version ``c2sp.org/tlog-proof@v1``).

A proof is text, lines separated by U+000A::

    c2sp.org/tlog-proof@v1
    extra <base64 opaque data>          (optional)
    index <decimal, no leading zeroes>
    <base64 hash>                        (zero or more: RFC 9162 PATH, the leaf's sibling first)
    <empty line>
    <the checkpoint note, verbatim (c2sp.org/tlog-checkpoint in a c2sp.org/signed-note)>

Formatting and parsing only; whether the proof holds (the note's signature, the inclusion
of a leaf under its root) is checked by the caller with ``ledger.domain.checkpoint`` and
``ledger.domain.merkle``. Parsing is strict: anything but the one canonical text of its
parts (base64 per RFC 4648 §4, canonical, 32-byte hashes) is ``MalformedTlogProof``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

HEADER = b"c2sp.org/tlog-proof@v1"
HASH_SIZE = 32
MAX_HASHES = 64  # an inclusion proof in a tree of fewer than 2**64 leaves
_INDEX = re.compile(rb"index (0|[1-9][0-9]{0,19})")
_EXTRA = b"extra "


class MalformedTlogProof(ValueError):
    """The text is not a c2sp.org/tlog-proof@v1 proof."""


@dataclass(frozen=True)
class TlogProof:
    index: int
    hashes: tuple[bytes, ...]  # RFC 9162 PATH(index, D[size]), from the leaf's sibling upwards
    checkpoint: bytes  # the signed checkpoint note, verbatim
    extra: bytes | None = None  # opaque, unauthenticated by the proof itself


def format_tlog_proof(index: int, hashes: Sequence[bytes], checkpoint: bytes, extra: bytes | None = None) -> bytes:
    """The proof's text."""
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 2**64:
        raise MalformedTlogProof(f"index {index!r} is not a uint64")
    if any(len(h) != HASH_SIZE for h in hashes) or len(hashes) > MAX_HASHES:
        raise MalformedTlogProof("an inclusion proof is at most 64 hashes of 32 bytes")
    lines = [HEADER]
    if extra is not None:
        lines.append(_EXTRA + base64.b64encode(extra))
    lines.append(b"index %d" % index)
    lines.extend(base64.b64encode(h) for h in hashes)
    return b"\n".join(lines) + b"\n\n" + checkpoint


def parse_tlog_proof(text: bytes) -> TlogProof:
    """The parts of a proof; ``MalformedTlogProof`` unless ``text`` is exactly one."""
    if not isinstance(text, bytes):
        raise MalformedTlogProof("a proof is bytes")
    head, separator, checkpoint = text.partition(b"\n\n")
    if not separator or not checkpoint:
        raise MalformedTlogProof("no empty line before the checkpoint")
    lines = head.split(b"\n")
    if lines[0] != HEADER:
        raise MalformedTlogProof(f"the first line is not {HEADER.decode()}")
    position = 1
    extra = None
    if position < len(lines) and lines[position].startswith(_EXTRA):
        extra = _b64(lines[position][len(_EXTRA):], "the extra data")
        position += 1
    found = _INDEX.fullmatch(lines[position]) if position < len(lines) else None
    if found is None:
        raise MalformedTlogProof("no 'index N' line (decimal, no leading zeroes) after the header")
    index = int(found[1])
    if index >= 2**64:
        raise MalformedTlogProof("the index is not a uint64")
    hashes = tuple(_b64(line, f"proof hash {i}") for i, line in enumerate(lines[position + 1:]))
    if any(len(h) != HASH_SIZE for h in hashes) or len(hashes) > MAX_HASHES:
        raise MalformedTlogProof("an inclusion proof is at most 64 hashes of 32 bytes")
    return TlogProof(index, hashes, checkpoint, extra)


def _b64(line: bytes, what: str) -> bytes:
    """Standard, canonical base64 (RFC 4648 §4); an empty line is not a hash."""
    try:
        raw = base64.b64decode(line, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedTlogProof(f"{what} is not base64") from exc
    if not line or base64.b64encode(raw) != line:
        raise MalformedTlogProof(f"{what} is not canonical base64")
    return raw
