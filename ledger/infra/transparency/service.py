"""The log service: checkpoints and proofs over ``log_entries``, signed with the operator key.

Leaf hashes are read from ``log_entries.leaf_hash`` (stored at append time, in the event's
transaction) in log order, a page at a time: memory stays O(log n) whatever the log size.

* ``checkpoint(size)`` signs a C2SP checkpoint (origin, size, root, ``time`` extension line)
  and stores it in ``checkpoints``; a tree size is signed once (insert-or-ignore: when two
  processes sign the same size, both return the stored note).
* Every write of the ledger stores the checkpoint of its new tree size in its own
  transaction (``ledger.receipt_signing.BatchCheckpoint``): ``frontier`` gives it the log's
  compact range at the size the write starts from (kept here, brought up to date from the
  write's transaction when other processes wrote meanwhile), ``sign_row`` the signed note,
  and ``committed`` keeps the new frontier once the write has committed.
* ``inclusion_proof`` / ``consistency_proof`` take ints and return lists of 32-byte hashes
  (RFC 9162). A proof is made of subtrees, each split into aligned perfect subtrees
  (``ledger.domain.merkle.subtrees``). Those of ``TILE`` leaves or more are complete parts
  of an append-only log and never change: their hashes are kept in memory once computed
  (about 2 hashes per ``TILE`` entries), so a proof reads at most two tiles of leaves once
  the log has been hashed by this process, not the whole log.

The origin is fixed by the log's first stored checkpoint: a ``TransparencyLog`` under another
origin refuses to start (``SettingsError``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from ledger.domain.checkpoint import (
    Checkpoint,
    InvalidKeyError,
    NoteSigner,
    format_checkpoint_body,
    sign_checkpoint,
    verifier_key_string,
)
from ledger.domain.entry import now_utc
from ledger.domain.envelope import key_id_for, public_key_bytes
from ledger.domain.errors import LedgerError
from ledger.domain.merkle import RootAccumulator, TreeInputError
from ledger.domain.merkle.batch import BatchTree, Frontier
from ledger.domain.merkle.hashing import node_hash
from ledger.domain.merkle.subtrees import Range, consistency_ranges, fold, inclusion_ranges, perfect_parts, perfect_root
from ledger.infra.storage.tables import checkpoints, log_entries
from ledger.infra.storage.write_plan import CheckpointRow, LogTail
from ledger.settings import SettingsError

PAGE = 10_000
TILE = 256  # leaves: perfect subtrees this large or larger are kept once hashed


class BeyondLog(TreeInputError):
    """A tree size larger than the log (not yet, or never, reached)."""


class LogGap(LedgerError):
    """``log_entries`` is not dense: the log cannot be hashed."""

    rule = "log.gap"


def leaf_hashes(engine: Engine, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """The stored leaf hashes of entries [start, end) (to the log's end: None) in log order, a page
    at a time; ``LogGap`` where ``log_entries`` is not dense, ``BeyondLog`` where it ends before ``end``."""
    position = start
    while end is None or position < end:
        query = select(log_entries.c.log_index, log_entries.c.leaf_hash).where(log_entries.c.log_index >= position)
        if end is not None:
            query = query.where(log_entries.c.log_index < end)
        with engine.connect() as connection:
            rows = connection.execute(query.order_by(log_entries.c.log_index).limit(PAGE)).all()
        if not rows:
            break
        for row in rows:
            if row.log_index != position:
                raise LogGap(f"log_entries has no entry {position} (next is {row.log_index})", field="log_index")
            yield bytes(row.leaf_hash)
            position += 1
    if end is not None and position != end:
        raise BeyondLog(f"the log has {position} entries, not {end}")


@dataclass(frozen=True)
class SignedCheckpoint:
    tree_size: int
    root_hash: bytes
    note: bytes  # the C2SP signed note, exactly as signed
    created_at: str


class TransparencyLog:
    def __init__(
        self,
        engine: Engine,
        operator_key: Ed25519PrivateKey,
        origin: str,
        *,
        key_name: str | None = None,
    ) -> None:
        self.engine = engine
        self.origin = origin
        self.key_name = key_name or origin
        self._key = operator_key
        try:
            self.verifier_key = verifier_key_string(self.key_name, public_key_bytes(operator_key))
            Checkpoint(origin, 0, bytes(32))  # the origin must be one line
            self._signer = NoteSigner(self.key_name, operator_key)
            self.signer_key_id = key_id_for(public_key_bytes(operator_key))  # as the registry names it
        except (InvalidKeyError, ValueError) as exc:
            raise SettingsError(f"the log origin {origin!r} cannot name the checkpoint key: {exc}") from exc
        self._refuse_another_origin()
        self._lock = threading.Lock()
        self._accumulator = RootAccumulator()
        self._perfect: dict[tuple[int, int], bytes] = {}  # (start, size) -> MTH, for size >= TILE
        self._frontier = Frontier()  # the compact range of the log as this process last wrote or read it

    def _refuse_another_origin(self) -> None:
        """A log keeps the origin its first checkpoint was signed under: checkpoints under
        another would not verify as one log, so the ledger refuses to start under it."""
        with self.engine.connect() as connection:
            first = connection.execute(select(checkpoints.c.note).order_by(checkpoints.c.tree_size).limit(1)).scalar()
        if first is None:
            return
        stored = first.split("\n", 1)[0]
        if stored != self.origin:
            raise SettingsError(
                f"TRAJECTLEDGER_LOG_ORIGIN is {self.origin!r}, but this ledger's checkpoints are signed under the "
                f"origin {stored!r}; set TRAJECTLEDGER_LOG_ORIGIN={stored} (a log keeps its origin)")

    # --- reading the log ------------------------------------------------------------

    def size(self) -> int:
        with self.engine.connect() as connection:
            last = connection.execute(select(func.max(log_entries.c.log_index))).scalar()
        return 0 if last is None else int(last) + 1

    def leaf_hashes(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Leaf hashes of entries [start, end) in log order, a page at a time."""
        return leaf_hashes(self.engine, start, end)

    def root(self, size: int) -> bytes:
        """The RFC 9162 root of the first ``size`` entries."""
        with self._lock:
            if size >= self._accumulator.size:  # the usual case: extend the cached one
                self._accumulator.extend(self.leaf_hashes(self._accumulator.size, size))
                return self._accumulator.root()
        accumulator = RootAccumulator()  # an older size: hash it afresh
        accumulator.extend(self.leaf_hashes(0, size))
        return accumulator.root()

    # --- checkpoints -----------------------------------------------------------------

    def checkpoint(self, size: int | None = None) -> SignedCheckpoint:
        """Sign (and store) a checkpoint at ``size`` (default: the whole log now); a size
        signed before returns the stored note."""
        current = self.size()
        size = current if size is None else size
        if not isinstance(size, int) or not 0 < size <= current:
            raise BeyondLog(f"tree size {size!r} is not in [1, {current}]")
        stored = self.stored(size)
        if stored is None:
            created_at, root = now_utc(), self.root(size)
            note = sign_checkpoint(Checkpoint(self.origin, size, root, (f"time {created_at}",)), self.key_name, self._key)
            try:
                with self.engine.begin() as connection:
                    connection.execute(insert(checkpoints).values(
                        tree_size=size, root_hash=root, note=note.decode("utf-8"), created_at=created_at))
            except IntegrityError:
                pass  # another signer stored this size first: theirs stands
            stored = self.stored(size)
            if stored is None:
                raise LogGap(f"the checkpoint at tree size {size} was not stored", field="tree_size")
        return stored

    def frontier(self, size: int, tail: LogTail) -> Frontier:
        """The log's compact range at ``size``, from the one kept here and, for entries
        other processes wrote since, their leaf hashes read through ``tail`` (the write's own
        transaction, which holds the log's lock)."""
        with self._lock:
            known = self._frontier
        if known.size > size:  # cannot happen in a log that only grows; start over
            known = Frontier()
        if known.size < size:
            known = known.extended(tail.leaf_hashes(known.size, size))
        return known

    def sign_row(self, size: int, root: bytes) -> CheckpointRow:
        """The checkpoint of the log at ``size`` with ``root``, signed, as a row to store."""
        created_at = now_utc()
        note = self._signer.sign(format_checkpoint_body(Checkpoint(self.origin, size, root, (f"time {created_at}",))))
        return CheckpointRow(size, root, note.decode("utf-8"), created_at)

    def committed(self, tree: BatchTree) -> None:
        """A write that appended ``tree``'s leaves and stored its checkpoint has committed."""
        with self._lock:
            if tree.size > self._frontier.size:
                self._frontier = tree.new

    def covering(self, log_index: int) -> SignedCheckpoint | None:
        """The first stored checkpoint that covers entry ``log_index``: the one its write
        stored (for entries written before checkpoints were stored per write, a later one)."""
        query = select(checkpoints).where(checkpoints.c.tree_size > log_index).order_by(checkpoints.c.tree_size).limit(1)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _signed(row)

    def stored(self, size: int) -> SignedCheckpoint | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(checkpoints).where(checkpoints.c.tree_size == size)).first()
        return None if row is None else _signed(row)

    def latest(self, up_to: int | None = None) -> SignedCheckpoint | None:
        """The newest stored checkpoint (of at most ``up_to`` entries)."""
        query = select(checkpoints).order_by(checkpoints.c.tree_size.desc()).limit(1)
        if up_to is not None:
            query = query.where(checkpoints.c.tree_size <= up_to)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _signed(row)

    def checkpoints(self, up_to: int | None = None) -> Iterator[SignedCheckpoint]:
        """Stored checkpoints by increasing tree size, a page at a time."""
        after = 0
        while True:
            query = select(checkpoints).where(checkpoints.c.tree_size > after)
            if up_to is not None:
                query = query.where(checkpoints.c.tree_size <= up_to)
            with self.engine.connect() as connection:
                rows = connection.execute(query.order_by(checkpoints.c.tree_size).limit(1000)).all()
            if not rows:
                return
            for row in rows:
                yield _signed(row)
            after = rows[-1].tree_size

    def checkpoint_page(self, offset: int, limit: int) -> tuple[list[SignedCheckpoint], int]:
        """Stored checkpoints by increasing tree size from the ``offset``-th, at most ``limit``;
        and how many are stored (one per write: read a page, never them all)."""
        with self.engine.connect() as connection:
            total = int(connection.execute(select(func.count()).select_from(checkpoints)).scalar_one())
            rows = connection.execute(select(checkpoints).order_by(checkpoints.c.tree_size)
                                      .offset(offset).limit(limit)).all()
        return [_signed(row) for row in rows], total

    # --- proofs ----------------------------------------------------------------------

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[size]) of RFC 9162 from the stored leaf hashes."""
        ranges = inclusion_ranges(index, size)
        self._within_log(size)
        return self._proof(ranges)

    def consistency_proof(self, old_size: int, size: int) -> list[bytes]:
        """PROOF(old_size, D[size]) of RFC 9162 from the stored leaf hashes."""
        ranges = consistency_ranges(old_size, size)
        self._within_log(size)
        return self._proof(ranges)

    def _proof(self, ranges: list[Range]) -> list[bytes]:
        tiles: dict[int, list[bytes]] = {}  # the leaves of the tiles this proof reads
        return [fold([self._perfect_hash(start, size, tiles) for start, size in perfect_parts(a, b)])
                for a, b in ranges]

    def _perfect_hash(self, start: int, size: int, tiles: dict[int, list[bytes]]) -> bytes:
        """The MTH of the aligned perfect subtree of ``size`` leaves from ``start``."""
        if size < TILE:  # within one tile: from its leaves
            tile = start - start % TILE
            if tile not in tiles:
                tiles[tile] = list(self.leaf_hashes(tile, start + size))
            elif len(tiles[tile]) < start + size - tile:  # read further into the same tile
                tiles[tile] += self.leaf_hashes(tile + len(tiles[tile]), start + size)
            return perfect_root(tiles[tile][start - tile:start - tile + size])
        key = (start, size)
        found = self._perfect.get(key)
        if found is None:
            if size == TILE:
                found = perfect_root(list(self.leaf_hashes(start, start + size)))
            else:
                half = size // 2
                found = node_hash(self._perfect_hash(start, half, tiles), self._perfect_hash(start + half, half, tiles))
            with self._lock:
                self._perfect[key] = found
        return found

    def _within_log(self, size: int) -> None:
        current = self.size()
        if size > current:
            raise BeyondLog(f"tree size {size} is beyond the log's {current} entries")


def _signed(row: Any) -> SignedCheckpoint:
    return SignedCheckpoint(int(row.tree_size), bytes(row.root_hash), row.note.encode("utf-8"), row.created_at)
