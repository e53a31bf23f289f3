"""An audit sample with its findings (issue 15): seeded by a stored checkpoint's root hash,
scoped to the caller (funders, auditors, the operator)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from api.access import AUDITOR, FUNDER, OPERATOR, Caller
from api.audit_queries import audit_sample
from api.auth import SECURITY, allow
from api.deps import PagingDep, ReaderDep
from api.openapi import problems
from api.schemas.audit import AuditSample

router = APIRouter(tags=["reports"])
Auditing = Annotated[Caller, Depends(allow(FUNDER, AUDITOR, OPERATOR))]


@router.get("/audit-sample", response_model=AuditSample, operation_id="getAuditSample", openapi_extra=SECURITY,
            responses=problems(400, 401, 403, 404),
            summary="A stratified audit sample seeded by a checkpoint's root hash, with its findings")
def sample(paging: PagingDep, caller: Auditing, reader: ReaderDep,
           tree_size: Annotated[int, Query(alias="treeSize", ge=1, le=2**62,
                                           description="the tree size of a stored checkpoint: its root hash seeds the draw")],
           size: Annotated[int, Query(ge=1, le=10_000, description="elements to draw in all")],
           strata: Annotated[Literal["provider", "funder", "contract"], Query()] = "provider",
           population: Annotated[Literal["claims", "trajectories"], Query()] = "claims",
           minimum: Annotated[int, Query(alias="minimumPerStratum", ge=0, le=1000)] = 2) -> Any:
    found = audit_sample(reader.ledger, caller, tree_size, size, strata, population, minimum)
    items = found.pop("items")
    return {**found, **paging.page(items)}
