"""Submissions: signed envelopes in, signed receipts (or problems) out.

Receipts are passed through exactly as made: their fields are plain strings and integers.
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


RECEIPT_PROOF_EXAMPLE = (
    "c2sp.org/tlog-proof@v1\n"
    "extra eyJlbnZlbG9wZV9pZCI6IjNmMmUxZDBjLTRiNWEtNDY5OC04NzZlLWFiY2RlZjAxMjM0NSIsInJlY29yZGVkX2F0IjoiMjAyNi0xMS0yMlQx"
    "MjoyODoyOC41ODkzMTRaIiwicmVmdXNhbCI6bnVsbCwidmVyZGljdCI6ImFjY2VwdGVkIn0=\n"
    "index 17\n" + "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n" * 2 + "\n"
    "trajectledger.example/log\n18\n" + "zc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc0=\n"
    "time 2026-11-22T12:28:28.589901Z\n\n\u2014 trajectledger.example/log " + "A" * 90 + "==\n"
)
RECEIPT_EXAMPLE = {
    "receipt_version": 2, "envelope_id": EXAMPLE_UUID, "verdict": "accepted", "refusal": None,
    "recorded_at": "2026-11-22T12:28:28.589314Z", "log_index": 17, "leaf_hash": "ab" * 32, "tree_size": 18,
    "tlog_proof": RECEIPT_PROOF_EXAMPLE,
}


class Receipt(BaseModel):
    """What the ledger recorded for one envelope, as a proof of inclusion in the log: the
    entry's index, its RFC 9162 inclusion proof and the checkpoint the operator signed once
    for the whole write, as a C2SP tlog-proof (c2sp.org/tlog-proof@v1)."""

    model_config = examples(RECEIPT_EXAMPLE)
    receipt_version: Literal[2] = Field(description="the receipt format: 2, a log proof")
    envelope_id: str
    verdict: Literal["accepted", "refused"]
    refusal: Refusal | None
    recorded_at: str = Field(json_schema_extra={"format": "date-time"})
    log_index: int = Field(ge=0, description="the entry's index in the log (also the proof's index line)")
    leaf_hash: str = Field(pattern="^[0-9a-f]{64}$", description="SHA-256(0x00 || leaf), hex")
    tree_size: int = Field(ge=1, description="the size of the signed checkpoint the proof leads to")
    tlog_proof: str = Field(description="c2sp.org/tlog-proof@v1 text; its extra line is the base64 of the RFC 8785 "
                                        "JSON of envelope_id, verdict, refusal and recorded_at")


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
