"""The eventsourcing SQLAlchemy recorder, extended to append to the log atomically.

The hot statements - inserting a submission's events with its log rows, selecting an
aggregate's events or snapshots - run as plain SQL on the pool's DB-API connection
(``ledger/infra/storage/statements.py``): same tables, same locking, same notifications as
eventsourcing-sqlalchemy's recorder, without SQLAlchemy's per-statement cost. The ledger
runs on SQLite and PostgreSQL only (``Ledger`` refuses other databases at start).
"""

from __future__ import annotations

from typing import Any, Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent, Transcoder
from eventsourcing_sqlalchemy.datastore import transactions
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyAggregateRecorder, SQLAlchemyApplicationRecorder
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ledger.infra.storage import statements
from ledger.infra.storage.mapper import LedgerMapper
from ledger.infra.storage.statements import Statements
from ledger.infra.storage.write_plan import WritePlan


class CoreSelect(SQLAlchemyAggregateRecorder):
    """Reads an aggregate's stored events (or snapshots) with one plain SELECT."""

    _statements: Statements | None = None

    @property
    def sql(self) -> Statements:
        if self._statements is None:
            table = self.events_record_cls.__table__
            channel = getattr(self, "channel_name", table.name)  # the one eventsourcing listens on
            found = statements.statements_for(self.engine, table.fullname, channel)
            if found is None:
                raise NotImplementedError(f"the ledger runs on SQLite and PostgreSQL, not {self.engine.dialect.name}")
            self._statements = found
        return self._statements

    @property
    def engine(self) -> Engine:
        engine = self.datastore.engine
        if not isinstance(engine, Engine):
            raise NotImplementedError("the ledger's recorders need an engine, not a session")
        return engine

    def select_events(
        self,
        originator_id: UUID | str,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        if not isinstance(originator_id, UUID):
            originator_id = UUID(originator_id)
        return statements.select_events(self.engine, self.sql, self.events_record_cls.__table__.fullname,
                                        originator_id, gt, lte, desc, limit)


class LedgerRecorder(CoreSelect, SQLAlchemyApplicationRecorder):
    def existing(self, originator_ids: list[UUID]) -> set[UUID]:
        """Which of these aggregates have stored events."""
        return statements.existing_originators(self.engine, self.sql, self.events_record_cls.__table__.fullname, originator_ids)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], *, session: Session | None = None, plan: WritePlan | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        """Insert the events and the plan's log rows in one transaction (``write_plan``)."""
        if session is not None or transactions.get(None) is not None:
            raise NotImplementedError("the ledger writes in its own transactions, not a caller's session")
        lock = self.datastore.access_lock or self.datastore.write_lock
        return statements.write_events(self.engine, lock, self.sql, stored_events, plan)


class SnapshotRecorder(CoreSelect):
    """The snapshot store: read like the events (inserts are rare: every 50 events)."""


class LedgerFactory(SQLAlchemyFactory):
    aggregate_recorder_class = SnapshotRecorder
    application_recorder_class = LedgerRecorder

    def mapper(self, transcoder: Transcoder | None = None, mapper_class: Any = None) -> LedgerMapper:
        return LedgerMapper(transcoder=transcoder or self.transcoder(), cipher=self.cipher(), compressor=self.compressor())
