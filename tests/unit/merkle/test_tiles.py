"""C2SP tlog-tiles: path encoding (the spec's examples and named malformed paths), tile widths,
entry bundles, and trees cut into tiles that an independent reader (``tests.tlog_reader``)
hashes back to the reference root - and refuses once any byte of any tile changes."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.checkpoint import Checkpoint, sign_checkpoint
from ledger.domain.envelope import public_key_bytes
from ledger.domain.merkle import leaf_hash, root_hash
from ledger.domain.merkle.subtrees import perfect_root
from ledger.domain.merkle.tiles import (
    EntryTooLarge,
    MalformedTilePath,
    Tile,
    bundle_bytes,
    bundle_entries,
    encode_index,
    parse_tile_path,
    tile_bytes,
    tile_width,
    tiles_of,
)
from tests.tlog_reader import TileCheckFailed, read_log

ORIGIN = "ledger.example/tlog"


@pytest.mark.parametrize(("index", "encoded"), [
    (0, "000"), (5, "005"), (255, "255"), (999, "999"), (1000, "x001/000"),
    (1234067, "x001/x234/067"), (123456789, "x123/x456/789"), (999999999999999999, "x999/x999/x999/x999/x999/999"),
])
def test_index_encoding_follows_the_spec(index: int, encoded: str) -> None:
    assert encode_index(index) == encoded
    assert parse_tile_path(f"tile/3/{encoded}") == Tile(3, index, 256)
    assert parse_tile_path(f"tile/entries/{encoded}.p/7") == Tile(0, index, 7, entries=True)


@pytest.mark.parametrize(("path", "tile"), [
    ("tile/0/x001/x234/067", Tile(0, 1234067, 256)),
    ("tile/0/x001/x234/067.p/89", Tile(0, 1234067, 89)),
    ("tile/63/x999/x999/x999/x999/x999/999.p/255", Tile(63, 999999999999999999, 255)),
    ("tile/entries/273.p/112", Tile(0, 273, 112, entries=True)),
])
def test_paths_parse_and_print_back(path: str, tile: Tile) -> None:
    assert parse_tile_path(path) == tile
    assert tile.path == path


@pytest.mark.parametrize("path", [
    "tile/0/x001/x234/067.p/", "tile/0/x001/x234/067.p", "tile/0/x001/x234/", "tile/0/x001/x234",
    "tile/0/x001/", "tile/0/x001", "tile/1/x001/.p/abc", "tile/64/000", "tile/00/000", "tile/0/000.p/256",
    "tile/0/000.p/0", "tile/0/000.p/07", "tile/0/x000/001", "tile/0/1", "tile/0/0001", "tile/data/000",
    "tile/-1/000", "tile/0/000/", "/tile/0/000", "tile/0/abc", "tile/entries/000.p/300",
])
def test_malformed_paths_are_refused(path: str) -> None:
    with pytest.raises(MalformedTilePath) as raised:
        parse_tile_path(path)
    assert raised.value.rule == "tiles.path" and raised.value.field == "path"


@pytest.mark.parametrize(("level", "index", "size", "width"), [
    (0, 0, 0, 0), (0, 0, 1, 1), (0, 0, 255, 255), (0, 0, 256, 256), (0, 1, 256, 0), (0, 1, 300, 44),
    (1, 0, 255, 0), (1, 0, 256, 1), (1, 0, 1024, 4), (1, 0, 70000, 256), (1, 1, 70000, 17), (2, 0, 65536, 1),
])
def test_tile_width(level: int, index: int, size: int, width: int) -> None:
    assert tile_width(level, index, size) == width


def test_tiles_of_a_tree() -> None:
    assert [t.path for t in tiles_of(0)] == []
    assert [t.path for t in tiles_of(1)] == ["tile/entries/000.p/1", "tile/0/000.p/1"]
    assert [t.path for t in tiles_of(513)] == [
        "tile/entries/000", "tile/0/000", "tile/entries/001", "tile/0/001", "tile/entries/002.p/1", "tile/0/002.p/1",
        "tile/1/000.p/2"]


def test_bundles_round_trip_and_refuse_what_they_cannot_frame() -> None:
    entries = [b"", b"\x00\x01", b"x" * 300, b"y" * 0xFFFF]
    data = bundle_bytes(entries)
    assert data[:4] == b"\x00\x00\x00\x02" and len(data) == 2 * 4 + sum(map(len, entries))
    assert bundle_entries(data) == entries
    with pytest.raises(EntryTooLarge, match="entry 12 has 65536 bytes") as raised:
        bundle_bytes([b"a", b"z" * 0x10000], first=11)
    assert raised.value.rule == "tiles.entry-size"
    for cut in (data[:1], data[:-1], data[:5]):
        with pytest.raises(ValueError):
            bundle_entries(cut)


def served(entries: list[bytes]) -> dict[str, bytes]:
    """A tree of ``entries`` cut into tiles with the domain's paths, widths and framing."""
    levels = [[leaf_hash(entry) for entry in entries]]
    while len(levels[-1]) >= 256:
        below = levels[-1]
        levels.append([perfect_root(below[i:i + 256]) for i in range(0, len(below) - 255, 256)])
    files = {}
    for tile in tiles_of(len(entries)):
        if tile.entries:
            files[tile.path] = bundle_bytes(entries[tile.first:tile.first + tile.width])
        else:
            files[tile.path] = tile_bytes(levels[tile.level][tile.first:tile.first + tile.width])
    return files


KEY = Ed25519PrivateKey.generate()


def note(entries: list[bytes]) -> bytes:
    return sign_checkpoint(Checkpoint(ORIGIN, len(entries), root_hash([leaf_hash(e) for e in entries])), ORIGIN, KEY)


@pytest.mark.parametrize("size", [1, 2, 3, 255, 256, 257, 511, 512, 700])
def test_an_independent_reader_rebuilds_the_root(size: int) -> None:
    entries = [b"entry %d" % i * (i % 5) for i in range(size)]
    files = served(entries)
    read = read_log(files.get, ORIGIN, public_key_bytes(KEY), note(entries))
    assert read.entries == entries and read.size == size
    assert sorted(read.paths) == sorted(files)


def test_a_tree_of_three_levels() -> None:
    entries = [i.to_bytes(4, "big") for i in range(65536 + 300)]
    files = served(entries)
    assert "tile/2/000.p/1" in files and "tile/1/000" in files and "tile/1/001.p/1" in files
    assert read_log(files.get, ORIGIN, public_key_bytes(KEY), note(entries)).size == len(entries)


def test_the_reader_takes_a_partial_tile_from_its_full_tile() -> None:
    entries = [b"%d" % i for i in range(600)]
    older = served(entries[:300])
    files = served(entries)  # has tile/0/001 and tile/entries/001 (full), not their .p/44
    assert "tile/0/001.p/44" not in files and "tile/entries/001.p/44" not in files
    files["tile/1/000.p/1"] = older["tile/1/000.p/1"]  # a partial tile of a higher level has no full one yet
    read = read_log(files.get, ORIGIN, public_key_bytes(KEY), note(entries[:300]))
    assert read.size == 300 and read.entries == entries[:300]
    del files["tile/1/000.p/1"]
    with pytest.raises(TileCheckFailed, match="tile/1/000.p/1 is missing"):
        read_log(files.get, ORIGIN, public_key_bytes(KEY), note(entries[:300]))


def test_a_checkpoint_signed_by_another_key_is_refused() -> None:
    entries = [b"a", b"b"]
    other = Ed25519PrivateKey.generate()
    signed = sign_checkpoint(Checkpoint(ORIGIN, 2, root_hash([leaf_hash(e) for e in entries])), ORIGIN, other)
    with pytest.raises(TileCheckFailed):
        read_log(served(entries).get, ORIGIN, public_key_bytes(KEY), signed)


@pytest.mark.parametrize("size", [3, 300])
def test_any_changed_byte_of_any_tile_fails(size: int) -> None:
    entries = [b"entry %d" % i for i in range(size)]
    files = served(entries)
    signed = note(entries)
    for path, data in files.items():
        for position in sorted({0, len(data) // 2, len(data) - 1}):
            changed = dict(files)
            changed[path] = data[:position] + bytes([data[position] ^ 1]) + data[position + 1:]
            with pytest.raises(TileCheckFailed):
                read_log(changed.get, ORIGIN, public_key_bytes(KEY), signed)
        with pytest.raises(TileCheckFailed):
            read_log({**files, path: data + b"\x00"}.get, ORIGIN, public_key_bytes(KEY), signed)
