"""RFC 9162 §2.1.1 hashing (SHA-256, leaves and interior nodes domain-separated) and input checks."""

from __future__ import annotations

import hashlib

from ledger.domain.merkle.errors import MalformedProofError, MerkleError

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256() — the root of the empty tree (RFC 9162 §2.1.1)."""


def leaf_hash(data: bytes) -> bytes:
    """MTH({d(0)}) = SHA-256(0x00 || d(0)) (RFC 9162 §2.1.1)."""
    return hashlib.sha256(LEAF_PREFIX + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right), an interior node (RFC 9162 §2.1.1)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def check_hash(
    value: object, what: str, error: type[MerkleError] = MalformedProofError
) -> bytes:
    """Return ``value`` as bytes if it is a 32-byte hash, else raise ``error``."""
    if not isinstance(value, (bytes, bytearray)) or len(value) != HASH_SIZE:
        size = len(value) if isinstance(value, (bytes, bytearray)) else type(value).__name__
        raise error(f"{what} must be a {HASH_SIZE}-byte hash, got {size}")
    return bytes(value)


def check_count(value: object, what: str) -> int:
    """Return ``value`` if it is a non-negative int (an index or tree size), else raise."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedProofError(f"{what} must be a non-negative integer, got {value!r}")
    return value
