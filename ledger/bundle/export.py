"""``trajectledger export DIR``: write the log as a self-contained bundle (``layout``).

Entries are rebuilt from the event store (``Ledger.entries``), not from ``log_entries``, so
a byte changed in a stored event shows up in the bundle and fails verification; the leaf
hashes in the receipts are the ones ``log_entries`` stored at append time.

Receipts are of the format submitters get (``ledger.domain.receipt``, ``receipt_version`` 2):
a C2SP tlog-proof of the entry against the bundle's newest checkpoint - the ``checkpoint``
file, as ``checkpoints.jsonl`` has it - so an auditor checks each one as a submitter checks
its own (``trajectledger receipt verify``, or the verifier's step 2), and nothing is signed at
export time. The manifest's ``operator_key`` is the key that signed that checkpoint. The
proofs come from two reads of the stored leaf hashes
(``ledger.infra.transparency.streamed_proofs``). Bundles written before carry format 1
receipts (one signature each); the verifier reads either, line by line.

Streams page by page: memory does not grow with the size of the log. A scoped export
(``for_auditor``) reads the log twice - once to learn which dossiers the mandate holds an
entry of, once to write - and keeps what ``ledger.bundle.scope`` needs per client.
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
from ledger.bundle.scope import Mandate, Scope, ScopeError
from ledger.domain.canonical import canonical_bytes
from ledger.domain.checkpoint import CheckpointError, open_checkpoint, verifier_key_string
from ledger.domain.entry import ACCEPTED, leaf_bytes
from ledger.domain.envelope import b64decode
from ledger.domain.errors import LedgerError, MalformedSubmission
from ledger.domain.payloads import is_registry_type
from ledger.domain.registry.state import OPERATOR, RegistryState, evolve_registry
from ledger.infra.storage.log_append import LogAppend
from ledger.infra.storage.tables import log_entries
from ledger.infra.transparency.streamed_proofs import TILE, StreamedProofs
from ledger.receipt_signing import receipt_of

PAGE = 1024  # whole tiles: a page's receipts are made when its last tile is read


class ExportError(LedgerError):
    rule = "export.failed"


@dataclass(frozen=True)
class ExportSummary:
    directory: Path
    tree_size: int
    checkpoints: int
    registry_entries: int
    operator_keys: list[str]
    mandate: Mandate | None = None  # a scoped export: for whom, which funders
    withheld: int = 0  # entries written as their leaf hash only
    partial_dossiers: int = 0  # dossiers with entries both held and withheld


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


def export_bundle(ledger: Ledger, directory: Path | str, for_auditor: str | None = None) -> ExportSummary:
    """Write every entry recorded so far (and a checkpoint covering them) to ``directory``,
    which must not exist or be empty. With ``for_auditor``: the export scoped to that
    auditor's mandate as the registry stood at the bundle's tree size (``layout``,
    ``ledger.bundle.scope``): entries outside it are written as their leaf hashes."""
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ExportError(f"{directory} exists and is not an empty directory", field="directory")
    log = ledger.transparency
    newest = log.checkpoint()  # the whole log as of now: the bundle's tree size
    size = newest.tree_size
    mandate = None if for_auditor is None else mandate_at(ledger, for_auditor, size)
    disclosed = set() if mandate is None else _held_clients(ledger, size, mandate)  # first pass
    scope = None if mandate is None else Scope(mandate)
    directory.mkdir(parents=True, exist_ok=True)
    operator_keys: list[str] = []
    withheld, partial = 0, set()
    outs = {name: _Out(directory / name) for name in layout.FILES}
    try:
        last = newest.note
        for stored in log.checkpoints(up_to=size):
            outs[layout.CHECKPOINTS].write(
                canonical_bytes({"tree_size": stored.tree_size, "note": stored.note.decode("utf-8")}) + b"\n")
            last = stored.note  # witnesses may have cosigned it since ``newest`` was read: the receipts carry this
        receipts = _Receipts(outs[layout.RECEIPTS], StreamedProofs.of(log.leaf_hashes(0, size), size), last)
        for index, body, line, append in _lines(ledger, size):
            receipts.leaf(append)
            reason = _withheld(scope, body)
            payload = body["envelope"]["payload"]  # as stored: the verifier, not the exporter, judges it
            if reason is not None:
                outs[layout.ENTRIES].write(_withheld_line(index, line, payload.get("client_ref"), reason, disclosed)
                                           + b"\n")
                withheld += 1
                if payload.get("client_ref") in disclosed:
                    partial.add(payload["client_ref"])
                continue
            outs[layout.ENTRIES].write(line + b"\n")
            receipts.held(append)
            if is_registry_type(payload.get("type")):
                outs[layout.REGISTRY].write(line + b"\n")
                if (body["verdict"] == ACCEPTED and payload.get("party_id") == OPERATOR
                        and payload["type"] in ("PartyRegistered", "KeyAdded")):
                    operator_keys += _verifier_key(log.key_name, payload.get("public_key"))
        receipts.flush()
        outs[layout.CHECKPOINT].write(last)  # as in checkpoints.jsonl and the receipts
        outs[layout.OPERATOR_KEYS].write("".join(key + "\n" for key in operator_keys).encode("ascii"))
    finally:
        for out in outs.values():
            out.close()
    manifest: dict[str, Any] = {
        "format": layout.FORMAT if mandate is None else layout.SCOPED_FORMAT,
        "origin": log.origin,
        "key_name": log.key_name,
        "operator_key": _signer(last, operator_keys) or log.verifier_key,  # the key the receipts' checkpoint is signed with
        "tree_size": size,
        "counts": {count: outs[name].lines for count, name in layout.COUNTS.items()},
        "files": {name: {"sha256": out.sha256.hexdigest(), "bytes": out.bytes} for name, out in outs.items()},
    }
    if mandate is not None:
        manifest["scope"] = {"auditor": mandate.auditor, "funders": sorted(mandate.funders),
                             "withheld_entries": withheld, "partial_dossiers": len(partial)}
    (directory / layout.MANIFEST).write_bytes(layout.manifest_bytes(manifest))
    return ExportSummary(directory, size, manifest["counts"]["checkpoints"], manifest["counts"]["registry"],
                         operator_keys, mandate, withheld, len(partial))


class _Receipts:
    """receipts.jsonl: the format 2 receipt of each held entry, against the checkpoint ``note`` of
    the whole bundle. Leaves come in log order; a tile's receipts are written once it is whole."""

    def __init__(self, out: _Out, proofs: StreamedProofs, note: bytes) -> None:
        self._out, self._proofs, self._note = out, proofs, note
        self._first, self._leaves, self._held = 0, list[bytes](), list[LogAppend]()

    def leaf(self, append: LogAppend) -> None:
        """The next entry of the log, held or not (its leaf hash is in the tile either way)."""
        if len(self._leaves) == TILE:
            self.flush()
        self._leaves.append(append.leaf_hash or b"")

    def held(self, append: LogAppend) -> None:
        self._held.append(append)

    def flush(self) -> None:
        if not self._leaves:
            return
        held = {append.log_index: append for append in self._held}
        for index, proof in enumerate(self._proofs.tile(self._first, self._leaves), start=self._first):
            append = held.get(index)
            if append is not None:
                receipt = receipt_of(append, self._proofs.size, self._note, tuple(proof))
                self._out.write(canonical_bytes(receipt.as_dict()) + b"\n")
        self._first += len(self._leaves)
        self._leaves, self._held = [], []


def _signer(note: bytes, keys: list[str]) -> str | None:
    """The operator key (verifier key string) whose signature on ``note`` verifies."""
    for key in keys:
        try:
            open_checkpoint(note, [key])
        except CheckpointError:
            continue
        return key
    return None


def mandate_at(ledger: Ledger, auditor: str, size: int) -> Mandate:
    """The funders ``auditor`` audits as the registry stood at tree size ``size`` (its
    accepted entries before it, replayed); ``ExportError`` if it is no auditor or has no mandate."""
    with ledger.engine.connect() as connection:
        indexes = connection.execute(
            select(log_entries.c.log_index)
            .where(log_entries.c.originator_id == REGISTRY_ID, log_entries.c.log_index < size)
            .order_by(log_entries.c.log_index)
        ).scalars().all()
    registry = RegistryState()
    for index in indexes:
        for _, body in ledger.entries(index, 1):
            if body["verdict"] == ACCEPTED:
                evolve_registry(registry, body["envelope"]["payload"])
    role = registry.role_of(auditor)
    if role != "auditor":
        raise ExportError(f"{auditor!r} is {'not registered' if role is None else 'a ' + role}: an export is "
                          "scoped for an auditor", rule="export.not-an-auditor", field="for")
    funders = registry.audits(auditor)
    if not funders:
        raise ExportError(f"auditor {auditor!r} has no audit mandate for any funder", rule="audit.no-mandate",
                          field="for")
    return Mandate(auditor, frozenset(funders))


def _held_clients(ledger: Ledger, size: int, mandate: Mandate) -> set[str]:
    """The client_refs of the dossiers the mandate holds an entry of: a withheld entry of one
    of these names its dossier, so the verifier can say which dossiers it holds in part."""
    scope, held = Scope(mandate), set()
    for position in range(0, size, PAGE):
        for _, body in ledger.entries(position, min(PAGE, size - position)):
            client = body["envelope"]["payload"].get("client_ref")
            if _withheld(scope, body) is None and client is not None:
                held.add(client)
    return held


def _withheld(scope: Scope | None, body: dict[str, Any]) -> str | None:
    """Why ``scope`` withholds the entry (None: held); an entry it cannot place fails the export."""
    if scope is None:
        return None
    try:
        return scope.withheld(body)
    except ScopeError as exc:
        raise ExportError(exc.detail, rule=exc.rule, field=exc.field) from exc


def _withheld_line(index: int, leaf: bytes, client: object, reason: str, disclosed: set[str]) -> bytes:
    """What a withheld entry leaves in entries.jsonl: its leaf hash (of the entry as rebuilt,
    so an edited event still fails the roots), and in a dossier held in part its client_ref and why."""
    line: dict[str, Any] = {"leaf_hash": hashlib.sha256(b"\x00" + leaf).hexdigest(), "log_index": index}
    if client in disclosed:
        line.update(client_ref=client, withheld=reason)
    return canonical_bytes(line)


def _verifier_key(key_name: str, public_key: object) -> list[str]:
    try:
        return [verifier_key_string(key_name, b64decode(public_key, "payload.public_key", 32))]
    except MalformedSubmission:
        return []  # an edited event: the verifier reports its entry


def _lines(ledger: Ledger, size: int) -> Iterator[tuple[int, dict[str, Any], bytes, LogAppend]]:
    """(log index, entry body, leaf bytes, what its receipt is made from) for entries [0, size), in order."""
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
            yield index, body, leaf_bytes(body, index), append
            position += 1
        if position < end:
            raise ExportError(f"entry {position} is missing from the event store or the log", field="log_index")
