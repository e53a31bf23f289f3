"""Test helpers: a ledger with registered parties, and payload builders.

``World`` is the small cast used across layers: one operator, two funders (a municipality
and UWV), three providers and an auditor, each with an Ed25519 key.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application import Ledger
from ledger.bundle.export import export_bundle
from ledger.domain.envelope import b64encode, public_key_bytes, sign
from ledger.domain.receipt import Receipt
from ledger.infra.ed25519_pool import Ed25519Pool
from ledger.settings import Settings
from ledger.synthetic import generate

FUNDERS = ("gemeente-haarlem", "uwv")
PROVIDERS = ("werkfit", "jobstap", "baanbrug")
AUDITOR = "rekenkamer-haarlem"
VALID_BSNS = ("111222333", "123456782", "100000009")


def new_settings(url: str) -> Settings:
    return Settings(database_url=url, operator_key=Ed25519PrivateKey.generate(), pseudonym_key=os.urandom(32))


@dataclass
class World:
    ledger: Ledger
    keys: dict[str, Ed25519PrivateKey] = field(default_factory=dict)

    @property
    def operator_key(self) -> Ed25519PrivateKey:
        return self.ledger.settings.operator_key

    def signed(self, submitter: str, payload: dict[str, Any], key: Ed25519PrivateKey | None = None) -> dict[str, Any]:
        key = key or (self.operator_key if submitter == "operator" else self.keys[submitter])
        return sign(payload, submitter, key).as_dict()

    def submit(self, submitter: str, payload: dict[str, Any]) -> Receipt:
        return self.ledger.submit(self.signed(submitter, payload))

    def register(self, party_id: str, role: str) -> Receipt:
        key = Ed25519PrivateKey.generate()
        self.keys[party_id] = key
        return self.submit("operator", registry("PartyRegistered", party_id=party_id, role=role,
                                                public_key=b64encode(public_key_bytes(key))))


def record_synthetic(ledger: Ledger, seed: int, clients: int, batch: int) -> None:
    """The seeded synthetic history recorded: its registry entries one by one, then its
    submissions in batches of ``batch``."""
    history = generate(seed=seed, clients=clients, operator_key=ledger.settings.operator_key,
                       pseudonymise=ledger.pseudonym)
    for item in history.registry:
        ledger.submit(item.envelope)
    envelopes = [item.envelope for item in history.submissions]
    for start in range(0, len(envelopes), batch):
        ledger.submit_batch(envelopes[start:start + batch])


def exported_synthetic(url: str, directory: Path, seed: int, clients: int, batch: int) -> Path:
    """A new ledger at ``url`` holding the seeded synthetic history (``record_synthetic``),
    exported as a bundle to ``directory``."""
    ledger = Ledger(new_settings(url))
    try:
        record_synthetic(ledger, seed, clients, batch)
        export_bundle(ledger, directory)
    finally:
        ledger.close()
    return directory


def make_world(url: str, workers: int = 0) -> World:
    """A ledger with the cast registered; ``workers``: Ed25519 worker processes for its batches
    (started here; close them with ``world.ledger.pool.close()``)."""
    settings = new_settings(url)
    pool = Ed25519Pool(workers, settings.operator_key)
    pool.start()
    world = World(Ledger(settings, pool))
    for funder in FUNDERS:
        world.register(funder, "funder")
    for provider in PROVIDERS:
        world.register(provider, "provider")
    world.register(AUDITOR, "auditor")
    return world


def new_id() -> str:
    return str(uuid.uuid4())


def registry(kind: str, occurred_on: str = "2024-01-01", **fields: Any) -> dict[str, Any]:
    return {"envelope_id": new_id(), "type": kind, "occurred_on": occurred_on, **fields}


def payload(kind: str, client_ref: str, occurred_on: str = "2024-03-01", **fields: Any) -> dict[str, Any]:
    return {"envelope_id": new_id(), "type": kind, "occurred_on": occurred_on, "client_ref": client_ref, **fields}


def commission(client_ref: str, provider: str = "werkfit", trajectory_id: str | None = None, start: str = "2024-01-01",
               planned_end: str = "2024-12-31", **over: Any) -> dict[str, Any]:
    occurred_on = over.pop("occurred_on", start)
    fields = dict(trajectory_id=trajectory_id or new_id(), provider=provider, start=start, planned_end=planned_end,
                  definition="six-month-rule", contract="no-cure-no-pay", fee_cents=300000, base_fee_cents=0)
    fields.update(over)
    return payload("TrajectoryCommissioned", client_ref, occurred_on=occurred_on, **fields)


def claim(client_ref: str, trajectory_id: str, kvk: str = "12345678", job_start: str = "2024-06-01",
          application_date: str = "2024-05-01", contract_end: str | None = None, **over: Any) -> dict[str, Any]:
    fields: dict[str, Any] = dict(trajectory_id=trajectory_id, claim_id=new_id(), employer_kvk=kvk,
                                  application_date=application_date, job_start=job_start, contract_end=contract_end,
                                  hours_per_week=32, secondment_via_provider=False, evidence_sha256="ab" * 32)
    occurred_on = over.pop("occurred_on", job_start)
    fields.update(over)
    return payload("PlacementClaimed", client_ref, occurred_on=occurred_on, **fields)


def live_overlaps(claims: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of live claims at one employer within 31 days of each other."""
    live = [(cid, c) for cid, c in claims.items() if c["status"] in ("claimed", "confirmed")]
    pairs = []
    for i, (a_id, a) in enumerate(live):
        for b_id, b in live[i + 1:]:
            if a["employer_kvk"] != b["employer_kvk"]:
                continue
            a_end = date.fromisoformat(a["employment_end"] or a["contract_end"] or "9999-12-31")
            b_end = date.fromisoformat(b["employment_end"] or b["contract_end"] or "9999-12-31")
            a0, b0 = date.fromisoformat(a["job_start"]), date.fromisoformat(b["job_start"])
            if max(a0 - b_end, b0 - a_end, timedelta(0)) <= timedelta(days=31):
                pairs.append((a_id, b_id))
    return pairs


def verified(client_ref: str, claim_id: str | None, kvk: str = "12345678", period_from: str = "2024-06-01",
             period_to: str = "2024-12-31", **over: Any) -> dict[str, Any]:
    """A funder's EmploymentVerified (wage data: polis, 32 hours a week, unless ``over`` says otherwise)."""
    fields: dict[str, Any] = dict(claim_id=claim_id, employer_kvk=kvk, period_from=period_from, period_to=period_to,
                                  hours_per_week=32, wage_cents=None, source="polis", evidence_sha256="cd" * 32)
    occurred_on = over.pop("occurred_on", period_to)
    fields.update(over)
    return payload("EmploymentVerified", client_ref, occurred_on=occurred_on, **fields)


def not_found(client_ref: str, claim_id: str | None, kvk: str = "12345678", period_from: str = "2024-06-01",
              period_to: str = "2024-12-31", **over: Any) -> dict[str, Any]:
    """A funder's EmploymentNotFound: wage data checked, no such income relationship in the period."""
    fields: dict[str, Any] = dict(claim_id=claim_id, employer_kvk=kvk, period_from=period_from, period_to=period_to,
                                  source="polis", evidence_sha256="ce" * 32)
    occurred_on = over.pop("occurred_on", period_to)
    fields.update(over)
    return payload("EmploymentNotFound", client_ref, occurred_on=occurred_on, **fields)


def finding(client_ref: str, claim_id: str, outcome: str = "upheld", reason: str = "wage-data-matches",
            occurred_on: str = "2025-03-01") -> dict[str, Any]:
    """An auditor's AuditFinding on a claim."""
    return payload("AuditFinding", client_ref, occurred_on=occurred_on, claim_id=claim_id, outcome=outcome,
                   reason=reason, evidence_sha256="ef" * 32)
