"""A party's work list across dossiers (what the dashboard reads): claims with their flags (and
how many per status), payments per start year, and one dossier's entries in log order - scoped
to the caller."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from api import worklist_queries
from api.auth import SECURITY, Signed
from api.deps import PagingDep, ReaderDep
from api.openapi import problems
from api.routes.reports import REPORT, Definitions, Peildatum, Reporter
from api.schemas.common import CLIENT_REF
from api.schemas.worklist import ClaimCounts, ClaimItemPage, DossierEntryPage, PaymentPage
from projections.flags import FLAGS

router = APIRouter(tags=["reports"])
PARTY = r"^[a-z0-9][a-z0-9-]{1,63}$"


@router.get("/claims", response_model=ClaimItemPage, operation_id="listAllClaims", openapi_extra=SECURITY,
            responses=problems(400, 401), summary="Placement claims in every dossier the caller may see")
def claims(paging: PagingDep, caller: Signed, reader: ReaderDep,
           status: Annotated[Literal["claimed", "confirmed", "rejected", "withdrawn"] | None, Query()] = None,
           provider: Annotated[str | None, Query(pattern=PARTY, description="only this provider's claims")] = None,
           flag: Annotated[list[Literal[FLAGS]], Query(description="only claims with one of these flags")] = [],  # type: ignore[valid-type]  # noqa: B006
           ) -> Any:
    return paging.page(worklist_queries.claims(reader, caller, status, provider, flag))


@router.get("/claims/counts", response_model=ClaimCounts, operation_id="countAllClaims", openapi_extra=SECURITY,
            responses=problems(401), summary="How many claims of each status the caller may see")
def claim_counts(caller: Signed, reader: ReaderDep) -> Any:
    return worklist_queries.claim_counts(reader, caller)


@router.get("/payments", response_model=PaymentPage, operation_id="listPayments", openapi_extra=SECURITY,
            responses=REPORT, summary="Owed per contract and start year, under its definition and the others")
def payments(paging: PagingDep, caller: Reporter, reader: ReaderDep, peildatum: Peildatum = None,
             definition: Definitions = []) -> Any:  # noqa: B006
    found = worklist_queries.payments_by_year(reader, caller, definition, peildatum)
    rows = found.pop("rows")
    return {**found, **paging.page(rows)}


@router.get("/dossiers/{clientRef}/entries", response_model=DossierEntryPage, operation_id="listDossierEntries",
            openapi_extra=SECURITY, responses=problems(400, 401, 404),
            summary="The dossier's entries the caller may see, in log order, as recorded")
def entries(client_ref: Annotated[str, Path(alias="clientRef", pattern=CLIENT_REF, description="HMAC-SHA256 pseudonym (64 hex)")],
            paging: PagingDep, caller: Signed, reader: ReaderDep) -> Any:
    return paging.page(worklist_queries.dossier_entries(reader, caller, client_ref))
