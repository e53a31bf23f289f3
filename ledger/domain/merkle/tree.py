"""Merkle Tree Hash, streaming roots and proof generation (RFC 9162 §2.1.1, §2.1.3, §2.1.4).

Inputs are leaf hashes (see ``leaf_hash``), never raw entries. Proof generation is O(n)
hashing per proof: each sibling subtree is hashed once, with O(log n) memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ledger.domain.merkle.errors import TreeInputError
from ledger.domain.merkle.hashing import EMPTY_ROOT, check_hash, node_hash


def _split(n: int) -> int:
    """The largest power of two k with k < n <= 2k, for n > 1 (RFC 9162 §2.1.1)."""
    return 1 << ((n - 1).bit_length() - 1)


class RootAccumulator:
    """Streaming MTH (RFC 9162 §2.1.1) over leaf hashes appended one at a time.

    Only the roots of the maximal perfect subtrees covering [0, size) are kept (one per
    set bit of ``size``, a compact range), so memory is O(log n), ``append`` is amortised
    O(1) and ``root()`` is O(log n) at any size.
    """

    __slots__ = ("_peaks", "_size")

    def __init__(self) -> None:
        self._peaks: list[bytes] = []
        self._size = 0

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def append(self, leaf_hash: bytes) -> None:
        """Add the next leaf hash (32 bytes)."""
        self._push(check_hash(leaf_hash, "leaf hash", TreeInputError))

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append several leaf hashes in order."""
        for value in leaf_hashes:
            self.append(value)

    def root(self) -> bytes:
        """MTH of the leaves appended so far; ``EMPTY_ROOT`` when there are none."""
        if not self._peaks:
            return EMPTY_ROOT
        node = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            node = node_hash(peak, node)
        return node

    def _push(self, node: bytes) -> None:
        size = self._size
        while size & 1:  # merge equal-sized perfect subtrees, like a binary carry
            node = node_hash(self._peaks.pop(), node)
            size >>= 1
        self._peaks.append(node)
        self._size += 1


def _mth(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]) over already-checked leaf hashes."""
    accumulator = RootAccumulator()
    for i in range(start, end):
        accumulator._push(leaf_hashes[i])
    return accumulator.root()


def _checked(leaf_hashes: Sequence[bytes]) -> Sequence[bytes]:
    for i, value in enumerate(leaf_hashes):
        check_hash(value, f"leaf hash {i}", TreeInputError)
    return leaf_hashes


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 §2.1.1, computed iteratively."""
    return _mth(_checked(leaf_hashes), 0, len(leaf_hashes))


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1, ordered from the leaf's sibling upwards."""
    size = len(_checked(leaf_hashes))
    if not isinstance(index, int) or not 0 <= index < size:
        raise TreeInputError(f"index {index!r} is not in [0, {size})")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:  # PATH(m, D[0:k]) : MTH(D[k:n])
            path.append(_mth(leaf_hashes, start + k, end))
            end = start + k
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            path.append(_mth(leaf_hashes, start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 §2.1.4.1, for 0 < m <= n."""
    size = len(_checked(leaf_hashes))
    if not isinstance(old_size, int) or not 0 < old_size <= size:
        raise TreeInputError(f"old size {old_size!r} is not in [1, {size}]")
    suffix: list[bytes] = []
    start, end, m, whole = 0, size, old_size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            suffix.append(_mth(leaf_hashes, start + k, end))
            end = start + k
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            suffix.append(_mth(leaf_hashes, start, start + k))
            start, m, whole = start + k, m - k, False
    # SUBPROOF(m, D[m], true) = {} and SUBPROOF(m, D[m], false) = {MTH(D[m])}.
    head = [] if whole else [_mth(leaf_hashes, start, end)]
    return head + suffix[::-1]
