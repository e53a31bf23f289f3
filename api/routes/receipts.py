"""Receipts by envelope id, for the envelope's submitter (and the operator): the entry's C2SP
tlog-proof against the checkpoint signed for the write that recorded it."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path

from api.auth import SECURITY, Signed
from api.deps import ReaderDep
from api.openapi import problems
from api.schemas import Receipt

router = APIRouter(tags=["submissions"])


@router.get("/receipts/{envelopeId}", response_model=Receipt, operation_id="getReceipt", openapi_extra=SECURITY,
            responses=problems(400, 401, 404), summary="The receipt of an envelope you submitted: a C2SP tlog-proof against its write's checkpoint")
def receipt(envelope_id: Annotated[UUID, Path(alias="envelopeId")], caller: Signed, reader: ReaderDep) -> Any:
    return reader.receipt(caller, str(envelope_id))
