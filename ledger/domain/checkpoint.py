"""C2SP checkpoints (c2sp.org/tlog-checkpoint) in Ed25519 signed notes (c2sp.org/signed-note).

Note = text ending in newline, a blank line, then lines ``— <key name> <base64(key ID || sig)>``.
Verifier key strings are ``<name>+<8 hex digits key ID>+<base64(0x01 || public key)>``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = b"\x01"  # signed-note signature type byte for Ed25519
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100
_SIZE = re.compile(r"0|[1-9][0-9]*")
_KEY_ID_HEX = re.compile(r"[0-9a-fA-F]{8}")
_CONTROL = re.compile(r"[\x00-\x1f]")  # ASCII control characters (newline included)
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f]")
_SPACE = re.compile(r"\s")  # Unicode spaces, as str.isspace


class CheckpointError(Exception):
    """Base class of checkpoint and signed-note errors."""


class MalformedCheckpointError(CheckpointError, ValueError):
    """The note or the checkpoint body does not follow the C2SP formats."""


class CheckpointSignatureError(CheckpointError):
    """No valid signature from a trusted key, or a trusted key's signature is bad."""


class InvalidKeyError(CheckpointError, ValueError):
    """A key name or verifier key string is invalid (a configuration error)."""


def _decode(data: bytes, what: str) -> str:
    """UTF-8 without ASCII control characters other than newline (signed-note)."""
    try:
        text = data.decode("utf-8")
    except (AttributeError, UnicodeDecodeError) as exc:
        raise MalformedCheckpointError(f"{what} is not UTF-8 bytes") from exc
    if _CONTROL_BUT_NEWLINE.search(text):
        raise MalformedCheckpointError(f"{what} contains control characters")
    return text


def _is_line(text: object) -> bool:
    """Non-empty text without control characters (newline included)."""
    return isinstance(text, str) and text != "" and not _CONTROL.search(text)


def _is_key_name(name: object) -> bool:
    """signed-note: non-empty, no Unicode spaces, no plus."""
    return isinstance(name, str) and _is_line(name) and "+" not in name and not _SPACE.search(name)


def _b64decode(text: str, error: type[CheckpointError], what: str) -> bytes:
    """Strict, canonical standard base64 (RFC 4648 §4)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise error(f"{what} is not valid base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise error(f"{what} is not canonical base64")
    return raw


def key_id(key_name: str, public_key: bytes) -> bytes:
    """SHA-256(key name || 0x0A || 0x01 || public key)[:4] (signed-note, Ed25519)."""
    return hashlib.sha256(key_name.encode("utf-8") + b"\n" + ED25519 + public_key).digest()[:4]


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin line, tree size, 32-byte root hash and optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "extensions", tuple(self.extensions))
        if not all(_is_line(line) for line in (self.origin, *self.extensions)):
            raise MalformedCheckpointError("origin and extensions must be non-empty single lines")
        size = self.size
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size < 2**64:
            raise MalformedCheckpointError(f"tree size {self.size!r} is not a uint64")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != 32:
            raise MalformedCheckpointError("root hash must be 32 bytes")


def format_checkpoint_body(cp: Checkpoint) -> bytes:
    """The note text: origin, decimal size, base64 root hash, extensions, one per line."""
    root = base64.b64encode(cp.root_hash).decode("ascii")
    return ("\n".join([cp.origin, str(cp.size), root, *cp.extensions]) + "\n").encode("utf-8")


def parse_checkpoint_body(text: bytes) -> Checkpoint:
    """Parse a checkpoint note text; raise ``MalformedCheckpointError`` if it is not one."""
    lines = _decode(text, "checkpoint").split("\n")
    if len(lines) < 4 or lines.pop() != "":
        raise MalformedCheckpointError("checkpoint needs 3 or more lines, each ending in newline")
    origin, size, root, *extensions = lines
    if not _SIZE.fullmatch(size):
        raise MalformedCheckpointError(f"tree size {size!r} is not canonical decimal")
    root_hash = _b64decode(root, MalformedCheckpointError, "root hash")
    return Checkpoint(origin, int(size), root_hash, tuple(extensions))


def verifier_key_string(key_name: str, public_key_bytes: bytes) -> str:
    """``<name>+<hex key ID>+<base64(0x01 || public key)>`` for an Ed25519 public key."""
    if not _is_key_name(key_name):
        raise InvalidKeyError(f"invalid key name {key_name!r}")
    if not isinstance(public_key_bytes, bytes) or len(public_key_bytes) != 32:
        raise InvalidKeyError("an Ed25519 public key is 32 bytes")
    encoded = base64.b64encode(ED25519 + public_key_bytes).decode("ascii")
    return f"{key_name}+{key_id(key_name, public_key_bytes).hex()}+{encoded}"


def parse_verifier_key(s: str) -> tuple[str, bytes, bytes]:
    """Parse a verifier key string into (name, 4-byte key ID, 32-byte public key)."""
    parts = s.split("+", 2) if isinstance(s, str) else []
    if len(parts) != 3 or not _is_key_name(parts[0]) or not _KEY_ID_HEX.fullmatch(parts[1]):
        raise InvalidKeyError(f"malformed verifier key {s!r}")
    name, hash_hex, encoded = parts
    raw = _b64decode(encoded, InvalidKeyError, "verifier key")
    if len(raw) != 33 or raw[:1] != ED25519:
        raise InvalidKeyError("verifier key is not an Ed25519 (type 0x01) key")
    if bytes.fromhex(hash_hex) != key_id(name, raw[1:]):
        raise InvalidKeyError(f"verifier key ID {hash_hex} does not match the key")
    return name, bytes.fromhex(hash_hex), raw[1:]


class NoteSigner:
    """Signs notes with one Ed25519 key under one key name, both checked once (a log signs
    a checkpoint per write: ``sign`` only checks the text)."""

    def __init__(self, key_name: str, private_key: Ed25519PrivateKey) -> None:
        public_key = private_key.public_key().public_bytes_raw()
        verifier_key_string(key_name, public_key)  # validates the key name
        self._key, self._key_id = private_key, key_id(key_name, public_key)
        self._line = f"\n{SIGNATURE_PREFIX}{key_name} ".encode()

    def sign(self, text: bytes) -> bytes:
        """The signed note: ``text``, a blank line and one signature line."""
        if not _decode(text, "note text").endswith("\n"):
            raise MalformedCheckpointError("note text must end in a newline")
        return text + self._line + base64.b64encode(self._key_id + self._key.sign(text)) + b"\n"


def sign_note(text: bytes, key_name: str, private_key: Ed25519PrivateKey) -> bytes:
    """Sign note ``text`` with one Ed25519 key and return the full signed note."""
    return NoteSigner(key_name, private_key).sign(text)


def sign_checkpoint(cp: Checkpoint, key_name: str, private_key: Ed25519PrivateKey) -> bytes:
    """The signed note for ``cp``: its body, a blank line and one signature line."""
    return sign_note(format_checkpoint_body(cp), key_name, private_key)


def _split_note(note: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """Split a signed note into its text and its (key name, key ID || signature) pairs."""
    decoded = _decode(note, "note")
    split = decoded.rfind("\n\n")
    if split < 0 or not decoded.endswith("\n"):
        raise MalformedCheckpointError("note lacks a blank line before newline-ended signatures")
    lines = decoded[split + 2 : -1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedCheckpointError(f"note has more than {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        fields = line[len(SIGNATURE_PREFIX) :].split(" ")
        if not line.startswith(SIGNATURE_PREFIX) or len(fields) != 2 or not _is_key_name(fields[0]):
            raise MalformedCheckpointError(f"malformed signature line {line!r}")
        blob = _b64decode(fields[1], MalformedCheckpointError, "signature")
        if len(blob) < 5:
            raise MalformedCheckpointError("signature is shorter than a key ID and one byte")
        signatures.append((fields[0], blob))
    return decoded[: split + 1].encode("utf-8"), signatures


def split_note(note: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """A signed note's text and its (key name, key ID || signature) pairs, none verified."""
    return _split_note(note)


def valid_key_name(name: object) -> bool:
    """Whether ``name`` may name a signed-note key (non-empty, no spaces, no plus)."""
    return _is_key_name(name)


def open_note(note: bytes, verifier_keys: Sequence[str]) -> bytes:
    """Return the text of ``note`` once a signature by one of ``verifier_keys`` verifies.

    Fails closed: no keys, no signature by a trusted key, or any trusted key's signature
    not verifying raise ``CheckpointSignatureError``. Signatures by unknown keys (name and
    key ID not both matching a trusted key) are ignored, as signed-note requires.
    """
    trusted: dict[tuple[str, bytes], bytes] = {}
    for vkey in verifier_keys:
        name, kid, public_key = parse_verifier_key(vkey)
        if trusted.setdefault((name, kid), public_key) != public_key:
            raise InvalidKeyError(f"two verifier keys share name {name!r} and key ID {kid.hex()}")
    if not trusted:
        raise CheckpointSignatureError("no verifier keys given: refusing an unverifiable note")
    text, signatures = _split_note(note)
    verified = False
    for name, blob in signatures:
        trusted_key = trusted.get((name, blob[:4]))
        if trusted_key is None:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(trusted_key).verify(blob[4:], text)
        except InvalidSignature as exc:
            raise CheckpointSignatureError(f"signature by trusted key {name!r} is invalid") from exc
        verified = True
    if not verified:
        raise CheckpointSignatureError("note has no signature by a trusted key")
    return text


def open_checkpoint(note: bytes, verifier_keys: Sequence[str]) -> Checkpoint:
    """Verify a signed checkpoint note with ``verifier_keys``, then parse its body."""
    return parse_checkpoint_body(open_note(note, verifier_keys))
