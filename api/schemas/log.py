"""The transparency log: signed checkpoints and RFC 9162 proofs."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import Page, examples

CHECKPOINT_EXAMPLE = {
    "tree_size": 17, "root_hash": "ab" * 32, "created_at": "2026-11-22T12:28:28.589314Z",
    "note": "trajectledger.example/log\n17\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\ntime 2026-11-22T12:28:28.589314Z\n\n"
            "\u2014 trajectledger.example/log AAAAAA==\n",
}


class SignedCheckpoint(BaseModel):
    model_config = examples(CHECKPOINT_EXAMPLE)
    tree_size: int
    root_hash: str = Field(description="hex of the RFC 9162 root of the first tree_size entries")
    note: str = Field(description="the C2SP signed note, exactly as signed (check it with the verifier key)")
    created_at: str = Field(json_schema_extra={"format": "date-time"})


class SignedCheckpointPage(Page):
    items: list[SignedCheckpoint]


class InclusionProof(BaseModel):
    log_index: int
    tree_size: int
    leaf_hash: str = Field(description="hex of the entry's leaf hash (as in its receipt)")
    proof: list[str] = Field(description="hex hashes, from the leaf's sibling upwards (RFC 9162 2.1.3)")


class ConsistencyProof(BaseModel):
    old_size: int
    tree_size: int
    proof: list[str] = Field(description="hex hashes (RFC 9162 2.1.4)")
