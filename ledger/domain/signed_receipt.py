"""Receipts of format 1: one Ed25519 signature by the operator per entry (trajectledger 0.1
to 0.x; kept so that receipts given out then still verify, and for an export's
``receipts.jsonl``). New submissions get proof receipts (``ledger.domain.receipt``).

A format 1 receipt is the JSON object of the fields below; ``signature`` is over the RFC 8785
canonical JSON of every other field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.domain.canonical import canonical_bytes
from ledger.domain.envelope import b64decode, b64encode, key_id_for, public_key_bytes
from ledger.domain.errors import BadSignature


@dataclass(frozen=True)
class SignedReceipt:
    envelope_id: str
    verdict: str  # "accepted" | "refused"
    refusal: dict[str, Any] | None  # rule, field, detail, conflicting_claim
    recorded_at: str
    log_index: int
    leaf_hash: str  # hex
    key_id: str = ""
    signature: str = ""

    version = 1

    @property
    def accepted(self) -> bool:
        return self.verdict == "accepted"

    def body(self) -> dict[str, Any]:
        """What the signature is over: every field but the signature."""
        return {
            "envelope_id": self.envelope_id,
            "verdict": self.verdict,
            "refusal": None if self.refusal is None else dict(self.refusal),
            "recorded_at": self.recorded_at,
            "log_index": self.log_index,
            "leaf_hash": self.leaf_hash,
            "key_id": self.key_id,
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.body(), "signature": self.signature}


def sign_receipt(receipt: SignedReceipt, key: Ed25519PrivateKey, key_id: str | None = None) -> SignedReceipt:
    body = {**receipt.body(), "key_id": key_id or key_id_for(public_key_bytes(key))}
    return SignedReceipt(**body, signature=b64encode(key.sign(canonical_bytes(body))))


def verify_signed_receipt(receipt: SignedReceipt, public_key: bytes) -> None:
    if receipt.key_id != key_id_for(public_key):
        raise BadSignature("the receipt was signed by another key", field="key_id")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            b64decode(receipt.signature, "signature", 64), canonical_bytes(receipt.body())
        )
    except InvalidSignature as exc:
        raise BadSignature("the receipt's signature does not verify", field="signature") from exc
