"""The log as C2SP tlog-tiles, read from storage (``ledger.domain.merkle.tiles`` says what a tile is).

Tiles are cut from the tree of the newest stored checkpoint, so a client that fetched
``checkpoint`` finds every tile that tree needs (and nothing it could not verify yet).

* A level-0 tile is a range of ``log_entries.leaf_hash``: one range query.
* A tile of level L > 0 holds the roots of full tiles of level L - 1. Those never change, so
  they are kept in memory once hashed (one hash per 256 entries at level 1, per 65536 at
  level 2, ...): the leaves under them are read at most once per process (one range read), and
  no request rebuilds the tree.
* An entry bundle holds the leaf inputs - ``ledger.domain.entry.leaf_bytes`` of each entry, the
  bytes whose RFC 9162 leaf hash is the tree's leaf - each checked against the stored leaf
  hash before it is served.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import select

from ledger.domain.entry import leaf_bytes
from ledger.domain.errors import LedgerError
from ledger.domain.merkle.hashing import leaf_hash
from ledger.domain.merkle.subtrees import perfect_root
from ledger.domain.merkle.tiles import TILE_WIDTH, Tile, bundle_bytes, tile_bytes, tile_width
from ledger.infra.storage.tables import checkpoints
from ledger.infra.transparency.service import PAGE, BeyondLog, SignedCheckpoint, TransparencyLog

Entries = Callable[[int, int], list[tuple[int, dict[str, Any]]]]  # Ledger.entries(start, limit)


class NoCheckpoint(BeyondLog):
    """The log has no signed checkpoint yet: it has no tiles to serve."""


class LeafMismatch(LedgerError):
    """A stored entry's leaf bytes do not hash to its stored leaf hash: the log is damaged."""

    rule = "log.leaf-hash"


class LogTiles:
    def __init__(self, log: TransparencyLog, entries: Entries) -> None:
        self._log, self._entries = log, entries
        self._roots: dict[tuple[int, int], bytes] = {}  # (level, index) -> hash at tree level 8*level, level >= 1
        self._lock = threading.Lock()

    def checkpoint(self) -> SignedCheckpoint:
        """The newest stored checkpoint, its note as stored (witness cosignatures included)."""
        latest = self._log.latest()
        if latest is None:
            raise NoCheckpoint("the log has no signed checkpoint yet")
        return latest

    def stored_sizes(self, after: int, up_to: int) -> Iterator[int]:
        """The tree sizes of the stored checkpoints in (after, up_to], smallest first, a page at a time."""
        while True:
            query = (select(checkpoints.c.tree_size).where(checkpoints.c.tree_size > after)
                     .where(checkpoints.c.tree_size <= up_to).order_by(checkpoints.c.tree_size).limit(PAGE))
            with self._log.engine.connect() as connection:
                sizes = [int(size) for size in connection.execute(query).scalars()]
            yield from sizes
            if len(sizes) < PAGE:
                return
            after = sizes[-1]

    def read(self, tile: Tile, size: int | None = None) -> bytes:
        """The bytes of ``tile`` in the tree of ``size`` leaves (default: the newest checkpoint's).
        ``BeyondLog`` if that tree does not have the tile at that width."""
        size = self.checkpoint().tree_size if size is None else size
        available = tile_width(tile.level, tile.index, size)
        if tile.width > available:
            raise BeyondLog(f"the tree of {size} entries has {available} of the {tile.width} "
                            f"{'entries' if tile.entries else 'hashes'} of {tile.path}")
        if tile.entries:
            return bundle_bytes(self.leaf_inputs(tile.first, tile.width), tile.first)
        return tile_bytes(self.hashes(tile.level, tile.first, tile.width))

    def hashes(self, level: int, first: int, count: int) -> list[bytes]:
        """The complete nodes ``first`` .. ``first + count - 1`` of tree level ``8 * level``."""
        if level == 0:
            return list(self._log.leaf_hashes(first, first + count))
        keys = [(level, index) for index in range(first, first + count)]
        with self._lock:
            found = [self._roots.get(key) for key in keys]
        if all(digest is not None for digest in found):
            return [digest for digest in found if digest is not None]
        below = self.hashes(level - 1, first * TILE_WIDTH, count * TILE_WIDTH)
        computed = [perfect_root(below[i:i + TILE_WIDTH]) for i in range(0, len(below), TILE_WIDTH)]
        with self._lock:
            self._roots.update(zip(keys, computed))
        return computed

    def leaf_inputs(self, first: int, count: int) -> list[bytes]:
        """The leaf bytes of entries ``first`` .. ``first + count - 1``, checked against the stored leaf hashes."""
        rows = self._entries(first, count)
        stored = list(self._log.leaf_hashes(first, first + count))
        if [index for index, _ in rows] != list(range(first, first + count)):
            raise BeyondLog(f"the log does not hold entries {first} to {first + count - 1}")
        inputs = [leaf_bytes(body, index) for index, body in rows]
        for (index, _), data, digest in zip(rows, inputs, stored):
            if leaf_hash(data) != digest:
                raise LeafMismatch(f"entry {index}'s stored event does not hash to its stored leaf hash",
                                   field="log_index")
        return inputs

