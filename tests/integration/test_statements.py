"""The hot statements (plain SQL on the DB-API connection) against SQLAlchemy's own path:
rows written by one read back identically through the other, on SQLite and PostgreSQL;
driver errors arrive as eventsourcing's errors and leave nothing half-written."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent
from eventsourcing_sqlalchemy.recorders import SQLAlchemyAggregateRecorder
from sqlalchemy import select, text

from ledger.aggregates import REGISTRY_ID
from ledger.application import Ledger
from ledger.infra.storage.log_append import LogAppend
from ledger.infra.storage.recorder import LedgerRecorder
from ledger.infra.storage.tables import log_entries
from ledger.infra.storage.write_plan import WritePlan
from ledger.settings import SettingsError
from tests.support import commission, make_world, new_settings


def _entry(envelope_id: str) -> dict[str, Any]:
    return {"envelope": {"payload": {"envelope_id": envelope_id}}, "verdict": "accepted", "refusal": None,
            "recorded_at": "2099-01-01T00:00:00.000000Z"}


def test_events_written_plainly_read_back_through_sqlalchemy_and_plainly(database_url: str) -> None:
    ledger = Ledger(new_settings(database_url))
    recorder = ledger.recorder
    assert isinstance(recorder, LedgerRecorder)
    originator = uuid.uuid4()
    events = [StoredEvent(originator, v, "some.topic", bytes([v]) * (10 + v)) for v in range(1, 4)]
    ids = recorder.insert_events(events)
    assert ids is not None and len(ids) == 3 and list(ids) == sorted(ids)
    through_sqlalchemy = SQLAlchemyAggregateRecorder.select_events(recorder, originator)  # eventsourcing's own ORM read
    assert through_sqlalchemy == events
    assert recorder.select_events(originator) == events
    assert recorder.select_events(originator, gt=1, lte=2) == events[1:2]
    assert recorder.select_events(originator, desc=True, limit=2) == [events[2], events[1]]
    ledger.close()


def test_log_rows_written_plainly_join_their_events_through_sqlalchemy(database_url: str) -> None:
    world = make_world(database_url)
    ref = world.ledger.pseudonym("111222333")
    receipt = world.submit("gemeente-haarlem", commission(ref))
    with world.ledger.engine.connect() as connection:
        row = connection.execute(select(log_entries).where(log_entries.c.log_index == receipt.log_index)).one()
    assert row.envelope_id == receipt.envelope_id and row.leaf_hash.hex() == receipt.leaf_hash
    assert isinstance(row.originator_id, uuid.UUID)
    assert world.ledger.entries(receipt.log_index, 1)[0][1]["envelope"]["payload"]["envelope_id"] == receipt.envelope_id
    assert world.ledger.receipt(receipt.envelope_id) == receipt
    world.ledger.close()


def test_a_conflicting_insert_raises_integrity_error_and_writes_nothing(database_url: str) -> None:
    ledger = Ledger(new_settings(database_url))
    size = ledger.log_size()
    originator = uuid.uuid4()
    first = StoredEvent(originator, 1, "some.topic", b"{}")
    ledger.recorder.insert_events([first])
    new_id = uuid.uuid4()
    new = StoredEvent(new_id, 1, "some.topic", b"{}")
    appends = [LogAppend(new_id, 1, _entry(str(uuid.uuid4())), REGISTRY_ID, ledger.registry().version)]
    with pytest.raises(IntegrityError):  # the second event clashes with the first on (id, version)
        ledger.recorder.insert_events([new, first], plan=WritePlan(appends))
    assert ledger.recorder.select_events(new.originator_id) == []  # rolled back: not half-written
    assert ledger.log_size() == size
    ledger.close()


def test_the_ledger_refuses_a_database_it_does_not_run_on() -> None:
    with pytest.raises(SettingsError, match="SQLite or PostgreSQL"):
        Ledger(new_settings("mysql+pymysql://nobody@127.0.0.1:1/none"))


def test_existing_names_the_aggregates_with_stored_events_among_many(database_url: str) -> None:
    ledger = Ledger(new_settings(database_url))
    recorder = ledger.recorder
    assert isinstance(recorder, LedgerRecorder)
    stored = [uuid.uuid4() for _ in range(3)]
    recorder.insert_events([StoredEvent(i, 1, "some.topic", b"{}") for i in stored])
    asked = [uuid.uuid4() for _ in range(600)] + stored  # more than one query's worth
    assert recorder.existing(asked) == set(stored)
    assert recorder.existing([]) == set()
    ledger.close()


def test_other_driver_errors_arrive_as_eventsourcing_errors_and_write_nothing(database_url: str) -> None:
    ledger = Ledger(new_settings(database_url))
    with ledger.engine.begin() as connection:
        connection.execute(text("DROP TABLE log_entries"))
    new_id = uuid.uuid4()
    new = StoredEvent(new_id, 1, "some.topic", b"{}")
    appends = [LogAppend(new_id, 1, _entry(str(uuid.uuid4())), REGISTRY_ID, ledger.registry().version)]
    with pytest.raises(PersistenceError) as raised:  # PostgreSQL: ProgrammingError; SQLite: OperationalError
        ledger.recorder.insert_events([new], plan=WritePlan(appends))
    assert type(raised.value).__name__ == ("OperationalError" if database_url.startswith("sqlite") else "ProgrammingError")
    assert ledger.recorder.select_events(new.originator_id) == []
    ledger.close()
