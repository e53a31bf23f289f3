"""Bodies of the work-list reads across dossiers: claims, payments per start year, a dossier's entries."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import Page
from api.schemas.dossiers import Flag


class ClaimItem(BaseModel):
    client_ref: str
    claim_id: str
    trajectory_id: str
    funder: str
    provider: str
    employer_kvk: str
    application_date: date
    job_start: date
    contract_end: date | None
    hours_per_week: int
    status: Literal["claimed", "confirmed", "rejected", "withdrawn"]
    claimed_on: date
    flags: list[Flag] | None = Field(description="attribution findings; null for providers")


class ClaimItemPage(Page):
    items: list[ClaimItem]


class ClaimCount(BaseModel):
    status: Literal["claimed", "confirmed", "rejected", "withdrawn"]
    claims: int = Field(description="how many claims of this status the caller may see")


class ClaimCounts(BaseModel):
    """One item per status, every status (zeros too)."""

    items: list[ClaimCount]


class OwedIf(BaseModel):
    definition: str
    owed_cents: int


class PaymentRow(BaseModel):
    year: int = Field(description="the year the trajectories started")
    funder: str
    provider: str
    contract: str
    definition: str = Field(description="the definition the contract named")
    trajectories: int
    owed_cents: int
    pending_cents: int
    unjudged: int = Field(description="trajectories whose contract definition is not installed")
    owed_if: list[OwedIf]


class PaymentPage(Page):
    peildatum: date
    definitions: list[str]
    items: list[PaymentRow]


class DossierEntry(BaseModel):
    log_index: int
    envelope: dict[str, Any] = Field(description="the signed envelope as submitted")
    verdict: Literal["accepted", "refused"]
    refusal: dict[str, Any] | None
    recorded_at: str = Field(json_schema_extra={"format": "date-time"})


class DossierEntryPage(Page):
    items: list[DossierEntry]
