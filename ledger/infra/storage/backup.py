"""Backing up a serving ledger consistently, and restoring a backup into an empty database.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies every page in one step
under a read lock, WAL included, so the copy is one committed state of the ledger. PostgreSQL:
``pg_dump -Fc`` under a snapshot exported by a REPEATABLE READ transaction that also counts the
log, so the count printed is the count in the dump. Either way the log in the copy is a dense
prefix: entries are appended under the database's write lock, in log-index order.

Restoring refuses a database that holds any table (nothing is changed), so a restore can never
mix two ledgers. No keys are needed: the copy holds what is signed, not what signs.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from ledger.settings import DATABASE_SETTING, opening_database

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
CLIENT_TOOLS = "the PostgreSQL client tools of the server's major version (Debian/Ubuntu: apt-get install postgresql-client)"


class BackupError(Exception):
    """A backup or restore that cannot be done; nothing was written. Exit code 2: bad input."""

    exit_code = 2


class BackupConfigError(BackupError):
    """The database setting or the machine is not fit for it (a non-empty target, no pg_dump)."""

    exit_code = 78


@dataclass(frozen=True)
class Copied:
    """What a backup or restore copied: ``entries`` log entries (indexes 0 .. entries - 1)."""

    entries: int
    file: Path
    size: int  # bytes of the backup file
    method: str


def backup(url: str, file: Path) -> Copied:
    """Copy the ledger at ``url`` into the new file ``file`` while it may be serving."""
    if file.exists():
        raise BackupError(f"{file} exists; refusing to overwrite it (name a new file)")
    parsed = _parsed(url)
    partial = file.with_name(file.name + ".partial")
    try:
        if parsed.get_backend_name() == "sqlite":
            entries = _sqlite_backup(_sqlite_path(parsed, must_exist=True), partial)
            method = "SQLite online backup"
        else:
            entries = _pg_dump(url, partial)
            method = "pg_dump -Fc"
        os.replace(partial, file)
    finally:
        partial.unlink(missing_ok=True)
    return Copied(entries, file, file.stat().st_size, method)


def restore(file: Path, url: str) -> Copied:
    """Copy the backup ``file`` into the empty database at ``url``; refuse any other."""
    try:
        with file.open("rb") as source:
            header = source.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise BackupError(f"cannot read the backup {file}: {exc}") from exc
    parsed = _parsed(url)
    engine = parsed.get_backend_name()
    kind = "sqlite" if header == SQLITE_HEADER else "postgresql" if header.startswith(PG_DUMP_HEADER) else None
    if kind is None:
        raise BackupError(f"{file} is neither an SQLite backup nor a pg_dump custom archive")
    if kind != engine:
        raise BackupError(f"{file} is {'an SQLite' if kind == 'sqlite' else 'a pg_dump'} backup, but {DATABASE_SETTING} "
                          f"names a {engine} database; restore it into a database of the engine it came from")
    if engine == "sqlite":
        return Copied(_sqlite_restore(file, _sqlite_path(parsed, must_exist=False)), file, file.stat().st_size,
                      "SQLite online backup")
    return Copied(_pg_restore(file, url), file, file.stat().st_size, "pg_restore --no-owner")


# --- SQLite ---------------------------------------------------------------------------------------------


def _sqlite_backup(source_path: Path, target: Path) -> int:
    source = sqlite3.connect(source_path, timeout=60)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # all pages in one step: one committed state, WAL included
            copy.execute("PRAGMA journal_mode=DELETE")  # the backup is this one file, no -wal beside it
            return _sqlite_entries(copy, source_path)
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up the SQLite database {source_path}: {exc}") from exc
    finally:
        source.close()


def _sqlite_restore(file: Path, target_path: Path) -> int:
    if not target_path.parent.is_dir():
        raise BackupConfigError(f"{DATABASE_SETTING}: the folder of {target_path} does not exist; create it")
    try:
        source = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open the backup {file}: {exc}") from exc
    try:
        entries = _sqlite_entries(source, file)
        target = sqlite3.connect(target_path, timeout=60)
        try:
            tables = [row[0] for row in target.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            if tables:
                raise _not_empty(str(target_path), tables)
            source.backup(target)
        finally:
            target.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot restore {file} into {target_path}: {exc}") from exc
    finally:
        source.close()
    return entries


def _sqlite_entries(connection: sqlite3.Connection, file: Path) -> int:
    try:
        count, last = connection.execute("SELECT count(*), max(log_index) FROM log_entries").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{file} holds no trajectledger log ({exc})") from exc
    return _dense(count, last, file)


def _sqlite_path(parsed: URL, *, must_exist: bool) -> Path:
    if not parsed.database or parsed.database == ":memory:":
        raise BackupConfigError(f"{DATABASE_SETTING}: an in-memory SQLite database cannot be backed up or restored")
    path = Path(parsed.database)
    if must_exist and not path.is_file():
        raise BackupConfigError(f"{DATABASE_SETTING}: no SQLite database at {path}")
    return path


# --- PostgreSQL ----------------------------------------------------------------------------------------


def _pg_dump(url: str, target: Path) -> int:
    tool = _tool("pg_dump")
    engine = _pg_engine(url)
    try:
        with opening_database(url), engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                entries = _pg_entries(connection, url)
                # the snapshot lives while this transaction is open: the dump sees what was counted
                _run([tool, "--format=custom", f"--snapshot={snapshot}", f"--file={target}",
                      f"--dbname={_libpq_url(url)}"], url)
    finally:
        engine.dispose()
    return entries


def _pg_restore(file: Path, url: str) -> int:
    tool = _tool("pg_restore")
    engine = _pg_engine(url)
    try:
        with opening_database(url), engine.connect() as connection:
            tables = list(connection.execute(text(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1")).scalars())
        if tables:
            raise _not_empty(_shown(url), [t.removeprefix("public.") for t in tables])
        _run([tool, "--no-owner", "--single-transaction", "--exit-on-error", f"--dbname={_libpq_url(url)}",
              str(file)], url)
        with engine.connect() as connection:
            return _pg_entries(connection, url)
    finally:
        engine.dispose()


def _pg_engine(url: str) -> Engine:
    """An engine that waits at most 10 s for the server (unless the URL says otherwise)."""
    timeout = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": 10}
    return create_engine(url, connect_args=timeout, poolclass=NullPool)


def _pg_entries(connection: Connection, url: str) -> int:
    exists = connection.execute(text("SELECT to_regclass('log_entries') IS NOT NULL")).scalar_one()
    if not exists:
        raise BackupError(f"{_shown(url)} holds no trajectledger log (no table log_entries)")
    count, last = connection.execute(text("SELECT count(*), max(log_index) FROM log_entries")).one()
    return _dense(count, last, Path(_shown(url)))


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupConfigError(f"{name} is not installed (not on PATH); install {CLIENT_TOOLS}")
    return found


def _run(command: list[str], url: str) -> None:
    password = make_url(url).password
    env = dict(os.environ, **({"PGPASSWORD": str(password)} if password else {}))  # never on the command line
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = " ".join(done.stderr.split()) or f"exit status {done.returncode}"
        raise BackupError(f"{Path(command[0]).name} failed, nothing changed: {reason}")


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL as libpq reads it: no driver, no password (passed as PGPASSWORD)."""
    return make_url(url).set(drivername="postgresql", password=None).render_as_string(hide_password=False)


# --- both ----------------------------------------------------------------------------------------------


def _parsed(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise BackupConfigError(f"{DATABASE_SETTING} is not a database URL: {exc}") from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise BackupConfigError(f"{DATABASE_SETTING}: the ledger runs on SQLite or PostgreSQL, "
                                f"not {parsed.get_backend_name()}")
    return parsed


def _dense(count: int, last: int | None, where: Path) -> int:
    if count != (0 if last is None else last + 1):
        raise BackupError(f"{where}: the log is not dense ({count} entries, last index {last}); run 'trajectledger check'")
    return count


def _not_empty(where: str, tables: list[str]) -> BackupConfigError:
    shown = ", ".join(tables[:4]) + (f" and {len(tables) - 4} more" if len(tables) > 4 else "")
    return BackupConfigError(f"{DATABASE_SETTING}: {where} is not empty (tables {shown}); restore only into a new, "
                             "empty database; nothing changed")


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
