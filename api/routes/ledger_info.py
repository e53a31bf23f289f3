"""Health and the ledger's public key (for checking receipts): public, unsigned."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import ReaderDep
from api.schemas import Health, LedgerKey

router = APIRouter(tags=["ledger"])


@router.get("/health", response_model=Health, operation_id="getHealth",
            summary="Whether the ledger answers, and its log size")
def health(reader: ReaderDep) -> Any:
    return reader.health()


@router.get("/ledger-key", response_model=LedgerKey, operation_id="getLedgerKey",
            summary="The operator's public key that signs receipts (pin it in clients)")
def ledger_key(reader: ReaderDep) -> Any:
    return reader.ledger_key()
