"""Across dossiers, from the projections: flagged claims and outflow rates under several
definitions, "as known at" a moment and "measured at" a peildatum - scoped to the caller
(funders: what they funded; auditors: the funders they audit; the operator: everything)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator

from api.access import AUDITOR, FUNDER, OPERATOR, Caller
from api.auth import SECURITY, allow
from api.deps import PagingDep, ReaderDep
from api.openapi import problems
from api.schemas import DifferencePage, FlagPage, OutflowRates
from projections.flags import FLAGS
from projections.history import parse_known_at

router = APIRouter(tags=["reports"])
Reporter = Annotated[Caller, Depends(allow(FUNDER, AUDITOR, OPERATOR))]


def _known_at(text: str | None) -> str | None:
    """The recorded_at cut-off for a date or an instant (ValueError, so a 400, otherwise)."""
    try:
        return None if text is None else parse_known_at(text)
    except (ValueError, OverflowError) as exc:
        raise ValueError("expected YYYY-MM-DD or an ISO 8601 instant with a zone") from exc


KnownAt = Annotated[str | None, AfterValidator(_known_at), Query(
    alias="asKnownAt", max_length=40,
    description="ignore what was recorded later: YYYY-MM-DD (end of that Dutch day) or an instant with a zone")]
Peildatum = Annotated[date | None, Query(description="measure at this date")]
Definitions = Annotated[list[Annotated[str, Query(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]], Query(
    description="definitions to compare (default: every installed one)")]
REPORT = problems(400, 401, 403)


@router.get("/flags", response_model=FlagPage, operation_id="listFlaggedClaims", openapi_extra=SECURITY,
            responses=REPORT, summary="Attribution flags on placement claims")
def flags(paging: PagingDep, caller: Reporter, reader: ReaderDep, peildatum: Peildatum = None,
          as_known_at: KnownAt = None,
          flag: Annotated[list[Literal[FLAGS]], Query(description="only these flags")] = []) -> Any:  # type: ignore[valid-type]  # noqa: B006
    return paging.page(reader.flags(caller, peildatum, as_known_at, flag))


@router.get("/outflow-rates", response_model=OutflowRates, operation_id="listOutflowRates", openapi_extra=SECURITY,
            responses=REPORT, summary="Outflow rates side by side under several definitions")
def outflow_rates(paging: PagingDep, caller: Reporter, reader: ReaderDep, peildatum: Peildatum = None,
                  as_known_at: KnownAt = None,
                  definition: Definitions = [],  # noqa: B006
                  group_by: Annotated[Literal["provider", "funder", "cohort"], Query(alias="groupBy")] = "provider",
                  ) -> Any:
    result = reader.outflow_rates(caller, definition, peildatum, as_known_at, group_by)
    rows = result.pop("rows")
    return {**result, **paging.page(rows)}


@router.get("/outflow-rates/differences", response_model=DifferencePage, operation_id="listOutflowDifferences",
            openapi_extra=SECURITY, responses=REPORT,
            summary="Trajectories judged differently between the definitions asked for")
def outflow_differences(paging: PagingDep, caller: Reporter, reader: ReaderDep, peildatum: Peildatum = None,
                        as_known_at: KnownAt = None, definition: Definitions = []) -> Any:  # noqa: B006
    result = reader.outflow_differences(caller, definition, peildatum, as_known_at)
    rows = result.pop("rows")
    return {**result, **paging.page(rows)}
