"""What one write transaction must do besides inserting the events: the plan the
application hands the recorder (through eventsourcing's ``save(..., plan=...)``).

``appends`` are the log rows: each entry gets the next dense log index and its leaf hash
while the transaction holds the write lock. ``guard`` is told when the indexes are known
(before any row is inserted), given a ``LogTail`` to read the log's earlier leaf hashes in
the same transaction; it may hand back a checkpoint row to store in that transaction; and
it is asked last, inside the transaction, whether it may commit: whatever it raises rolls
the transaction back and nothing of the plan is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ledger.infra.storage.log_append import LogAppend


@dataclass(frozen=True)
class CheckpointRow:
    """A row of ``checkpoints``: the signed note of the log at ``tree_size``."""

    tree_size: int
    root_hash: bytes
    note: str
    created_at: str


class LogTail(Protocol):
    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """The stored leaf hashes of entries [start, end), read in the write transaction."""


class CommitGuard(Protocol):
    def indexed(self, appends: Sequence[LogAppend], tail: LogTail) -> None:
        """Every append has its ``log_index`` and ``leaf_hash``; no row is inserted yet."""

    def checkpoint(self) -> CheckpointRow | None:
        """A checkpoint to store with the rows, in the same transaction (or None); asked
        right after ``indexed``."""

    def before_commit(self) -> None:
        """The rows are written; raise to roll the transaction back."""


class NoGuard:
    """Commit whenever the rows are written; no checkpoint."""

    def indexed(self, appends: Sequence[LogAppend], tail: LogTail) -> None:
        return None

    def checkpoint(self) -> CheckpointRow | None:
        return None

    def before_commit(self) -> None:
        return None


@dataclass
class WritePlan:
    appends: list[LogAppend]
    guard: CommitGuard = field(default_factory=NoGuard)
