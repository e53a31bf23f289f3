"""The OpenAPI document describes every payload type, generated from the ledger's field table.

One ``<Type>Payload`` schema per type in ``FIELDS`` and the envelope's ``payload`` as a
``oneOf`` with a discriminator on ``type``; the schemas agree with ``validate_payload``
(a valid sample of each type passes both, a broken one fails both). A check function
without a schema mapping fails here, and the document cannot be built with one.
"""

from __future__ import annotations

import base64
import inspect
from typing import Any

import jsonschema_rs
import pytest

from api.schemas.payloads import SIMPLE, UnmappedCheck, check_schema, payload_schema
from api.schemas.submissions import ENVELOPE_EXAMPLE
from ledger.domain import identity
from ledger.domain import payloads as domain
from ledger.domain.envelope import key_id_for
from ledger.domain.errors import LedgerError
from tests.api.support import ApiWorld
from tests.support import claim, commission, finding, new_id, not_found, payload, registry, verified

REF = "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592"
KEY = bytes(range(32))
PUBLIC_KEY = base64.b64encode(KEY).decode()
TRAJECTORY, CLAIM, BENEFIT = new_id(), new_id(), new_id()

SAMPLES: dict[str, dict[str, Any]] = {
    "PartyRegistered": registry("PartyRegistered", party_id="nieuw-werk", role="provider", public_key=PUBLIC_KEY),
    "KeyAdded": registry("KeyAdded", party_id="werkfit", public_key=PUBLIC_KEY),
    "KeyRevoked": registry("KeyRevoked", party_id="werkfit", key_id=key_id_for(KEY)),
    "AuditMandateGranted": registry("AuditMandateGranted", party_id="rekenkamer-haarlem", funder="gemeente-haarlem"),
    "RulesAdopted": registry("RulesAdopted", party_id="operator", rules_version=2),
    "TrajectoryCommissioned": commission(REF, trajectory_id=TRAJECTORY),
    "TrajectoryExtended": payload("TrajectoryExtended", REF, trajectory_id=TRAJECTORY, planned_end="2025-06-30"),
    "IntakeCompleted": payload("IntakeCompleted", REF, trajectory_id=TRAJECTORY, rung=2, rubric_version="v1.0"),
    "LadderRungAssessed": payload("LadderRungAssessed", REF, trajectory_id=TRAJECTORY, rung=4, rubric_version="v1.0",
                                  assessor="werkfit"),
    "ActivityRecorded": payload("ActivityRecorded", REF, trajectory_id=TRAJECTORY, instrument=29),
    "PlacementClaimed": claim(REF, TRAJECTORY),
    "PlacementWithdrawn": payload("PlacementWithdrawn", REF, claim_id=CLAIM),
    "PlacementConfirmed": payload("PlacementConfirmed", REF, claim_id=CLAIM),
    "PlacementRejected": payload("PlacementRejected", REF, claim_id=CLAIM, reason="no-evidence"),
    "PlacementContested": payload("PlacementContested", REF, claim_id=CLAIM, reason="job-ended-early"),
    "EmploymentEnded": payload("EmploymentEnded", REF, claim_id=CLAIM, end="2024-09-30"),
    "BenefitStarted": payload("BenefitStarted", REF, benefit_id=BENEFIT, benefit="WWB", start="2024-02-01"),
    "BenefitEnded": payload("BenefitEnded", REF, benefit_id=BENEFIT, end="2024-07-01"),
    "AftercareContact": payload("AftercareContact", REF, trajectory_id=TRAJECTORY),
    "TrajectoryEnded": payload("TrajectoryEnded", REF, trajectory_id=TRAJECTORY, reason="placed", end="2024-08-01"),
    "EmploymentVerified": verified(REF, CLAIM),
    "EmploymentNotFound": not_found(REF, None),
    "AuditFinding": finding(REF, CLAIM, "not-upheld"),
    "ReferralDeclined": payload("ReferralDeclined", REF, trajectory_id=TRAJECTORY, reason="no-capacity"),
    "FollowUpRecorded": payload("FollowUpRecorded", REF, trajectory_id=TRAJECTORY, moment="12-months", status="employed",
                                found_without="maybe", satisfaction=4),
    "PlacementCooperation": payload("PlacementCooperation", REF, claim_id=CLAIM, partner="baanzicht", partner_share_percent=50),
}
# a commission with the omittable fields (issue 16) stated validates too
SAMPLES_WITH_OMITTABLE = [commission(REF, trajectory_id=TRAJECTORY, referral_rung=3, target_mix=[5, 20, 35, 25, 15, 0],
                                     follow_up_by="werkfit")]


@pytest.fixture
def document(world: ApiWorld) -> dict[str, Any]:
    response = world.http().get("/v1/openapi.json")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def validator(document: dict[str, Any], name: str) -> Any:
    """A JSON Schema 2020-12 validator for one component, its $refs resolved in the document."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


def ledger_accepts(value: dict[str, Any]) -> bool:
    try:
        domain.validate_payload(value)
    except LedgerError:
        return False
    return True


def test_one_schema_per_payload_type_and_a_discriminated_union(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for kind, fields in domain.FIELDS.items():
        schema = schemas[f"{kind}Payload"]
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        omittable = domain.OMITTABLE.get(kind, frozenset())
        assert schema["required"] == [f for f in fields if f not in omittable] and list(schema["properties"]) == list(fields)
        assert schema["properties"]["type"]["const"] == kind and schema["properties"]["type"]["enum"] == [kind]
    union = schemas["Envelope"]["properties"]["payload"]
    mapping = {kind: f"#/components/schemas/{kind}Payload" for kind in domain.FIELDS}
    assert union["discriminator"] == {"propertyName": "type", "mapping": mapping}
    assert union["oneOf"] == [{"$ref": ref} for ref in mapping.values()]
    assert sorted(name for name in schemas if name.endswith("Payload")) == sorted(f"{kind}Payload" for kind in domain.FIELDS)


def test_the_field_formats(document: dict[str, Any]) -> None:
    claimed = document["components"]["schemas"]["PlacementClaimedPayload"]["properties"]
    assert claimed["claim_id"]["format"] == "uuid" and claimed["job_start"]["format"] == "date"
    assert claimed["employer_kvk"]["pattern"] == "^[0-9]{8}$" and claimed["client_ref"]["pattern"] == "^[0-9a-f]{64}$"
    assert claimed["contract_end"] == {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]}
    assert claimed["hours_per_week"] == {"type": "integer", "minimum": 1, "maximum": 60}
    assert claimed["secondment_via_provider"] == {"type": "boolean"}
    ended = document["components"]["schemas"]["TrajectoryEndedPayload"]["properties"]
    assert ended["reason"] == {"type": "string", "enum": list(domain.END_REASONS)}


def test_a_valid_sample_of_every_type_validates_against_its_schema_and_the_union(document: dict[str, Any]) -> None:
    assert set(SAMPLES) == set(domain.FIELDS), "add a sample for every payload type"
    envelope = validator(document, "Envelope")
    for kind, sample in SAMPLES.items():
        assert ledger_accepts(sample), kind
        errors = [error.message for error in validator(document, f"{kind}Payload").iter_errors(sample)]
        assert errors == [], (kind, errors)
        assert envelope.is_valid({**ENVELOPE_EXAMPLE, "payload": sample}), kind
    assert envelope.is_valid(ENVELOPE_EXAMPLE)
    for sample in SAMPLES_WITH_OMITTABLE:
        assert ledger_accepts(sample) and validator(document, f"{sample['type']}Payload").is_valid(sample)
        assert not ledger_accepts({**sample, "target_mix": [5, 20, 35, 25, 15, 1]})  # adds up to 101: the ledger's check
        for bad in ([5, 20, 35, 25, 15], [5, 20, 35, 25, 15, 0.5], [5, 20, 35, 25, 15, 101]):
            value = {**sample, "target_mix": bad}
            assert not ledger_accepts(value) and not validator(document, "TrajectoryCommissionedPayload").is_valid(value)


def broken(kind: str, sample: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Ways to break a valid sample, each of which the ledger refuses too."""
    cases = [("extra field", {**sample, "note": "x"}), ("missing field", {k: v for k, v in sample.items() if k != "envelope_id"}),
             ("other type", {**sample, "type": next(other for other in domain.FIELDS if other != kind)}),
             ("bad date", {**sample, "occurred_on": "2024-02-30"}), ("upper-case uuid", {**sample, "envelope_id": sample["envelope_id"].upper()})]
    for name, check in domain.FIELDS[kind].items():
        schema = check_schema(check, name)
        if "enum" in schema and name != "type":
            cases.append((f"{name} not a choice", {**sample, name: "not-a-choice"}))
        if schema.get("type") == "integer":
            cases += [(f"{name} too high", {**sample, name: schema["maximum"] + 1}), (f"{name} not an integer", {**sample, name: True})]
        if check in (identity.validate_kvk, identity.validate_client_ref, domain.sha256_hex):
            cases.append((f"{name} malformed", {**sample, name: sample[name][:-1]}))
        if check is domain.optional_date:
            cases.append((f"{name} malformed", {**sample, name: "01-01-2024"}))
    return cases


def test_a_broken_payload_does_not_validate(document: dict[str, Any]) -> None:
    envelope = validator(document, "Envelope")
    for kind, sample in SAMPLES.items():
        schema = validator(document, f"{kind}Payload")
        for case, value in broken(kind, sample):
            assert not ledger_accepts(value), (kind, case)
            assert not schema.is_valid(value), (kind, case)
            assert not envelope.is_valid({**ENVELOPE_EXAMPLE, "payload": value}), (kind, case)


def test_every_check_function_has_a_schema() -> None:
    """A new check in ledger.domain.payloads (``(value, field)``) needs a mapping in api.schemas.payloads."""
    for name, function in vars(domain).items():
        if inspect.isfunction(function) and function.__module__ == domain.__name__:
            if list(inspect.signature(function).parameters)[:2] == ["value", "field"]:
                assert function in SIMPLE, f"{domain.__name__}.{name} has no JSON Schema mapping"
    for kind, fields in domain.FIELDS.items():
        for name, check in fields.items():
            assert check_schema(check, f"{kind}.{name}")


def test_an_unmapped_check_fails_loudly() -> None:
    def postcode(value: Any, field: str) -> str:
        return str(value)

    with pytest.raises(UnmappedCheck, match="postcode"):
        check_schema(postcode, "address.postcode")
    with pytest.raises(UnmappedCheck):
        payload_schema("Moved", {**domain.COMMON, "postcode": postcode})
    with pytest.raises(UnmappedCheck):
        check_schema(lambda value, field: value)
