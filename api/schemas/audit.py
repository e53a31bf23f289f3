"""What wage data says about a claim, and an audit sample with its findings (issue 15)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import Page


class Verification(BaseModel):
    status: Literal["verified", "not-found", "contradicted", "unverified"]
    detail: str
    verified_through: date | None = Field(description="the unbroken verified employment from the job start ends here")


class Finding(BaseModel):
    outcome: Literal["upheld", "not-upheld", "unverifiable"]
    reason: str
    evidence_sha256: str
    by: str
    on: date


class SampledElement(BaseModel):
    stratum: str
    rank: int = Field(description="place in its stratum's draw order (1 = lowest SHA-256 rank)")
    element_id: str = Field(description="the claim_id, or the trajectory_id for a sample of trajectories")
    client_ref: str
    trajectory_id: str
    provider: str
    funder: str
    contract: str
    fee_cents: int
    verification: str
    finding: Finding | None = Field(description="the latest audit finding (a trajectory: its claims' worst); null until audited")


class Allocation(BaseModel):
    stratum: str
    population: int
    allocated: int


class AuditSample(Page):
    seed: str = Field(description="the checkpoint's root hash (hex): the draw's seed")
    tree_size: int
    origin: str
    checkpoint_note: str = Field(description="the operator's signed checkpoint (C2SP signed note) that fixed the seed")
    method: str
    method_text: str
    population: Literal["claims", "trajectories"]
    strata: Literal["provider", "funder", "contract"]
    size: int
    minimum_per_stratum: int
    population_size: int = Field(description="the elements the caller may see, as of the checkpoint")
    allocation: list[Allocation]
    items: list[SampledElement]
