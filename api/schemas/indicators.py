"""The incentive indicators as the API serves them (issue 16): each a count over a denominator."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import Page


class Measure(BaseModel):
    group: str = Field(description="the provider, contract type or year; '(all)' for the total")
    area: Literal["selection", "parking", "durability", "deadweight", "follow-up", "cooperation"]
    indicator: str = Field(description="e.g. declined, parked-8w, contract-length, employed-at, response")
    slice: str = Field(description="e.g. all, rung-2, intake-rung-1, under-6m, 12m, 6-months")
    unit: str = Field(description="what count and denominator count: referrals, trajectories, placements, ...")
    count: int
    denominator: int
    value: float | None = Field(description="count / denominator (a share, or a mean for the day and point "
                                            "measures); null when the denominator is 0")
    target: float | None = Field(description="the contracts' target share, where one applies (the accepted mix)")


class Comparison(BaseModel):
    """One indicator for No Cure No Pay and No Cure Less Pay side by side (Koning's comparison)."""

    area: str
    indicator: str
    slice: str
    unit: str
    no_cure_no_pay: Measure | None
    no_cure_less_pay: Measure | None
    difference: float | None = Field(description="No Cure No Pay's value minus No Cure Less Pay's")


class IndicatorPage(Page):
    peildatum: date
    as_known_at: str | None = Field(json_schema_extra={"format": "date-time"})
    group_by: Literal["provider", "contract", "year"]
    parking_weeks: int
    comparison: list[Comparison]
    items: list[Measure]
