"""Signing a write's receipts, as the guard of its transaction (``WritePlan.guard``): one
operator signature per committed batch, however many entries it holds.

Once the write holds the log's lock its entries have their indexes and leaf hashes. The
guard then takes the log's frontier (its compact range, kept by ``TransparencyLog`` and
brought up to date from the same transaction), appends the batch's leaves, and signs ONE
C2SP checkpoint of the new tree size and root with the operator key, under the log's origin.
The checkpoint is stored in the same transaction as the entries, and every entry's receipt
is a C2SP tlog-proof against it (``ledger.domain.receipt``): an entry is never stored
without the signed checkpoint its receipt proves inclusion in. In a batch on worker
processes the batch commits only if every envelope's signature (still being checked when
the write began) held.

Format 1 receipts (one operator signature per entry) are no longer made; the verifier still
reads them in bundles written before (``ledger.domain.signed_receipt``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ledger.domain.merkle.batch import BatchTree
from ledger.domain.receipt import Receipt
from ledger.infra.storage.log_append import LogAppend
from ledger.infra.storage.write_plan import CheckpointRow, LogTail
from ledger.infra.transparency.service import TransparencyLog


class Signatures(Protocol):
    """The part of a worker batch this needs: its checks' answers."""

    def results(self) -> list[bool]: ...


class BadSignature(Exception):
    """A batch envelope's signature failed its check while the batch was being written."""


class BatchCheckpoint:
    """The commit guard of a write: signs one checkpoint for it and makes its receipts;
    with ``awaiting_checks``, refuses to commit (``BadSignature``) unless every signature
    checked on ``signatures`` held."""

    def __init__(self, log: TransparencyLog, signatures: Signatures | None = None, awaiting_checks: bool = False) -> None:
        self._log = log
        self._signatures, self._awaiting_checks = signatures, awaiting_checks
        self._appends: Sequence[LogAppend] = ()
        self._row: CheckpointRow | None = None
        self.tree: BatchTree | None = None
        self.receipts: list[Receipt] = []

    def indexed(self, appends: Sequence[LogAppend], tail: LogTail) -> None:
        """Append the batch to the log's frontier and sign the checkpoint of the new tree -
        unless the batch revokes the key it would be signed with: a checkpoint must be signed
        by a key live at its size, so that write is recorded unsigned (and the ledger then
        stops: ``OperatorKeyNotLive``); a ledger running with a live key signs the next one."""
        self._appends = appends
        if not appends or any(_revokes(append, self._log.signer_key_id) for append in appends):
            return
        first = appends[0].log_index
        hashes = [append.leaf_hash for append in appends]
        if first is None or any(h is None for h in hashes):
            raise RuntimeError("the log entries were not assigned indexes")  # cannot happen after log_rows
        self.tree = BatchTree(self._log.frontier(first, tail), hashes)  # type: ignore[arg-type]
        self._row = self._log.sign_row(self.tree.size, self.tree.root())

    def checkpoint(self) -> CheckpointRow | None:
        return self._row

    def before_commit(self) -> None:
        """Make the receipts, then (awaiting checks) refuse to commit unless every signature
        held: made first, they are made while the workers finish the last checks."""
        if self._row is not None and self.tree is not None:  # else nothing appended, or a write revoking this key
            note, size, tree = self._row.note.encode("utf-8"), self._row.tree_size, self.tree
            self.receipts = [receipt_of(append, size, note, tree) for append in self._appends]
        if self._awaiting_checks and self._signatures is not None and not all(self._signatures.results()):
            self.receipts = []
            raise BadSignature


def _revokes(append: LogAppend, key_id: str) -> bool:
    """Whether this entry revokes the operator key ``key_id`` (accepted)."""
    body = append.body
    payload = body["envelope"]["payload"]
    return bool(body["verdict"] == "accepted" and payload["type"] == "KeyRevoked"
                and payload.get("party_id") == "operator" and payload.get("key_id") == key_id)


def receipt_of(append: LogAppend, tree_size: int, note: bytes, path: tuple[bytes, ...] | BatchTree) -> Receipt:
    """The receipt of an indexed entry, against the checkpoint ``note`` of ``tree_size``."""
    if append.log_index is None or append.leaf_hash is None:
        raise RuntimeError("the log entry was not assigned an index")  # cannot happen after a write
    body = append.body
    refusal = body["refusal"]
    return Receipt(body["envelope"]["payload"]["envelope_id"], body["verdict"],
                   None if refusal is None else dict(refusal), body["recorded_at"], append.log_index,
                   append.leaf_hash.hex(), tree_size, note, path)
