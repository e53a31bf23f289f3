"""The log's origin is fixed by its first checkpoint: a ledger started under another origin
(``TRAJECTLEDGER_LOG_ORIGIN`` unset after a restart, a typo) refuses to start, exit 78, and
signs nothing, so its exports keep verifying (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from cli.main import main
from ledger.application import Ledger
from ledger.infra.storage.tables import checkpoints
from ledger.settings import Settings, SettingsError, create_keys

ORIGIN = "ledger.haarlem.example/log"
DEFAULT_ORIGIN = "trajectledger.example/log"


def test_a_ledger_refuses_to_start_under_another_origin(database_url: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    create_keys(tmp_path / "keys")
    monkeypatch.setenv("TRAJECTLEDGER_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("TRAJECTLEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("TRAJECTLEDGER_LOG_ORIGIN", ORIGIN)
    assert main(["checkpoint"]) == 0
    assert capsys.readouterr().out.startswith(ORIGIN + "\n")

    monkeypatch.delenv("TRAJECTLEDGER_LOG_ORIGIN")  # the restart that forgot it
    assert main(["checkpoint"]) == 78
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert ORIGIN in captured.err and DEFAULT_ORIGIN in captured.err and "TRAJECTLEDGER_LOG_ORIGIN" in captured.err

    settings = Settings.from_environ()
    with pytest.raises(SettingsError, match="TRAJECTLEDGER_LOG_ORIGIN=ledger.haarlem.example/log"):
        Ledger(settings)
    monkeypatch.setenv("TRAJECTLEDGER_LOG_ORIGIN", ORIGIN)  # the right origin: it starts and signs again
    assert main(["checkpoint"]) == 0
    ledger = Ledger(Settings.from_environ())
    try:
        with ledger.engine.connect() as connection:
            notes = connection.execute(select(checkpoints.c.note)).scalars().all()
    finally:
        ledger.close()
    assert notes and all(note.startswith(ORIGIN + "\n") for note in notes)  # nothing signed under the default


def test_the_genesis_write_fixes_the_origin(database_url: str, tmp_path: Path) -> None:
    """Every write stores its signed checkpoint, the genesis entry's too: from the first write on,
    the log's origin is fixed, and a start under another origin is refused naming both."""
    create_keys(tmp_path / "keys")
    settings = Settings.from_environ({"TRAJECTLEDGER_KEY_DIR": str(tmp_path / "keys"),
                                      "TRAJECTLEDGER_DATABASE_URL": database_url, "TRAJECTLEDGER_LOG_ORIGIN": ORIGIN})
    ledger = Ledger(settings)  # the genesis entry and its checkpoint
    try:
        assert ledger.checkpoint().note.startswith(ORIGIN.encode() + b"\n")
    finally:
        ledger.close()
    with pytest.raises(SettingsError, match=ORIGIN):
        Ledger(Settings(database_url, settings.operator_key, settings.pseudonym_key))
