"""Ed25519 witness cosignatures (c2sp.org/tlog-cosignature, ``cosignature/v1``) on C2SP checkpoints.

A cosignature is a signed-note signature line ``— <cosigner name> base64(key ID || timestamp || signature)``:

* key ID = SHA-256(<name> || 0x0A || 0x04 || 32-byte Ed25519 public key)[:4] (type 0x04, not 0x01);
* timestamp = big-endian u64 POSIX seconds, at most 2^63 - 1;
* signature = Ed25519 over ``cosignature/v1\\n`` || ``time <timestamp>\\n`` || the checkpoint note body.

A cosigner's verifier key string (vkey) is ``<name>+<hex key ID>+base64(0x04 || public key)``.
Pure functions over bytes and strings: no clock (the caller passes the timestamp), no storage.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.domain.checkpoint import (
    SIGNATURE_PREFIX,
    CheckpointSignatureError,
    InvalidKeyError,
    MalformedCheckpointError,
    split_note,
    valid_key_name,
)

COSIGNATURE_V1 = b"\x04"  # signed-note signature type of Ed25519 cosignature/v1
HEADER = b"cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
BLOB_SIZE = 4 + 8 + 64  # key ID, timestamp, Ed25519 signature


@dataclass(frozen=True)
class Cosigner:
    """A witness as a verifier knows it: its name and 32-byte Ed25519 public key."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return cosigner_key_id(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        return cosigner_vkey(self.name, self.public_key)


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature: who, when (POSIX seconds) and the signature line as found."""

    cosigner: Cosigner
    timestamp: int
    line: str


def cosigner_key_id(name: str, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || 0x04 || public key)[:4] (tlog-cosignature, Ed25519)."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + COSIGNATURE_V1 + public_key).digest()[:4]


def cosigner_vkey(name: str, public_key: bytes) -> str:
    """``<name>+<hex key ID>+<base64(0x04 || public key)>``."""
    if not valid_key_name(name):
        raise InvalidKeyError(f"invalid cosigner name {name!r}")
    if not isinstance(public_key, bytes) or len(public_key) != 32:
        raise InvalidKeyError("an Ed25519 public key is 32 bytes")
    encoded = base64.b64encode(COSIGNATURE_V1 + public_key).decode("ascii")
    return f"{name}+{cosigner_key_id(name, public_key).hex()}+{encoded}"


def parse_cosigner_vkey(vkey: str) -> Cosigner:
    """Parse a cosigner vkey; ``InvalidKeyError`` unless it is a well-formed type 0x04 key."""
    parts = vkey.split("+", 2) if isinstance(vkey, str) else []
    if len(parts) != 3 or not valid_key_name(parts[0]) or len(parts[1]) != 8:
        raise InvalidKeyError(f"malformed cosigner verifier key {vkey!r}")
    name, id_hex, encoded = parts
    try:
        key_id = bytes.fromhex(id_hex)
        raw = base64.b64decode(encoded, validate=True)
    except ValueError as exc:
        raise InvalidKeyError(f"malformed cosigner verifier key {vkey!r}") from exc
    if base64.b64encode(raw).decode("ascii") != encoded:
        raise InvalidKeyError(f"cosigner verifier key {vkey!r} is not canonical base64")
    if len(raw) != 33 or raw[:1] != COSIGNATURE_V1:
        raise InvalidKeyError(f"{name}: not an Ed25519 cosignature/v1 key (type 0x04, 32 bytes)")
    if key_id != cosigner_key_id(name, raw[1:]):
        raise InvalidKeyError(f"{name}: verifier key ID {id_hex} does not match the key")
    return Cosigner(name, raw[1:])


def cosigned_message(body: bytes, timestamp: int) -> bytes:
    """``cosignature/v1``, ``time <timestamp>``, then the checkpoint body (newline-ended)."""
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise MalformedCheckpointError(f"cosignature timestamp {timestamp!r} is not in [0, 2^63 - 1]")
    if not body.endswith(b"\n"):
        raise MalformedCheckpointError("a checkpoint body ends in a newline")
    return HEADER + b"time %d\n" % timestamp + body


def cosign(body: bytes, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """The cosignature line (newline-ended) of ``name``'s key on checkpoint ``body`` at ``timestamp``."""
    if not valid_key_name(name):
        raise InvalidKeyError(f"invalid cosigner name {name!r}")
    public_key = private_key.public_key().public_bytes_raw()
    signature = private_key.sign(cosigned_message(body, timestamp))
    blob = cosigner_key_id(name, public_key) + struct.pack(">Q", timestamp) + signature
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(blob).decode('ascii')}\n"


def verify_cosignatures(note: bytes, cosigners: Sequence[Cosigner]) -> list[Cosignature]:
    """The valid cosignatures on ``note`` by ``cosigners``, one per cosigner at most.

    Lines by other keys (the log's own signature, unknown witnesses) are ignored, as signed-note
    requires. A line that names a known cosigner and its key ID but does not verify raises
    ``CheckpointSignatureError`` (fail closed); a malformed note raises ``MalformedCheckpointError``.
    """
    known = {(c.name, c.key_id): c for c in cosigners}
    body, signatures = split_note(note)
    found: dict[Cosigner, Cosignature] = {}
    for name, blob in signatures:
        cosigner = known.get((name, blob[:4]))
        if cosigner is None:
            continue
        if len(blob) != BLOB_SIZE:
            raise CheckpointSignatureError(f"cosignature by {name!r} is {len(blob)} bytes, not {BLOB_SIZE}")
        (timestamp,) = struct.unpack(">Q", blob[4:12])
        if timestamp > MAX_TIMESTAMP:
            raise CheckpointSignatureError(f"cosignature by {name!r} has a timestamp beyond 2^63 - 1")
        try:
            Ed25519PublicKey.from_public_bytes(cosigner.public_key).verify(blob[12:], cosigned_message(body, timestamp))
        except InvalidSignature as exc:
            raise CheckpointSignatureError(f"cosignature by {name!r} does not verify") from exc
        line = f"{SIGNATURE_PREFIX}{name} {base64.b64encode(blob).decode('ascii')}\n"
        if cosigner not in found or timestamp > found[cosigner].timestamp:
            found[cosigner] = Cosignature(cosigner, timestamp, line)
    return list(found.values())


def with_signatures(note: bytes, lines: Iterable[str]) -> bytes:
    """``note`` with signature ``lines`` appended, skipping any whose key (name and key ID) already signed it."""
    _, signatures = split_note(note)
    present = {(name, blob[:4]) for name, blob in signatures}
    added = []
    for line in lines:
        _, extra = split_note(b"x\n\n" + line.encode("utf-8"))
        if len(extra) != 1:
            raise MalformedCheckpointError(f"not one signature line: {line!r}")
        name, blob = extra[0]
        if (name, blob[:4]) not in present:
            present.add((name, blob[:4]))
            added.append(line.encode("utf-8"))
    return note + b"".join(added)
