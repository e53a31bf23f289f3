"""Inclusion proof verification, written from RFC 9162 §2.1.3.2."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.domain.merkle.errors import MalformedProofError, RootMismatchError
from ledger.domain.merkle.hashing import check_count, check_hash, node_hash


def root_from_inclusion_proof(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> bytes:
    """Return the root implied by ``proof`` for ``leaf_hash`` at ``index`` in a tree of ``size``.

    RFC 9162 §2.1.3.2 steps 1-4. A proof with too many or too few elements for
    (``index``, ``size``) is malformed: the number of steps depends only on them.
    """
    index, size = check_count(index, "index"), check_count(size, "size")
    if index >= size:  # step 1
        raise MalformedProofError(f"index {index} is not less than tree size {size}")
    r = check_hash(leaf_hash, "leaf hash")  # step 3
    path = [check_hash(p, f"proof[{i}]") for i, p in enumerate(proof)]
    fn, sn = index, size - 1  # step 2
    for p in path:  # step 4
        if sn == 0:  # 4a
            raise MalformedProofError(f"proof of {len(path)} hashes is too long for index {index}, size {size}")
        if fn & 1 or fn == sn:  # 4b
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1  # 4c
        sn >>= 1
    if sn != 0:  # step 5, first half
        raise MalformedProofError(f"proof of {len(path)} hashes is too short for index {index}, size {size}")
    return r


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    RFC 9162 §2.1.3.2. Returns None on success; raises ``MalformedProofError`` for a
    precondition failure and ``RootMismatchError`` when the proof leads to another root.
    """
    expected = check_hash(root, "root")
    calculated = root_from_inclusion_proof(index, size, leaf_hash, proof)
    if calculated != expected:  # step 5, second half
        raise RootMismatchError(expected, calculated)
