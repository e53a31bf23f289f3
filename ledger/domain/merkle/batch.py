"""Appending a batch of leaves to a log known by its compact range, and the batch's proofs.

A log of ``size`` leaves is summed up by its *frontier*: the hashes of the aligned perfect
subtrees ``perfect_parts(0, size)`` (one per set bit of ``size``; RFC 9162's compact
range). Appending leaves needs only those: ``BatchTree(frontier, leaf_hashes)`` gives the
new frontier, the new root and, for every appended leaf, its inclusion proof PATH(i, D[new
size]) (RFC 9162 §2.1.3.1). Every subtree of such a proof either lies wholly before the
batch - and is then a part of the old frontier (the sibling of a node on the path of a
leaf at or after ``size`` that ends at or before ``size`` is one of its peaks) - or
is made of frontier parts and batch leaves. Proofs are built on demand, each subtree hashed
once per batch.

Pure: ints and bytes in and out; the tests cross-check it against ``ledger.domain.merkle``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ledger.domain.merkle.errors import TreeInputError
from ledger.domain.merkle.hashing import EMPTY_ROOT, check_hash, node_hash
from ledger.domain.merkle.subtrees import Part, fold, inclusion_ranges, perfect_parts


@dataclass(frozen=True)
class Frontier:
    """The compact range of a log: ``size`` and the hashes of ``perfect_parts(0, size)``."""

    size: int = 0
    peaks: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if len(self.peaks) != bin(self.size).count("1"):
            raise TreeInputError(f"a log of {self.size} leaves has {bin(self.size).count('1')} peaks, "
                                 f"not {len(self.peaks)}")

    def parts(self) -> dict[Part, bytes]:
        return dict(zip(perfect_parts(0, self.size), self.peaks))

    def root(self) -> bytes:
        return fold(list(self.peaks)) if self.peaks else EMPTY_ROOT

    def extended(self, leaf_hashes: Iterable[bytes]) -> Frontier:
        """The frontier after appending ``leaf_hashes`` (amortised O(1) hashes per leaf)."""
        peaks, size = list(self.peaks), self.size
        for value in leaf_hashes:
            node = check_hash(value, "leaf hash", TreeInputError)
            carry = size
            while carry & 1:
                node = node_hash(peaks.pop(), node)
                carry >>= 1
            peaks.append(node)
            size += 1
        return Frontier(size, tuple(peaks))


class BatchTree:
    """``leaf_hashes`` appended to the log whose frontier is ``old``."""

    def __init__(self, old: Frontier, leaf_hashes: Sequence[bytes]) -> None:
        self.old = old
        self.leaves = list(leaf_hashes)
        self.new = old.extended(self.leaves)  # checks each leaf hash
        self._known: dict[Part, bytes] | None = None  # the subtrees hashed so far, from the first proof on

    @property
    def size(self) -> int:
        return self.new.size

    def root(self) -> bytes:
        return self.new.root()

    def proof(self, index: int) -> list[bytes]:
        """PATH(index, D[size]) for a leaf of the batch (``old.size <= index < size``)."""
        if not self.old.size <= index < self.size:
            raise TreeInputError(f"leaf {index} is not in this batch [{self.old.size}, {self.size})")
        return [fold([self._perfect(start, size) for start, size in perfect_parts(a, b)])
                for a, b in inclusion_ranges(index, self.size)]

    def _perfect(self, start: int, size: int) -> bytes:
        """MTH of an aligned perfect subtree: a frontier part, a batch leaf, or hashed (once)."""
        if self._known is None:
            self._known = self.old.parts()
        found = self._known.get((start, size))
        if found is not None:
            return found
        if size == 1:
            if start < self.old.size:
                raise TreeInputError(f"leaf {start} lies before the batch and is not a frontier part")
            return self.leaves[start - self.old.size]
        if start + size <= self.old.size:
            raise TreeInputError(f"subtree ({start}, {size}) lies before the batch and is not a frontier part")
        half = size // 2
        found = node_hash(self._perfect(start, half), self._perfect(start + half, half))
        self._known[(start, size)] = found
        return found
