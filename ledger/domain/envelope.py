"""Signed envelopes: ``{payload, submitter, key_id, signature}``.

The signature is Ed25519 over the RFC 8785 (JCS) canonical bytes of ``payload``.
Functions here take and return primitives (dicts, bytes, str) so the verifier and
the client SDK can use them without the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.domain.canonical import canonical_bytes
from ledger.domain.errors import BadSignature, MalformedSubmission

ENVELOPE_FIELDS = ("payload", "submitter", "key_id", "signature")
PEM_PRIVATE_KEY = b"-----BEGIN PRIVATE KEY-----"


def public_key_bytes(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_for(public_key: bytes) -> str:
    """Key id: the first 16 hex digits of SHA-256 of the raw 32-byte public key."""
    return "ed25519:" + hashlib.sha256(public_key).hexdigest()[:16]


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: object, field: str, length: int | None = None) -> bytes:
    if not isinstance(text, str):
        raise MalformedSubmission("expected a base64 string", rule="base64.format", field=field)
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise MalformedSubmission("not valid base64", rule="base64.format", field=field) from exc
    if length is not None and len(data) != length:
        raise MalformedSubmission(f"expected {length} bytes", rule="base64.length", field=field)
    return data


@dataclass(frozen=True)
class Envelope:
    payload: dict[str, Any]
    submitter: str
    key_id: str
    signature: str  # base64 of the 64-byte Ed25519 signature

    def as_dict(self) -> dict[str, Any]:
        return {
            "payload": self.payload,
            "submitter": self.submitter,
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @property
    def envelope_id(self) -> str:
        return str(self.payload["envelope_id"])

    def payload_digest(self) -> str:
        return hashlib.sha256(canonical_bytes(self.payload)).hexdigest()


def sign(payload: dict[str, Any], submitter: str, private_key: Ed25519PrivateKey) -> Envelope:
    signature = private_key.sign(canonical_bytes(payload))
    return Envelope(
        payload=payload,
        submitter=submitter,
        key_id=key_id_for(public_key_bytes(private_key)),
        signature=b64encode(signature),
    )


def parse_envelope(data: object) -> Envelope:
    """Check the envelope's shape (not its signature)."""
    if not isinstance(data, dict):
        raise MalformedSubmission("an envelope is a JSON object", rule="envelope.shape", field="envelope")
    for name in ENVELOPE_FIELDS:
        if name not in data:
            raise MalformedSubmission("required", rule="field.required", field=name)
    extra = sorted(set(data) - set(ENVELOPE_FIELDS))
    if extra:
        raise MalformedSubmission("unknown envelope field", rule="field.unknown", field=extra[0])
    if not isinstance(data["payload"], dict):
        raise MalformedSubmission("the payload is a JSON object", rule="field.type", field="payload")
    for name in ("submitter", "key_id"):
        if not isinstance(data[name], str) or not data[name] or len(data[name]) > 100:
            raise MalformedSubmission("a non-empty string of at most 100 characters", rule="field.type", field=name)
    b64decode(data["signature"], "signature", length=64)
    return Envelope(data["payload"], data["submitter"], data["key_id"], data["signature"])


def verify_signature(envelope: Envelope, public_key: bytes, message: bytes | None = None) -> None:
    """Raise ``BadSignature`` unless the signature is over the canonical payload bytes
    (``message``, where the caller made them already)."""
    signature = b64decode(envelope.signature, "signature", length=64)
    if message is None:
        message = canonical_bytes(envelope.payload)
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature as exc:
        raise signature_fails() from exc


def signature_fails() -> BadSignature:
    return BadSignature("the signature does not verify against the submitter's key", field="signature")


def load_private_key(raw: bytes) -> Ed25519PrivateKey:
    """Load an Ed25519 private key from the bytes of an unencrypted PEM (PKCS#8) file, as
    ``private_key_pem`` writes it. Anything else is refused (``ValueError``): a raw 32-byte
    string cannot be told apart from the pseudonymisation key or any other random bytes."""
    if not raw.lstrip().startswith(PEM_PRIVATE_KEY):
        if raw.lstrip().startswith(b"-----BEGIN ENCRYPTED"):
            raise ValueError("an encrypted private key: the ledger reads unencrypted PEM (PKCS#8) keys only")
        raise ValueError("not an Ed25519 private key in PEM (PKCS#8: '-----BEGIN PRIVATE KEY-----')")
    try:
        key = serialization.load_pem_private_key(raw, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"not a readable PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"not an Ed25519 private key ({type(key).__name__})")
    return key


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
