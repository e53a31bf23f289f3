"""The auditor's own inputs: a trusted operator key and an earlier checkpoint (step 1)."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.domain.checkpoint import InvalidKeyError, MalformedCheckpointError, parse_verifier_key
from ledger.verify.checkpoints import NoteLine, note_body
from ledger.verify.errors import MalformedInput


@dataclass(frozen=True)
class TrustedKey:
    verifier_key: str
    name: str
    public_key: bytes


def parse_trusted_key(text: str) -> TrustedKey:
    """A C2SP verifier key string (surrounding whitespace ignored); ``MalformedInput`` if not."""
    verifier_key = text.strip()
    try:
        name, _, public_key = parse_verifier_key(verifier_key)
    except InvalidKeyError as exc:
        raise MalformedInput(1, "trusted-key.format", str(exc), where="--trusted-operator-key") from exc
    return TrustedKey(verifier_key, name, public_key)


def parse_old_checkpoint(note: bytes) -> NoteLine:
    """The auditor's earlier signed note (checked against the log in step 8)."""
    try:
        body = note_body(note)
    except MalformedCheckpointError as exc:
        raise MalformedInput(1, "against.note", str(exc), where="--against") from exc
    if body.size < 1:
        raise MalformedInput(1, "against.size", "a checkpoint of the empty tree proves nothing", where="--against")
    return NoteLine(body.size, note, body)
