"""Incentive-behaviour indicators (issue 16): selection, parking, durability, deadweight,
follow-up and cooperation, and No Cure No Pay beside No Cure Less Pay - scoped to the caller."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from api.auth import SECURITY
from api.deps import PagingDep, ReaderDep
from api.indicator_queries import indicator_page
from api.routes.reports import REPORT, KnownAt, Peildatum, Reporter
from api.schemas.indicators import IndicatorPage

router = APIRouter(tags=["reports"])


@router.get("/indicators", response_model=IndicatorPage, operation_id="listIndicators", openapi_extra=SECURITY,
            responses=REPORT, summary="Incentive-behaviour indicators, and No Cure No Pay beside No Cure Less Pay")
def list_indicators(paging: PagingDep, caller: Reporter, reader: ReaderDep, peildatum: Peildatum = None,
                    as_known_at: KnownAt = None,
                    group_by: Annotated[Literal["provider", "contract", "year"], Query(alias="groupBy")] = "provider",
                    parking_weeks: Annotated[int, Query(alias="parkingWeeks", ge=1, le=104, description=(
                        "a trajectory is parked after this many weeks without activity"))] = 8) -> Any:
    found = indicator_page(reader.ledger, caller, group_by, peildatum, as_known_at, parking_weeks)
    rows = found.pop("rows")
    return {**found, **paging.page(rows)}
