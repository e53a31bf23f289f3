"""The hot statements as plain SQL on the pooled DB-API connection.

A submission writes its events and its log rows, and a command reads an aggregate's
events. Through SQLAlchemy each statement paid for compilation-cache lookups, result
objects and an ORM session, which together cost more than the database did. These
statements go straight to the driver's cursor instead.

SQLAlchemy still owns everything else: the engine and its pool (connections come from
``engine.raw_connection()``, so the pool's connect hooks - SQLite's pragmas - apply),
the tables (eventsourcing-sqlalchemy's and ours, created by Alembic) and every other
query. Values are bound as SQLAlchemy binds them for these tables: UUIDs as 16 bytes on
SQLite, as native ``uuid`` on PostgreSQL (tests read rows written here back through
SQLAlchemy and eventsourcing's own recorder).

Writing follows eventsourcing-sqlalchemy's recorder: on PostgreSQL the events table is
locked (commit order = id order) and its channel notified; in-process the datastore's
lock is held. The write lock is taken first (SQLite: BEGIN IMMEDIATE), so the entries'
log indexes are known before any row is inserted. Driver errors become eventsourcing's errors of the same
name (as its recorder raises them); the ledger answers ``IntegrityError`` and
``OperationalError`` by deciding again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Sequence, TypeVar

from eventsourcing import persistence
from eventsourcing.persistence import StoredEvent
from psycopg import RawCursor
from sqlalchemy import Engine

from ledger.infra.storage.log_append import log_rows
from ledger.infra.storage.write_plan import CheckpointRow, WritePlan


@dataclass(frozen=True)
class Statements:
    """The SQL text of the hot statements for one engine and events table."""

    dialect: str
    mark: str  # the driver's parameter placeholder
    insert_event: str  # PostgreSQL: ... RETURNING id
    insert_log: str
    insert_checkpoint: str
    tail: str  # the leaf hashes of log entries [start, end), in order
    head: str  # the registry's version, the log's last index and last recorded_at ({registry}: a literal id)
    select_events: str  # {where}, {order} and {limit} filled in per call
    lock: str  # takes the write lock at the start of a transaction
    notify: str | None
    uuid_in: Callable[[uuid.UUID], Any]
    uuid_out: Callable[[Any], uuid.UUID]


def statements_for(engine: Engine, events_table: str, channel: str) -> Statements | None:
    """The statements for SQLite and PostgreSQL; None for other databases (the ledger
    refuses them at start)."""
    dialect = engine.dialect.name
    if dialect == "sqlite":
        p, lock, notify = "?", "BEGIN IMMEDIATE", None
        uuid_in: Callable[[uuid.UUID], Any] = _uuid_bytes
        uuid_out: Callable[[Any], uuid.UUID] = _uuid_from_bytes
    elif dialect == "postgresql":
        p, lock, notify = "%s", f"LOCK TABLE {events_table} IN EXCLUSIVE MODE", f"NOTIFY {channel}"
        uuid_in, uuid_out = _same, _same
    else:
        return None
    return Statements(
        dialect=dialect,
        mark=p,
        insert_event=f"INSERT INTO {events_table} (originator_id, originator_version, topic, state) "
                     f"VALUES ({p}, {p}, {p}, {p})" + (" RETURNING id" if dialect == "postgresql" else ""),
        insert_log="INSERT INTO log_entries (log_index, originator_id, originator_version, envelope_id, leaf_hash, "
                   f"recorded_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
        insert_checkpoint=f"INSERT INTO checkpoints (tree_size, root_hash, note, created_at) VALUES ({p}, {p}, {p}, {p})",
        tail=f"SELECT leaf_hash FROM log_entries WHERE log_index >= {p} AND log_index < {p} ORDER BY log_index",
        head=f"SELECT (SELECT max(originator_version) FROM {events_table} WHERE originator_id = {{registry}}), "
             "(SELECT log_index FROM log_entries ORDER BY log_index DESC LIMIT 1), "
             "(SELECT recorded_at FROM log_entries ORDER BY log_index DESC LIMIT 1)",
        select_events=f"SELECT originator_id, originator_version, topic, state FROM {{table}} "
                      f"WHERE originator_id = {p}{{where}} ORDER BY originator_version{{order}}{{limit}}",
        lock=lock,
        notify=notify,
        uuid_in=uuid_in,
        uuid_out=uuid_out,
    )


def _uuid_bytes(value: uuid.UUID) -> bytes:
    return value.bytes


def _uuid_from_bytes(value: Any) -> uuid.UUID:
    return uuid.UUID(bytes=bytes(value))


def _same(value: Any) -> Any:
    return value


def write_events(engine: Engine, lock: Any, sql: Statements, stored_events: Sequence[StoredEvent],
                 plan: WritePlan | None = None) -> list[int]:
    """Insert the events and the plan's log rows in one transaction; the events' ids.
    The plan's guard hears when the entries have their log indexes (before the inserts)
    and is asked last, inside the transaction: whatever it raises rolls it back."""
    appends = plan.appends if plan is not None else []
    if lock is not None:
        lock.acquire()
    try:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                head = _begin(cursor, sql, appends[0].registry_id if appends else None)
                rows = log_rows(head, appends, sql.uuid_in) if appends and head else []
                checkpoint = None
                if plan is not None:
                    plan.guard.indexed(appends, _Tail(cursor, sql))
                    checkpoint = plan.guard.checkpoint()
                ids = _insert_events(cursor, sql, stored_events)
                if rows:
                    insert_log_rows(cursor, sql, rows, checkpoint)
                elif checkpoint is not None:
                    insert_checkpoint(cursor, sql, checkpoint)
                if plan is not None:
                    plan.guard.before_commit()
                connection.commit()
            except BaseException:
                try:
                    connection.rollback()
                except engine.dialect.dbapi.Error:  # type: ignore[union-attr]  # the connection is gone: so is the transaction
                    connection.invalidate()
                raise
            finally:
                cursor.close()
        finally:
            connection.close()
    except engine.dialect.dbapi.Error as exc:  # type: ignore[union-attr]
        raise _translated(engine, exc) from exc
    finally:
        if lock is not None:
            lock.release()
    return ids


class _Tail:
    """The log's stored leaf hashes, read on the write transaction's own cursor."""

    def __init__(self, cursor: Any, sql: Statements) -> None:
        self._cursor, self._sql = cursor, sql

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        self._cursor.execute(self._sql.tail, (start, end))
        found = [bytes(row[0]) for row in self._cursor.fetchall()]
        if len(found) != end - start:
            raise persistence.DataError(f"log_entries has {len(found)} of the entries [{start}, {end})")
        return found


def insert_checkpoint(cursor: Any, sql: Statements, row: CheckpointRow) -> None:
    cursor.execute(sql.insert_checkpoint, (row.tree_size, row.root_hash, row.note, row.created_at))


def _begin(cursor: Any, sql: Statements, registry_id: uuid.UUID | None) -> tuple[Any, Any, Any] | None:
    """Take the write lock and read the log's head (when there are entries to append).
    PostgreSQL: lock, notify and read in one round trip (a simple query of three
    statements; the id is a UUID, written as its literal). SQLite: BEGIN IMMEDIATE, then
    the read."""
    head = None if registry_id is None else sql.head.format(registry=f"'{uuid.UUID(str(registry_id))}'")
    if sql.dialect == "postgresql":
        cursor.execute("; ".join(s for s in (sql.lock, sql.notify, head) if s))
        if head is None:
            return None
        cursor.nextset()  # past LOCK's result
        cursor.nextset()  # past NOTIFY's
        return tuple(cursor.fetchone())
    cursor.execute(sql.lock)
    if head is None:
        return None
    cursor.execute(sql.head.format(registry=sql.mark), (sql.uuid_in(registry_id),))  # type: ignore[arg-type]
    return tuple(cursor.fetchone())


def _translated(engine: Engine, exc: Exception) -> Exception:
    """The eventsourcing error of the same DB-API class (as its SQLAlchemy recorder raises)."""
    dbapi = engine.dialect.dbapi
    for name in ("IntegrityError", "OperationalError", "DataError", "ProgrammingError", "InternalError",
                 "NotSupportedError", "InterfaceError", "DatabaseError"):
        if isinstance(exc, getattr(dbapi, name)):
            return getattr(persistence, name)(exc)  # type: ignore[no-any-return]
    return persistence.PersistenceError(exc)


def _insert_events(cursor: Any, sql: Statements, stored_events: Sequence[StoredEvent]) -> list[int]:
    rows = [(sql.uuid_in(e.originator_id), e.originator_version, e.topic, e.state)  # type: ignore[arg-type]
            for e in stored_events]
    if sql.dialect == "postgresql":
        # multi-row INSERTs; RETURNING gives no order, so each id is matched by (originator_id, version)
        ids: dict[tuple[Any, int], int] = {}
        with _numbered_cursor(cursor) as bulk:
            for part in _parts(rows):
                bulk.execute(_numbered(_many(sql.insert_event + ", originator_id, originator_version", len(part))),
                             [value for row in part for value in row])
                ids.update(((originator_id, version), id_) for id_, originator_id, version in bulk.fetchall())
        return [ids[(row[0], row[1])] for row in rows]
    # SQLite: this transaction holds the only write lock, so the rows get consecutive ids
    # ending at the connection's last inserted rowid
    cursor.executemany(sql.insert_event, rows)
    cursor.execute("SELECT last_insert_rowid()")
    last = cursor.fetchone()[0]
    return list(range(last - len(rows) + 1, last + 1))


def insert_log_rows(cursor: Any, sql: Statements, rows: list[tuple[Any, ...]],
                    checkpoint: CheckpointRow | None = None) -> None:
    """The log rows (and the write's checkpoint: on PostgreSQL in the same statement, as a
    data-modifying WITH, which saves a round trip per write)."""
    if sql.dialect == "postgresql":
        with _numbered_cursor(cursor) as bulk:
            for n, part in enumerate(_parts(rows)):
                statement, values = _many(sql.insert_log, len(part)), [value for row in part for value in row]
                if n == 0 and checkpoint is not None:
                    statement = _with_checkpoint(sql.insert_checkpoint, statement)
                    values = [checkpoint.tree_size, checkpoint.root_hash, checkpoint.note, checkpoint.created_at, *values]
                bulk.execute(_numbered(statement), values)
    else:
        cursor.executemany(sql.insert_log, rows)
        if checkpoint is not None:
            insert_checkpoint(cursor, sql, checkpoint)


PART = 250  # rows per multi-row statement (PostgreSQL allows 65,535 parameters in one)
T = TypeVar("T")


def _parts(rows: list[T]) -> list[list[T]]:
    return [rows[i:i + PART] for i in range(0, len(rows), PART)]


@contextmanager
def _numbered_cursor(cursor: Any) -> Iterator[Any]:
    """A cursor on the same PostgreSQL connection (so in the same transaction) taking
    numbered parameters (``$1``, ``$2``, ...) as the server does: psycopg rewrites the
    ``%s`` of a statement with more than 50 parameters into that form on every call, not
    from its cache, and for a batch's multi-row INSERTs that cost more than the database
    did. The statements come from ``_numbered``, made once per row count."""
    numbered = RawCursor(cursor.connection)  # the ledger runs on PostgreSQL through psycopg 3 (settings)
    try:
        yield numbered
    finally:
        numbered.close()


@lru_cache(maxsize=2 * PART)
def _numbered(statement: str) -> str:
    """``statement`` with its ``%s`` placeholders numbered ``$1``, ``$2``, ... in order."""
    parts = statement.split("%s")
    return "".join(part + (f"${n}" if n < len(parts) else "") for n, part in enumerate(parts, start=1))


@lru_cache(maxsize=4)
def _with_checkpoint(insert_checkpoint: str, statement: str) -> str:
    return f"WITH checkpoint AS ({insert_checkpoint}) {statement}"


@lru_cache(maxsize=2 * PART)
def _many(statement: str, count: int) -> str:
    """``statement`` (INSERT ... VALUES (...) [RETURNING ...]) with ``count`` rows of values."""
    start, end = statement.index("VALUES (") + len("VALUES "), statement.index(")", statement.index("VALUES (")) + 1
    return statement[:start] + ", ".join([statement[start:end]] * count) + statement[end:]


def select_events(
    engine: Engine, sql: Statements, table: str, originator_id: uuid.UUID,
    gt: int | None, lte: int | None, desc: bool, limit: int | None,
) -> list[StoredEvent]:
    """An aggregate's stored events (or snapshots), as eventsourcing's recorder selects them."""
    params = [sql.uuid_in(originator_id)] + [v for v in (gt, lte) if v is not None]
    query = _select_query(sql, table, gt is not None, lte is not None, desc, limit)
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(query, params)
        rows = cursor.fetchall()
        cursor.close()
    finally:
        connection.close()
    return [StoredEvent(sql.uuid_out(r[0]), r[1], r[2], bytes(r[3])) for r in rows]


def existing_originators(engine: Engine, sql: Statements, table: str, originator_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these aggregates have stored events (one query per ``PART``)."""
    found: set[uuid.UUID] = set()
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        for part in _parts(originator_ids):
            cursor.execute(f"SELECT DISTINCT originator_id FROM {table} WHERE originator_id IN ({', '.join([sql.mark] * len(part))})",
                           [sql.uuid_in(i) for i in part])
            found.update(sql.uuid_out(row[0]) for row in cursor.fetchall())
        cursor.close()
    finally:
        connection.close()
    return found


@lru_cache(maxsize=64)
def _select_query(sql: Statements, table: str, gt: bool, lte: bool, desc: bool, limit: int | None) -> str:
    where = (f" AND originator_version > {sql.mark}" if gt else "") + (f" AND originator_version <= {sql.mark}" if lte else "")
    return sql.select_events.format(table=table, where=where, order=" DESC" if desc else "",
                                    limit="" if limit is None else f" LIMIT {int(limit)}")
