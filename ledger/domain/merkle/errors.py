"""Typed Merkle errors.

As in sigstore-python, "malformed" is kept apart from "does not verify": a proof whose
shape or inputs break the RFC 9162 preconditions is a ``MalformedProofError`` (a
``ValueError``), while a well-formed proof that leads to a different root is a
``RootMismatchError``. Both are ``MerkleError``s, so callers can catch either or both.
"""

from __future__ import annotations


class MerkleError(Exception):
    """Base class of every error raised by ``ledger.domain.merkle``."""


class MalformedProofError(MerkleError, ValueError):
    """A precondition failed: bad index/size, wrong proof length or a hash not 32 bytes."""


class TreeInputError(MerkleError, ValueError):
    """Invalid arguments to tree building or proof generation (not a verification result)."""


class RootMismatchError(MerkleError):
    """A well-formed proof yields a root different from the expected one."""

    def __init__(self, expected: bytes, calculated: bytes, what: str = "root") -> None:
        self.expected = bytes(expected)
        self.calculated = bytes(calculated)
        super().__init__(
            f"calculated {what} {self.calculated.hex()} does not match "
            f"expected {what} {self.expected.hex()}"
        )
