"""Appending recorded entries to the log inside the event-store transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ledger.entry import leaf_bytes
from ledger.merkle.hashing import leaf_hash
from ledger.storage.tables import log_entries


class StaleRegistry(Exception):
    """The registry changed after the submission was decided; decide again."""


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


def append_entries(session: Session, events_record_cls: Any, appends: list[LogAppend]) -> None:
    """Give each entry the next dense log index. Runs after the events insert, i.e. while
    this transaction holds the write lock (PostgreSQL: LOCK TABLE ... EXCLUSIVE; SQLite:
    the database's single writer lock), so ``max(log_index) + 1`` cannot race."""
    registry_version = (
        select(func.max(events_record_cls.originator_version))
        .where(events_record_cls.originator_id == appends[0].registry_id)
        .scalar_subquery()
    )
    current, last = session.execute(select(registry_version, select(func.max(log_entries.c.log_index)).scalar_subquery())).one()
    index = 0 if last is None else last + 1
    rows = []
    for append in appends:
        if append.originator_id != append.registry_id and (current or 0) != append.registry_version:
            raise StaleRegistry(f"registry moved from version {append.registry_version} to {current}")
        digest = leaf_hash(leaf_bytes(append.body, index))
        rows.append({
            "log_index": index,
            "originator_id": append.originator_id,
            "originator_version": append.originator_version,
            "envelope_id": append.body["envelope"]["payload"]["envelope_id"],
            "leaf_hash": digest,
            "recorded_at": append.body["recorded_at"],
        })
        append.log_index, append.leaf_hash = index, digest
        index += 1
    session.execute(insert(log_entries), rows)
