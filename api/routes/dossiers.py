"""One client's dossier, as the caller may see it (``api.access``): a summary, then its
trajectories, claims (with flags for funders and auditors) and benefit periods."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query

from api.access import AUDITOR, FUNDER, OPERATOR, Caller
from api.auth import SECURITY, Signed, allow
from api.deps import PagingDep, ReaderDep
from api.openapi import problems
from api.schemas import CLIENT_REF, BenefitPage, Claim, ClaimPage, Dossier, Trajectory, TrajectoryPage

router = APIRouter(prefix="/dossiers/{clientRef}", tags=["dossiers"])
ClientRef = Annotated[str, Path(alias="clientRef", pattern=CLIENT_REF, description="HMAC-SHA256 pseudonym (64 hex)")]
READ = problems(400, 401, 404)


@router.get("", response_model=Dossier, operation_id="getDossier", openapi_extra=SECURITY, responses=READ,
            summary="How much of a client's dossier the caller may see")
def dossier(client_ref: ClientRef, caller: Signed, reader: ReaderDep) -> Any:
    return reader.dossier(caller, client_ref)


@router.get("/trajectories", response_model=TrajectoryPage, operation_id="listTrajectories",
            openapi_extra=SECURITY, responses=READ, summary="The client's trajectories the caller may see")
def trajectories(client_ref: ClientRef, paging: PagingDep, caller: Signed, reader: ReaderDep) -> Any:
    return paging.page(reader.trajectories(caller, client_ref))


@router.get("/trajectories/{trajectoryId}", response_model=Trajectory, operation_id="getTrajectory",
            openapi_extra=SECURITY, responses=READ, summary="One trajectory, if the caller may see it")
def trajectory(client_ref: ClientRef, trajectory_id: Annotated[UUID, Path(alias="trajectoryId")], caller: Signed,
               reader: ReaderDep) -> Any:
    return reader.trajectory(caller, client_ref, str(trajectory_id))


@router.get("/claims", response_model=ClaimPage, operation_id="listClaims", openapi_extra=SECURITY, responses=READ,
            summary="Placement claims on the trajectories the caller may see")
def claims(client_ref: ClientRef, paging: PagingDep, caller: Signed, reader: ReaderDep,
           status: Annotated[Literal["claimed", "confirmed", "rejected", "withdrawn"] | None, Query()] = None) -> Any:
    return paging.page(reader.claims(caller, client_ref, status))


@router.get("/claims/{claimId}", response_model=Claim, operation_id="getClaim", openapi_extra=SECURITY,
            responses=READ, summary="One placement claim, if the caller may see it")
def claim(client_ref: ClientRef, claim_id: Annotated[UUID, Path(alias="claimId")], caller: Signed,
          reader: ReaderDep) -> Any:
    return reader.claim(caller, client_ref, str(claim_id))


@router.get("/benefits", response_model=BenefitPage, operation_id="listBenefits", openapi_extra=SECURITY,
            responses=problems(400, 401, 403, 404), summary="Benefit periods (funders, auditors)")
def benefits(client_ref: ClientRef, paging: PagingDep, reader: ReaderDep,
             caller: Annotated[Caller, Depends(allow(FUNDER, AUDITOR, OPERATOR))]) -> Any:
    return paging.page(reader.benefits(caller, client_ref))
