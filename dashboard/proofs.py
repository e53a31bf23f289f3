"""RFC 9162 inclusion proofs from leaf hashes held in memory, in O(log^2 n) per proof.

The levels of aligned perfect subtrees are hashed once (level k, item i: the MTH of leaves
[i * 2**k, (i + 1) * 2**k)); a proof's subtrees (``inclusion_ranges``) are each folded from
their ``perfect_parts``. Pure; the tests cross-check it against ``ledger.domain.merkle``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.domain.merkle.hashing import node_hash
from ledger.domain.merkle.subtrees import fold, inclusion_ranges, perfect_parts


class PerfectLevels:
    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self.size = len(leaf_hashes)
        self.levels: list[list[bytes]] = [list(leaf_hashes)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])

    def leaf(self, index: int) -> bytes:
        return self.levels[0][index]

    def subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) of a range that is a node of the RFC tree."""
        return fold([self.levels[size.bit_length() - 1][part >> (size.bit_length() - 1)]
                     for part, size in perfect_parts(start, end)])

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[size]) for ``size`` up to the leaves held."""
        if size > self.size:
            raise ValueError(f"tree size {size} is beyond the {self.size} leaves held")
        return [self.subtree(start, end) for start, end in inclusion_ranges(index, size)]
