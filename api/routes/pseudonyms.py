"""BSN -> client_ref. The BSN travels only in a signed request body: it is never in a URL,
never logged, never stored."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from api.access import FUNDER, OPERATOR, PROVIDER, Caller
from api.auth import SECURITY, allow
from api.deps import ReaderDep, SettingsDep
from api.openapi import problems
from api.schemas import Pseudonym, PseudonymRequest

router = APIRouter(tags=["identity"])


@router.post("/pseudonyms", response_model=Pseudonym, operation_id="lookUpPseudonym", openapi_extra=SECURITY,
             responses=problems(400, 401, 403, 413, 429), summary="The client_ref of a BSN (funders, providers)")
def look_up(request: PseudonymRequest, response: Response, reader: ReaderDep, settings: SettingsDep,
            caller: Annotated[Caller, Depends(allow(FUNDER, PROVIDER, OPERATOR))]) -> Any:
    """At most ``pseudonym_lookups_per_hour`` per party (every attempt counts); beyond it 429
    with Retry-After: a lookup can test any BSN against the client_refs the caller sees."""
    response.headers["Cache-Control"] = "no-store"
    return reader.pseudonym(caller, request.bsn, settings.pseudonym_lookups_per_hour)
