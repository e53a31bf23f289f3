"""BSN -> client_ref. The BSN travels only in a signed request body: it is never in a URL,
never logged, never stored."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from api.access import FUNDER, OPERATOR, PROVIDER, Caller
from api.auth import SECURITY, allow
from api.deps import ReaderDep
from api.openapi import problems
from api.schemas import Pseudonym, PseudonymRequest

router = APIRouter(tags=["identity"])


@router.post("/pseudonyms", response_model=Pseudonym, operation_id="lookUpPseudonym", openapi_extra=SECURITY,
             responses=problems(400, 401, 403, 413), summary="The client_ref of a BSN (funders, providers)")
def look_up(request: PseudonymRequest, response: Response, reader: ReaderDep,
            _: Annotated[Caller, Depends(allow(FUNDER, PROVIDER, OPERATOR))]) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return reader.pseudonym(request.bsn)
