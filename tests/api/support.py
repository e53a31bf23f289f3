"""The API's test cast: the app over a fresh ledger, parties registered through HTTP, an SDK
client per party, and raw signed requests for the cases the SDK would never send.

Parties: the operator; funders ``gemeente-haarlem`` and ``uwv``; providers ``werkfit``,
``jobstap`` and ``baanbrug``; auditor ``rekenkamer-haarlem`` (mandate for gemeente-haarlem)
and auditor ``rekenkamer-leeg`` (no mandate).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.app import create_app
from api.settings import ApiSettings
from ledger.domain.envelope import b64encode, public_key_bytes, sign
from ledger.settings import Settings
from sdk.client import LedgerClient
from sdk.http_signatures import signature_headers
from tests.api.bridge import ASGIBridge
from tests.support import new_id, new_settings, registry

BASE_URL = "http://testserver"
HAARLEM, UWV = "gemeente-haarlem", "uwv"
WERKFIT, JOBSTAP, BAANBRUG = "werkfit", "jobstap", "baanbrug"
AUDITOR, IDLE_AUDITOR = "rekenkamer-haarlem", "rekenkamer-leeg"
ROLES = {HAARLEM: "funder", UWV: "funder", WERKFIT: "provider", JOBSTAP: "provider", BAANBRUG: "provider",
         AUDITOR: "auditor", IDLE_AUDITOR: "auditor"}


@dataclass
class ApiWorld:
    settings: Settings
    app: Any
    bridge: ASGIBridge
    keys: dict[str, Ed25519PrivateKey] = field(default_factory=dict)
    clients: list[LedgerClient] = field(default_factory=list)

    @property
    def ledger_key(self) -> bytes:
        return public_key_bytes(self.settings.operator_key)

    def key(self, party: str) -> Ed25519PrivateKey:
        return self.settings.operator_key if party == "operator" else self.keys[party]

    def client(self, party: str, **options: Any) -> LedgerClient:
        client = LedgerClient(self.http(), party, self.key(party), ledger_key=self.ledger_key, **options)
        self.clients.append(client)
        return client

    def http(self) -> httpx.Client:
        return httpx.Client(transport=self.bridge, base_url=BASE_URL)

    def signed(self, party: str, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
               key: Ed25519PrivateKey | None = None, created: int | None = None,
               extra: dict[str, str] | None = None) -> httpx.Response:
        """A request signed the SDK's way, with knobs for what the SDK never does."""
        http = self.http()
        request = http.build_request(method, "/v1" + path, json=json, params=params)
        raw_path, _, raw_query = request.url.raw_path.decode("ascii").partition("?")
        now = int(time.time()) if created is None else created
        request.headers.update(signature_headers(method, raw_path, raw_query, request.read(),
                                                 key or self.key(party), now, now + 60))
        request.headers.update(extra or {})
        return http.send(request)

    def envelope(self, party: str, payload: dict[str, Any]) -> dict[str, Any]:
        return sign(payload, party, self.key(party)).as_dict()

    def post_envelope(self, party: str, payload: dict[str, Any]) -> httpx.Response:
        return self.http().post("/v1/envelopes", json=self.envelope(party, payload))

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.bridge.shutdown()
        self.app.state.ledger.close()


def open_world(url: str, **api_options: Any) -> ApiWorld:
    settings = new_settings(url)
    app = create_app(ApiSettings(settings, **api_options))
    world = ApiWorld(settings, app, ASGIBridge(app))
    operator = world.client("operator")
    envelopes = []
    for party, role in ROLES.items():
        world.keys[party] = Ed25519PrivateKey.generate()
        envelopes.append(operator.envelope("PartyRegistered", "2024-01-01", party_id=party, role=role,
                                           public_key=b64encode(public_key_bytes(world.keys[party]))))
    envelopes.append(operator.envelope("AuditMandateGranted", "2024-01-01", party_id=AUDITOR, funder=HAARLEM))
    results = operator.submit_batch(envelopes)
    if not all(getattr(r, "accepted", False) for r in results):
        raise RuntimeError(f"registering the parties failed: {results}")
    return world


@dataclass
class Story:
    """One client with two trajectories (Haarlem -> werkfit, UWV -> jobstap), a claim by
    werkfit, a refused double claim by jobstap, and a benefit period paid by Haarlem."""

    client_ref: str
    haarlem_trajectory: str
    uwv_trajectory: str
    werkfit_claim: str
    jobstap_claim: str
    benefit: str
    refused: httpx.Response


def tell_story(world: ApiWorld, bsn: str = "111222333") -> Story:
    haarlem, uwv, werkfit = world.client(HAARLEM), world.client(UWV), world.client(WERKFIT)
    ref = haarlem.pseudonym(bsn)
    t1, t2, c1, c2, b1 = new_id(), new_id(), new_id(), new_id(), new_id()
    commission = dict(start="2024-01-01", planned_end="2024-12-31", definition="six-month-rule",
                      contract="no-cure-no-pay", fee_cents=300000, base_fee_cents=0)
    claim = dict(employer_kvk="12345678", application_date="2024-05-01", job_start="2024-06-01", contract_end=None,
                 hours_per_week=32, secondment_via_provider=False, evidence_sha256="ab" * 32)
    for client, envelope in (
        (haarlem, haarlem.envelope("TrajectoryCommissioned", "2024-01-01", client_ref=ref, trajectory_id=t1,
                                   provider=WERKFIT, **commission)),
        (uwv, uwv.envelope("TrajectoryCommissioned", "2024-01-01", client_ref=ref, trajectory_id=t2,
                           provider=JOBSTAP, **commission)),
        (werkfit, werkfit.envelope("ActivityRecorded", "2024-03-01", client_ref=ref, trajectory_id=t1, instrument=29)),
        (werkfit, werkfit.envelope("PlacementClaimed", "2024-06-01", client_ref=ref, trajectory_id=t1, claim_id=c1,
                                   **claim)),
        (haarlem, haarlem.envelope("BenefitStarted", "2024-02-01", client_ref=ref, benefit_id=b1, benefit="WWB",
                                   start="2024-02-01")),
    ):
        receipt = client.submit(envelope)
        if not receipt.accepted:
            raise RuntimeError(f"story step refused: {receipt.refusal}")
    refused = world.post_envelope(JOBSTAP, {"envelope_id": new_id(), "type": "PlacementClaimed",
                                            "occurred_on": "2024-06-02", "client_ref": ref, "trajectory_id": t2,
                                            "claim_id": c2, **claim})
    return Story(ref, t1, t2, c1, c2, b1, refused)


def operator_payload(kind: str, **fields: Any) -> dict[str, Any]:
    return registry(kind, **fields)
