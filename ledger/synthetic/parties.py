"""The synthetic parties, their deterministic keys and the registry entries that announce them.

Every party's Ed25519 key is derived from the seed and its id, so the same seed always
yields the same keys. The operator's key is the ledger's own and is passed in.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.entry import ACCEPTED
from ledger.domain.envelope import b64encode, public_key_bytes, sign
from ledger.domain.registry.state import OPERATOR
from ledger.synthetic.dates import REGISTERED_ON, iso
from ledger.synthetic.item import Item

MUNICIPALITY = "gemeente-haarlem"
UWV = "uwv"
AUDITOR = "rekenkamer-haarlem"
PROVIDERS = (
    "werkkracht-kennemerland",
    "baanzicht",
    "stap-vooruit",
    "match-en-meer",
    "jobroute-haarlem",
)
# which providers each funder has contracted (three of them work for both)
CONTRACTED = {MUNICIPALITY: PROVIDERS[:4], UWV: PROVIDERS[1:]}
BENEFITS_OF = {MUNICIPALITY: ("WWB",), UWV: ("WW", "Wajong", "WIA")}


@dataclass(frozen=True)
class Party:
    party_id: str
    role: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> str:
        return b64encode(public_key_bytes(self.private_key))


def derive_key(seed: int, party_id: str) -> Ed25519PrivateKey:
    material = hashlib.sha256(f"trajectledger-synthetic:{seed}:{party_id}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(material)


def make_parties(seed: int, operator_key: Ed25519PrivateKey) -> dict[str, Party]:
    roles = [(MUNICIPALITY, "funder"), (UWV, "funder")]
    roles += [(provider, "provider") for provider in PROVIDERS]
    roles.append((AUDITOR, "auditor"))
    parties = {OPERATOR: Party(OPERATOR, "operator", operator_key)}
    parties.update({pid: Party(pid, role, derive_key(seed, pid)) for pid, role in roles})
    return parties


def registry_items(parties: dict[str, Party], rng: random.Random) -> list[Item]:
    """PartyRegistered for every party but the operator (the ledger's genesis entry
    registers it), then the auditor's mandates for both funders; all signed by the operator."""
    operator = parties[OPERATOR]
    payloads: list[dict[str, Any]] = [
        {"type": "PartyRegistered", "party_id": p.party_id, "role": p.role, "public_key": p.public_key}
        for p in parties.values()
        if p.role != "operator"
    ]
    payloads += [
        {"type": "AuditMandateGranted", "party_id": AUDITOR, "funder": funder} for funder in (MUNICIPALITY, UWV)
    ]
    items = []
    for fields in payloads:
        envelope_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        payload = {"envelope_id": envelope_id, "type": fields["type"], "occurred_on": iso(REGISTERED_ON), **fields}
        envelope = sign(payload, OPERATOR, operator.private_key)
        items.append(Item(envelope.as_dict(), ACCEPTED, None, ("registry",)))
    return items
