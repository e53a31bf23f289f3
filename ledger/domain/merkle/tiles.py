"""C2SP tlog-tiles (https://c2sp.org/tlog-tiles): which tiles a tree has, their paths, entry bundles.

A tile of height 8 holds up to 256 consecutive hashes of one level of the RFC 9162 tree:
tile ``(L, N)`` holds the hashes at tree level ``8 * L`` with indexes ``256 * N`` up to
``256 * N + W - 1`` - each the MTH of the ``256 ** L`` leaves below it, so only complete
(perfect) subtrees ever appear. In a tree of ``size`` leaves level ``8 * L`` has
``size >> 8 * L`` complete nodes; a tile with fewer than 256 is *partial*, of width ``W``.
The hashes of a full tile never change; those of a partial tile are a prefix of the full one.

Paths: ``tile/<L>/<N>[.p/<W>]`` and ``tile/entries/<N>[.p/<W>]`` (the entry bundle holding the
leaf inputs of level-0 tile N). ``N`` is written in 3-digit groups, every group but the last
prefixed with ``x``: 1234067 is ``x001/x234/067``. ``.p/<W>`` (1 <= W <= 255, no leading zero)
marks a partial tile. An entry bundle is its entries, each as a big-endian uint16 length and
the entry's bytes: an entry over 65535 bytes cannot be put in a bundle (``EntryTooLarge``).

Pure functions over ints and bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ledger.domain.merkle.errors import TreeInputError
from ledger.domain.merkle.hashing import HASH_SIZE

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes (or entries) in a full tile
MAX_LEVEL = 63
MAX_ENTRY = 0xFFFF  # the largest entry a uint16 length can frame


class MalformedTilePath(TreeInputError):
    """A path that is not a tlog-tiles tile or entry bundle path."""

    rule = "tiles.path"
    field = "path"


class EntryTooLarge(TreeInputError):
    """An entry longer than a bundle's uint16 length prefix can say (65535 bytes)."""

    rule = "tiles.entry-size"
    field = "entry"


@dataclass(frozen=True)
class Tile:
    """Tile ``index`` of tree level ``8 * level`` (or the entry bundle of level-0 tile
    ``index`` when ``entries``), ``width`` hashes or entries wide."""

    level: int
    index: int
    width: int
    entries: bool = False

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def path(self) -> str:
        head = "tile/entries" if self.entries else f"tile/{self.level}"
        tail = "" if self.full else f".p/{self.width}"
        return f"{head}/{encode_index(self.index)}{tail}"

    @property
    def first(self) -> int:
        """The index (at its level) of the tile's first hash or entry."""
        return self.index * TILE_WIDTH


def encode_index(index: int) -> str:
    """N as 3-digit path elements, all but the last prefixed with ``x`` (1234067 -> x001/x234/067)."""
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise TreeInputError(f"a tile index must be a non-negative integer, got {index!r}")
    digits = str(index)
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    return "/".join(["x" + group for group in groups[:-1]] + groups[-1:])


_PATH = re.compile(r"tile/(?P<level>entries|0|[1-9][0-9]?)/(?P<index>(?:x[0-9]{3}/)*[0-9]{3})"
                   r"(?:\.p/(?P<width>[1-9][0-9]{0,2}))?")


def parse_tile_path(path: str) -> Tile:
    """The tile a ``tile/...`` path names; ``MalformedTilePath`` for anything else."""
    match = _PATH.fullmatch(path)
    if match is None:
        raise MalformedTilePath(f"{path!r} is not tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]")
    entries = match["level"] == "entries"
    level = 0 if entries else int(match["level"])
    partial = match["width"] is not None
    width = int(match["width"]) if partial else TILE_WIDTH
    if level > MAX_LEVEL or (partial and width >= TILE_WIDTH):
        raise MalformedTilePath(f"{path!r}: the level is at most {MAX_LEVEL} and a partial width at most 255")
    index = int(match["index"].replace("x", "").replace("/", ""))
    tile = Tile(level, index, width, entries)
    if tile.path != path:  # a leading group of 000, say: one tile has one path
        raise MalformedTilePath(f"{path!r} is not the canonical path of its tile ({tile.path})")
    return tile


def tile_width(level: int, index: int, size: int) -> int:
    """The width of tile ``(level, index)`` in a tree of ``size`` leaves (0: it has none yet)."""
    if level < 0 or index < 0 or size < 0:
        raise TreeInputError(f"level {level}, index {index} and size {size} must be non-negative")
    return max(0, min(TILE_WIDTH, (size >> (TILE_HEIGHT * level)) - index * TILE_WIDTH))


def tiles_of(size: int) -> Iterator[Tile]:
    """Every tile and entry bundle of a tree of ``size`` leaves, level by level, left to right."""
    level = 0
    while size >> (TILE_HEIGHT * level):
        nodes = size >> (TILE_HEIGHT * level)
        for index in range(-(-nodes // TILE_WIDTH)):
            width = tile_width(level, index, size)
            if level == 0:
                yield Tile(0, index, width, entries=True)
            yield Tile(level, index, width)
        level += 1


def tile_bytes(hashes: Sequence[bytes]) -> bytes:
    """A hash tile: its hashes concatenated (32 bytes each)."""
    if not 1 <= len(hashes) <= TILE_WIDTH or any(len(digest) != HASH_SIZE for digest in hashes):
        raise TreeInputError(f"a tile holds 1 to {TILE_WIDTH} hashes of {HASH_SIZE} bytes")
    return b"".join(hashes)


def bundle_bytes(entries: Sequence[bytes], first: int = 0) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length and its bytes. ``first`` is
    the log index of the first entry (for the error of one that is too large)."""
    parts: list[bytes] = []
    for offset, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY:
            raise EntryTooLarge(f"entry {first + offset} has {len(entry)} bytes; a tlog-tiles entry bundle "
                                f"frames at most {MAX_ENTRY} (a uint16 length)")
        parts += (len(entry).to_bytes(2, "big"), entry)
    return b"".join(parts)


def bundle_entries(data: bytes) -> list[bytes]:
    """The entries of a bundle; ``TreeInputError`` if a length runs past the end."""
    entries: list[bytes] = []
    at = 0
    while at < len(data):
        if at + 2 > len(data):
            raise TreeInputError(f"the bundle ends inside the length of entry {len(entries)}")
        length = int.from_bytes(data[at:at + 2], "big")
        if at + 2 + length > len(data):
            raise TreeInputError(f"entry {len(entries)} runs past the end of the bundle")
        entries.append(data[at + 2:at + 2 + length])
        at += 2 + length
    return entries
