"""The witness's state in its own SQLite file: per log origin the latest checkpoint it cosigned,
and every validly signed checkpoint that conflicts with it (the evidence of a split view).

Checking a request against the stored size and storing the new one happen in one
``BEGIN IMMEDIATE`` transaction (``WitnessState.transaction``): SQLite's write lock makes two
requests, in threads or processes, take turns, so a request checked against size N can never
store N after another stored N + K (the rollback race tlog-witness warns of). SQLite commits
durably (write-ahead log, ``synchronous=FULL``) before the witness answers.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS cosigned (
    origin TEXT PRIMARY KEY,
    tree_size INTEGER NOT NULL,
    root_hash BLOB NOT NULL,
    note TEXT NOT NULL,
    cosigned_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS evidence (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    origin TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    note TEXT NOT NULL,
    cosigned_note TEXT NOT NULL,
    request TEXT NOT NULL
);
"""


class StateError(Exception):
    """The state file cannot be opened or is not a witness state file."""


@dataclass(frozen=True)
class Cosigned:
    origin: str
    tree_size: int
    root_hash: bytes
    note: bytes
    cosigned_at: int


@dataclass(frozen=True)
class Evidence:
    id: int
    origin: str
    received_at: int
    reason: str
    note: bytes  # the conflicting, validly signed checkpoint
    cosigned_note: bytes  # what the witness had cosigned when it arrived
    request: bytes  # the whole add-checkpoint body


class Transaction:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def cosigned(self, origin: str) -> Cosigned | None:
        row = self._connection.execute(
            "SELECT origin, tree_size, root_hash, note, cosigned_at FROM cosigned WHERE origin = ?", (origin,)).fetchone()
        return None if row is None else Cosigned(row[0], row[1], bytes(row[2]), row[3].encode("utf-8"), row[4])

    def store(self, cosigned: Cosigned) -> None:
        self._connection.execute(
            "INSERT INTO cosigned (origin, tree_size, root_hash, note, cosigned_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (origin) DO UPDATE SET tree_size = excluded.tree_size, root_hash = excluded.root_hash, "
            "note = excluded.note, cosigned_at = excluded.cosigned_at",
            (cosigned.origin, cosigned.tree_size, cosigned.root_hash, cosigned.note.decode("utf-8"),
             cosigned.cosigned_at))

    def record(self, origin: str, received_at: int, reason: str, note: bytes, cosigned_note: bytes,
               request: bytes) -> None:
        self._connection.execute(
            "INSERT INTO evidence (origin, received_at, reason, note, cosigned_note, request) VALUES (?, ?, ?, ?, ?, ?)",
            (origin, received_at, reason, note.decode("utf-8"), cosigned_note.decode("utf-8"),
             request.decode("utf-8", errors="replace")))


class WitnessState:
    """One connection, kept open (closing the last one would checkpoint the write-ahead log every
    time), used by one thread at a time; other processes on the same file take turns by SQLite's lock."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self._connection.execute("PRAGMA journal_mode = WAL")  # kept in the file: one fsync per commit
            self._connection.execute("PRAGMA synchronous = FULL")
            self._connection.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StateError(f"cannot open the witness state {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One write transaction, committed if the block returns, rolled back if it raises."""
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._connection)
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def cosigned(self, origin: str) -> Cosigned | None:
        with self._lock:
            return Transaction(self._connection).cosigned(origin)

    def evidence(self) -> list[Evidence]:
        with self._lock:
            rows = self._connection.execute("SELECT id, origin, received_at, reason, note, cosigned_note, request "
                                            "FROM evidence ORDER BY id").fetchall()
        return [Evidence(r[0], r[1], r[2], r[3], r[4].encode("utf-8"), r[5].encode("utf-8"), r[6].encode("utf-8"))
                for r in rows]
