"""The registry: parties, their roles and keys (any signed caller). The operator changes it
by submitting registry envelopes (PartyRegistered, KeyAdded, KeyRevoked, AuditMandateGranted)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from api.auth import SECURITY, Signed
from api.deps import PagingDep, ReaderDep
from api.openapi import problems
from api.schemas import Party, PartyPage

router = APIRouter(prefix="/parties", tags=["registry"])


@router.get("", response_model=PartyPage, operation_id="listParties", openapi_extra=SECURITY,
            responses=problems(400, 401), summary="Registered parties and their keys")
def parties(paging: PagingDep, caller: Signed, reader: ReaderDep) -> Any:
    return paging.page(reader.parties())


@router.get("/{partyId}", response_model=Party, operation_id="getParty", openapi_extra=SECURITY,
            responses=problems(400, 401, 404), summary="One registered party")
def party(party_id: Annotated[str, Path(alias="partyId", pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")], caller: Signed,
          reader: ReaderDep) -> Any:
    return reader.party(party_id)
