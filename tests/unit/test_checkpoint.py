"""C2SP tlog-checkpoint and signed-note: format, key IDs, signing and fail-closed opening."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointSignatureError,
    InvalidKeyError,
    MalformedCheckpointError,
    format_checkpoint_body,
    open_checkpoint,
    open_note,
    parse_checkpoint_body,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_key_string,
)

EM_DASH = "\u2014"
NAME = "example.com/ledger"
ROOT = hashlib.sha256(b"some root").digest()

# golang.org/x/mod/sumdb/note examples (ExampleSign, ExampleOpen, ExampleSign_add_signatures).
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"  # all-zero seed
GO_TEXT = (
    b"If you think cryptography is the answer to your problem,\n"
    b"then you don't know what your problem is.\n"
)
PETER_SIG = (
    f"{EM_DASH} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
    "XgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
).encode()
ENOCH_SIG = (
    f"{EM_DASH} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovT"
    "G01oOTGwnWLox33WWd1RvMc+QQ=\n"
).encode()


def spec_key_id(name: str, public_key: bytes) -> bytes:
    """signed-note: key ID = SHA-256(key name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\x0a" + b"\x01" + public_key).digest()[:4]


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes_raw()


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def vkey(key: Ed25519PrivateKey) -> str:
    return verifier_key_string(NAME, public_bytes(key))


@pytest.fixture(scope="module")
def note(key: Ed25519PrivateKey) -> bytes:
    return sign_checkpoint(Checkpoint(NAME, 42, ROOT), NAME, key)


# --- Go sumdb/note known answers ---


def test_go_verifier_key_parses_to_the_spec_key_id() -> None:
    name, kid, public_key = parse_verifier_key(PETER_VKEY)
    assert name == "PeterNeumann"
    assert kid == bytes.fromhex("c74f20a3") == spec_key_id(name, public_key)
    assert public_key == base64.b64decode(PETER_VKEY.split("+")[2])[1:]
    assert verifier_key_string(name, public_key) == PETER_VKEY


def test_go_signature_is_reproduced_byte_for_byte() -> None:
    seed = base64.b64decode(PETER_SKEY.split("+", 4)[4])
    assert seed[:1] == b"\x01"
    peter = Ed25519PrivateKey.from_private_bytes(seed[1:])
    assert sign_note(GO_TEXT, "PeterNeumann", peter) == GO_TEXT + b"\n" + PETER_SIG
    enoch = Ed25519PrivateKey.from_private_bytes(bytes(32))
    assert verifier_key_string("EnochRoot", public_bytes(enoch)) == ENOCH_VKEY
    assert sign_note(GO_TEXT, "EnochRoot", enoch) == GO_TEXT + b"\n" + ENOCH_SIG


def test_go_notes_open_with_either_key_and_ignore_unknown_signatures() -> None:
    both = GO_TEXT + b"\n" + PETER_SIG + ENOCH_SIG
    assert open_note(GO_TEXT + b"\n" + PETER_SIG, [PETER_VKEY]) == GO_TEXT
    assert open_note(both, [PETER_VKEY]) == GO_TEXT
    assert open_note(both, [ENOCH_VKEY]) == GO_TEXT
    assert open_note(both, [ENOCH_VKEY, PETER_VKEY]) == GO_TEXT
    with pytest.raises(CheckpointSignatureError):
        open_note(GO_TEXT + b"\n" + PETER_SIG, [ENOCH_VKEY])
    with pytest.raises(MalformedCheckpointError):  # validly signed, but not a checkpoint
        open_checkpoint(both, [PETER_VKEY])


def test_every_mangling_of_the_go_verifier_key_is_rejected() -> None:
    """Like Go's TestNewVerifier: every proper substring and every one-character change fails."""
    manglings = {
        PETER_VKEY[i:j]
        for i in range(len(PETER_VKEY) + 1)
        for j in range(i, len(PETER_VKEY) + 1)
        if (i, j) != (0, len(PETER_VKEY))
    }
    manglings |= {
        PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        for i in range(len(PETER_VKEY))
    }
    for mangled in manglings:
        with pytest.raises(InvalidKeyError):
            parse_verifier_key(mangled)


# --- format ---


def test_body_format_matches_the_c2sp_example() -> None:
    root = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    cp = Checkpoint("example.com/behind-the-sofa", 20852163, root)
    body = b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert format_checkpoint_body(cp) == body
    assert parse_checkpoint_body(body) == cp
    with_ext = Checkpoint("o", 0, root, ("ext one", "ext two"))
    assert format_checkpoint_body(with_ext).endswith(b"=\next one\next two\n")
    assert parse_checkpoint_body(format_checkpoint_body(with_ext)) == with_ext


def test_verifier_key_string_follows_the_spec(key: Ed25519PrivateKey, vkey: str) -> None:
    pub = public_bytes(key)
    name, hash_hex, encoded = vkey.split("+", 2)
    assert name == NAME
    assert re.fullmatch(r"[0-9a-f]{8}", hash_hex)
    assert bytes.fromhex(hash_hex) == spec_key_id(NAME, pub)
    assert base64.b64decode(encoded) == b"\x01" + pub
    assert parse_verifier_key(vkey) == (NAME, spec_key_id(NAME, pub), pub)


def test_signed_note_layout(key: Ed25519PrivateKey, note: bytes) -> None:
    body, sig_line = note.split(b"\n\n")
    assert body + b"\n" == format_checkpoint_body(Checkpoint(NAME, 42, ROOT))
    prefix = f"{EM_DASH} {NAME} ".encode()
    assert sig_line.startswith(prefix) and sig_line.endswith(b"\n")
    blob = base64.b64decode(sig_line[len(prefix) : -1], validate=True)
    assert len(blob) == 4 + 64
    assert blob[:4] == spec_key_id(NAME, public_bytes(key))
    key.public_key().verify(blob[4:], body + b"\n")  # raises if the signature is wrong


# --- opening ---


def test_round_trip(key: Ed25519PrivateKey, vkey: str, note: bytes) -> None:
    assert open_checkpoint(note, [vkey]) == Checkpoint(NAME, 42, ROOT)
    cp = Checkpoint(NAME, 2**64 - 1, ROOT, ("extension",))
    assert open_checkpoint(sign_checkpoint(cp, NAME, key), [vkey]) == cp


def test_tampered_body_fails(vkey: str, note: bytes) -> None:
    with pytest.raises(CheckpointSignatureError):
        open_checkpoint(note.replace(b"\n42\n", b"\n43\n", 1), [vkey])


@pytest.mark.parametrize("position", [0, 3, 4, 40, 67])
def test_tampered_signature_fails(vkey: str, note: bytes, position: int) -> None:
    body, line = note.decode().rsplit(" ", 1)
    blob = bytearray(base64.b64decode(line))
    blob[position] ^= 0x01
    tampered = f"{body} {base64.b64encode(blob).decode()}\n".encode()
    with pytest.raises(CheckpointSignatureError):
        open_checkpoint(tampered, [vkey])


def test_wrong_key_empty_keys_and_unknown_name_fail(key: Ed25519PrivateKey, note: bytes) -> None:
    other = verifier_key_string(NAME, public_bytes(Ed25519PrivateKey.generate()))
    renamed = verifier_key_string("example.com/other", public_bytes(key))
    for keys in ([other], [], [renamed]):
        with pytest.raises(CheckpointSignatureError):
            open_checkpoint(note, keys)


def test_no_keys_fails_closed_before_reading_the_note() -> None:
    for note in (b"", b"garbage", GO_TEXT + b"\n" + PETER_SIG):
        with pytest.raises(CheckpointSignatureError):
            open_note(note, [])


def test_the_last_blank_line_separates_text_from_signatures(key: Ed25519PrivateKey, vkey: str) -> None:
    text = b"first paragraph\n\nsecond paragraph\n"
    assert open_note(sign_note(text, NAME, key), [vkey]) == text


def test_a_bad_signature_by_any_trusted_key_rejects_the_note(
    key: Ed25519PrivateKey, vkey: str, note: bytes
) -> None:
    second = Ed25519PrivateKey.generate()
    second_line = sign_note(format_checkpoint_body(Checkpoint(NAME, 42, ROOT)), "b.example", second)
    cosigned = note + second_line.split(b"\n\n")[1]
    second_vkey = verifier_key_string("b.example", public_bytes(second))
    assert open_checkpoint(cosigned, [vkey, second_vkey]).size == 42
    forged = note + sign_note(b"other text\n", "b.example", second).split(b"\n\n")[1]
    assert open_checkpoint(forged, [vkey]).size == 42  # unknown signer: ignored
    with pytest.raises(CheckpointSignatureError):
        open_checkpoint(forged, [vkey, second_vkey])


@pytest.mark.parametrize(
    "body",
    [
        b"example.com/ledger\n12a\n" + base64.b64encode(ROOT) + b"\n",
        b"example.com/ledger\n-1\n" + base64.b64encode(ROOT) + b"\n",
        b"example.com/ledger\n042\n" + base64.b64encode(ROOT) + b"\n",
        b"example.com/ledger\n\xd9\xa3\n" + base64.b64encode(ROOT) + b"\n",  # Arabic-Indic 3
        b"example.com/ledger\n18446744073709551616\n" + base64.b64encode(ROOT) + b"\n",
        b"example.com/ledger\n42\nnot base64!\n",
        b"example.com/ledger\n42\n" + base64.b64encode(ROOT)[:-2] + b"\n",
        b"example.com/ledger\n42\n" + base64.b64encode(ROOT[:31]) + b"\n",
        b"example.com/ledger\n42\n" + base64.b64encode(ROOT + b"\x00") + b"\n",
        b"example.com/ledger\n42\n" + base64.b64encode(ROOT)[:-2] + b"J=\n",  # non-canonical
        b"example.com/ledger\n42\n",
        b"\n42\n" + base64.b64encode(ROOT) + b"\n",
        b"example.com/ledger\n42\n" + base64.b64encode(ROOT) + b"\n\n",  # empty extension
    ],
    ids=[
        "size-not-decimal", "size-negative", "size-leading-zero", "size-non-ascii-digit",
        "size-over-uint64", "root-bad-base64", "root-truncated-base64", "root-31-bytes",
        "root-33-bytes", "root-non-canonical-base64", "two-lines", "empty-origin",
        "empty-extension-line",
    ],
)
def test_malformed_bodies_are_rejected_even_when_signed(
    key: Ed25519PrivateKey, vkey: str, body: bytes
) -> None:
    with pytest.raises(MalformedCheckpointError):
        open_checkpoint(sign_note(body, NAME, key), [vkey])


def _replace_signature_line(note: bytes, line: bytes) -> bytes:
    return note.split(b"\n\n")[0] + b"\n\n" + line


@pytest.mark.parametrize(
    "mangle",
    [
        lambda n: n.replace(b"\n\n", b"\n"),  # missing blank line
        lambda n: n[:-1],  # no final newline
        lambda n: n.split(b"\n\n")[0] + b"\n\n",  # no signature lines
        lambda n: n.replace(EM_DASH.encode(), b"-"),
        lambda n: n.replace(f"{EM_DASH} ".encode(), EM_DASH.encode()),
        lambda n: n.replace(NAME.encode() + b" ", NAME.encode() + b"  ", 1),
        lambda n: n.replace(b"\n42\n", b"\n4\x012\n"),  # control character
        lambda n: n.replace(b"\n42\n", b"\n4\xff2\n"),  # not UTF-8
        lambda n: n[:-2] + b"!\n",  # bad signature base64
        lambda n: _replace_signature_line(n, f"{EM_DASH} {NAME} AAAA\n".encode()),  # too short
        lambda n: _replace_signature_line(n, f"{EM_DASH} a+b AAAAAAAA\n".encode()),  # bad name
    ],
    ids=[
        "missing-blank-line", "no-final-newline", "no-signatures", "hyphen-not-em-dash",
        "no-space-after-dash", "double-space", "control-char", "not-utf8", "bad-sig-base64",
        "sig-too-short", "plus-in-key-name",
    ],
)
def test_malformed_notes_are_rejected(vkey: str, note: bytes, mangle: Callable[[bytes], bytes]) -> None:
    mangled = mangle(note)
    assert mangled != note
    with pytest.raises(MalformedCheckpointError):
        open_checkpoint(mangled, [vkey])


def test_invalid_checkpoints_and_keys_are_refused(key: Ed25519PrivateKey) -> None:
    bads: tuple[Callable[[], object], ...] = (
        lambda: Checkpoint("", 1, ROOT),
        lambda: Checkpoint("a\nb", 1, ROOT),
        lambda: Checkpoint("o", -1, ROOT),
        lambda: Checkpoint("o", 1, ROOT[:31]),
        lambda: Checkpoint("o", 1, ROOT, ("",)),
    )
    for bad in bads:
        with pytest.raises(MalformedCheckpointError):
            bad()
    for name in ("", "a b", "a+b", "tab\there", "nbsp\u00a0name"):
        with pytest.raises(InvalidKeyError):
            sign_checkpoint(Checkpoint("o", 1, ROOT), name, key)
        with pytest.raises(InvalidKeyError):
            verifier_key_string(name, public_bytes(key))
    with pytest.raises(InvalidKeyError):
        verifier_key_string(NAME, public_bytes(key)[:31])
    pub = public_bytes(key)
    ecdsa_key = base64.b64encode(bytes([0x02]) + pub).decode()
    ecdsa_type = f"{NAME}+{spec_key_id(NAME, pub).hex()}+{ecdsa_key}"
    with pytest.raises(InvalidKeyError):
        parse_verifier_key(ecdsa_type)
    assert issubclass(MalformedCheckpointError, CheckpointError)
    assert issubclass(CheckpointSignatureError, CheckpointError)
