"""What one write transaction must do besides inserting the events: the plan the
application hands the recorder (through eventsourcing's ``save(..., plan=...)``).

``appends`` are the log rows: each entry gets the next dense log index and its leaf hash
while the transaction holds the write lock. ``guard`` is told when the indexes are known
(before any row is inserted, so receipts can be signed while the rows are written) and is
asked last, inside the transaction, whether it may commit: whatever it raises rolls the
transaction back and nothing of the plan is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ledger.infra.storage.log_append import LogAppend


class CommitGuard(Protocol):
    def indexed(self, appends: Sequence[LogAppend]) -> None:
        """Every append has its ``log_index`` and ``leaf_hash``; no row is inserted yet."""

    def before_commit(self) -> None:
        """The rows are written; raise to roll the transaction back."""


class NoGuard:
    """Commit whenever the rows are written."""

    def indexed(self, appends: Sequence[LogAppend]) -> None:
        return None

    def before_commit(self) -> None:
        return None


@dataclass
class WritePlan:
    appends: list[LogAppend]
    guard: CommitGuard = field(default_factory=NoGuard)
