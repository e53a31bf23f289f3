"""``trajectledger backup`` and ``restore`` on SQLite and PostgreSQL: a backup taken while
another thread keeps submitting holds a dense prefix of the log that verifies; restored into
an empty database, the ledger opens with the same keys and its log continues at the same size;
a restore into a database that is not empty is refused and changes nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from cli.main import main
from ledger.application import Ledger
from ledger.bundle.export import export_bundle
from ledger.infra.storage.backup import BackupConfigError, BackupError, backup, restore
from ledger.infra.storage.tables import log_entries
from ledger.settings import Settings
from ledger.verify import verify_bundle
from tests.conftest import fresh_postgres_url
from tests.support import World, commission, make_world, new_id, payload


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    world = make_world(database_url)
    yield world
    world.ledger.close()


@pytest.fixture
def empty_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the same engine as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/restored.sqlite3"
    else:
        yield from fresh_postgres_url()


def leaves(ledger: Ledger) -> list[tuple[int, bytes]]:
    with ledger.engine.connect() as connection:
        rows = connection.execute(select(log_entries.c.log_index, log_entries.c.leaf_hash)
                                  .order_by(log_entries.c.log_index)).all()
    return [(index, bytes(leaf)) for index, leaf in rows]


def wait_until(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the writer thread stopped submitting"
        time.sleep(0.01)


def activity(world: World, ref: str, trajectory_id: str) -> dict[str, object]:
    return payload("ActivityRecorded", ref, "2024-02-01", trajectory_id=trajectory_id, instrument=30)


def test_backup_while_submitting_restores_a_dense_prefix_that_continues(world: World, empty_url: str,
                                                                        tmp_path: Path) -> None:
    ref, trajectory = world.ledger.pseudonym("111222333"), new_id()
    assert world.submit("gemeente-haarlem", commission(ref, "werkfit", trajectory)).accepted
    before = world.ledger.log_size()
    stop, submitted = threading.Event(), []

    def keep_submitting() -> None:
        while not stop.is_set():
            submitted.append(world.submit("werkfit", activity(world, ref, trajectory)).log_index)

    writer = threading.Thread(target=keep_submitting)
    writer.start()
    try:
        wait_until(lambda: len(submitted) >= 5)  # the writer is running before the backup starts
        copied = backup(world.ledger.settings.database_url, tmp_path / "ledger.backup")
        wait_until(lambda: submitted[-1] > copied.entries)  # ... and after it ended
    finally:
        stop.set()
        writer.join(timeout=60)
    assert copied.entries > before
    assert copied.size == (tmp_path / "ledger.backup").stat().st_size > 0
    original = leaves(world.ledger)
    assert len(original) > copied.entries  # the writer went on: the backup is a proper prefix

    restored = restore(tmp_path / "ledger.backup", empty_url)
    assert restored.entries == copied.entries
    settings = world.ledger.settings
    ledger = Ledger(Settings(database_url=empty_url, operator_key=settings.operator_key,
                             pseudonym_key=settings.pseudonym_key))
    try:
        assert leaves(ledger) == original[:copied.entries]  # dense: indexes 0 .. n-1, the same leaves
        assert ledger.log_size() == copied.entries
        summary = export_bundle(ledger, tmp_path / "bundle")
        assert summary.tree_size == copied.entries
        assert verify_bundle(tmp_path / "bundle", workers=0).tree_size == copied.entries
        again = World(ledger, dict(world.keys))
        receipt = again.submit("werkfit", activity(again, ref, trajectory))
        assert receipt.accepted
        assert receipt.log_index == copied.entries  # the log continues at the same size
    finally:
        ledger.close()


def test_restore_into_a_ledger_is_refused_and_changes_nothing(world: World, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    url = world.ledger.settings.database_url
    monkeypatch.setenv("TRAJECTLEDGER_DATABASE_URL", url)
    monkeypatch.delenv("TRAJECTLEDGER_KEY_DIR", raising=False)  # neither command needs keys
    assert main(["backup", str(tmp_path / "ledger.backup")]) == 0
    size = world.ledger.log_size()
    assert f"backed up {size} log entries (indexes 0-{size - 1})" in capsys.readouterr().out
    ref = world.ledger.pseudonym("123456782")
    assert world.submit("uwv", commission(ref, "jobstap", new_id())).accepted
    kept = leaves(world.ledger)

    assert main(["restore", str(tmp_path / "ledger.backup")]) == 78
    err = capsys.readouterr().err
    assert "is not empty" in err and "log_entries" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(BackupConfigError):
        restore(tmp_path / "ledger.backup", url)
    assert leaves(world.ledger) == kept  # nothing changed: the entry after the backup is still there
    assert world.ledger.log_size() == size + 1


def test_backup_refuses_an_existing_file_and_restore_a_file_that_is_no_backup(world: World, empty_url: str,
                                                                               tmp_path: Path) -> None:
    existing = tmp_path / "existing"
    existing.write_bytes(b"keep me")
    with pytest.raises(BackupError, match="refusing to overwrite"):
        backup(world.ledger.settings.database_url, existing)
    assert existing.read_bytes() == b"keep me"
    with pytest.raises(BackupError, match="neither an SQLite backup nor a pg_dump"):
        restore(existing, empty_url)


def test_without_pg_dump_postgresql_names_what_to_install(world: World, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ledger.infra.storage.backup.shutil.which", lambda name: None)
    url = world.ledger.settings.database_url
    if url.startswith("sqlite"):  # SQLite needs no tool: the backup is made in-process
        assert backup(url, tmp_path / "ledger.backup").entries == world.ledger.log_size()
        return
    with pytest.raises(BackupConfigError, match="pg_dump is not installed.*postgresql-client") as raised:
        backup(url, tmp_path / "ledger.backup")
    assert raised.value.exit_code == 78
    assert not (tmp_path / "ledger.backup").exists()
