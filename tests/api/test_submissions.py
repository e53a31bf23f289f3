"""POST /v1/envelopes and /v1/envelopes/_batch through the HTTP stack, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.envelope import b64encode, key_id_for, public_key_bytes
from ledger.domain.receipt import Receipt, receipt_from_dict
from ledger.domain.receipt_check import verify_receipt
from tests.api.support import HAARLEM, JOBSTAP, UWV, WERKFIT, ApiWorld, Story
from tests.support import commission, new_id

PROBLEM = "application/problem+json"
REF = "ab" * 32


def verified(world: ApiWorld, data: Any, envelope: dict[str, Any] | None = None) -> Receipt:
    """The receipt, its tlog-proof checked against the published checkpoint key (and the envelope)."""
    receipt = receipt_from_dict(data)
    assert isinstance(receipt, Receipt)
    key = world.http().get("/v1/ledger-key").json()["checkpoint_verifier_key"]
    verify_receipt(receipt, [key], envelope)
    return receipt


def log_size(world: ApiWorld) -> int:
    return int(world.http().get("/v1/health").json()["log_size"])


def test_an_accepted_envelope_gets_201_and_a_receipt_signed_by_the_published_key(world: ApiWorld) -> None:
    envelope = world.envelope(HAARLEM, commission(REF))
    response = world.http().post("/v1/envelopes", json=envelope)
    assert response.status_code == 201
    receipt = verified(world, response.json(), envelope)
    assert receipt.verdict == "accepted" and receipt.envelope_id == envelope["payload"]["envelope_id"]
    again = world.http().post("/v1/envelopes", json=envelope)
    assert again.status_code == 201 and again.json() == response.json()  # idempotent: the original receipt


def test_a_reused_envelope_id_with_another_payload_is_a_409_and_not_recorded(world: ApiWorld) -> None:
    payload = commission(REF)
    assert world.post_envelope(HAARLEM, payload).status_code == 201
    before = log_size(world)
    response = world.post_envelope(HAARLEM, {**payload, "fee_cents": 1})
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["rule"] == "envelope.id-reused" and "receipt" not in response.json()
    assert log_size(world) == before


def test_a_bad_envelope_signature_is_422_and_nothing_is_recorded(world: ApiWorld) -> None:
    before = log_size(world)
    envelope = world.envelope(HAARLEM, commission(REF))
    envelope["payload"]["fee_cents"] += 1  # signed before the change
    response = world.http().post("/v1/envelopes", json=envelope)
    assert response.status_code == 422
    body = response.json()
    assert (body["rule"], body["field"], body["status"]) == ("signature.invalid", "signature", 422)
    assert {"type", "title", "detail"} <= set(body) and "receipt" not in body
    assert log_size(world) == before


def test_an_unknown_submitter_key_is_422(world: ApiWorld) -> None:
    envelope = world.envelope(HAARLEM, commission(REF))
    stranger = world.envelope(HAARLEM, commission(REF)) | {"key_id": "ed25519:0000000000000000"}
    assert world.http().post("/v1/envelopes", json=stranger).json()["rule"] == "key.unknown"
    unregistered = {**envelope, "submitter": "nobody"}
    response = world.http().post("/v1/envelopes", json=unregistered)
    assert response.status_code == 422 and response.json()["rule"] == "party.unknown"


def test_a_malformed_payload_names_the_field_and_the_rule(world: ApiWorld) -> None:
    payload = {**commission(REF), "fee_cents": 1.5}
    response = world.post_envelope(HAARLEM, {**commission(REF), "contract": "pay-anyway"})
    assert response.status_code == 400
    assert (response.json()["field"], response.json()["rule"]) == ("payload.contract", "field.choice")
    floats = world.http().post("/v1/envelopes", json={**world.envelope(HAARLEM, commission(REF)), "payload": payload})
    assert floats.status_code == 400 and floats.json()["rule"] == "field.type"


def test_request_validation_is_a_400_problem_listing_each_field(world: ApiWorld) -> None:
    response = world.http().post("/v1/envelopes", json={"payload": {}, "extra": 1})
    assert response.status_code == 400 and response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["rule"] == "request.invalid"
    assert {e["field"] for e in body["errors"]} >= {"body.submitter", "body.extra"}
    broken = world.http().post("/v1/envelopes", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["status"] == 400


def test_a_role_violation_is_recorded_and_answered_403_with_the_receipt(world: ApiWorld) -> None:
    response = world.post_envelope(WERKFIT, commission(REF))  # a provider cannot commission
    assert response.status_code == 403
    body = response.json()
    assert body["rule"] == "role.not-allowed"
    receipt = verified(world, body["receipt"])
    assert receipt.verdict == "refused"


def test_a_double_claim_tells_the_job_is_claimed_and_the_claim_id_but_not_by_whom(world: ApiWorld, story: Story) -> None:
    response = story.refused
    assert response.status_code == 409 and response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["rule"] == "claim.unique-job" and body["field"] == "payload.employer_kvk"
    assert body["conflicting_claim"] == story.werkfit_claim
    assert body["receipt"]["refusal"]["conflicting_claim"] == story.werkfit_claim
    verified(world, body["receipt"])
    text = response.text
    for secret in (WERKFIT, HAARLEM, story.haarlem_trajectory):
        assert secret not in text


def test_a_batch_reports_each_envelope_on_its_own(world: ApiWorld) -> None:
    trajectory = new_id()
    good = world.envelope(HAARLEM, commission(REF, trajectory_id=trajectory))
    refused = world.envelope(UWV, commission(REF, trajectory_id=trajectory))  # exists already
    unsigned = world.envelope(HAARLEM, commission(REF)) | {"signature": "A" * 86 + "=="}
    malformed = world.envelope(HAARLEM, {**commission(REF), "instrument": 3})
    response = world.http().post("/v1/envelopes/_batch", json={"envelopes": [good, refused, unsigned, malformed]})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert [r["status"] for r in results] == [201, 409, 422, 400]
    assert results[0]["receipt"]["verdict"] == "accepted"
    assert results[1]["problem"]["rule"] == "reference.exists" and results[1]["problem"]["receipt"]["verdict"] == "refused"
    assert results[2]["problem"]["rule"] == "signature.invalid" and "receipt" not in results[2]["problem"]
    assert results[3]["problem"]["rule"] == "field.unknown"


def test_a_batch_holds_1_to_500_envelopes(world: ApiWorld) -> None:
    envelope = world.envelope(JOBSTAP, commission(REF))
    assert world.http().post("/v1/envelopes/_batch", json={"envelopes": []}).status_code == 400
    too_many = world.http().post("/v1/envelopes/_batch", json={"envelopes": [envelope] * 501})
    assert too_many.status_code == 400 and too_many.json()["field"] == "body.envelopes"


def test_a_body_over_the_limit_is_413_declared_or_chunked(world: ApiWorld) -> None:
    big = json.dumps({"envelopes": [{"payload": {"x": "y" * 1024}}] * 1100}).encode()
    assert len(big) > 1 << 20
    response = world.http().post("/v1/envelopes/_batch", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["rule"] == "request.too-large"
    assert response.headers["api-version"] == "1.0.0"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts what arrives
        for start in range(0, len(big), 65536):
            yield big[start:start + 65536]

    chunked = world.http().post("/v1/envelopes/_batch", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413


def test_deep_nesting_is_a_400_not_a_500(world: ApiWorld) -> None:
    deep = b'{"payload":' + b"[" * 100000 + b"]" * 100000 + b"}"
    response = world.http().post("/v1/envelopes", content=deep, headers={"content-type": "application/json"})
    assert response.status_code == 400


def test_a_revoked_key_can_no_longer_submit(world: ApiWorld) -> None:
    new_key = Ed25519PrivateKey.generate()
    operator = world.client("operator")
    old_key_id = key_id_for(public_key_bytes(world.keys[HAARLEM]))
    for kind, fields in (("KeyAdded", {"public_key": b64encode(public_key_bytes(new_key))}),
                         ("KeyRevoked", {"key_id": old_key_id})):
        assert operator.submit(operator.envelope(kind, "2024-01-02", party_id=HAARLEM, **fields)).accepted
    response = world.post_envelope(HAARLEM, commission(REF))
    assert response.status_code == 422 and response.json()["rule"] == "key.revoked"
    world.keys[HAARLEM] = new_key
    assert world.post_envelope(HAARLEM, commission(REF)).status_code == 201


def test_a_commission_naming_no_installed_definition_is_refused_unrecorded(world: ApiWorld) -> None:
    """The server knows the installed definitions: 'zes-maanden' would later show as unjudged."""
    before = log_size(world)
    response = world.post_envelope(HAARLEM, commission(REF, definition="zes-maanden"))
    assert response.status_code in (400, 422)
    body = response.json()
    assert (body["rule"], body["field"]) == ("definition.unknown", "payload.definition")
    assert "zes-maanden" in body["detail"] and "six-month-rule" in body["detail"] and "receipt" not in body
    assert log_size(world) == before
    plugin = world.post_envelope(HAARLEM, commission(REF, definition="employed-q2"))  # an installed plugin counts
    assert plugin.status_code == 201, plugin.text


def test_every_bad_field_of_an_envelope_comes_back_together(world: ApiWorld) -> None:
    before = log_size(world)
    bad = commission(REF, fee_cents=-1, contract="no-cure-maybe")
    bad["colour"] = "red"
    response = world.post_envelope(HAARLEM, bad)
    assert response.status_code in (400, 422)
    body = response.json()
    fields = [e["field"] for e in body["errors"]]
    assert {"payload.fee_cents", "payload.contract", "payload.colour"} <= set(fields) and len(fields) == 3
    assert (body["field"], body["rule"]) == (body["errors"][0]["field"], body["errors"][0]["rule"])
    assert log_size(world) == before
