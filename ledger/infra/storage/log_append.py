"""Appending recorded entries to the log inside the event-store transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from ledger.domain.entry import leaf_bytes, leaf_from_text
from ledger.domain.merkle.hashing import leaf_hash


class StaleDecision(Exception):
    """What a submission was decided on changed before it was written; decide again."""


class StaleRegistry(StaleDecision):
    """The registry changed after the submission was decided."""


class LateTimestamp(StaleDecision):
    """Another writer appended an entry with a later recorded_at first: recorded_at must
    grow with the log index, so that 'as known at T' is a prefix of the log."""


@dataclass
class LogAppend:
    """One entry to append; ``log_index`` and ``leaf_hash`` are filled in on commit."""

    originator_id: uuid.UUID
    originator_version: int
    body: dict[str, Any]
    registry_id: uuid.UUID
    registry_version: int
    log_index: int | None = field(default=None)
    leaf_hash: bytes | None = field(default=None)
    text: tuple[bytes, bytes] | None = field(default=None, repr=False)  # ledger.domain.entry.entry_text(body)


def log_rows(head: tuple[Any, Any, Any], appends: list[LogAppend],
             uuid_in: Callable[[uuid.UUID], Any]) -> list[tuple[Any, ...]]:
    """Give each entry the next dense log index; the log rows to insert. ``head`` - the
    registry's version, the log's last index and last recorded_at - was read while this
    transaction holds the write lock (PostgreSQL: LOCK TABLE ... EXCLUSIVE; SQLite: BEGIN
    IMMEDIATE, the database's single writer lock), so ``max(log_index) + 1`` cannot race."""
    current, last, last_recorded_at = head
    index = 0 if last is None else last + 1
    rows = []
    previous = last_recorded_at
    for append in appends:
        if previous is not None and append.body["recorded_at"] < previous:
            raise LateTimestamp(f"recorded_at {append.body['recorded_at']} is before the log's last {previous}")
        previous = append.body["recorded_at"]
        if append.originator_id == append.registry_id:
            current = append.originator_version  # later entries of this batch were decided before this change
        elif (current or 0) != append.registry_version:
            raise StaleRegistry(f"registry moved from version {append.registry_version} to {current}")
        digest = leaf_hash(leaf_bytes(append.body, index) if append.text is None else leaf_from_text(append.text, index))
        rows.append((index, uuid_in(append.originator_id), append.originator_version,
                     append.body["envelope"]["payload"]["envelope_id"], digest, append.body["recorded_at"]))
        append.log_index, append.leaf_hash = index, digest
        index += 1
    return rows
