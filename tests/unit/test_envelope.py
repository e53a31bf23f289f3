import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.canonical import canonical_bytes
from ledger.domain.envelope import (
    key_id_for,
    load_private_key,
    parse_envelope,
    private_key_pem,
    public_key_bytes,
    sign,
    verify_signature,
)
from ledger.domain.errors import BadSignature, MalformedSubmission

KEY = Ed25519PrivateKey.generate()
PAYLOAD = {"envelope_id": "8c2f8a52-3f8e-4a7e-9d7a-0d6f3b1f8e11", "type": "X", "b": [1, 2], "a": "é"}


def test_canonical_bytes_follow_rfc8785() -> None:
    assert canonical_bytes({"b": 1, "a": [True, None, "x"]}) == b'{"a":[true,null,"x"],"b":1}'
    assert canonical_bytes({"é": "€"}) == '{"é":"€"}'.encode()


def test_floats_are_refused_with_their_path() -> None:
    with pytest.raises(MalformedSubmission) as err:
        canonical_bytes({"a": {"b": 1.5}})
    assert err.value.field == "payload.a.b"


def test_sign_then_verify_round_trip() -> None:
    envelope = sign(PAYLOAD, "werkfit", KEY)
    assert envelope.key_id == key_id_for(public_key_bytes(KEY))
    verify_signature(parse_envelope(envelope.as_dict()), public_key_bytes(KEY))


@given(st.integers(min_value=0, max_value=63), st.integers(min_value=0, max_value=7))
def test_any_flipped_signature_bit_fails(byte: int, bit: int) -> None:
    import base64

    envelope = sign(PAYLOAD, "werkfit", KEY).as_dict()
    raw = bytearray(base64.b64decode(envelope["signature"]))
    raw[byte] ^= 1 << bit
    envelope["signature"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(BadSignature):
        verify_signature(parse_envelope(envelope), public_key_bytes(KEY))


def test_changed_payload_or_other_key_fails() -> None:
    envelope = sign(PAYLOAD, "werkfit", KEY).as_dict()
    envelope["payload"] = {**PAYLOAD, "a": "e"}
    with pytest.raises(BadSignature):
        verify_signature(parse_envelope(envelope), public_key_bytes(KEY))
    with pytest.raises(BadSignature):
        verify_signature(sign(PAYLOAD, "werkfit", KEY), public_key_bytes(Ed25519PrivateKey.generate()))


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda e: e.pop("signature"), "signature"),
        (lambda e: e.update(extra=1), "extra"),
        (lambda e: e.update(payload=[1]), "payload"),
        (lambda e: e.update(submitter=""), "submitter"),
        (lambda e: e.update(signature="not base64!"), "signature"),
        (lambda e: e.update(signature="AAAA"), "signature"),
    ],
)
def test_malformed_envelopes_name_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    envelope = sign(PAYLOAD, "werkfit", KEY).as_dict()
    mutate(envelope)
    with pytest.raises(MalformedSubmission) as err:
        parse_envelope(envelope)
    assert err.value.field == field


def test_private_keys_load_from_pem_pkcs8_only() -> None:
    assert public_key_bytes(load_private_key(private_key_pem(KEY))) == public_key_bytes(KEY)
    assert public_key_bytes(load_private_key(b"\n" + private_key_pem(KEY))) == public_key_bytes(KEY)


@pytest.mark.parametrize(("content", "says"), [
    pytest.param(os.urandom(32), "not an Ed25519 private key in PEM", id="32 random bytes (the pseudonym key)"),
    pytest.param(KEY.private_bytes_raw(), "not an Ed25519 private key in PEM", id="a raw 32-byte seed"),
    pytest.param(b"nonsense", "not an Ed25519 private key in PEM", id="nonsense"),
    pytest.param(KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
                 "not an Ed25519 private key in PEM", id="a public key"),
    pytest.param(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        "not an Ed25519 private key", id="an EC private key"),
    pytest.param(KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.BestAvailableEncryption(b"secret")),
                 "an encrypted private key", id="an encrypted key"),
    pytest.param(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "not a readable PEM private key",
                 id="a damaged PEM"),
])
def test_anything_but_an_ed25519_pem_private_key_is_refused(content: bytes, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        load_private_key(content)
