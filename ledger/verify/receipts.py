"""One line of receipts.jsonl: it must be the canonical receipt of its entry, signed.

Given the entry, a receipt is determined but for its aggregate id and version and its
signature, so the expected bytes are built and compared (fast path); a line that differs
is parsed to say exactly what differs. Either way the result is the signature and the
bytes it must be over (the canonical receipt without its signature member).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from ledger.bundle import layout
from ledger.verify.canonical import CanonicalError, dumps, loads
from ledger.verify.errors import MalformedInput, VerificationFailed

RECEIPT_FIELDS = {"envelope_id", "verdict", "refusal", "recorded_at", "log_index", "leaf_hash", "aggregate_id",
                  "aggregate_version", "key_id", "signature"}
_HEAD = re.compile(rb'\{"aggregate_id":"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",'
                   rb'"aggregate_version":(?:0|[1-9][0-9]{0,14})')
_SIGNATURE = re.compile(rb'[A-Za-z0-9+/]{85}[AQgw]==')  # canonical base64 of 64 bytes
_SIGNATURE_KEY = b',"signature":"'


def check_receipt(line: bytes, index: int, entry: dict[str, Any], envelope_id: Any, leaf_hash: str,
                  key_id: str) -> tuple[bytes, bytes]:
    """(signature, signed bytes) of receipt ``index``; raises unless it is this entry's."""
    verdict = b',"verdict":' + dumps(entry["verdict"]) + b"}"
    middle = (b',"envelope_id":' + dumps(envelope_id) + b',"key_id":' + dumps(key_id) + b',"leaf_hash":"'
              + leaf_hash.encode("ascii") + b'","log_index":' + str(index).encode("ascii") + b',"recorded_at":'
              + dumps(entry["recorded_at"]) + b',"refusal":' + dumps(entry["refusal"]))
    head = _HEAD.match(line)
    if head is not None:
        start = head.end()
        signature_at = start + len(middle) + len(_SIGNATURE_KEY)
        if line.startswith(middle + _SIGNATURE_KEY, start) and line[signature_at + 88:] == b'"' + verdict + b"\n" \
                and _SIGNATURE.fullmatch(line, signature_at, signature_at + 88):
            return binascii.a2b_base64(line[signature_at:signature_at + 88]), line[:start + len(middle)] + verdict
    return _parsed(line, index, entry, envelope_id, leaf_hash, key_id)


def _parsed(line: bytes, index: int, entry: dict[str, Any], envelope_id: Any, leaf_hash: str,
            key_id: str) -> tuple[bytes, bytes]:
    where = f"{layout.RECEIPTS} line {index + 1}"
    try:
        receipt = loads(line[:-1] if line.endswith(b"\n") else b"")
    except CanonicalError as exc:
        raise MalformedInput(2, exc.rule, f"{where}: {exc}", log_index=index) from exc
    if not isinstance(receipt, dict) or receipt.keys() != RECEIPT_FIELDS:
        raise MalformedInput(2, "receipt.shape", f"{where} is not a receipt", log_index=index)
    if receipt["leaf_hash"] != leaf_hash:
        raise VerificationFailed(2, "leaf.hash", f"the entry hashes to {leaf_hash}; when it was appended its leaf "
                                 f"hash was {receipt['leaf_hash']}", log_index=index)
    for name, value in (("log_index", index), ("envelope_id", envelope_id), ("verdict", entry["verdict"]),
                        ("refusal", entry["refusal"]), ("recorded_at", entry["recorded_at"]), ("key_id", key_id)):
        if receipt[name] != value:
            raise VerificationFailed(2, "receipt.differs", f"the receipt's {name} is {receipt[name]!r}, expected "
                                     f"{value!r}", log_index=index)
    text = receipt["signature"]
    try:
        signature = base64.b64decode(text, validate=True) if isinstance(text, str) else b""
    except binascii.Error:
        signature = b""
    if len(signature) != 64 or base64.b64encode(signature).decode("ascii") != text:
        raise MalformedInput(2, "receipt.signature", "the signature is not canonical base64 of 64 bytes",
                             log_index=index)
    if not isinstance(receipt["aggregate_id"], str) or not isinstance(receipt["aggregate_version"], int):
        raise MalformedInput(2, "receipt.shape", f"{where}: aggregate_id is a string, aggregate_version an integer",
                             log_index=index)
    return signature, dumps({name: value for name, value in receipt.items() if name != "signature"})
