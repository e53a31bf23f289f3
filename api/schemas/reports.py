"""Flagged claims and outflow rates across dossiers."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import Page
from api.schemas.dossiers import Flag


class FlaggedClaim(BaseModel):
    claim_id: str
    trajectory_id: str
    client_ref: str
    funder: str
    provider: str
    employer_kvk: str
    job_start: date
    status: str
    flag: Flag


class FlagPage(Page):
    items: list[FlaggedClaim]


class DefinitionInfo(BaseModel):
    name: str
    version: str
    summary: str


class Outcome(BaseModel):
    definition: str
    success: int
    failure: int
    pending: int
    rate: float | None = Field(description="success / (success + failure); null while nothing is decided")


class RateRow(BaseModel):
    group: str = Field(description="the provider, funder or cohort; '(all)' for the total")
    trajectories: int
    outcomes: list[Outcome]


class OutflowRates(Page):
    peildatum: date
    as_known_at: str | None = Field(json_schema_extra={"format": "date-time"})
    group_by: Literal["provider", "funder", "cohort"]
    definitions: list[DefinitionInfo]
    items: list[RateRow]
