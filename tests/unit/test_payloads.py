import pytest

from ledger.domain.errors import FieldErrors, MalformedSubmission
from ledger.domain.payloads import DOSSIER_TYPES, REGISTRY_TYPES, validate_payload
from tests.support import claim, commission, new_id

REF = "a" * 64


def test_a_complete_payload_passes_unchanged() -> None:
    p = claim(REF, new_id())
    assert validate_payload(p) is p
    assert validate_payload(commission(REF)) is not None


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"type": "PlacementGuessed"}, "payload.type", "type.unknown"),
        ({"client_ref": "123"}, "payload.client_ref", "client-ref.format"),
        ({"employer_kvk": "1234"}, "payload.employer_kvk", "kvk.format"),
        ({"job_start": "2024-02-30"}, "payload.job_start", "date.format"),
        ({"job_start": "1-2-2024"}, "payload.job_start", "date.format"),
        ({"hours_per_week": 0}, "payload.hours_per_week", "field.range"),
        ({"hours_per_week": "32"}, "payload.hours_per_week", "field.type"),
        ({"hours_per_week": True}, "payload.hours_per_week", "field.type"),
        ({"secondment_via_provider": "no"}, "payload.secondment_via_provider", "field.type"),
        ({"evidence_sha256": "XYZ"}, "payload.evidence_sha256", "sha256.format"),
        ({"claim_id": "not-a-uuid"}, "payload.claim_id", "uuid.format"),
        ({"claim_id": "8C2F8A52-3F8E-4A7E-9D7A-0D6F3B1F8E11"}, "payload.claim_id", "field.canonical"),
        ({"name": "Anja"}, "payload.name", "field.unknown"),
        ({"claim_id": "8c2f8a52-3f8e-4a7e-9d7a-0d6f3b1f8e11\n"}, "payload.claim_id", "uuid.format"),
        ({"evidence_sha256": "ab" * 32 + "\n"}, "payload.evidence_sha256", "sha256.format"),
    ],
)
def test_bad_fields_are_named_with_their_rule(change: dict[str, object], field: str, rule: str) -> None:
    p = {**claim(REF, new_id()), **change}
    with pytest.raises(MalformedSubmission) as err:
        validate_payload(p)
    assert (err.value.field, err.value.rule) == (field, rule)


@pytest.mark.parametrize("kind", sorted(DOSSIER_TYPES) + sorted(REGISTRY_TYPES))
def test_every_type_requires_its_fields(kind: str) -> None:
    with pytest.raises(MalformedSubmission) as err:
        validate_payload({"type": kind, "envelope_id": new_id(), "occurred_on": "2024-01-01"})
    assert err.value.rule == "field.required"


def test_every_bad_field_of_a_payload_is_named_together() -> None:
    good = {"envelope_id": "0b5e1a9c-2f4d-4e6b-8a7c-1d2e3f4a5b6c", "type": "BenefitStarted", "occurred_on": "2024-01-01",
            "client_ref": "ab" * 32, "benefit_id": "0b5e1a9c-2f4d-4e6b-8a7c-1d2e3f4a5b6d", "benefit": "WW", "start": "2024-01-01"}
    assert validate_payload(dict(good)) == good
    bad = {**good, "occurred_on": "1-1-2024", "benefit": "bijstand?", "colour": "red"}
    del bad["start"]
    with pytest.raises(FieldErrors) as raised:
        validate_payload(bad)
    named = [(e["field"], e["rule"]) for e in raised.value.errors]
    assert [field for field, _ in named] == ["payload.occurred_on", "payload.benefit", "payload.start", "payload.colour"]
    assert ("payload.start", "field.required") in named and ("payload.colour", "field.unknown") in named
    assert (raised.value.field, raised.value.rule) == named[0] and str(raised.value).count(";") == 3
    with pytest.raises(MalformedSubmission) as one:  # one bad field: that field's own error, as before
        validate_payload({**good, "benefit": "bijstand?"})
    assert not isinstance(one.value, FieldErrors) and one.value.field == "payload.benefit"
