"""Receipts: the ledger's statement of what it recorded for one envelope.

Format 2 (every new receipt) is a log proof, not a signature per entry: the entry's index,
its RFC 9162 inclusion proof and the checkpoint the operator signed once for the whole
committed batch, as a C2SP tlog-proof (``ledger.domain.tlog_proof``). Its ``extra`` line
carries what the leaf commits to besides the envelope - the RFC 8785 canonical JSON of
``{"envelope_id", "verdict", "refusal", "recorded_at"}`` - so the submitter, holding its
envelope, recomputes the leaf and follows the proof to a signed root: evidence of the
verdict the operator cannot deny (``ledger.domain.receipt_check``).

As JSON (``as_dict``)::

    {"receipt_version": 2, "envelope_id", "verdict", "refusal", "recorded_at",
     "log_index", "leaf_hash", "tree_size", "tlog_proof": "<the proof's text>"}

The members beside ``tlog_proof`` repeat it for convenience and must agree with it.
Format 1 (an Ed25519 signature per entry, no ``receipt_version``) is read back by
``receipt_from_dict`` as a ``ledger.domain.signed_receipt.SignedReceipt``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ledger.domain.canonical import canonical_bytes
from ledger.domain.errors import LedgerError
from ledger.domain.merkle.batch import BatchTree
from ledger.domain.signed_receipt import SignedReceipt
from ledger.domain.tlog_proof import MalformedTlogProof, format_tlog_proof, parse_tlog_proof

RECEIPT_VERSION = 2
FIELDS = ("receipt_version", "envelope_id", "verdict", "refusal", "recorded_at", "log_index", "leaf_hash",
          "tree_size", "tlog_proof")
V1_FIELDS = ("envelope_id", "verdict", "refusal", "recorded_at", "log_index", "leaf_hash", "key_id", "signature")
EXTRA_FIELDS = ("envelope_id", "verdict", "refusal", "recorded_at")


class MalformedReceipt(LedgerError):
    """Not a receipt of a known format: wrong members, types or encodings."""

    rule = "receipt.malformed"


class ReceiptNotVerified(LedgerError):
    """A well-formed receipt that does not verify (signature, leaf, inclusion, fields)."""

    rule = "receipt.invalid"


@dataclass(frozen=True)
class Receipt:
    """A format 2 receipt. ``path`` is the inclusion proof, or the batch it is built from
    on demand (``BatchTree``: the proofs of a batch share most of their hashes)."""

    envelope_id: str
    verdict: str  # "accepted" | "refused"
    refusal: dict[str, Any] | None  # rule, field, detail, conflicting_claim
    recorded_at: str
    log_index: int
    leaf_hash: str  # hex
    tree_size: int
    checkpoint: bytes  # the signed checkpoint note the proof leads to
    path: tuple[bytes, ...] | BatchTree = field(default=(), repr=False, compare=False)

    version = RECEIPT_VERSION

    @property
    def accepted(self) -> bool:
        return self.verdict == "accepted"

    def proof(self) -> tuple[bytes, ...]:
        """PATH(log_index, D[tree_size]) of RFC 9162."""
        path = self.path
        return tuple(path.proof(self.log_index)) if isinstance(path, BatchTree) else path

    def extra(self) -> bytes:
        """The tlog-proof's extra data: what the leaf commits to besides the envelope."""
        return extra_bytes(self.envelope_id, self.verdict, self.refusal, self.recorded_at)

    def tlog_proof(self) -> bytes:
        """The C2SP tlog-proof (c2sp.org/tlog-proof@v1) of this receipt."""
        return format_tlog_proof(self.log_index, self.proof(), self.checkpoint, self.extra())

    def as_dict(self) -> dict[str, Any]:
        return {
            "receipt_version": RECEIPT_VERSION,
            "envelope_id": self.envelope_id,
            "verdict": self.verdict,
            "refusal": None if self.refusal is None else dict(self.refusal),
            "recorded_at": self.recorded_at,
            "log_index": self.log_index,
            "leaf_hash": self.leaf_hash,
            "tree_size": self.tree_size,
            "tlog_proof": self.tlog_proof().decode("utf-8"),
        }


def extra_bytes(envelope_id: str, verdict: str, refusal: dict[str, Any] | None, recorded_at: str) -> bytes:
    return canonical_bytes({"envelope_id": envelope_id, "verdict": verdict, "refusal": refusal,
                            "recorded_at": recorded_at})


def parse_extra(extra: bytes | None) -> dict[str, Any]:
    """The fields in a tlog-proof's extra data (``MalformedReceipt`` unless exactly ours, canonical)."""
    try:
        fields = json.loads(extra) if extra is not None else None
        canonical = isinstance(fields, dict) and canonical_bytes(fields) == extra
    except (ValueError, LedgerError) as exc:
        raise MalformedReceipt("the proof's extra data is not canonical JSON", field="tlog_proof") from exc
    if not canonical or not isinstance(fields, dict) or tuple(sorted(fields)) != tuple(sorted(EXTRA_FIELDS)):
        raise MalformedReceipt(f"the proof's extra data must be the canonical JSON of {', '.join(EXTRA_FIELDS)}",
                               field="tlog_proof")
    return fields


def receipt_from_dict(data: Any) -> Receipt | SignedReceipt:
    """A receipt as served or kept: format 2 (with ``receipt_version``) or format 1."""
    if not isinstance(data, dict):
        raise MalformedReceipt("a receipt is a JSON object", field="receipt")
    if "receipt_version" not in data:
        _members(data, V1_FIELDS)
        _types(data, {"key_id": str, "signature": str})
        return SignedReceipt(**data)
    if data["receipt_version"] != RECEIPT_VERSION or type(data["receipt_version"]) is not int:
        raise MalformedReceipt(f"receipt_version {data['receipt_version']!r} is not {RECEIPT_VERSION}",
                               field="receipt_version")
    _members(data, FIELDS)
    _types(data, {"tree_size": int, "tlog_proof": str})
    text = data["tlog_proof"].encode("utf-8")
    try:
        parsed = parse_tlog_proof(text)
    except MalformedTlogProof as exc:
        raise MalformedReceipt(f"tlog_proof: {exc}", field="tlog_proof") from exc
    if format_tlog_proof(parsed.index, parsed.hashes, parsed.checkpoint, parsed.extra) != text:
        raise MalformedReceipt("tlog_proof is not in its one canonical form", field="tlog_proof")
    fields = {name: data[name] for name in FIELDS[1:7]}
    carried = {**parse_extra(parsed.extra), "log_index": parsed.index}
    for name, value in carried.items():
        if fields[name] != value:
            raise ReceiptNotVerified(f"the receipt's {name} is not the one its tlog_proof carries", field=name)
    return Receipt(**fields, tree_size=data["tree_size"], checkpoint=parsed.checkpoint, path=parsed.hashes)


def _members(data: dict[str, Any], names: tuple[str, ...]) -> None:
    if set(data) != set(names):
        missing, extra = set(names) - set(data), set(data) - set(names)
        raise MalformedReceipt(f"a receipt has the members {', '.join(names)}"
                               + (f"; missing {', '.join(sorted(missing))}" if missing else "")
                               + (f"; unknown {', '.join(sorted(extra))}" if extra else ""),
                               field=sorted(missing or extra)[0])
    _types(data, {"envelope_id": str, "verdict": str, "recorded_at": str, "log_index": int, "leaf_hash": str})
    if data["refusal"] is not None and not isinstance(data["refusal"], dict):
        raise MalformedReceipt("refusal is null or an object", field="refusal")


def _types(data: dict[str, Any], types: dict[str, type]) -> None:
    for name, kind in types.items():
        if type(data[name]) is not kind:
            raise MalformedReceipt(f"{name} must be a JSON {'integer' if kind is int else 'string'}", field=name)
