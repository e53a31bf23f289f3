"""RFC 9162 proofs from a stream of leaf hashes, in one pass and O(log n) memory.

``ledger.domain.merkle.inclusion_proof`` and ``consistency_proof`` take every leaf hash as one
in-memory sequence. A log that lives in a database (the ledger) or in a file (an export)
has its leaf hashes in order, so here the same proofs are built while the leaves stream
past:

* ``inclusion_ranges`` / ``consistency_ranges`` say which subtrees, [start, end) of the
  leaves, a proof is made of (PATH and PROOF of RFC 9162 §2.1.3.1 and §2.1.4.1, in proof
  order). Every such range is a node of the RFC tree: its start is a multiple of a power of
  two at least as large as the range.
* ``perfect_parts`` splits a range into aligned perfect subtrees; ``fold`` hashes those
  back into the range's MTH (RFC 9162 §2.1.1: MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n]))).
* ``SubtreeTap`` is a binary counter over the leaf hashes that keeps the perfect subtrees
  it was asked for as they complete, and exposes its peaks (the compact range) so parts
  that already lie behind the stream can still be taken.

Pure functions over ints and bytes; the tests cross-check them against ``ledger.domain.merkle``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ledger.domain.merkle.errors import TreeInputError
from ledger.domain.merkle.hashing import node_hash

Range = tuple[int, int]  # [start, end) of leaf indexes
Part = tuple[int, int]  # (start, size) of an aligned perfect subtree


def _split(n: int) -> int:
    """The largest power of two k with k < n <= 2k (n > 1), RFC 9162 §2.1.1."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees of PATH(index, D[size]), from the leaf's sibling upwards."""
    if not isinstance(index, int) or not isinstance(size, int) or not 0 <= index < size:
        raise TreeInputError(f"index {index!r} is not in [0, {size!r})")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, size: int) -> list[Range]:
    """The subtrees of PROOF(old_size, D[size]) (RFC 9162 §2.1.4.1), 0 < old_size <= size."""
    if not isinstance(old_size, int) or not isinstance(size, int) or not 0 < old_size <= size:
        raise TreeInputError(f"old size {old_size!r} is not in [1, {size!r}]")
    suffix: list[Range] = []
    start, end, m, whole = 0, size, old_size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            suffix.append((start + k, end))
            end = start + k
        else:
            suffix.append((start, start + k))
            start, m, whole = start + k, m - k, False
    head = [] if whole else [(start, end)]
    return head + suffix[::-1]


def perfect_parts(start: int, end: int) -> list[Part]:
    """[start, end) as aligned perfect subtrees, largest (leftmost) first."""
    parts: list[Part] = []
    while start < end:
        size = 1 << ((end - start).bit_length() - 1)
        parts.append((start, size))
        start += size
    return parts


def perfect_root(leaf_hashes: list[bytes]) -> bytes:
    """The MTH of 2**k leaf hashes (an aligned perfect subtree), k >= 0."""
    level = leaf_hashes
    if not level or len(level) & (len(level) - 1):
        raise TreeInputError(f"{len(level)} leaves do not make a perfect subtree")
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def fold(part_hashes: list[bytes]) -> bytes:
    """The MTH of a range from the hashes of its ``perfect_parts``."""
    node = part_hashes[-1]
    for left in reversed(part_hashes[:-1]):
        node = node_hash(left, node)
    return node


class SubtreeTap:
    """Leaf hashes in, the perfect subtrees that were asked for out.

    Like a binary counter (RFC 9162's compact range): appending a leaf merges equal-sized
    peaks. Each node formed whose (start, size) is wanted is kept until taken.
    """

    __slots__ = ("_peaks", "_wanted", "_kept", "size")

    def __init__(self) -> None:
        self._peaks: list[tuple[int, int, bytes]] = []  # (start, size, hash), left to right
        self._wanted: Counter[Part] = Counter()
        self._kept: dict[Part, bytes] = {}
        self.size = 0

    def want(self, part: Part) -> None:
        """Keep this perfect subtree: later when it completes, or now if it is a peak."""
        start, size = part
        if start + size <= self.size:
            for peak_start, peak_size, digest in self._peaks:
                if (peak_start, peak_size) == part:
                    self._kept[part] = digest
                    break
            else:
                raise TreeInputError(f"subtree {part} lies behind the stream and is not a peak")
        self._wanted[part] += 1

    def append(self, leaf_hash: bytes) -> None:
        node = (self.size, 1, leaf_hash)
        if self._wanted and (self.size, 1) in self._wanted:
            self._kept[(self.size, 1)] = leaf_hash
        peaks = self._peaks
        while peaks and peaks[-1][1] == node[1]:
            left = peaks.pop()
            node = (left[0], left[1] * 2, node_hash(left[2], node[2]))
            if self._wanted and (node[0], node[1]) in self._wanted:
                self._kept[(node[0], node[1])] = node[2]
        peaks.append(node)
        self.size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        for leaf_hash in leaf_hashes:
            self.append(leaf_hash)

    def take(self, part: Part) -> bytes:
        """The hash of a wanted subtree that has completed (released after its last want)."""
        digest = self._kept.get(part)
        if digest is None:
            raise TreeInputError(f"subtree {part} was not wanted or has not completed")
        self._wanted[part] -= 1
        if self._wanted[part] <= 0:
            del self._wanted[part]
            del self._kept[part]
        return digest


class ProofPlan:
    """One proof to assemble from a tap: ask for its parts, then build it when complete."""

    def __init__(self, ranges: list[Range]) -> None:
        self.ranges = ranges
        self.end = max((end for _, end in ranges), default=0)

    def want(self, tap: SubtreeTap) -> "ProofPlan":
        for start, end in self.ranges:
            for part in perfect_parts(start, end):
                tap.want(part)
        return self

    def build(self, tap: SubtreeTap) -> list[bytes]:
        if tap.size < self.end:
            raise TreeInputError(f"the stream has {tap.size} leaves; the proof needs {self.end}")
        return [fold([tap.take(part) for part in perfect_parts(start, end)]) for start, end in self.ranges]


def proof_from_stream(ranges: list[Range], leaf_hashes: Iterable[bytes]) -> list[bytes]:
    """Build a proof from its ranges and the leaf hashes from index 0 (read as far as needed)."""
    tap = SubtreeTap()
    plan = ProofPlan(ranges).want(tap)
    if plan.end:
        for leaf_hash in leaf_hashes:
            tap.append(leaf_hash)
            if tap.size == plan.end:
                break
    return plan.build(tap)
