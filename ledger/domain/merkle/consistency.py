"""Consistency proof verification, written from RFC 9162 §2.1.4.2."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.domain.merkle.errors import MalformedProofError, RootMismatchError
from ledger.domain.merkle.hashing import check_count, check_hash, node_hash


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``size2``/``root2`` extends the tree of ``size1``/``root1``.

    RFC 9162 §2.1.4.2, plus the edge cases the conformance vectors fix:

    * ``size1 == 0`` always fails: a proof from the empty tree proves nothing.
    * ``size1 > size2`` fails.
    * ``size1 == size2`` needs an empty proof and ``root1 == root2`` (byte equality).

    Returns None on success; raises ``MalformedProofError`` for a precondition failure
    (including a proof of the wrong length) and ``RootMismatchError`` otherwise.
    """
    size1, size2 = check_count(size1, "size1"), check_count(size2, "size2")
    if size1 == 0:
        raise MalformedProofError("a consistency proof from the empty tree (size1 = 0) proves nothing")
    if size1 > size2:
        raise MalformedProofError(f"size1 {size1} is greater than size2 {size2}")
    if size1 == size2:
        if len(proof) != 0:
            raise MalformedProofError("size1 == size2 requires an empty proof")
        if root1 != root2:
            raise RootMismatchError(root2, root1)
        return
    first, second = check_hash(root1, "root1"), check_hash(root2, "root2")
    path = [check_hash(c, f"proof[{i}]") for i, c in enumerate(proof)]
    if not path:  # step 1
        raise MalformedProofError("empty consistency proof for size1 < size2")
    if size1 & (size1 - 1) == 0:  # step 2: size1 is an exact power of 2
        path.insert(0, first)
    fn, sn = size1 - 1, size2 - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:  # 6a
            raise MalformedProofError(f"consistency proof of {len(proof)} hashes is too long")
        if fn & 1 or fn == sn:  # 6b
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1  # 6c
        sn >>= 1
    if sn != 0:  # step 7
        raise MalformedProofError(f"consistency proof of {len(proof)} hashes is too short")
    if fr != first:
        raise RootMismatchError(first, fr, "root1")
    if sr != second:
        raise RootMismatchError(second, sr, "root2")
