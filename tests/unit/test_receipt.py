"""Format 1 receipts (one operator signature each, still verified when kept): the signed body holds every field but the signature; any change breaks it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.envelope import public_key_bytes
from ledger.domain.errors import BadSignature
from ledger.domain.signed_receipt import SignedReceipt as Receipt
from ledger.domain.signed_receipt import sign_receipt
from ledger.domain.signed_receipt import verify_signed_receipt as verify_receipt

KEY = Ed25519PrivateKey.generate()
RECEIPT = Receipt("e1", "refused", {"rule": "claim.double", "field": "payload.job_start"}, "2026-01-01T00:00:00.000000Z",
                  7, "ab" * 32)


def test_body_is_every_field_but_the_signature() -> None:
    names = {f.name for f in dataclasses.fields(Receipt)}
    assert set(RECEIPT.body()) == names - {"signature"}
    assert set(RECEIPT.as_dict()) == names


@pytest.mark.parametrize("field, value", [
    ("verdict", "accepted"), ("log_index", 8), ("leaf_hash", "cd" * 32), ("recorded_at", "2026-01-01T00:00:00.000001Z"),
    ("envelope_id", "e2"), ("refusal", None),
])
def test_a_changed_field_no_longer_verifies(field: str, value: Any) -> None:
    signed = sign_receipt(RECEIPT, KEY)
    verify_receipt(signed, public_key_bytes(KEY))
    with pytest.raises(BadSignature):
        verify_receipt(dataclasses.replace(signed, **{field: value}), public_key_bytes(KEY))
