"""cosignature/v1 (c2sp.org/tlog-cosignature): the spec's own example, and every cosignature made
here checked by a literal re-implementation of the spec text that shares no code with the signer."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.domain.checkpoint import (
    Checkpoint,
    CheckpointSignatureError,
    InvalidKeyError,
    MalformedCheckpointError,
    format_checkpoint_body,
    sign_checkpoint,
    verifier_key_string,
)
from ledger.domain.cosignature import (
    Cosigner,
    cosign,
    cosigned_message,
    cosigner_vkey,
    parse_cosigner_vkey,
    verify_cosignatures,
    with_signatures,
)

# The example of c2sp.org/tlog-cosignature, "Format" and "Ed25519 signed message", verbatim.
SPEC_NOTE = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+"
    "zyWE+xeMcTOAYQ8=\n"
    "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0"
    "xUe+mbIUBkBIfZ+qnA==\n"
).encode()
SPEC_MESSAGE = (b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
                b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")


def spec_verify(line: str, name: str, public_key: bytes, body: bytes) -> int:
    """The spec, literally: '— <name> base64(key ID || u64 timestamp || Ed25519 signature)', key ID =
    SHA-256(name || "\\n" || 0x04 || key)[:4], message = "cosignature/v1\\n" "time <t>\\n" body. Returns t."""
    dash, key_name, encoded = line.rstrip("\n").split(" ")
    assert dash == "\u2014" and key_name == name
    blob = base64.b64decode(encoded, validate=True)
    assert len(blob) == 4 + 8 + 64
    assert blob[:4] == hashlib.sha256(name.encode() + b"\n" + b"\x04" + public_key).digest()[:4]
    timestamp = int.from_bytes(blob[4:12], "big")
    message = b"cosignature/v1\n" + b"time " + str(timestamp).encode() + b"\n" + body
    Ed25519PublicKey.from_public_bytes(public_key).verify(blob[12:], message)  # raises if it does not verify
    return timestamp


def checkpoint_note(log_key: Ed25519PrivateKey, size: int = 5) -> bytes:
    return sign_checkpoint(Checkpoint("log.example/l", size, hashlib.sha256(b"%d" % size).digest(),
                                      ("time 2026-01-01T00:00:00Z",)), "log.example/l", log_key)


def test_the_spec_message_and_the_example_cosignature_s_timestamp() -> None:
    body = SPEC_NOTE[:SPEC_NOTE.index(b"\n\n") + 1]
    assert cosigned_message(body, 1679315147) == SPEC_MESSAGE
    blob = base64.b64decode(SPEC_NOTE.decode().split("\n")[-2].split(" ")[2])
    assert struct.unpack(">Q", blob[4:12]) == (1679315147,)  # the example line carries the example's time


def test_the_spec_example_note_s_lines_by_other_keys_are_ignored() -> None:
    stranger = Cosigner("witness.example.com/w1", Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    assert verify_cosignatures(SPEC_NOTE, [stranger]) == []  # same name, other key ID: not this witness's


def test_a_cosignature_made_here_verifies_by_the_spec_text() -> None:
    log_key, witness_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    note = checkpoint_note(log_key)
    body = note[:note.index(b"\n\n") + 1]
    line = cosign(body, "rekenkamer.example/w1", witness_key, 1_767_225_600)
    public = witness_key.public_key().public_bytes_raw()
    assert spec_verify(line, "rekenkamer.example/w1", public, body) == 1_767_225_600
    found = verify_cosignatures(note + line.encode(), [Cosigner("rekenkamer.example/w1", public)])
    assert [(c.timestamp, c.line) for c in found] == [(1_767_225_600, line)]
    with pytest.raises(InvalidSignature):  # over another checkpoint body it does not verify
        spec_verify(line, "rekenkamer.example/w1", public, body.replace(b"\n5\n", b"\n6\n"))


@pytest.mark.parametrize("position", [0, 5, 20, 75])
def test_any_changed_byte_of_a_cosignature_fails_or_is_ignored(position: int) -> None:
    witness_key = Ed25519PrivateKey.generate()
    note = checkpoint_note(Ed25519PrivateKey.generate())
    cosigner = Cosigner("w.example/1", witness_key.public_key().public_bytes_raw())
    line = cosign(note[:note.index(b"\n\n") + 1], cosigner.name, witness_key, 1_700_000_000)
    blob = bytearray(base64.b64decode(line.split(" ")[2]))
    blob[position] ^= 0x01
    bad = f"\u2014 w.example/1 {base64.b64encode(bytes(blob)).decode()}\n"
    if position < 4:  # another key ID: a line of some other key, ignored; the quorum then lacks it
        assert verify_cosignatures(note + bad.encode(), [cosigner]) == []
    else:
        with pytest.raises(CheckpointSignatureError):
            verify_cosignatures(note + bad.encode(), [cosigner])


def test_a_changed_checkpoint_fails_its_cosignature() -> None:
    witness_key, log_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    note = checkpoint_note(log_key, 5)
    line = cosign(note[:note.index(b"\n\n") + 1], "w.example/1", witness_key, 1)
    other = checkpoint_note(log_key, 6)
    with pytest.raises(CheckpointSignatureError):
        verify_cosignatures(other + line.encode(), [Cosigner("w.example/1", witness_key.public_key().public_bytes_raw())])


def test_vkeys_have_type_0x04_and_round_trip() -> None:
    public = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    vkey = cosigner_vkey("w.example/1", public)
    name, key_id, encoded = vkey.split("+", 2)  # the base64 key may hold "+" too
    assert base64.b64decode(encoded)[:1] == b"\x04"
    assert bytes.fromhex(key_id) == hashlib.sha256(b"w.example/1\n\x04" + public).digest()[:4]
    assert parse_cosigner_vkey(vkey) == Cosigner("w.example/1", public)
    with pytest.raises(InvalidKeyError, match="type 0x04"):  # a log's (checkpoint) key is not a cosigner key
        parse_cosigner_vkey(verifier_key_string("w.example/1", public))
    with pytest.raises(InvalidKeyError, match="does not match"):
        parse_cosigner_vkey(f"w.example/2+{key_id}+{encoded}")
    with pytest.raises(InvalidKeyError):
        cosigner_vkey("has space", public)


def test_timestamps_beyond_2_63_are_refused() -> None:
    with pytest.raises(MalformedCheckpointError):
        cosigned_message(b"a\n1\n" + base64.b64encode(bytes(32)) + b"\n", 2**63)


def test_with_signatures_adds_each_key_once() -> None:
    witness_key = Ed25519PrivateKey.generate()
    note = checkpoint_note(Ed25519PrivateKey.generate())
    body = format_checkpoint_body(Checkpoint("log.example/l", 5, hashlib.sha256(b"5").digest(),
                                             ("time 2026-01-01T00:00:00Z",)))
    first, second = cosign(body, "w.example/1", witness_key, 1), cosign(body, "w.example/1", witness_key, 2)
    once = with_signatures(note, [first])
    assert once == note + first.encode()
    assert with_signatures(once, [second]) == once  # the key has signed: its first line stays
    with pytest.raises(MalformedCheckpointError):
        with_signatures(note, [first + first])
