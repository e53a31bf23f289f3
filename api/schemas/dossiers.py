"""One client's dossier as the caller may see it."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.audit import Verification
from api.schemas.common import EXAMPLE_REF, Page, examples


class Dossier(BaseModel):
    model_config = examples({"client_ref": EXAMPLE_REF, "trajectories": 1, "claims": 1, "benefits": 0})
    client_ref: str
    trajectories: int = Field(description="how many the caller may see")
    claims: int
    benefits: int


class Intake(BaseModel):
    rung: int
    on: date
    rubric_version: str


class Assessment(Intake):
    assessor: str


class Activity(BaseModel):
    instrument: int
    on: date


class Ended(BaseModel):
    reason: str
    end: date
    by: str


class Trajectory(BaseModel):
    trajectory_id: str
    funder: str
    provider: str
    start: date
    planned_end: date
    definition: str
    contract: str
    fee_cents: int
    base_fee_cents: int
    commissioned_on: date
    intake: Intake | None
    assessments: list[Assessment]
    activities: list[Activity]
    aftercare: list[date]
    ended: Ended | None


class TrajectoryPage(Page):
    items: list[Trajectory]


class Contest(BaseModel):
    by: str = Field(description="the contesting party, or 'another party' when the caller may not know it")
    reason: str
    on: date


class Flag(BaseModel):
    name: str
    detail: str


class Claim(BaseModel):
    claim_id: str
    trajectory_id: str
    provider: str
    funder: str
    employer_kvk: str
    application_date: date
    job_start: date
    contract_end: date | None
    employment_end: date | None
    hours_per_week: int
    secondment_via_provider: bool
    evidence_sha256: str
    status: Literal["claimed", "confirmed", "rejected", "withdrawn"]
    claimed_on: date
    decided_on: date | None
    reason: str | None
    contests: list[Contest]
    flags: list[Flag] | None = Field(description="attribution findings; null for providers")
    verification: Verification | None = Field(
        default=None, description="what the funders' wage data says about the employment; null for providers")


class ClaimPage(Page):
    items: list[Claim]


class Benefit(BaseModel):
    benefit_id: str
    benefit: str
    funder: str
    start: date
    end: date | None


class BenefitPage(Page):
    items: list[Benefit]
