"""Inclusion proofs of every entry, in log order, against one tree size: for the export's receipts.

``TransparencyLog.inclusion_proof`` reads the leaves of up to two tiles per proof: right for one
receipt, far too slow for every entry of an export. Here the log is read twice instead:

1. ``StreamedProofs.of(leaf_hashes, size)`` reads the leaf hashes once and keeps the hash of
   every aligned perfect subtree of ``TILE`` leaves or more (about 2 per ``TILE`` entries) and the
   leaves of the last, partial tile;
2. the export streams the entries in order and hands each whole tile of leaf hashes to
   ``tile(first, leaves)``, which hashes the tile's subtrees once and gives each of its entries'
   proofs: PATH(i, D[size]) of RFC 9162, every part looked up, none hashed twice.

A proof's parts smaller than a tile lie in the entry's own tile or in the last, partial one
(higher siblings are whole tiles or larger, or the log's ragged right edge); ``proof`` fails
loudly if that ever does not hold. Memory: O(size / TILE) hashes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from ledger.domain.merkle.hashing import node_hash
from ledger.domain.merkle.subtrees import Part, fold, inclusion_ranges, perfect_parts
from ledger.domain.merkle.tiles import TILE_WIDTH

TILE = TILE_WIDTH  # proofs are made a tile of leaves at a time


def subtrees(first: int, leaves: Sequence[bytes]) -> dict[Part, bytes]:
    """The hash of every aligned perfect subtree within the leaves ``first`` .. ``first + len - 1``
    (``first`` a multiple of ``TILE``, at most ``TILE`` leaves)."""
    known: dict[Part, bytes] = {(first + i, 1): digest for i, digest in enumerate(leaves)}
    size, end = 2, first + len(leaves)
    while size <= len(leaves):
        half = size // 2
        for start in range(first, end - size + 1, size):
            known[(start, size)] = node_hash(known[(start, half)], known[(start + half, half)])
        size *= 2
    return known


class StreamedProofs:
    def __init__(self, size: int, large: dict[Part, bytes], last_tile: dict[Part, bytes]) -> None:
        self.size, self._large, self._last = size, large, last_tile
        self._tile: dict[Part, bytes] = {}

    @classmethod
    def of(cls, leaf_hashes: Iterable[bytes], size: int) -> StreamedProofs:
        """Step 1: from the first ``size`` leaf hashes, in order."""
        large: dict[Part, bytes] = {}
        tile: list[bytes] = []
        first = 0
        for digest in leaf_hashes:
            tile.append(digest)
            if len(tile) == TILE:
                large[(first, TILE)] = subtrees(first, tile)[(first, TILE)]
                first, tile = first + TILE, []
        if first + len(tile) != size:
            raise ValueError(f"{first + len(tile)} leaf hashes, not {size}")
        width = TILE
        while 2 * width <= size:  # the larger aligned subtrees, each from its two halves
            for start in range(0, size - 2 * width + 1, 2 * width):
                large[(start, 2 * width)] = node_hash(large[(start, width)], large[(start + width, width)])
            width *= 2
        return cls(size, large, subtrees(first, tile))

    def tile(self, first: int, leaves: Sequence[bytes]) -> Iterator[list[bytes]]:
        """Step 2: the proofs of the entries ``first`` .. ``first + len(leaves) - 1``, one whole
        tile (the last one may be partial) starting at a multiple of ``TILE``."""
        if first % TILE or not 0 < len(leaves) <= TILE or first + len(leaves) > self.size:
            raise ValueError(f"not a tile of the tree of {self.size}: {len(leaves)} leaves from {first}")
        self._tile = subtrees(first, leaves)
        for index in range(first, first + len(leaves)):
            yield self.proof(index)

    def proof(self, index: int) -> list[bytes]:
        return [fold([self._part(part) for part in perfect_parts(a, b)]) for a, b in inclusion_ranges(index, self.size)]

    def _part(self, part: Part) -> bytes:
        for known in (self._large, self._tile, self._last):
            found = known.get(part)
            if found is not None:
                return found
        raise ValueError(f"subtree {part} is neither large, in the current tile nor in the last one")
