"""A ledger's database read with no keys: what the read-only commands need and nothing more.

``LedgerReader(database_url)`` reads the entries, the log's size and the registry from the
event store the ``Ledger`` writes, with the ledger's own mapper and entry reader - so a report
is the same whichever opened the database - and holds neither the operator's signing key nor
the pseudonymisation key: it cannot sign, pseudonymise, record or checkpoint anything, and it
has no method that would. It never creates a ledger: a database with no ledger tables, or an
SQLite file that does not exist, is a ``SettingsError``; a database whose schema is older than
this version's is one too (the ledger itself migrates it when it next starts with its keys).
It does not record the genesis entry either, which only the operator's key can sign.

``receipt(envelope_id)`` gives an entry's receipt against the checkpoint its write stored, with
the inclusion proof computed from the stored leaf hashes, as ``Ledger.receipt`` does. Where no
stored checkpoint covers the entry yet (entries written before every write stored one), the
``Ledger`` signs one now; the reader cannot, and says so (``NoStoredCheckpoint``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.utils import Environment
from sqlalchemy import Engine, func, inspect, make_url, select
from sqlalchemy.exc import ArgumentError

from ledger.aggregates import REGISTRY_ID, Registry
from ledger.domain.merkle.subtrees import inclusion_ranges, proof_from_stream
from ledger.domain.receipt import Receipt
from ledger.infra.storage.engine_setup import engine_url, tune_sqlite
from ledger.infra.storage.entry_reads import EntryReader
from ledger.infra.storage.migrate import alembic_config
from ledger.infra.storage.recorder import LedgerFactory
from ledger.infra.storage.tables import checkpoints, log_entries
from ledger.infra.transparency.service import BeyondLog, LogGap, leaf_hashes
from ledger.receipt_signing import receipt_of
from ledger.settings import DATABASE_SETTING, KEY_DIR_SETTING, SettingsError, opening_database


class NoStoredCheckpoint(SettingsError):
    """No stored checkpoint covers the entry: its receipt needs one signed with the operator's key."""


class LedgerReader(Application[uuid.UUID]):
    name = "trajectledger"  # the Ledger's name: the same event tables

    def __init__(self, database_url: str) -> None:
        _exists(database_url)
        with opening_database(database_url):
            super().__init__(env={"SQLALCHEMY_URL": engine_url(database_url), "CREATE_TABLE": "n",
                                  "AGGREGATE_CACHE_MAXSIZE": "0"})
            tune_sqlite(self.engine)
            _current_schema(self.engine)
        self._stored = Repository(self.events, snapshot_store=self.snapshots)
        self._reader = EntryReader(self.engine, self.recorder.events_record_cls.__table__,  # type: ignore[attr-defined]
                                   self.mapper, REGISTRY_ID)  # type: ignore[arg-type]

    def construct_env(self, name: str, env: Any = None) -> Environment:
        """Only the settings given, never the process environment."""
        return Environment(name, {"IS_SNAPSHOTTING_ENABLED": "y", **dict(env or {})})

    def construct_factory(self, env: Environment) -> LedgerFactory:  # type: ignore[override]
        return LedgerFactory(env)

    @property
    def engine(self) -> Engine:
        engine = self.recorder.datastore.engine  # type: ignore[attr-defined]
        if not isinstance(engine, Engine):
            raise SettingsError("the event store has no database engine (is the database URL set?)")
        return engine

    def entries(self, start: int = 0, limit: int = 1000) -> list[tuple[int, dict[str, Any]]]:
        """As ``Ledger.entries``: (log_index, entry body) in log order from ``start``."""
        return self._reader.entries(start, limit)

    def log_size(self) -> int:
        with self.engine.connect() as connection:
            last = connection.execute(select(func.max(log_entries.c.log_index))).scalar()
        return 0 if last is None else last + 1

    def receipt(self, envelope_id: str) -> Receipt | None:
        """The receipt of an envelope recorded earlier, or None: against the first stored
        checkpoint that covers its entry, as ``Ledger.receipt``; signs nothing."""
        found = self._reader.recorded(envelope_id)
        if found is None:
            return None
        index = found.log_index
        if index is None:
            raise RuntimeError("a recorded entry has a log index")  # cannot happen: read from log_entries
        covering = (select(checkpoints.c.tree_size, checkpoints.c.note).where(checkpoints.c.tree_size > index)
                    .order_by(checkpoints.c.tree_size).limit(1))
        with self.engine.connect() as connection:
            row = connection.execute(covering).first()
        if row is None:
            raise NoStoredCheckpoint(f"no stored checkpoint covers entry {index} yet; its receipt needs one signed with "
                                     f"the operator's key: run this command with {KEY_DIR_SETTING} set")
        size = int(row.tree_size)
        proof = proof_from_stream(inclusion_ranges(index, size), self._leaf_hashes(size))
        return receipt_of(found, size, row.note.encode("utf-8"), tuple(proof))

    def _leaf_hashes(self, end: int) -> Iterator[bytes]:
        """The stored leaf hashes of entries [0, end), a page at a time (the proof keeps O(log n) of them)."""
        try:
            yield from leaf_hashes(self.engine, 0, end)
        except BeyondLog as exc:
            raise LogGap(f"log_entries has fewer entries than the checkpoint's {end}", field="log_index") from exc

    def registry(self) -> Registry:
        """The registry as stored now (an empty one before the genesis entry)."""
        try:
            registry: Registry = self._stored.get(REGISTRY_ID)
        except AggregateNotFoundError:
            return Registry()
        return registry

    def close(self) -> None:
        super().close()
        self.engine.dispose()


def _exists(database_url: str) -> None:
    """An SQLite file must be there already: opening one that is not would create it."""
    try:
        parsed = make_url(database_url)
    except ArgumentError as exc:
        raise SettingsError(f"{DATABASE_SETTING} is not a database URL: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise SettingsError(f"{DATABASE_SETTING}: the ledger runs on SQLite or PostgreSQL, not {backend}")
    if backend == "sqlite" and (not parsed.database or parsed.database == ":memory:"
                                or not Path(parsed.database).is_file()):
        raise SettingsError(f"{DATABASE_SETTING}: cannot open the SQLite database {parsed.database or ':memory:'} "
                            "(no such file; a command that only reads never creates a ledger); check the path and "
                            "that its folder exists")


def _current_schema(engine: Engine) -> None:
    if not inspect(engine).has_table(log_entries.name):
        raise SettingsError(f"{DATABASE_SETTING}: {engine.url.render_as_string(hide_password=True)} holds no ledger "
                            "(no log table); a ledger is created by a command run with the operator's keys")
    heads = set(ScriptDirectory.from_config(alembic_config(str(engine.url))).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current != heads:
        raise SettingsError(f"{DATABASE_SETTING}: the ledger's tables are at revision {', '.join(sorted(current)) or 'none'}, "
                            f"this version reads {', '.join(sorted(heads))}: start the ledger once with its keys "
                            "(it migrates them), then read")
