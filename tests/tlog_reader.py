"""An independent C2SP tlog-tiles reader for the tests, written from the spec texts alone
(c2sp.org/tlog-tiles, c2sp.org/tlog-checkpoint, c2sp.org/signed-note, RFC 9162 §2.1.1): it
imports nothing of the ledger, so it cannot share the ledger's mistakes.

``read_log(fetch, name, public_key)`` fetches ``checkpoint``, checks its Ed25519 note
signature, fetches every tile the tree has (a missing partial tile is cut from its full tile,
as the spec lets a log delete partial tiles), checks every tile against the level below and
every entry against its leaf hash, hashes up to the root and compares it with the
checkpoint's. Any changed byte of any tile makes it raise ``TileCheckFailed``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

Fetch = Callable[[str], "bytes | None"]  # path relative to the prefix -> bytes, None when absent (404)


class TileCheckFailed(Exception):
    pass


@dataclass(frozen=True)
class LogRead:
    origin: str
    size: int
    root: bytes
    entries: list[bytes]
    paths: list[str]  # every path fetched, in order


def n_path(n: int) -> str:
    text = f"{n:d}"
    text = text.zfill(len(text) + (-len(text)) % 3)
    groups = [text[i:i + 3] for i in range(0, len(text), 3)]
    return "/".join([f"x{g}" for g in groups[:-1]] + [groups[-1]])


def tile_path(level: int | str, n: int, width: int) -> str:
    return f"tile/{level}/{n_path(n)}" + ("" if width == 256 else f".p/{width}")


def _sha(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def _mth_perfect(hashes: list[bytes]) -> bytes:
    while len(hashes) > 1:
        hashes = [_sha(b"\x01", hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def parse_note(note: bytes, name: str, public_key: bytes) -> tuple[str, int, bytes]:
    """(origin, size, root) of a checkpoint whose signature by ``name``/``public_key`` verifies."""
    text = note.decode("utf-8")
    body, sep, signatures = text.partition("\n\n")
    if not sep:
        raise TileCheckFailed("the checkpoint is not a signed note")
    body += "\n"
    key_hash = _sha(name.encode(), b"\n\x01", public_key)[:4]
    for line in signatures.splitlines():
        prefix = f"\u2014 {name} "
        if line.startswith(prefix):
            blob = base64.b64decode(line[len(prefix):])
            if blob[:4] != key_hash:
                continue
            try:
                Ed25519PublicKey.from_public_bytes(public_key).verify(blob[4:], body.encode())
            except InvalidSignature as exc:
                raise TileCheckFailed("the checkpoint signature does not verify") from exc
            break
    else:
        raise TileCheckFailed(f"no signature by {name}")
    lines = body.split("\n")
    return lines[0], int(lines[1]), base64.b64decode(lines[2])


def read_log(fetch: Fetch, name: str, public_key: bytes, note: bytes | None = None, *,
             entries: bool = True) -> LogRead:
    """Check the log at the checkpoint ``note`` (default: the one ``fetch`` serves); without
    ``entries``, from its hash tiles only (the root needs no entry bundle)."""
    note = fetch("checkpoint") if note is None else note
    if note is None:
        raise TileCheckFailed("no checkpoint")
    origin, size, root = parse_note(note, name, public_key)
    paths: list[str] = []

    def get(level: int | str, n: int, width: int) -> bytes:
        path = tile_path(level, n, width)
        paths.append(path)
        data = fetch(path)
        if data is None and width < 256:  # a log may delete a partial tile once the full one is there
            full = fetch(tile_path(level, n, 256))
            if full is not None:
                data = full[:width * 32] if level != "entries" else _first_entries(full, width)
        if data is None:
            raise TileCheckFailed(f"{path} is missing")
        return data

    levels: list[list[bytes]] = []  # levels[L]: every complete node hash at tree level 8L
    level = 0
    while size >> (8 * level):
        count = size >> (8 * level)
        nodes: list[bytes] = []
        for n in range((count + 255) // 256):
            width = min(256, count - 256 * n)
            data = get(level, n, width)
            if len(data) != 32 * width:
                raise TileCheckFailed(f"tile {level}/{n} has {len(data)} bytes, not {32 * width}")
            nodes += [data[i:i + 32] for i in range(0, len(data), 32)]
        if level > 0:  # each hash is the root of a full tile of the level below
            below = levels[level - 1]
            for i, digest in enumerate(nodes):
                if _mth_perfect(below[256 * i:256 * i + 256]) != digest:
                    raise TileCheckFailed(f"tile hash {i} of level {level} does not match level {level - 1}")
        levels.append(nodes)
        level += 1
    leaves: list[bytes] = []
    for n in range((size + 255) // 256 if entries else 0):
        width = min(256, size - 256 * n)
        bundle = _first_entries(get("entries", n, width), None)
        if len(_split(bundle)) != width:
            raise TileCheckFailed(f"entry bundle {n} does not hold {width} entries")
        leaves += _split(bundle)
    for i, entry in enumerate(leaves):
        if _sha(b"\x00", entry) != levels[0][i]:
            raise TileCheckFailed(f"entry {i} does not hash to its leaf")
    if _root(size, levels) != root:
        raise TileCheckFailed("the tiles do not hash to the checkpoint's root")
    return LogRead(origin, size, root, leaves, paths)


def _root(size: int, levels: list[list[bytes]]) -> bytes:
    """RFC 9162 MTH: the aligned perfect subtrees of [0, size), largest first, folded from the right."""
    parts, start = [], 0
    for k in range(size.bit_length() - 1, -1, -1):
        if size >> k & 1:
            level, rest = divmod(k, 8)
            first = start >> (8 * level)
            parts.append(_mth_perfect(levels[level][first:first + (1 << rest)]))
            start += 1 << k
    node = parts[-1]
    for left in reversed(parts[:-1]):
        node = _sha(b"\x01", left, node)
    return node


def _split(bundle: bytes) -> list[bytes]:
    out, at = [], 0
    while at < len(bundle):
        if at + 2 > len(bundle):
            raise TileCheckFailed("a bundle ends inside a length")
        length = int.from_bytes(bundle[at:at + 2], "big")
        if at + 2 + length > len(bundle):
            raise TileCheckFailed("a bundle entry runs past the end")
        out.append(bundle[at + 2:at + 2 + length])
        at += 2 + length
    return out


def _first_entries(bundle: bytes, count: int | None) -> bytes:
    """The bytes of the first ``count`` entries of a bundle (all when None)."""
    if count is None:
        return bundle
    at = 0
    for _ in range(count):
        at += 2 + int.from_bytes(bundle[at:at + 2], "big")
    return bundle[:at]
