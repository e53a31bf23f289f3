"""Reading recorded entries back: the log's rows joined with the stored events they index.

The stored event is the source of truth, so a byte changed in it shows up in every read
(and fails verification); the mapper decodes it (``LedgerMapper.entry_of``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Select, Table, select

from ledger.infra.storage.log_append import LogAppend
from ledger.infra.storage.mapper import LedgerMapper
from ledger.infra.storage.tables import log_entries


class EntryReader:
    def __init__(self, engine: Engine, events: Table, mapper: LedgerMapper, registry_id: Any) -> None:
        self._engine, self._events, self._mapper, self._registry_id = engine, events, mapper, registry_id

    def _joined(self) -> Select[Any]:
        events = self._events
        return select(
            log_entries.c.log_index, log_entries.c.leaf_hash, events.c.originator_id,
            events.c.originator_version, events.c.topic, events.c.state,
        ).join(events, (events.c.originator_id == log_entries.c.originator_id)
               & (events.c.originator_version == log_entries.c.originator_version))

    def _entry(self, row: Any) -> dict[str, Any]:
        return self._mapper.entry_of(row.originator_id, row.originator_version, row.topic, bytes(row.state))

    def entries(self, start: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """(log_index, entry body) in log order from ``start``."""
        query = self._joined().where(log_entries.c.log_index >= start).order_by(log_entries.c.log_index).limit(limit)
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [(row.log_index, self._entry(row)) for row in rows]

    def of_originator(self, originator_id: Any) -> list[tuple[int, dict[str, Any]]]:
        """(log_index, entry body) of one aggregate's recorded entries, in log order."""
        query = self._joined().where(log_entries.c.originator_id == originator_id).order_by(log_entries.c.log_index)
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [(row.log_index, self._entry(row)) for row in rows]

    def recorded(self, envelope_id: str) -> LogAppend | None:
        """The log entry recorded for an envelope_id, or None."""
        with self._engine.connect() as connection:
            row = connection.execute(self._joined().where(log_entries.c.envelope_id == envelope_id)).first()
        if row is None:
            return None
        found = LogAppend(row.originator_id, row.originator_version, self._entry(row), self._registry_id, 0)
        found.log_index, found.leaf_hash = row.log_index, bytes(row.leaf_hash)
        return found
