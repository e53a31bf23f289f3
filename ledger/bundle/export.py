"""``trajectledger export DIR``: write the log as a self-contained bundle (``layout``).

Entries are rebuilt from the event store (``Ledger.entries``), not from ``log_entries``, so
a byte changed in a stored event shows up in the bundle and fails verification; the leaf
hashes in the receipts are the ones ``log_entries`` stored at append time. Receipts are
signed again with the operator key (Ed25519 is deterministic: with an unchanged key each is
byte-identical to the receipt its submitter got).

Streams page by page: memory does not grow with the size of the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select

from ledger.aggregates import REGISTRY_ID
from ledger.application import Ledger
from ledger.bundle import layout
from ledger.domain.canonical import canonical_bytes
from ledger.domain.checkpoint import verifier_key_string
from ledger.domain.entry import ACCEPTED, leaf_bytes
from ledger.domain.envelope import b64decode
from ledger.domain.errors import LedgerError, MalformedSubmission
from ledger.domain.payloads import is_registry_type
from ledger.domain.registry.state import OPERATOR
from ledger.infra.storage.log_append import LogAppend
from ledger.infra.storage.tables import log_entries
from ledger.receipt_signing import sign_receipts

PAGE = 1000


class ExportError(LedgerError):
    rule = "export.failed"


@dataclass(frozen=True)
class ExportSummary:
    directory: Path
    tree_size: int
    checkpoints: int
    registry_entries: int
    operator_keys: list[str]


class _Out:
    """A file written line by line, its SHA-256, length and line count kept on the way."""

    def __init__(self, path: Path) -> None:
        self._file: BinaryIO = path.open("xb")
        self.sha256 = hashlib.sha256()
        self.bytes = self.lines = 0

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self.sha256.update(data)
        self.bytes += len(data)
        self.lines += data.count(b"\n")

    def close(self) -> None:
        self._file.close()


def export_bundle(ledger: Ledger, directory: Path | str) -> ExportSummary:
    """Write every entry recorded so far (and a checkpoint covering them) to ``directory``,
    which must not exist or be empty."""
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ExportError(f"{directory} exists and is not an empty directory", field="directory")
    directory.mkdir(parents=True, exist_ok=True)
    log = ledger.transparency
    newest = log.checkpoint()  # the whole log as of now: the bundle's tree size
    size = newest.tree_size
    operator_keys: list[str] = []
    outs = {name: _Out(directory / name) for name in layout.FILES}
    try:
        for body, line, receipt in _lines(ledger, size):
            outs[layout.ENTRIES].write(line + b"\n")
            outs[layout.RECEIPTS].write(receipt + b"\n")
            payload = body["envelope"]["payload"]  # as stored: the verifier, not the exporter, judges it
            if is_registry_type(payload.get("type")):
                outs[layout.REGISTRY].write(line + b"\n")
                if (body["verdict"] == ACCEPTED and payload.get("party_id") == OPERATOR
                        and payload["type"] in ("PartyRegistered", "KeyAdded")):
                    operator_keys += _verifier_key(log.key_name, payload.get("public_key"))
        for stored in log.checkpoints(up_to=size):
            outs[layout.CHECKPOINTS].write(
                canonical_bytes({"tree_size": stored.tree_size, "note": stored.note.decode("utf-8")}) + b"\n")
        outs[layout.CHECKPOINT].write(newest.note)
        outs[layout.OPERATOR_KEYS].write("".join(key + "\n" for key in operator_keys).encode("ascii"))
    finally:
        for out in outs.values():
            out.close()
    manifest: dict[str, Any] = {
        "format": layout.FORMAT,
        "origin": log.origin,
        "key_name": log.key_name,
        "operator_key": log.verifier_key,
        "tree_size": size,
        "counts": {count: outs[name].lines for count, name in layout.COUNTS.items()},
        "files": {name: {"sha256": out.sha256.hexdigest(), "bytes": out.bytes} for name, out in outs.items()},
    }
    (directory / layout.MANIFEST).write_bytes(layout.manifest_bytes(manifest))
    return ExportSummary(directory, size, manifest["counts"]["checkpoints"], manifest["counts"]["registry"], operator_keys)


def _verifier_key(key_name: str, public_key: object) -> list[str]:
    try:
        return [verifier_key_string(key_name, b64decode(public_key, "payload.public_key", 32))]
    except MalformedSubmission:
        return []  # an edited event: the verifier reports its entry


def _lines(ledger: Ledger, size: int) -> Iterator[tuple[dict[str, Any], bytes, bytes]]:
    """(entry body, leaf bytes, canonical signed receipt) for entries [0, size), in order."""
    position = 0
    while position < size:
        end = min(position + PAGE, size)
        page = ledger.entries(position, end - position)
        with ledger.engine.connect() as connection:
            stored = connection.execute(
                select(log_entries.c.log_index, log_entries.c.leaf_hash, log_entries.c.originator_id,
                       log_entries.c.originator_version)
                .where(log_entries.c.log_index >= position, log_entries.c.log_index < end)
                .order_by(log_entries.c.log_index)
            ).all()
        for expected, ((index, body), row) in enumerate(zip(page, stored), start=position):
            if index != expected or row.log_index != expected:
                break
            append = LogAppend(row.originator_id, row.originator_version, body, REGISTRY_ID, 0)
            append.log_index, append.leaf_hash = index, bytes(row.leaf_hash)
            receipt = sign_receipts([append], ledger.settings.operator_key, ledger.operator_key_id)[0]
            yield body, leaf_bytes(body, index), canonical_bytes(receipt.as_dict())
            position += 1
        if position < end:
            raise ExportError(f"entry {position} is missing from the event store or the log", field="log_index")
