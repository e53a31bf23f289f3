"""The eventsourcing SQLAlchemy recorder, extended to append to the log atomically.

Inserts and reads of stored events use SQLAlchemy Core rather than the ORM unit of work
(same tables, same locking, same notifications): the ORM's per-row bookkeeping was most of
the cost of a submission.
"""

from __future__ import annotations

from typing import Any, Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyAggregateRecorder, SQLAlchemyApplicationRecorder
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ledger.storage.log_append import append_entries


class CoreSelect(SQLAlchemyAggregateRecorder):
    """Reads an aggregate's stored events (or snapshots) with one Core SELECT."""

    def select_events(
        self,
        originator_id: UUID | str,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        table = self.events_record_cls.__table__
        query = select(table.c.originator_id, table.c.originator_version, table.c.topic, table.c.state).where(
            table.c.originator_id == originator_id
        )
        if gt is not None:
            query = query.where(table.c.originator_version > gt)
        if lte is not None:
            query = query.where(table.c.originator_version <= lte)
        query = query.order_by(table.c.originator_version.desc() if desc else table.c.originator_version)
        if limit is not None:
            query = query.limit(limit)
        with self.datastore.engine.connect() as connection:  # type: ignore[union-attr]  # no ORM session
            rows = connection.execute(query).all()
        return [StoredEvent(r.originator_id, r.originator_version, r.topic, bytes(r.state)) for r in rows]


class LedgerRecorder(CoreSelect, SQLAlchemyApplicationRecorder):
    def _insert_stored_events(
        self, session: Session, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int]:
        table = self.events_record_cls.__table__
        self._lock_table(session)  # PostgreSQL: commit order = id order
        rows = [
            {"originator_id": e.originator_id, "originator_version": e.originator_version,
             "topic": e.topic, "state": e.state}
            for e in stored_events
        ]
        connection = session.connection()  # Core statements on the session's connection: no ORM bookkeeping
        ids = list(connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())
        self._notify_channel(session)
        appends = kwargs.get("log_appends")
        if appends:
            append_entries(connection, self.events_record_cls, appends)
        return ids


class SnapshotRecorder(CoreSelect):
    """The snapshot store: read like the events (inserts are rare: every 50 events)."""


class LedgerFactory(SQLAlchemyFactory):
    aggregate_recorder_class = SnapshotRecorder
    application_recorder_class = LedgerRecorder
