"""The log as C2SP tlog-tiles on SQLite and PostgreSQL: every stored checkpoint's root rebuilt by
an independent reader from the tiles read from storage and from ``trajectledger tiles DIR``'s
files; the files equal to what is read; reruns that write only what is new; entries that a
bundle cannot frame."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import delete

from cli.main import main
from ledger.application import Ledger
from ledger.domain.entry import leaf_bytes
from ledger.domain.envelope import public_key_bytes
from ledger.domain.merkle import tiles as tile_rules
from ledger.domain.merkle.subtrees import perfect_root
from ledger.domain.merkle.tiles import parse_tile_path
from ledger.infra.storage.tables import checkpoints
from ledger.infra.transparency.tile_files import write_tiles
from ledger.infra.transparency.tiles import LogTiles, NoCheckpoint
from ledger.settings import Settings, create_keys
from tests.support import World, commission, make_world, new_id
from tests.tlog_reader import Fetch, TileCheckFailed, read_log

BATCHES = (1, 3, 250, 7, 300)  # after the genesis entry and the registrations: full tiles, partial ones, level 1


def client(n: int) -> str:
    return hashlib.sha256(f"client {n}".encode()).hexdigest()


def grow(world: World, batches: tuple[int, ...], first: int = 0) -> None:
    n = first
    for size in batches:
        envelopes = [world.signed("gemeente-haarlem", commission(client(n + i), "werkfit", new_id())) for i in range(size)]
        results = world.ledger.submit_batch(envelopes)
        assert all(getattr(result, "log_index", None) is not None for result in results)
        n += size


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    world = make_world(database_url)
    yield world
    world.ledger.close()


def tiles_of(world: World) -> LogTiles:
    return LogTiles(world.ledger.transparency, world.ledger.entries)


def from_storage(tiles: LogTiles, size: int) -> Fetch:
    def fetch(path: str) -> bytes | None:
        try:
            return tiles.read(parse_tile_path(path), size)
        except ValueError:
            return None
    return fetch


def from_files(directory: Path) -> Fetch:
    def fetch(path: str) -> bytes | None:
        target = directory / path
        return target.read_bytes() if target.is_file() else None
    return fetch


def key(world: World) -> tuple[str, bytes]:
    return world.ledger.transparency.key_name, public_key_bytes(world.ledger.settings.operator_key)


def test_every_checkpoint_is_rebuilt_from_the_tiles(world: World, tmp_path: Path) -> None:
    base = world.ledger.transparency.size()
    grow(world, BATCHES)
    tiles, (name, public) = tiles_of(world), key(world)
    stored = list(world.ledger.transparency.checkpoints())
    assert len(stored) >= len(BATCHES) and stored[-1].tree_size == base + sum(BATCHES)
    for checkpoint in stored:
        read = read_log(from_storage(tiles, checkpoint.tree_size), name, public, checkpoint.note)
        assert read.size == checkpoint.tree_size and read.root == checkpoint.root_hash
        assert read.origin == world.ledger.transparency.origin

    summary = write_tiles(tiles, tmp_path / "tiles")
    assert summary.tree_size == stored[-1].tree_size and not summary.too_large
    files = from_files(tmp_path / "tiles")
    assert files("checkpoint") == stored[-1].note
    newest = read_log(files, name, public)  # the checkpoint and entries from the files alone
    assert newest.root == stored[-1].root_hash
    assert newest.entries == [leaf_bytes(body, index) for index, body in world.ledger.entries(0, 1000)]
    for checkpoint in stored:  # any stored checkpoint: its root from the files' hash tiles
        assert read_log(files, name, public, checkpoint.note, entries=False).root == checkpoint.root_hash

    written = sorted(p for p in (tmp_path / "tiles").rglob("*") if p.is_file())
    assert len(written) == summary.written
    for path in written:  # the files are the bytes read from storage
        relative = path.relative_to(tmp_path / "tiles").as_posix()
        if relative != "checkpoint":
            assert path.read_bytes() == tiles.read(parse_tile_path(relative))
    assert not [p for p in (tmp_path / "tiles").rglob(".tmp-*")]


def test_a_changed_tile_file_fails_the_reader(world: World, tmp_path: Path) -> None:
    base = world.ledger.transparency.size()
    grow(world, (300,))
    write_tiles(tiles_of(world), tmp_path)
    name, public = key(world)
    for path in ("tile/0/000", f"tile/entries/001.p/{base + 300 - 256}", "tile/1/000.p/1"):
        target = tmp_path / path
        data = target.read_bytes()
        target.write_bytes(data[:7] + bytes([data[7] ^ 0x80]) + data[8:])
        with pytest.raises(TileCheckFailed):
            read_log(from_files(tmp_path), name, public)
        target.write_bytes(data)
    assert read_log(from_files(tmp_path), name, public).size == base + 300


def test_a_rerun_writes_only_what_is_new(world: World, tmp_path: Path) -> None:
    base = world.ledger.transparency.size()
    grow(world, (260,))
    tiles = tiles_of(world)
    first = write_tiles(tiles, tmp_path)
    full = tmp_path / "tile/0/000"
    before = full.stat()
    again = write_tiles(tiles, tmp_path)
    assert again.written == 0 and again.kept == len(list(tile_rules.tiles_of(base + 260))) + 1 < first.written
    grow(world, (300,), first=260)
    third = write_tiles(tiles, tmp_path)
    assert third.written > 0 and third.tree_size == base + 560
    assert (full.stat().st_ino, full.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # never rewritten
    assert (tmp_path / f"tile/0/001.p/{base + 260 - 256}").is_file() and (tmp_path / "tile/0/001").is_file()
    name, public = key(world)
    assert read_log(from_files(tmp_path), name, public).size == base + 560
    grow(world, (1, 1, 1), first=560)  # three checkpoints between two runs
    fourth = write_tiles(tiles, tmp_path)
    assert (fourth.written, fourth.kept) == (3 + 1 + 1, 5)  # per checkpoint its level-0 partial tile; the bundle, the note
    # kept: tile/0/000, tile/0/001, tile/entries/000, tile/entries/001 and tile/1/000.p/2 (still 2 wide)
    for checkpoint in world.ledger.transparency.checkpoints():
        assert read_log(from_files(tmp_path), name, public, checkpoint.note, entries=False).root == checkpoint.root_hash


def test_the_files_publish_the_checkpoint_they_are_given(world: World, tmp_path: Path) -> None:
    """``trajectledger tiles`` with a witness policy writes up to the published (cosigned) checkpoint,
    an older one than the newest: its note and the tiles its tree needs, none of a later tree."""
    grow(world, (300,))
    older = world.ledger.transparency.latest()
    assert older is not None
    grow(world, (10,), first=300)
    written = write_tiles(tiles_of(world), tmp_path, older)
    assert written.tree_size == older.tree_size < world.ledger.transparency.size()
    assert (tmp_path / "checkpoint").read_bytes() == older.note
    name, public = key(world)
    assert read_log(from_files(tmp_path), name, public).root == older.root_hash
    assert not (tmp_path / f"tile/0/001.p/{world.ledger.transparency.size() - 256}").exists()


def test_an_entry_a_bundle_cannot_frame(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-in for an entry over 65535 bytes: with the limit lowered, every entry is too large.
    Its bundle is not written (and named); the hash tiles still give the root."""
    monkeypatch.setattr(tile_rules, "MAX_ENTRY", 100)
    base = world.ledger.transparency.size()
    summary = write_tiles(tiles_of(world), tmp_path)
    assert summary.too_large == [f"tile/entries/000.p/{base}"]
    assert not (tmp_path / "tile/entries").exists()
    name, public = key(world)
    assert read_log(from_files(tmp_path), name, public, entries=False).size == base
    with pytest.raises(tile_rules.EntryTooLarge, match="entry 0 has"):
        tiles_of(world).read(parse_tile_path(f"tile/entries/000.p/{base}"))


def test_no_checkpoint_no_tiles(world: World, tmp_path: Path) -> None:
    """A ledger written before every write stored its checkpoint, none signed since."""
    with world.ledger.engine.begin() as connection:
        connection.execute(delete(checkpoints))
    with pytest.raises(NoCheckpoint):
        write_tiles(tiles_of(world), tmp_path / "tiles")
    assert not (tmp_path / "tiles").exists()


def test_the_tiles_command(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    create_keys(tmp_path / "keys")
    monkeypatch.setenv("TRAJECTLEDGER_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("TRAJECTLEDGER_DATABASE_URL", database_url)
    out = tmp_path / "tiles"
    assert main(["tiles", str(out)]) == 0  # the genesis entry and its checkpoint
    assert capsys.readouterr().out == f"tiles of 1 entries in {out}: 3 files written, 0 already there\n"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "checkpoint", "tile/0/000.p/1", "tile/entries/000.p/1"]
    assert main(["tiles", str(out)]) == 0
    assert capsys.readouterr().out == f"tiles of 1 entries in {out}: 0 files written, 3 already there\n"
    settings = Settings.from_environ()
    assert (out / "checkpoint").read_text().startswith(settings.log_origin + "\n1\n")
    ledger = Ledger(settings)
    try:
        with ledger.engine.begin() as connection:
            connection.execute(delete(checkpoints))
    finally:
        ledger.close()
    assert main(["tiles", str(tmp_path / "other")]) == 2
    captured = capsys.readouterr()
    assert "no signed checkpoint" in captured.err and "Traceback" not in captured.err and captured.out == ""


def test_the_tiles_command_publishes_only_what_the_witness_quorum_cosigned(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger.domain.cosignature import cosigner_vkey

    create_keys(tmp_path / "keys")
    witness = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    policy = tmp_path / "policy.txt"
    policy.write_text(f"witness A {cosigner_vkey('a.example/w', witness)} http://127.0.0.1:9\nquorum A\n")
    monkeypatch.setenv("TRAJECTLEDGER_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("TRAJECTLEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("TRAJECTLEDGER_WITNESS_POLICY", str(policy))
    assert main(["tiles", str(tmp_path / "tiles")]) == 2  # the genesis checkpoint, not cosigned
    captured = capsys.readouterr()
    assert "no checkpoint is cosigned by the witness quorum (A)" in captured.err and "witness push" in captured.err
    assert captured.out == "" and not (tmp_path / "tiles" / "checkpoint").exists()


class CountingLog:
    """The two reads ``LogTiles`` makes of the log, over leaf hashes in memory, counted."""

    def __init__(self, hashes: list[bytes]) -> None:
        self.hashes, self.read = hashes, 0

    def leaf_hashes(self, start: int, end: int) -> Iterator[bytes]:
        self.read += end - start
        return iter(self.hashes[start:end])


def test_higher_levels_are_hashed_once() -> None:
    size = 65536 + 300
    leaves = [hashlib.sha256(b"%d" % i).digest() for i in range(size)]
    log = CountingLog(leaves)
    tiles = LogTiles(cast(Any, log), lambda start, limit: [])
    level1 = [perfect_root(leaves[i:i + 256]) for i in range(0, 65536 + 256, 256)]
    assert tiles.read(parse_tile_path("tile/1/001.p/1"), size) == level1[256]
    assert tiles.read(parse_tile_path("tile/2/000.p/1"), size) == perfect_root(level1[:256])
    assert log.read == 256 + 65536  # each full level-0 tile read once
    assert tiles.read(parse_tile_path("tile/1/000"), size) == b"".join(level1[:256])
    assert tiles.read(parse_tile_path("tile/2/000.p/1"), size) == perfect_root(level1[:256])
    assert log.read == 256 + 65536  # from the kept roots
    with pytest.raises(ValueError, match="has 1 of the 2 hashes"):
        tiles.read(parse_tile_path("tile/2/000.p/2"), size)
