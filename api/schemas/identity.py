"""Pseudonyms, health, the ledger's keys and the registered parties."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import CLIENT_REF, EXAMPLE_KEY_ID, EXAMPLE_REF, Page, examples


class PseudonymRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"bsn": "111222333"}]})
    bsn: str = Field(pattern=r"^[0-9]{9}$", description="checked with the 11-test, never stored or logged")


class Pseudonym(BaseModel):
    model_config = examples({"client_ref": EXAMPLE_REF})
    client_ref: str = Field(pattern=CLIENT_REF)


class Health(BaseModel):
    model_config = examples({"status": "ok", "log_size": 1024})
    status: Literal["ok"]
    log_size: int


class LedgerKey(BaseModel):
    model_config = examples({"key_id": EXAMPLE_KEY_ID, "public_key": "A" * 43 + "=", "algorithm": "ed25519",
                              "log_origin": "trajectledger.example/log",
                              "checkpoint_verifier_key": "trajectledger.example/log+01234567+A" + "A" * 43})
    key_id: str
    public_key: str = Field(description="base64 of the raw 32-byte Ed25519 public key")
    algorithm: Literal["ed25519"]
    log_origin: str
    checkpoint_verifier_key: str = Field(description="C2SP verifier key string of the checkpoint signer")


class PartyKey(BaseModel):
    key_id: str
    public_key: str
    revoked: bool


class Party(BaseModel):
    party_id: str
    role: Literal["operator", "funder", "provider", "auditor"]
    keys: list[PartyKey]
    audits: list[str] = Field(description="for an auditor: the funders it has a mandate for")


class PartyPage(Page):
    items: list[Party]
