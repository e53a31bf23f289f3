"""Submissions: signed envelopes in, signed receipts (or problems) out.

Receipts are passed through exactly as signed: their fields are plain strings and integers.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import EXAMPLE_KEY_ID, EXAMPLE_REF, EXAMPLE_SIGNATURE, EXAMPLE_UUID, MAX_BATCH, examples

ENVELOPE_EXAMPLE: dict[str, Any] = {
    "payload": {"envelope_id": EXAMPLE_UUID, "type": "ActivityRecorded", "occurred_on": "2024-03-01",
                "client_ref": EXAMPLE_REF, "trajectory_id": "0f6b2c1e-8d3a-4b7e-9c5d-2a1b3c4d5e6f", "instrument": 29},
    "submitter": "werkfit",
    "key_id": EXAMPLE_KEY_ID,
    "signature": EXAMPLE_SIGNATURE,
}


class Envelope(BaseModel):
    """A signed submission: Ed25519 over the RFC 8785 canonical bytes of ``payload``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ENVELOPE_EXAMPLE]})
    payload: dict[str, Any] = Field(description="envelope_id, type, occurred_on and the type's fields")
    submitter: str = Field(description="the registered party id")
    key_id: str = Field(description="ed25519: and 16 hex digits")
    signature: str = Field(description="base64 of the 64-byte Ed25519 signature")


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"envelopes": [ENVELOPE_EXAMPLE]}]})
    envelopes: list[Envelope] = Field(min_length=1, max_length=MAX_BATCH)


class Refusal(BaseModel):
    rule: str
    field: str | None = None
    detail: str
    conflicting_claim: str | None = Field(default=None, description="for claim.unique-job: the claim it conflicts with")


RECEIPT_EXAMPLE = {
    "envelope_id": EXAMPLE_UUID, "verdict": "accepted", "refusal": None,
    "recorded_at": "2026-11-22T12:28:28.589314Z", "log_index": 17, "leaf_hash": "ab" * 32,
    "key_id": EXAMPLE_KEY_ID, "signature": EXAMPLE_SIGNATURE,
}


class Receipt(BaseModel):
    """The ledger's signed statement of what it recorded for one envelope (operator key)."""

    model_config = examples(RECEIPT_EXAMPLE)
    envelope_id: str
    verdict: Literal["accepted", "refused"]
    refusal: Refusal | None
    recorded_at: str = Field(json_schema_extra={"format": "date-time"})
    log_index: int
    leaf_hash: str
    key_id: str
    signature: str


class FieldError(BaseModel):
    field: str
    rule: str
    detail: str


PROBLEM_EXAMPLE = {
    "type": "urn:trajectledger:problem:double-claim", "title": "This job is claimed already", "status": 409,
    "detail": "this job of this client is claimed already", "rule": "claim.unique-job",
    "field": "payload.employer_kvk", "conflicting_claim": EXAMPLE_UUID,
}


class Problem(BaseModel):
    """RFC 9457 problem details, with the ledger rule and field it concerns."""

    model_config = examples(PROBLEM_EXAMPLE)
    type: str = Field(description="a URI naming the kind of problem")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str | None = None
    rule: str = Field(description="the rule broken, e.g. claim.unique-job, signature.expired")
    field: str | None = Field(default=None, description="the field or header concerned")
    errors: list[FieldError] | None = Field(default=None, description="every invalid field of the request")
    conflicting_claim: str | None = None
    receipt: Receipt | None = Field(default=None, description="present when the refusal was recorded")


class BatchItem(BaseModel):
    index: int
    status: int = Field(description="the status this envelope would have had on its own")
    receipt: Receipt | None = None
    problem: Problem | None = None


class BatchResult(BaseModel):
    model_config = examples({"results": [{"index": 0, "status": 201, "receipt": RECEIPT_EXAMPLE}]})
    results: list[BatchItem]
