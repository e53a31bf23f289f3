"""One line of receipts.jsonl: it must be the canonical receipt of its entry, signed.

Given the entry, a receipt is determined but for its signature, so the expected bytes are
built (mostly cut from the entry's line) and compared
(fast path); a line that differs is parsed to say exactly what differs. Either way the
result is the signature and the bytes it must be over (the canonical receipt without its
signature member).
"""

from __future__ import annotations

import base64
import binascii
import re
from binascii import hexlify
from typing import Any

from ledger.bundle import layout
from ledger.verify.canonical import CanonicalError, dumps, loads
from ledger.verify.entries import Entry
from ledger.verify.errors import MalformedInput, VerificationFailed

RECEIPT_FIELDS = {"envelope_id", "verdict", "refusal", "recorded_at", "log_index", "leaf_hash", "key_id", "signature"}
# after the signature key: canonical base64 of 64 bytes, then the verdict member, the line's last
_TAIL = re.compile(rb'([A-Za-z0-9+/]{85}[AQgw]==)"(,"verdict":"(?:accepted|refused)"\})\n')
_SIGNATURE_KEY = b',"signature":"'


class Receipts:
    """receipts.jsonl, checked line by line against the entries; ``key_id`` signed them all."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        self._key_id_member = b',"key_id":' + dumps(key_id) + b',"leaf_hash":"'

    def check(self, line: bytes, index: int, entry: Entry, leaf_hash: bytes) -> tuple[bytes, bytes]:
        """(signature, signed bytes) of receipt ``index``; raises unless it is this entry's.

        The receipt repeats the entry's log_index, recorded_at, refusal and verdict members,
        written the same way, so those bytes are the ones cut from the entry's line."""
        envelope_id = entry.payload.get("envelope_id")
        head = b"".join((b'{"envelope_id":', dumps(envelope_id), self._key_id_member, hexlify(leaf_hash), b'"',
                         entry.members, _SIGNATURE_KEY))
        if line.startswith(head):
            tail = _TAIL.fullmatch(line, len(head))
            if tail is not None and tail[2] == entry.verdict_member:
                return binascii.a2b_base64(tail[1]), line[:len(head) - len(_SIGNATURE_KEY)] + tail[2]
        return _parsed(line, index, entry, envelope_id, leaf_hash.hex(), self.key_id)


def _parsed(line: bytes, index: int, entry: Entry, envelope_id: Any, leaf_hash: str,
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
    for name, value in (("log_index", index), ("envelope_id", envelope_id), ("verdict", entry.verdict),
                        ("refusal", entry.refusal), ("recorded_at", entry.recorded_at), ("key_id", key_id)):
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
    return signature, dumps({name: value for name, value in receipt.items() if name != "signature"})
