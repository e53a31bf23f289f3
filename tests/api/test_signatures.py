"""The RFC 9421 / RFC 9530 primitives against the RFCs' own examples, and the parser's edges.

RFC 9421 Appendix B.2.6 signs a request with the test key ``test-key-ed25519``; Ed25519 is
deterministic, so the SDK's signature base and signature must reproduce it byte for byte,
and the server's verifier must accept it. RFC 9530 (and RFC 9421 B.1) give the digests of
the body ``{"hello": "world"}``.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api import signatures
from api.errors import AuthenticationFailed
from ledger.domain.envelope import public_key_bytes
from sdk.http_signatures import content_digest, serialize_signature_params, signature_base

SEED = base64.urlsafe_b64decode("n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU=")
PUBLIC = base64.urlsafe_b64decode("JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs=")
B26_INPUT = ('sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
             ';created=1618884473;keyid="test-key-ed25519"')
B26_SIGNATURE = "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
B26_BASE = "\n".join([
    '"date": Tue, 20 Apr 2021 02:07:55 GMT', '"@method": POST', '"@path": /foo', '"@authority": example.com',
    '"content-type": application/json', '"content-length": 18',
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"',
])
HEADERS = [("Host", "example.com"), ("Date", "Tue, 20 Apr 2021 02:07:55 GMT"), ("Content-Type", "application/json"),
           ("Content-Length", "18")]


def test_the_sdk_reproduces_rfc9421_b26() -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    assert public_key_bytes(key) == PUBLIC
    params = serialize_signature_params(
        ["date", "@method", "@path", "@authority", "content-type", "content-length"],
        [("created", 1618884473), ("keyid", "test-key-ed25519")])
    base = signature_base([("date", "Tue, 20 Apr 2021 02:07:55 GMT"), ("@method", "POST"), ("@path", "/foo"),
                           ("@authority", "example.com"), ("content-type", "application/json"),
                           ("content-length", "18")], params)
    assert base.decode() == B26_BASE
    assert base64.b64encode(key.sign(base)).decode() == B26_SIGNATURE


def test_the_server_parses_and_verifies_rfc9421_b26() -> None:
    sig = signatures.parse_signature(B26_INPUT, f"sig-b26=:{B26_SIGNATURE}:")
    assert sig.label == "sig-b26" and sig.key_id == "test-key-ed25519" and sig.param("created") == 1618884473
    base = signatures.base_for(sig, "POST", "/foo", "param=Value&Pet=dog", HEADERS, "example.com")
    assert base.decode() == B26_BASE
    signatures.verify(PUBLIC, base, sig.signature)
    with pytest.raises(AuthenticationFailed) as failed:
        signatures.verify(PUBLIC, base.replace(b"/foo", b"/bar"), sig.signature)
    assert failed.value.rule == "signature.invalid"


def test_the_server_policy_refuses_b26_for_lack_of_query_and_digest() -> None:
    sig = signatures.parse_signature(B26_INPUT, f"sig-b26=:{B26_SIGNATURE}:")
    with pytest.raises(AuthenticationFailed) as refused:
        signatures.check_policy(sig, has_body=True, now=1618884473, max_age=300, skew=30)
    assert refused.value.rule == "signature.components" and "@query" in refused.value.detail


def test_content_digest_matches_rfc9530() -> None:
    body = b'{"hello": "world"}'
    assert content_digest(body) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    sha512 = "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
    signatures.check_digest(sha512, body)
    signatures.check_digest(content_digest(body) + ", md5=:AAAA:", body)  # unknown algorithms are ignored
    for bad in (sha512, "md5=:AAAA:", None):
        with pytest.raises(AuthenticationFailed) as failed:
            signatures.check_digest(bad, b'{"hello": "world!"}')
        assert failed.value.rule == "digest.mismatch"


@pytest.mark.parametrize("text, expected", [
    ('a=1, b="x y", c=?1, d=tok/en, e=:AAE=:', {"a": 1, "b": "x y", "c": True, "d": "tok/en", "e": b"\x00\x01"}),
    ('sig=("@a" "b");p=1;q="r"', {"sig": [("@a", {}), ("b", {})]}),
    ('flag', {"flag": True}),
    ('s="quote \\" and \\\\ backslash"', {"s": 'quote " and \\ backslash'}),
])
def test_the_structured_field_parser(text: str, expected: dict[str, object]) -> None:
    parsed = signatures.parse_dictionary(text, "test")
    assert {name: value for name, (value, _) in parsed.items()} == expected


@pytest.mark.parametrize("text", ['a=1,', "A=1", 'a="unterminated', "a=(", 'a="\\x"', "a=1.5", "a=:@@:", 'a="é"'])
def test_the_parser_refuses_what_is_not_a_structured_field(text: str) -> None:
    with pytest.raises(AuthenticationFailed) as refused:
        signatures.parse_dictionary(text, "test")
    assert refused.value.rule == "signature.malformed"
