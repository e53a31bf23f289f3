"""The log as static C2SP tlog-tiles files: ``DIR/checkpoint`` and ``DIR/tile/...``, the same
bytes the API serves, for a plain web server or an archive.

Each run writes the tiles of the newest stored checkpoint's tree that the directory lacks:
full tiles are never rewritten (they cannot change), a partial tile's bytes are fixed by its
width, so an existing file is kept too. The partial hash tiles of every older stored checkpoint
are written as well (since the checkpoint the previous run wrote: the directory's ``checkpoint``),
so a client holding any checkpoint - a receipt's, say - can rebuild its root from the files;
the entry bundles are those of the newest tree (an older tree's partial bundle is a prefix of
the full bundle, once that exists). Every file is written to a temporary name in its folder and
renamed into place, and ``checkpoint`` last: a reader of the directory never sees a
checkpoint whose tiles are not there yet, nor half a file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ledger.domain.merkle.tiles import EntryTooLarge, Tile, tiles_of
from ledger.infra.transparency.service import SignedCheckpoint
from ledger.infra.transparency.tiles import LogTiles


@dataclass
class TileFiles:
    tree_size: int
    written: int = 0  # files written by this run (checkpoint included)
    kept: int = 0  # files already there
    too_large: list[str] = field(default_factory=list)  # entry bundles not written: an entry over 65535 bytes


def write_tiles(tiles: LogTiles, directory: Path, checkpoint: SignedCheckpoint | None = None) -> TileFiles:
    """Bring ``directory`` up to ``checkpoint`` (default: the newest stored one; the CLI gives the
    published one, ``ledger.infra.transparency.published``); add the partial hash tiles of every
    older stored checkpoint it lacks (a client holding one can rebuild its root)."""
    checkpoint = tiles.checkpoint() if checkpoint is None else checkpoint
    summary = TileFiles(checkpoint.tree_size)
    partial: set[Tile] = set()  # two checkpoints can share a partial tile: visit it once
    for older in tiles.stored_sizes(_written_size(directory), checkpoint.tree_size - 1):
        for tile in tiles_of(older):
            if not tile.full and not tile.entries and tile not in partial:
                partial.add(tile)
                _bring(tiles, tile, older, directory, summary)
    for tile in tiles_of(checkpoint.tree_size):
        if tile not in partial:
            _bring(tiles, tile, checkpoint.tree_size, directory, summary)
    target = directory / "checkpoint"
    if target.exists() and target.read_bytes() == checkpoint.note:
        summary.kept += 1
    else:
        _write(target, checkpoint.note)
        summary.written += 1
    return summary


def _bring(tiles: LogTiles, tile: Tile, size: int, directory: Path, summary: TileFiles) -> None:
    """Write ``tile`` of the tree of ``size`` leaves unless the directory has it."""
    target = directory / tile.path
    if target.exists():
        summary.kept += 1
        return
    try:
        data = tiles.read(tile, size)
    except EntryTooLarge:
        summary.too_large.append(tile.path)
        return
    _write(target, data)
    summary.written += 1


def _written_size(directory: Path) -> int:
    """The tree size of the checkpoint a previous run wrote last (0 if none): the partial tiles of
    the checkpoints up to it are there already."""
    try:
        lines = (directory / "checkpoint").read_bytes().split(b"\n", 2)
        return int(lines[1]) if len(lines) > 2 and lines[1].isdigit() else 0
    except OSError:
        return 0


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
