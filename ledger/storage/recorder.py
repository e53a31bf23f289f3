"""The eventsourcing SQLAlchemy recorder, extended to append to the log atomically."""

from __future__ import annotations

from typing import Any, Sequence

from eventsourcing.persistence import StoredEvent
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy.orm import Session

from ledger.storage.log_append import append_entries


class LedgerRecorder(SQLAlchemyApplicationRecorder):
    def _insert_stored_events(
        self, session: Session, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int]:
        ids = super()._insert_stored_events(session, stored_events, **kwargs)
        appends = kwargs.get("log_appends")
        if appends:
            append_entries(session, self.events_record_cls, appends)
        return ids


class LedgerFactory(SQLAlchemyFactory):
    application_recorder_class = LedgerRecorder
