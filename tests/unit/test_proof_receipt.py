"""Format 2 receipts: a C2SP tlog-proof against a checkpoint signed once per batch. It
verifies offline with the envelope, and fails after any byte of it changes."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.checkpoint import Checkpoint, sign_checkpoint, verifier_key_string
from ledger.domain.entry import entry_body, leaf_bytes
from ledger.domain.envelope import public_key_bytes, sign
from ledger.domain.errors import LedgerError
from ledger.domain.merkle import leaf_hash
from ledger.domain.merkle.batch import BatchTree, Frontier
from ledger.domain.receipt import MalformedReceipt, Receipt, ReceiptNotVerified, receipt_from_dict
from ledger.domain.receipt_check import verify_receipt, verify_tlog_proof
from ledger.domain.signed_receipt import SignedReceipt, sign_receipt
from ledger.domain.tlog_proof import MalformedTlogProof, format_tlog_proof, parse_tlog_proof

ORIGIN = "example.nl/ledger"
OPERATOR = Ed25519PrivateKey.generate()
VKEY = verifier_key_string(ORIGIN, public_key_bytes(OPERATOR))
SUBMITTER = Ed25519PrivateKey.generate()
ENVELOPE = sign({"envelope_id": "6f1c3a52-57a4-4c1b-9d0e-1f2a3b4c5d6e", "type": "PlacementClaimed",
                 "occurred_on": "2026-01-02", "client_ref": "ab" * 32}, "werkfit", SUBMITTER).as_dict()
REFUSAL = {"rule": "claim.unique-job", "field": "payload.employer_kvk", "detail": "claimed already",
           "conflicting_claim": "c1"}
RECORDED_AT = "2026-01-02T10:00:00.000001Z"
INDEX = 11


def _receipt(verdict: str = "refused", refusal: dict[str, Any] | None = REFUSAL) -> Receipt:
    """Entry INDEX of a log of 14, in a batch of [9, 14), with the batch's signed checkpoint."""
    others = [hashlib.sha256(b"%d" % i).digest() for i in range(14)]
    leaf = leaf_hash(leaf_bytes(entry_body(ENVELOPE, verdict, refusal, RECORDED_AT), INDEX))
    hashes = others[:INDEX] + [leaf] + others[INDEX + 1:]
    tree = BatchTree(Frontier().extended(hashes[:9]), hashes[9:])
    note = sign_checkpoint(Checkpoint(ORIGIN, tree.size, tree.root(), ("time 2026-01-02T10:00:00.000002Z",)),
                           ORIGIN, OPERATOR)
    return Receipt(ENVELOPE["payload"]["envelope_id"], verdict, refusal, RECORDED_AT, INDEX, leaf.hex(),
                   tree.size, note, tree)


RECEIPT = _receipt()
TEXT = RECEIPT.tlog_proof()


def test_a_receipt_verifies_offline_with_its_envelope() -> None:
    checkpoint = verify_receipt(RECEIPT, [VKEY], ENVELOPE)
    assert (checkpoint.origin, checkpoint.size) == (ORIGIN, 14)
    again = receipt_from_dict(RECEIPT.as_dict())
    assert isinstance(again, Receipt) and again.as_dict() == RECEIPT.as_dict()
    verify_receipt(again, [VKEY], ENVELOPE)
    bare = verify_tlog_proof(TEXT, [VKEY], ENVELOPE)
    assert bare.as_dict() == RECEIPT.as_dict()


def test_the_text_is_a_c2sp_tlog_proof() -> None:
    lines = TEXT.decode().split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1" and lines[1].startswith("extra ") and lines[2] == "index 11"
    parsed = parse_tlog_proof(TEXT)
    assert parsed.index == INDEX and list(parsed.hashes) == list(RECEIPT.proof())
    assert parsed.checkpoint == RECEIPT.checkpoint and parsed.extra == RECEIPT.extra()
    assert format_tlog_proof(parsed.index, parsed.hashes, parsed.checkpoint, parsed.extra) == TEXT


def test_the_specs_example_parses() -> None:
    example = ("c2sp.org/tlog-proof@v1\nextra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\nindex 73894\n"
               "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\nB95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
               "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\nRoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"
               "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n\nexample.com/fancylog\n109482\n"
               "sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n\u2014 example.com/fancylog hI2DJw==\n").encode()
    parsed = parse_tlog_proof(example)
    assert parsed.index == 73894 and len(parsed.hashes) == 5
    assert parsed.checkpoint.startswith(b"example.com/fancylog\n109482\n")
    assert parsed.extra is not None and parsed.extra.startswith(b"age-v1.2.1-darwin-arm64.tar.gz")


@pytest.mark.parametrize("text", [
    b"", b"c2sp.org/tlog-proof@v1\nindex 1\n", b"c2sp.org/tlog-proof@v2\nindex 1\n\nx\n",
    b"c2sp.org/tlog-proof@v1\nindex 01\n\nx\n", b"c2sp.org/tlog-proof@v1\nextra \nindex 1\n\nx\n",
    b"c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\nx\n", b"c2sp.org/tlog-proof@v1\nidx 1\n\nx\n",
])
def test_malformed_proofs_are_named_so(text: bytes) -> None:
    with pytest.raises(MalformedTlogProof):
        parse_tlog_proof(text)


def _fails(text: bytes) -> bool:
    """True if this text, as a bare proof or inside the JSON receipt, does not verify."""
    try:
        verify_tlog_proof(text, [VKEY], ENVELOPE)
    except LedgerError:
        pass
    else:
        return False
    try:
        data = {**RECEIPT.as_dict(), "tlog_proof": text.decode("utf-8")}
    except UnicodeDecodeError:
        return True  # cannot even be put in a JSON receipt
    try:
        found = receipt_from_dict(data)
        if isinstance(found, Receipt):
            verify_receipt(found, [VKEY], ENVELOPE)
    except LedgerError:
        return True
    return False


@pytest.mark.parametrize("mask", [0x01, 0x02, 0x10, 0x20, 0x40, 0x80])
def test_every_byte_of_the_proof_matters(mask: int) -> None:
    assert not _fails(TEXT)
    survivors = [position for position in range(len(TEXT))
                 if not _fails(TEXT[:position] + bytes([TEXT[position] ^ mask]) + TEXT[position + 1:])]
    assert survivors == []


@given(st.data())
def test_any_change_of_any_byte_fails(data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(TEXT) - 1))
    value = data.draw(st.integers(0, 255).filter(lambda v: v != TEXT[position]))
    assert _fails(TEXT[:position] + bytes([value]) + TEXT[position + 1:])


def test_cut_or_lengthened_proofs_fail() -> None:
    assert not _fails(TEXT)
    assert all(_fails(TEXT[:n]) for n in range(len(TEXT)))
    assert _fails(TEXT + b"\n") and _fails(b"\n" + TEXT)


@pytest.mark.parametrize("name, value", [
    ("verdict", "accepted"), ("refusal", None), ("recorded_at", "2026-01-02T10:00:00.000002Z"), ("log_index", 10),
    ("leaf_hash", "00" * 32), ("tree_size", 15), ("envelope_id", "6f1c3a52-57a4-4c1b-9d0e-1f2a3b4c5d6f"),
])
def test_every_member_of_the_json_receipt_is_checked(name: str, value: Any) -> None:
    with pytest.raises(LedgerError):
        found = receipt_from_dict({**RECEIPT.as_dict(), name: value})
        assert isinstance(found, Receipt)
        verify_receipt(found, [VKEY], ENVELOPE)


def test_a_proof_of_another_verdict_does_not_open_with_this_envelope() -> None:
    accepted = _receipt("accepted", None)
    verify_receipt(accepted, [VKEY], ENVELOPE)
    other = sign({**ENVELOPE["payload"], "occurred_on": "2026-01-01"}, "werkfit", SUBMITTER).as_dict()
    with pytest.raises(ReceiptNotVerified):
        verify_receipt(accepted, [VKEY], other)


def test_fails_closed_without_keys_or_under_another_key() -> None:
    with pytest.raises(ReceiptNotVerified):
        verify_receipt(RECEIPT, [], ENVELOPE)
    other = verifier_key_string(ORIGIN, public_key_bytes(Ed25519PrivateKey.generate()))
    with pytest.raises(ReceiptNotVerified):
        verify_receipt(RECEIPT, [other], ENVELOPE)


def test_without_the_envelope_only_the_inclusion_of_the_leaf_is_checked() -> None:
    assert verify_receipt(RECEIPT, [VKEY]).size == 14


def test_format_1_receipts_are_read_back_as_signed_receipts() -> None:
    old = sign_receipt(SignedReceipt(RECEIPT.envelope_id, RECEIPT.verdict, RECEIPT.refusal, RECORDED_AT, INDEX,
                                     RECEIPT.leaf_hash), OPERATOR)
    assert receipt_from_dict(old.as_dict()) == old


@pytest.mark.parametrize("data", [
    [], {"receipt_version": 3}, {"receipt_version": "2"}, {**RECEIPT.as_dict(), "extra": 1},
    {k: v for k, v in RECEIPT.as_dict().items() if k != "tlog_proof"}, {**RECEIPT.as_dict(), "log_index": "11"},
])
def test_malformed_receipts_are_named_so(data: Any) -> None:
    with pytest.raises(MalformedReceipt):
        receipt_from_dict(data)
