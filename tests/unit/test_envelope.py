import pytest
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


def test_private_key_loads_from_pem_and_seed() -> None:
    assert public_key_bytes(load_private_key(private_key_pem(KEY))) == public_key_bytes(KEY)
    with pytest.raises(ValueError):
        load_private_key(b"nonsense")
