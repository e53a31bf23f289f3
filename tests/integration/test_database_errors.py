"""A database the ledger cannot open is a configuration error: one line on standard error
naming TRAJECTLEDGER_DATABASE_URL and the fix, exit 78, no traceback."""

from __future__ import annotations

import importlib.util
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import ledger.infra.storage.engine_setup
from cli.main import main
from ledger.settings import create_keys
from tests.conftest import PG_HOST, require_postgres
from tests.e2e.server import free_port


@pytest.fixture(autouse=True)
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    create_keys(tmp_path / "keys")
    monkeypatch.setenv("TRAJECTLEDGER_KEY_DIR", str(tmp_path / "keys"))


def status_on(url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    """``trajectledger status`` on ``url``: assert exit 78 and one line on stderr; that line."""
    monkeypatch.setenv("TRAJECTLEDGER_DATABASE_URL", url)
    assert main(["status"]) == 78
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: TRAJECTLEDGER_DATABASE_URL: ") and captured.err.count("\n") == 1
    assert "Traceback" not in captured.err
    return captured.err


def test_a_database_that_does_not_exist(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    require_postgres()
    name = "tl_missing_" + uuid.uuid4().hex[:12]
    line = status_on(f"postgresql+psycopg://postgres@{PG_HOST}:5432/{name}", monkeypatch, capsys)
    assert f"has no database '{name}'" in line and f"createdb -h {PG_HOST} -p 5432 -U postgres {name}" in line


def test_no_server_at_that_port(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()  # nothing listens there
    line = status_on(f"postgresql+psycopg://postgres@127.0.0.1:{port}/ledger", monkeypatch, capsys)
    assert f"no PostgreSQL server answers at 127.0.0.1:{port}" in line and "start it" in line


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


def test_a_server_that_does_not_answer_times_out(silent_server: int, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(ledger.infra.storage.engine_setup, "CONNECT_TIMEOUT", 1)  # the default the URL does not override
    line = status_on(f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/ledger", monkeypatch, capsys)
    assert f"no PostgreSQL server answers at 127.0.0.1:{silent_server}" in line and "timeout" in line


def test_a_driver_that_is_not_installed(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    if importlib.util.find_spec("psycopg2") is not None:
        pytest.skip("psycopg2 is installed here: postgresql:// would work")
    line = status_on("postgresql://postgres:secret@127.0.0.1:5432/ledger", monkeypatch, capsys)
    assert "needs the Python module 'psycopg2', which is not installed" in line
    assert "write postgresql+psycopg://" in line and "secret" not in line  # the password is never shown


def test_an_sqlite_file_in_a_missing_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    line = status_on(f"sqlite:///{tmp_path}/no-such-folder/ledger.sqlite3", monkeypatch, capsys)
    assert f"cannot open the SQLite database {tmp_path}/no-such-folder/ledger.sqlite3" in line
    assert "folder exists" in line
