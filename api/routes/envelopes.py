"""Submissions: signed envelopes, one or a batch. The envelope's signature is the credential.

One envelope: 201 and the receipt (a C2SP tlog-proof) when accepted; a refusal is recorded and
answered with its problem (403/409/422) carrying the receipt; an envelope that is not recorded
(malformed, unverifiable) gets a problem without one. A batch: 200 and one result per
envelope, in order, each with the status it would have had alone.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api import problems as translate
from api.deps import LedgerDep
from api.openapi import problems
from api.schemas import Batch, BatchResult, Envelope, Receipt

router = APIRouter(tags=["submissions"])


@router.post("/envelopes", status_code=201, response_model=Receipt, operation_id="submitEnvelope",
             responses=problems(400, 403, 409, 413, 422), summary="Submit one signed envelope")
def submit(envelope: Envelope, ledger: LedgerDep) -> Any:
    receipt = ledger.submit(envelope.model_dump())
    if receipt.accepted:
        return receipt.as_dict()
    return translate.response(*translate.refusal_problem(receipt))


@router.post("/envelopes/_batch", response_model=BatchResult, response_model_exclude_unset=True,
             operation_id="submitEnvelopeBatch",
             responses=problems(400, 413), summary="Submit up to 500 signed envelopes; one result each")
def submit_batch(batch: Batch, ledger: LedgerDep) -> Any:
    results = ledger.submit_batch([envelope.model_dump() for envelope in batch.envelopes])
    return {"results": [translate.batch_item(i, result) for i, result in enumerate(results)]}
