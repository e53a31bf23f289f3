"""The log as C2SP tlog-tiles over HTTP (SQLite and PostgreSQL): every checkpoint's root rebuilt
by an independent reader from served tiles alone; the served bytes equal ``trajectledger tiles``'
files; cache headers; 404s; the tiles stay out of the OpenAPI document."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from api.routes.tiles import IMMUTABLE, SHORT_LIVED, tiles_prefix
from ledger.application import Ledger
from ledger.domain.envelope import public_key_bytes, sign
from ledger.infra.storage.tables import checkpoints
from ledger.infra.transparency.tile_files import write_tiles
from ledger.infra.transparency.tiles import LogTiles
from ledger.settings import SettingsError
from tests.api.support import HAARLEM, ApiWorld
from tests.support import commission, new_id
from tests.tlog_reader import read_log

PREFIX = "/log"  # the path of the test ledger's origin, trajectledger.example/log


def grow(world: ApiWorld, batches: tuple[int, ...]) -> Ledger:
    ledger: Ledger = world.app.state.ledger
    n = 0
    for size in batches:
        refs = [hashlib.sha256(b"client %d" % (n + i)).hexdigest() for i in range(size)]
        envelopes = [sign(commission(ref, "werkfit", new_id()), HAARLEM, world.key(HAARLEM)).as_dict() for ref in refs]
        assert all(getattr(r, "log_index", None) is not None for r in ledger.submit_batch(envelopes))
        n += size
    return ledger


def over_http(http: httpx.Client) -> Callable[[str], bytes | None]:
    def fetch(path: str) -> bytes | None:
        response = http.get(f"{PREFIX}/{path}")
        return response.content if response.status_code == 200 else None
    return fetch


def test_every_checkpoint_from_the_served_tiles_alone(world: ApiWorld, tmp_path: Path) -> None:
    ledger = grow(world, (2, 260, 5))
    http = world.http()
    assert ledger.transparency.origin == "trajectledger.example/log"
    name, public = ledger.transparency.key_name, public_key_bytes(world.settings.operator_key)
    notes = [item["note"].encode() for item in http.get("/v1/log/checkpoints", params={"limit": 500}).json()["items"]]
    assert len(notes) >= 4
    for note in notes:
        read_log(over_http(http), name, public, note)
    newest = read_log(over_http(http), name, public)  # the served checkpoint is the newest stored note
    assert newest.size == ledger.transparency.size() and http.get(f"{PREFIX}/checkpoint").content == notes[-1]

    out = tmp_path / "tiles"
    summary = write_tiles(LogTiles(ledger.transparency, ledger.entries), out)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert len(files) == summary.written > 5 and summary.kept == 0
    for file in files:  # served and written are equal, byte for byte
        response = http.get(f"{PREFIX}/{file.relative_to(out).as_posix()}")
        assert response.status_code == 200 and response.content == file.read_bytes()


def test_headers(world: ApiWorld) -> None:
    grow(world, (300,))
    http = world.http()
    checkpoint = http.get(f"{PREFIX}/checkpoint")
    assert checkpoint.headers["content-type"] == "text/plain; charset=utf-8"
    assert checkpoint.headers["cache-control"] == SHORT_LIVED
    full = http.get(f"{PREFIX}/tile/0/000")
    assert full.headers["content-type"] == "application/octet-stream" and len(full.content) == 256 * 32
    assert full.headers["cache-control"] == IMMUTABLE == "public, max-age=31536000, immutable"
    assert http.get(f"{PREFIX}/tile/entries/000").headers["cache-control"] == IMMUTABLE
    partial = http.get(f"{PREFIX}/tile/0/001.p/3")
    assert len(partial.content) == 3 * 32 and partial.headers["cache-control"] == SHORT_LIVED
    assert full.headers["api-version"]


@pytest.mark.parametrize("path", [
    "tile/0/001",  # not full yet
    "tile/0/000.p/256", "tile/0/x000/000", "tile/0/0", "tile/2/000.p/1", "tile/0/002.p/1", "tile/entries/001.p/255",
    "tile/", "tile/0/000/", "tile/entries/000.p/0", "checkpoint/",
])
def test_what_is_not_a_tile_of_the_checkpoint_is_404(world: ApiWorld, path: str) -> None:
    grow(world, (300,))
    response = world.http().get(f"{PREFIX}/{path}")
    assert response.status_code == 404 and response.headers.get("cache-control") in (None, "no-store")
    assert "Traceback" not in response.text


def test_the_tiles_are_not_in_the_openapi_document(world: ApiWorld) -> None:
    document = world.http().get("/v1/openapi.json").json()
    assert document["servers"][0]["url"].endswith("/v1")  # its paths are under /v1: /log/checkpoint is the JSON one
    assert "/log/checkpoint" in document["paths"] and not [path for path in document["paths"] if "tile" in path]


@pytest.mark.parametrize(("origin", "prefix"), [
    ("trajectledger.example/log", "/log"), ("ledger.haarlem.example/tlog/", "/tlog"), ("example.com", ""),
    ("example.com/a/b", "/a/b"), ("example.com/v1beta", "/v1beta"),
])
def test_the_prefix_is_the_origin_path(origin: str, prefix: str) -> None:
    assert tiles_prefix(origin) == prefix


@pytest.mark.parametrize("origin", ["example.com/v1", "example.com/v1/log", "example.com/a b", "example.com/a?b"])
def test_an_origin_whose_path_is_not_a_tile_prefix(origin: str) -> None:
    with pytest.raises(SettingsError, match="origin"):
        tiles_prefix(origin)


def test_the_checkpoint_is_the_stored_note_as_it_is(world: ApiWorld) -> None:
    """Witness cosignatures are appended to the stored note: served with it, byte for byte."""
    ledger = grow(world, (3,))
    newest = ledger.transparency.latest()
    assert newest is not None
    cosigned = newest.note + "— witness.example/w1 AAAAAQAAAAAAAAAA\n".encode()
    with ledger.engine.begin() as connection:
        connection.execute(update(checkpoints).where(checkpoints.c.tree_size == newest.tree_size)
                           .values(note=cosigned.decode()))
    assert world.http().get(f"{PREFIX}/checkpoint").content == cosigned
