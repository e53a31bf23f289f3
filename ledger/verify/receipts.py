"""One line of receipts.jsonl: it must be the canonical receipt of its entry, and hold.

A line is read in the format it declares, as the API's ``receipt_from_dict`` does:

* Format 2 (``"receipt_version": 2``, what submitters get and exports write now): a C2SP
  tlog-proof against the bundle's checkpoint. Checked as ``trajectledger receipt verify``
  checks a submitter's (``ledger.domain.receipt_check``): (a) canonical JSON of a well-formed
  receipt whose members agree with its proof; (b) it names this entry - envelope id, verdict,
  refusal, recorded_at, log index - and its leaf hash is the entry's; (c) its checkpoint is
  the same note body in every receipt of the bundle (``checkpoint``: the bundle's newest, when
  the caller gives it) and of the receipt's tree size; (d) the RFC 9162 inclusion proof leads
  from the leaf hash to that checkpoint's root. The result is the checkpoint's first
  signature and its body: the operator's, checked by the caller with the manifest's key.
* Format 1 (no ``receipt_version``, bundles written before): one signature per receipt.
  Given the entry, a receipt is determined but for its signature, so the expected bytes are
  built (mostly cut from the entry's line) and compared (fast path); a line that differs is
  parsed to say exactly what differs. The result is the signature and the bytes it must be
  over (the canonical receipt without its signature member).
"""

from __future__ import annotations

import base64
import binascii
import re
from binascii import hexlify
from typing import Any

from ledger.bundle import layout
from ledger.domain.checkpoint import CheckpointError, parse_checkpoint_body, split_note
from ledger.domain.errors import LedgerError
from ledger.domain.merkle import MerkleError, verify_inclusion
from ledger.domain.receipt import Receipt, ReceiptNotVerified, receipt_from_dict
from ledger.verify.canonical import CanonicalError, dumps, loads
from ledger.verify.entries import Entry
from ledger.verify.errors import MalformedInput, VerificationFailed

RECEIPT_FIELDS = {"envelope_id", "verdict", "refusal", "recorded_at", "log_index", "leaf_hash", "key_id", "signature"}
# after the signature key: canonical base64 of 64 bytes, then the verdict member, the line's last
_TAIL = re.compile(rb'([A-Za-z0-9+/]{85}[AQgw]==)"(,"verdict":"(?:accepted|refused)"\})\n')
_SIGNATURE_KEY = b',"signature":"'
_VERSION_2 = b'"receipt_version":2,'
_PROOF_HEADER = b"c2sp.org/tlog-proof@v1\\nextra "  # as the JSON line writes it (newlines escaped)
_HASHES = re.compile(rb"(?:[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=\\n)*")  # canonical base64 of 32 bytes, escaped newline


class Receipts:
    """receipts.jsonl, checked line by line against the entries; ``key_id`` signed them all."""

    def __init__(self, key_id: str, checkpoint: bytes | None = None) -> None:
        self.key_id = key_id
        self._key_id_member = b',"key_id":' + dumps(key_id) + b',"leaf_hash":"'
        self._checkpoint = checkpoint  # the body format 2 receipts must prove against (None: the first one's)
        self._notes: dict[bytes, tuple[int, bytes, bytes, bytes]] = {}  # note -> (size, root, signature, body)
        self._tail: tuple[int, bytes, bytes, bytes, bytes] | None = None  # ... and the line's end before the verdict
        self.notes_seen: dict[bytes, int] = {}  # every checkpoint note the receipts carry -> the first line with it

    def check(self, line: bytes, index: int, entry: Entry, leaf_hash: bytes) -> tuple[bytes, bytes]:
        """(signature, signed bytes) of receipt ``index``; raises unless it is this entry's.

        The receipt repeats the entry's log_index, recorded_at, refusal and verdict members,
        written the same way, so those bytes are the ones cut from the entry's line."""
        envelope_id = entry.payload.get("envelope_id")
        if _VERSION_2 in line:
            return self._fast_proved(line, index, entry, envelope_id, leaf_hash) \
                or self._proved(line, index, entry, envelope_id, leaf_hash)
        head = b"".join((b'{"envelope_id":', dumps(envelope_id), self._key_id_member, hexlify(leaf_hash), b'"',
                         entry.members, _SIGNATURE_KEY))
        if line.startswith(head):
            tail = _TAIL.fullmatch(line, len(head))
            if tail is not None and tail[2] == entry.verdict_member:
                return binascii.a2b_base64(tail[1]), line[:len(head) - len(_SIGNATURE_KEY)] + tail[2]
        return _parsed(line, index, entry, envelope_id, leaf_hash.hex(), self.key_id)

    def _fast_proved(self, line: bytes, index: int, entry: Entry, envelope_id: Any,
                     leaf_hash: bytes) -> tuple[bytes, bytes] | None:
        """The usual case of a format 2 receipt, without parsing it: given the entry and the
        bundle's checkpoint, the line is determined but for its proof hashes, so the expected bytes
        are built (mostly cut from the entry's line) and compared, and the hashes between them are
        decoded and checked (d). None - the checkpoint not seen yet, or any byte not as expected -
        leaves it to ``_proved``, which says what differs."""
        if self._tail is None:
            return None
        split = entry.members.index(b',"recorded_at":')  # members: log_index, recorded_at, refusal
        eid = dumps(envelope_id)
        extra = b"".join((b'{"envelope_id":', eid, entry.members[split:], entry.verdict_member))
        head = b"".join((b'{"envelope_id":', eid, b',"leaf_hash":"', hexlify(leaf_hash), b'"', entry.members[:split],
                         b',"receipt_version":2', entry.members[split:], b',"tlog_proof":"', _PROOF_HEADER,
                         base64.b64encode(extra), b"\\nindex %d\\n" % index))
        size, root, signature, body, tail = self._tail
        if not line.startswith(head) or not line.endswith(tail + entry.verdict_member + b"\n"):
            return None
        hashes = line[len(head):len(line) - len(tail) - len(entry.verdict_member) - 1]
        if not _HASHES.fullmatch(hashes):
            return None
        proof = [binascii.a2b_base64(hashes[i:i + 44]) for i in range(0, len(hashes), 46)]
        try:  # (d)
            verify_inclusion(index, size, leaf_hash, proof, root)
        except MerkleError:
            return None  # reported by _proved
        return signature, body

    def _proved(self, line: bytes, index: int, entry: Entry, envelope_id: Any,
                leaf_hash: bytes) -> tuple[bytes, bytes]:
        """A format 2 receipt, steps (a)-(d) of the module's docstring."""
        where = f"{layout.RECEIPTS} line {index + 1}"
        try:  # (a)
            receipt = receipt_from_dict(loads(line[:-1] if line.endswith(b"\n") else b""))
        except CanonicalError as exc:
            raise MalformedInput(2, exc.rule, f"{where}: {exc}", log_index=index) from exc
        except ReceiptNotVerified as exc:
            raise VerificationFailed(2, exc.rule, f"{where}: {exc.detail}", log_index=index) from exc
        except LedgerError as exc:
            raise MalformedInput(2, exc.rule, f"{where}: {exc.detail}", log_index=index) from exc
        if not isinstance(receipt, Receipt):
            raise MalformedInput(2, "receipt.shape", f"{where} is not a format 2 receipt", log_index=index)
        if receipt.leaf_hash != leaf_hash.hex():  # (b)
            raise VerificationFailed(2, "leaf.hash", f"the entry hashes to {leaf_hash.hex()}; when it was appended "
                                     f"its leaf hash was {receipt.leaf_hash}", log_index=index)
        for name, value in (("log_index", index), ("envelope_id", envelope_id), ("verdict", entry.verdict),
                            ("refusal", entry.refusal), ("recorded_at", entry.recorded_at)):
            if getattr(receipt, name) != value:
                raise VerificationFailed(2, "receipt.differs", f"the receipt's {name} is {getattr(receipt, name)!r}, "
                                         f"expected {value!r}", log_index=index)
        size, root, signature, body = self._note(receipt, index)  # (c)
        try:  # (d)
            verify_inclusion(index, size, leaf_hash, list(receipt.proof()), root)
        except MerkleError as exc:
            raise VerificationFailed(2, "receipt.inclusion", f"entry {index} is not in the receipt's checkpoint of "
                                     f"{size} entries: {exc}", log_index=index) from exc
        return signature, body

    def _note(self, receipt: Receipt, index: int) -> tuple[int, bytes, bytes, bytes]:
        """(tree size, root, first signature, body) of the receipt's checkpoint, which must be the bundle's."""
        found = self._notes.get(receipt.checkpoint)
        if found is None:
            self.notes_seen.setdefault(receipt.checkpoint, index)
            try:
                body, signatures = split_note(receipt.checkpoint)
                checkpoint = parse_checkpoint_body(body)
            except CheckpointError as exc:
                raise MalformedInput(2, "receipt.checkpoint", f"the receipt's checkpoint: {exc}",
                                     log_index=index) from exc
            expected = self._checkpoint if self._checkpoint is not None else body
            if body != expected:
                raise VerificationFailed(2, "receipt.checkpoint", "the receipt proves inclusion in another checkpoint "
                                         "than the bundle's", log_index=index)
            self._checkpoint = body
            found = (checkpoint.size, checkpoint.root_hash, signatures[0][1][4:], body)
            self._notes = {receipt.checkpoint: found}
            escaped = dumps(receipt.checkpoint.decode("utf-8"))[1:-1]  # the note as the JSON line writes it
            self._tail = (*found, b"\\n" + escaped + b'","tree_size":' + dumps(checkpoint.size))
        if found[0] != receipt.tree_size:
            raise VerificationFailed(2, "receipt.tree-size", f"the receipt says tree size {receipt.tree_size}, its "
                                     f"checkpoint is of {found[0]} entries", log_index=index)
        return found


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
