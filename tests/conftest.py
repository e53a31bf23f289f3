"""Database fixtures: every integration test runs on SQLite and on PostgreSQL.

PostgreSQL is the server at 127.0.0.1:5432 (user postgres, trust auth); each test gets a
fresh database. Where no server answers, the PostgreSQL cases are skipped with a clear
message - except under CI (CI=true), where a missing server is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

PG_HOST = os.environ.get("TRAJECTLEDGER_TEST_PG_HOST", "127.0.0.1")
PG_ADMIN = f"host={PG_HOST} port=5432 user=postgres dbname=postgres connect_timeout=3"
_pg_status: str | None = None


def postgres_unavailable() -> str | None:
    """None when the server answers, else why not (cached)."""
    global _pg_status
    if _pg_status is None:
        try:
            with psycopg.connect(PG_ADMIN) as connection:
                connection.execute("SELECT 1")
            _pg_status = ""
        except psycopg.Error as exc:
            _pg_status = f"PostgreSQL at {PG_HOST}:5432 does not answer ({exc.__class__.__name__}: {exc})"
    return _pg_status or None


def require_postgres() -> None:
    reason = postgres_unavailable()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI requires PostgreSQL: {reason}")
    pytest.skip(f"{reason}; start it to run the PostgreSQL half of the suite")


def fresh_postgres_url() -> Iterator[str]:
    require_postgres()
    name = "tl_test_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@{PG_HOST}:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/ledger.sqlite3"
    else:
        yield from fresh_postgres_url()


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path}/ledger.sqlite3"
