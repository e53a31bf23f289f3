"""Reading a bundle: the manifest (parsed strictly) and files streamed line by line, each
file's SHA-256, length and line count kept while it is read (one pass over the bytes)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ledger.bundle import layout
from ledger.domain.checkpoint import InvalidKeyError, parse_verifier_key
from ledger.verify.errors import MalformedInput

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class FileDigest:
    sha256: str
    bytes: int


@dataclass(frozen=True)
class ScopeClaim:
    """A scoped export's ``scope``, as the manifest states it (checked in step 7)."""

    auditor: str
    funders: list[str]
    withheld_entries: int
    partial_dossiers: int


@dataclass(frozen=True)
class Manifest:
    origin: str
    key_name: str
    operator_key: str  # C2SP verifier key string of the key that signed receipts.jsonl
    operator_public_key: bytes
    tree_size: int
    counts: dict[str, int]
    files: dict[str, FileDigest]
    scope: ScopeClaim | None = None  # a scoped export (layout.SCOPED_FORMAT)


def _malformed(rule: str, detail: str) -> MalformedInput:
    return MalformedInput(1, rule, detail, where=layout.MANIFEST)


def _count(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _malformed("manifest.field", f"{what} must be a non-negative integer")
    return value


def read_manifest(directory: Path) -> Manifest:
    """Step (1): parse manifest.json and check every file it lists is there."""
    try:
        raw = (directory / layout.MANIFEST).read_bytes()
        data = json.loads(raw)
    except FileNotFoundError as exc:
        raise _malformed("manifest.missing", f"no {layout.MANIFEST} in {directory}") from exc
    except (OSError, ValueError) as exc:
        raise _malformed("manifest.json", f"cannot read {layout.MANIFEST}: {exc}") from exc
    scoped = isinstance(data, dict) and data.get("format") in layout.READ_SCOPED_FORMATS
    fields = (*layout.MANIFEST_FIELDS, "scope") if scoped else layout.MANIFEST_FIELDS
    if not isinstance(data, dict) or sorted(data) != sorted(fields):
        raise _malformed("manifest.fields", f"expected exactly the fields {', '.join(fields)}")
    if layout.manifest_bytes(data) != raw:
        raise _malformed("manifest.canonical", "not written as the exporter writes it (sorted keys, two-space indent)")
    if data["format"] not in (*layout.READ_FORMATS, *layout.READ_SCOPED_FORMATS):
        raise _malformed("manifest.format", f"unknown bundle format {data['format']!r} "
                         f"(expected one of {', '.join((*layout.READ_FORMATS, *layout.READ_SCOPED_FORMATS))})")
    for name in ("origin", "key_name", "operator_key"):
        if not isinstance(data[name], str) or not data[name]:
            raise _malformed("manifest.field", f"{name} must be a non-empty string")
    try:
        name, _, public_key = parse_verifier_key(data["operator_key"])
    except InvalidKeyError as exc:
        raise _malformed("manifest.operator-key", str(exc)) from exc
    if name != data["key_name"]:
        raise _malformed("manifest.operator-key", f"the operator key is named {name!r}, not {data['key_name']!r}")
    counts, files = data["counts"], data["files"]
    if not isinstance(counts, dict) or sorted(counts) != sorted(layout.COUNTS):
        raise _malformed("manifest.counts", f"counts must be exactly {', '.join(layout.COUNTS)}")
    if not isinstance(files, dict) or sorted(files) != sorted(layout.FILES):
        raise _malformed("manifest.files", f"files must be exactly {', '.join(layout.FILES)}")
    digests: dict[str, FileDigest] = {}
    for file_name, digest in files.items():
        if not isinstance(digest, dict) or sorted(digest) != ["bytes", "sha256"] or not isinstance(digest["sha256"], str) \
                or not _SHA256.fullmatch(digest["sha256"]):
            raise _malformed("manifest.files", f"{file_name}: expected {{sha256: 64 hex digits, bytes}}")
        digests[file_name] = FileDigest(digest["sha256"], _count(digest["bytes"], f"{file_name} bytes"))
        if not (directory / file_name).is_file():
            raise MalformedInput(1, "file.missing", f"the manifest lists {file_name} but it is not there", where=file_name)
    return Manifest(
        origin=data["origin"], key_name=data["key_name"], operator_key=data["operator_key"],
        operator_public_key=public_key, tree_size=_count(data["tree_size"], "tree_size"),
        counts={key: _count(value, f"counts.{key}") for key, value in counts.items()}, files=digests,
        scope=_scope(data["scope"]) if scoped else None,
    )


def _scope(scope: Any) -> ScopeClaim:
    if not isinstance(scope, dict) or sorted(scope) != sorted(layout.SCOPE_FIELDS):
        raise _malformed("manifest.scope", f"scope must be exactly {', '.join(layout.SCOPE_FIELDS)}")
    auditor, funders = scope["auditor"], scope["funders"]
    if not isinstance(auditor, str) or not auditor:
        raise _malformed("manifest.scope", "scope.auditor must be a party id")
    if not isinstance(funders, list) or not funders or not all(isinstance(f, str) and f for f in funders) \
            or funders != sorted(set(funders)):
        raise _malformed("manifest.scope", "scope.funders must be a non-empty sorted list of distinct party ids")
    return ScopeClaim(auditor, funders, _count(scope["withheld_entries"], "scope.withheld_entries"),
                      _count(scope["partial_dossiers"], "scope.partial_dossiers"))


class Lines:
    """One file's lines (each with its newline, if it has one), read a block of lines at a
    time (``BLOCK`` bytes or one line, whichever is more) and hashed as they are read."""

    BLOCK = 1 << 16

    def __init__(self, path: Path) -> None:
        self.name = path.name
        self._file: BinaryIO = path.open("rb")
        self.sha256 = hashlib.sha256()
        self.bytes = self.lines = 0  # read (and hashed) so far
        self._block: list[bytes] = []
        self._at = 0  # lines of the block handed out

    def _read_block(self) -> bool:
        block = self._file.readlines(self.BLOCK)
        data = b"".join(block)
        self.sha256.update(data)
        self.bytes += len(data)
        self.lines += len(block)
        self._block, self._at = block, 0
        return bool(block)

    def next(self) -> bytes | None:
        if self._at == len(self._block) and not self._read_block():
            return None
        line = self._block[self._at]
        self._at += 1
        return line

    def next_lines(self) -> list[bytes]:
        """The lines of the current block not yet handed out (empty at the end)."""
        if self._at == len(self._block):
            self._read_block()
        lines = self._block[self._at:] if self._at else self._block
        self._at = len(self._block)
        return lines

    def rest(self) -> int:
        """Read (and hash) what is left; the number of lines there were."""
        count = len(self._block) - self._at
        while self._read_block():
            count += len(self._block)
        self._at = len(self._block)
        return count

    def read_rest(self) -> bytes:
        """What is left of a small file, read (and hashed) whole."""
        parts = self._block[self._at:]
        while self._read_block():
            parts += self._block
        self._at = len(self._block)
        return b"".join(parts)

    def digest(self) -> FileDigest:
        return FileDigest(self.sha256.hexdigest(), self.bytes)

    def close(self) -> None:
        self._file.close()
