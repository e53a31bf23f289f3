"""Request signatures (RFC 9421) on reads: each way a credential can fail is a 401 problem."""

from __future__ import annotations

import base64
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application import Ledger
from ledger.domain.envelope import b64encode, key_id_for, public_key_bytes
from tests.api.support import HAARLEM, WERKFIT, ApiWorld
from tests.support import registry

PARTIES = "/parties"


def rule_of(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["api-version"] == "1.0.0"
    assert "Accept-Signature" in response.headers
    return str(response.json()["rule"])


def test_a_signed_read_by_a_registered_key_is_accepted(world: ApiWorld) -> None:
    response = world.signed(WERKFIT, "GET", PARTIES, params={"limit": 2})
    assert response.status_code == 200
    assert len(response.json()["items"]) == 2 and response.json()["total"] == 8  # the operator and the cast


def test_no_signature_is_401(world: ApiWorld) -> None:
    assert rule_of(world.http().get("/v1" + PARTIES)) == "signature.missing"


def test_a_signature_by_another_key_than_keyid_names_is_401(world: ApiWorld) -> None:
    # signed with a fresh key, but claiming werkfit's key id
    stranger = Ed25519PrivateKey.generate()
    good = world.signed(WERKFIT, "GET", PARTIES)
    forged = world.signed(WERKFIT, "GET", PARTIES, key=stranger)
    claimed = forged.request.headers["Signature-Input"].replace(
        key_id_for(public_key_bytes(stranger)), key_id_for(public_key_bytes(world.keys[WERKFIT])))
    response = world.http().get("/v1" + PARTIES, headers={"Signature-Input": claimed,
                                                          "Signature": forged.request.headers["Signature"]})
    assert good.status_code == 200
    assert rule_of(response) == "signature.invalid"


def test_an_unknown_key_is_401(world: ApiWorld) -> None:
    assert rule_of(world.signed(WERKFIT, "GET", PARTIES, key=Ed25519PrivateKey.generate())) == "key.unknown"


def test_a_revoked_key_is_401_from_then_on(world: ApiWorld) -> None:
    operator = world.client("operator")
    spare = Ed25519PrivateKey.generate()
    added = operator.envelope("KeyAdded", "2024-01-02", party_id=WERKFIT, public_key=b64encode(public_key_bytes(spare)))
    assert operator.submit(added).accepted
    assert world.signed(WERKFIT, "GET", PARTIES).status_code == 200
    revoked = operator.envelope("KeyRevoked", "2024-01-02", party_id=WERKFIT,
                                key_id=key_id_for(public_key_bytes(world.keys[WERKFIT])))
    assert operator.submit(revoked).accepted
    assert rule_of(world.signed(WERKFIT, "GET", PARTIES)) == "key.revoked"
    assert world.signed(WERKFIT, "GET", PARTIES, key=spare).status_code == 200


def test_an_old_or_future_signature_is_401(world: ApiWorld) -> None:
    now = int(time.time())
    assert rule_of(world.signed(WERKFIT, "GET", PARTIES, created=now - 301)) == "signature.expired"
    assert rule_of(world.signed(WERKFIT, "GET", PARTIES, created=now + 120)) == "signature.not-yet-valid"
    assert world.signed(WERKFIT, "GET", PARTIES, created=now - 200).status_code == 401  # expires = created + 60


def test_a_signature_for_another_request_does_not_verify(world: ApiWorld) -> None:
    signed = world.signed(WERKFIT, "GET", PARTIES, params={"limit": 1})
    headers = {k: signed.request.headers[k] for k in ("Signature-Input", "Signature")}
    assert signed.status_code == 200
    other_query = world.http().get("/v1" + PARTIES, params={"limit": 2}, headers=headers)
    other_path = world.http().get(f"/v1{PARTIES}/{WERKFIT}", params={"limit": 1}, headers=headers)
    assert rule_of(other_query) == "signature.invalid"
    assert rule_of(other_path) == "signature.invalid"


def test_a_body_must_be_covered_by_its_digest(world: ApiWorld) -> None:
    signed = world.signed(HAARLEM, "POST", "/pseudonyms", json={"bsn": "111222333"})
    assert signed.status_code == 200
    headers = {k: signed.request.headers[k] for k in ("Signature-Input", "Signature", "Content-Digest")}
    swapped = world.http().post("/v1/pseudonyms", json={"bsn": "123456782"}, headers=headers)
    assert rule_of(swapped) == "digest.mismatch"
    without_digest = world.signed(HAARLEM, "POST", "/pseudonyms", json={"bsn": "111222333"},
                                  extra={"Content-Digest": ""})
    assert rule_of(without_digest) == "digest.mismatch"


@pytest.mark.parametrize("signature_input, rule", [
    ('sig1=("@method" "@path");created={now};keyid="{kid}"', "signature.components"),
    ('sig1=("@method" "@path" "@query" "@target-uri");created={now};keyid="{kid}"', "signature.components"),
    ('sig1=("@method" "@path" "@query");keyid="{kid}"', "signature.malformed"),
    ('sig1=("@method" "@path" "@query");created={now};keyid="{kid}";alg="rsa-pss-sha512"', "signature.malformed"),
    ('sig1=("@method" "@path" "@query");created={now};keyid="{kid}";color="blue"', "signature.malformed"),
    ('sig1=("@method" "@path" "@query";sf);created={now};keyid="{kid}"', "signature.malformed"),
    ('sig1=("@method" "@path" "@query");created={now};keyid="{kid}", sig2=("@method");created={now}',
     "signature.malformed"),
    ('sig1=("@method" "@path" "@query";created={now}', "signature.malformed"),
    ('sig2=("@method" "@path" "@query");created={now};keyid="{kid}"', "signature.malformed"),
    ('sig1=("@method" "@path" "@query" "x-missing");created={now};keyid="{kid}"', "signature.components"),
])
def test_malformed_or_insufficient_signature_input_is_401(world: ApiWorld, signature_input: str, rule: str) -> None:
    kid = key_id_for(public_key_bytes(world.keys[WERKFIT]))
    header = signature_input.replace("{now}", str(int(time.time()))).replace("{kid}", kid)
    signature = "sig1=:" + base64.b64encode(bytes(64)).decode() + ":"
    assert rule_of(world.http().get("/v1" + PARTIES, headers={"Signature-Input": header,
                                                               "Signature": signature})) == rule


def test_a_garbled_signature_field_is_401(world: ApiWorld) -> None:
    signed = world.signed(WERKFIT, "GET", PARTIES)
    for garbled in ("sig1=:not base64!:", "sig1=:" + base64.b64encode(bytes(10)).decode() + ":", "sig1"):
        response = world.http().get("/v1" + PARTIES, headers={
            "Signature-Input": signed.request.headers["Signature-Input"], "Signature": garbled})
        assert rule_of(response) == "signature.malformed"


def test_a_key_revoked_by_another_process_is_refused_at_once(world: ApiWorld) -> None:
    """The app reads the registry as stored, not a cached copy: another ledger instance (as
    another API process would be) revokes the key, and the very next read is refused."""
    assert world.signed(WERKFIT, "GET", PARTIES).status_code == 200
    elsewhere = Ledger(world.settings)
    try:
        spare = Ed25519PrivateKey.generate()
        for kind, fields in (("KeyAdded", {"public_key": b64encode(public_key_bytes(spare))}),
                             ("KeyRevoked", {"key_id": key_id_for(public_key_bytes(world.keys[WERKFIT]))})):
            payload = registry(kind, "2024-01-02", party_id=WERKFIT, **fields)
            assert elsewhere.submit(world.envelope("operator", payload)).accepted
    finally:
        elsewhere.close()
    assert rule_of(world.signed(WERKFIT, "GET", PARTIES)) == "key.revoked"
