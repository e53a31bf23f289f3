"""How the ledger and its read-only reader open the database: the URL's timeouts and SQLite's pragmas."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

CONNECT_TIMEOUT = 10  # seconds a PostgreSQL server has to answer a new connection (unless the URL says)


def engine_url(url: str) -> str:
    """The database URL with the timeouts the ledger needs, where the URL does not set its own:
    SQLite waits up to 60 s for another writer's lock; PostgreSQL that does not answer a new
    connection fails after ``CONNECT_TIMEOUT`` seconds rather than hanging."""
    if url.startswith("sqlite") and "timeout=" not in url:
        return url + ("&" if "?" in url else "?") + "timeout=60"
    if url.startswith("postgresql") and "connect_timeout=" not in url:
        return url + ("&" if "?" in url else "?") + f"connect_timeout={CONNECT_TIMEOUT}"
    return url


def tune_sqlite(engine: Engine) -> None:
    """WAL with synchronous=NORMAL: durable across process crashes, fast commits."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    engine.dispose()
