"""Signing the receipts of a write, as the guard of its transaction (``WritePlan.guard``).

A receipt names its entry's log index and leaf hash, which are known only once the write
holds the log's lock; it is signed before the transaction commits, so an entry is never
stored without a receipt the submitter can be given. In a batch on worker processes the
receipts are signed there while the rows are written, and the batch commits only if every
envelope's signature (still being checked when the write began) held.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.canonical import canonical_bytes
from ledger.domain.envelope import b64encode
from ledger.domain.receipt import Receipt
from ledger.infra.storage.log_append import LogAppend


class Signatures(Protocol):
    """The part of a worker batch this needs: its checks' answers, and signing."""

    def results(self) -> list[bool]: ...

    def sign(self, messages: list[bytes]) -> Any: ...  # has .result() -> list[bytes]


class BadSignature(Exception):
    """A batch envelope's signature failed its check while the batch was being written."""


def receipt_body(append: LogAppend, key_id: str) -> dict[str, Any]:
    """What the receipt of a written entry signs (``Receipt.body``)."""
    if append.log_index is None or append.leaf_hash is None:
        raise RuntimeError("the log entry was not assigned an index")  # cannot happen after a write
    body = append.body
    refusal = body["refusal"]
    return {
        "envelope_id": body["envelope"]["payload"]["envelope_id"],
        "verdict": body["verdict"],
        "refusal": None if refusal is None else dict(refusal),
        "recorded_at": body["recorded_at"],
        "log_index": append.log_index,
        "leaf_hash": append.leaf_hash.hex(),
        "key_id": key_id,
    }


def sign_receipts(appends: Sequence[LogAppend], key: Ed25519PrivateKey, key_id: str) -> list[Receipt]:
    """The receipts of indexed entries, signed here."""
    bodies = [receipt_body(append, key_id) for append in appends]
    return [Receipt(**body, signature=b64encode(key.sign(canonical_bytes(body)))) for body in bodies]


class ReceiptSigning:
    """The commit guard of a write: signs its receipts; with ``awaiting_checks``, refuses to
    commit (``BadSignature``) unless every signature checked on ``signatures`` held."""

    def __init__(self, key: Ed25519PrivateKey, key_id: str, signatures: Signatures | None = None,
                 awaiting_checks: bool = False) -> None:
        self._key, self._key_id = key, key_id
        self._signatures, self._awaiting_checks = signatures, awaiting_checks
        self._finish: Callable[[], list[Receipt]] | None = None
        self.receipts: list[Receipt] = []

    def indexed(self, appends: Sequence[LogAppend]) -> None:
        """Start signing (on the workers, where there are some) while the rows are written."""
        bodies = [receipt_body(append, self._key_id) for append in appends]
        messages = [canonical_bytes(body) for body in bodies]
        signing = self._signatures.sign(messages) if self._signatures is not None else None

        def finish() -> list[Receipt]:
            raw = signing.result() if signing is not None else [self._key.sign(m) for m in messages]
            return [Receipt(**body, signature=b64encode(signature)) for body, signature in zip(bodies, raw)]

        self._finish = finish

    def before_commit(self) -> None:
        if self._awaiting_checks and self._signatures is not None and not all(self._signatures.results()):
            raise BadSignature
        if self._finish is None:
            raise RuntimeError("the write was not indexed")  # cannot happen: the recorder indexes first
        self.receipts = self._finish()
