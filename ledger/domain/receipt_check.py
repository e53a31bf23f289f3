"""Checking a receipt offline: a numbered checklist that fails closed.

Format 2 (``verify_receipt``, or ``verify_tlog_proof`` on the bare proof text):

1. parse: a c2sp.org/tlog-proof@v1 whose extra data is the canonical JSON of the entry's
   ``envelope_id``, ``verdict``, ``refusal`` and ``recorded_at`` (``MalformedReceipt``);
2. the receipt's own members say what the proof says (index and fields: when it is read,
   ``receipt_from_dict``; the tree size: step 4);
3. with the envelope: the leaf - RFC 8785 JSON of ``{envelope, verdict, refusal,
   recorded_at, log_index}`` - hashes (RFC 9162, SHA-256(0x00 || leaf)) to ``leaf_hash``,
   and the envelope is the one named;
4. the checkpoint note is signed by one of ``verifier_keys`` (C2SP signed note; no key is
   a failure), and its size is the receipt's tree size;
5. the RFC 9162 inclusion proof leads from the leaf hash at ``log_index`` to its root.

Without the envelope, step 3 is skipped: the receipt then shows that ``leaf_hash`` is in
the signed log, but only the envelope opens the leaf to show which verdict it holds.
Format 1 receipts are checked by ``verify_signed_receipt`` with the operator's key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ledger.domain.checkpoint import Checkpoint, CheckpointError, open_checkpoint
from ledger.domain.entry import entry_body, leaf_bytes
from ledger.domain.merkle import MerkleError, leaf_hash, verify_inclusion
from ledger.domain.receipt import MalformedReceipt, Receipt, ReceiptNotVerified, parse_extra
from ledger.domain.tlog_proof import MalformedTlogProof, parse_tlog_proof


def verify_receipt(receipt: Receipt, verifier_keys: Sequence[str], envelope: dict[str, Any] | None = None) -> Checkpoint:
    """Check a format 2 receipt (steps 1-5); the signed checkpoint it leads to."""
    fields = parse_extra(receipt.extra())  # (1): the members make a valid extra line
    proof = receipt.proof()
    return _check(receipt.log_index, fields, bytes.fromhex(_hex(receipt.leaf_hash)), receipt.tree_size,
                  proof, receipt.checkpoint, verifier_keys, envelope)


def verify_tlog_proof(text: bytes, verifier_keys: Sequence[str], envelope: dict[str, Any]) -> Receipt:
    """Check a bare tlog-proof of an entry of this ledger against the envelope it is for;
    the receipt it amounts to."""
    try:
        parsed = parse_tlog_proof(text)  # (1)
    except MalformedTlogProof as exc:
        raise MalformedReceipt(str(exc), field="tlog_proof") from exc
    fields = parse_extra(parsed.extra)
    leaf = _leaf(envelope, fields, parsed.index)
    checkpoint = _check(parsed.index, fields, leaf, None, parsed.hashes, parsed.checkpoint, verifier_keys, envelope)
    return Receipt(**fields, log_index=parsed.index, leaf_hash=leaf.hex(), tree_size=checkpoint.size,
                   checkpoint=parsed.checkpoint, path=parsed.hashes)


def _check(index: int, fields: dict[str, Any], leaf: bytes, tree_size: int | None, proof: Sequence[bytes],
           note: bytes, verifier_keys: Sequence[str], envelope: dict[str, Any] | None) -> Checkpoint:
    if envelope is not None and _leaf(envelope, fields, index) != leaf:  # (3)
        raise ReceiptNotVerified("the leaf of this envelope with the receipt's verdict, refusal and recorded_at "
                                 "does not hash to the receipt's leaf hash", field="leaf_hash")
    try:
        checkpoint = open_checkpoint(note, verifier_keys)  # (4)
    except CheckpointError as exc:
        raise ReceiptNotVerified(f"the checkpoint does not verify: {exc}", field="tlog_proof") from exc
    if tree_size is not None and checkpoint.size != tree_size:
        raise ReceiptNotVerified(f"the checkpoint is of {checkpoint.size} entries, the receipt says {tree_size}",
                                 field="tree_size")
    try:
        verify_inclusion(index, checkpoint.size, leaf, list(proof), checkpoint.root_hash)  # (5)
    except MerkleError as exc:
        raise ReceiptNotVerified(f"entry {index} is not in the signed log of {checkpoint.size}: {exc}",
                                 field="tlog_proof") from exc
    return checkpoint


def _leaf(envelope: dict[str, Any], fields: dict[str, Any], index: int) -> bytes:
    if not isinstance(envelope, dict) or not isinstance(envelope.get("payload"), dict) \
            or envelope["payload"].get("envelope_id") != fields["envelope_id"]:
        raise ReceiptNotVerified("the receipt is for another envelope", field="envelope_id")
    body = entry_body(envelope, fields["verdict"], fields["refusal"], fields["recorded_at"])
    return leaf_hash(leaf_bytes(body, index))


def _hex(text: str) -> str:
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise MalformedReceipt("leaf_hash is 64 lowercase hex digits", field="leaf_hash")
    return text
