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


class ContractOutcome(BaseModel):
    success: int
    failure: int
    pending: int
    rate: float | None = Field(description="success / (success + failure); null while nothing is decided")
    unjudged: int = Field(description="trajectories whose contract names a definition not installed on this ledger: "
                                      "in none of the counts")


class RateRow(BaseModel):
    group: str = Field(description="the provider, funder or cohort; '(all)' for the total")
    trajectories: int
    outcomes: list[Outcome]
    by_contract: ContractOutcome = Field(description="each trajectory judged by the definition its own contract "
                                                     "named at commissioning: what was reported and paid at the time")


class OutflowRates(Page):
    peildatum: date
    as_known_at: str | None = Field(json_schema_extra={"format": "date-time"})
    group_by: Literal["provider", "funder", "cohort"]
    definitions: list[DefinitionInfo]
    differences_total: int = Field(description="trajectories judged differently between these definitions: "
                                               "listed, paginated, by GET /outflow-rates/differences")
    items: list[RateRow]


class DefinitionVerdict(BaseModel):
    definition: str
    outcome: Literal["success", "failure", "pending"]
    reason: str = Field(description="a stable code, e.g. benefit-within-six-months")
    detail: str | None = Field(description="the facts and dates that decided it; null for a caller other than the "
                                           "operator (it may name another funder's benefit or claim)")
    credited_provider: str | None = Field(description="whose work the success is; null unless success, "
                                                      "'another party' where the caller may not see who")


class JudgedDifferently(BaseModel):
    """A trajectory whose outcome is not the same under all the definitions asked for."""

    trajectory_id: str
    client_ref: str
    funder: str
    provider: str
    cohort: int = Field(description="the year the trajectory started")
    contract_definition: str = Field(description="the definition its contract named when it was commissioned")
    verdicts: list[DefinitionVerdict]


class DifferencePage(Page):
    peildatum: date
    as_known_at: str | None = Field(json_schema_extra={"format": "date-time"})
    definitions: list[DefinitionInfo]
    items: list[JudgedDifferently]
