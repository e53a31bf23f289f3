"""The party registry as a pure state machine: ``decide`` then ``evolve``.

Registry payloads (PartyRegistered, KeyAdded, KeyRevoked, AuditMandateGranted,
RulesAdopted) are signed by the operator. The very first one is the operator registering itself
(the genesis entry, log index 0), signed with the key it registers.

State is plain JSON-able data so the aggregate can be snapshotted and the offline
verifier can replay it without the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ledger.domain.dossier.versions import FIRST_RULES, LATEST_RULES
from ledger.domain.envelope import b64decode, key_id_for
from ledger.domain.errors import (
    AlreadyExists,
    NotFound,
    RevokedKey,
    RoleViolation,
    UnknownKey,
    UnknownParty,
)

OPERATOR = "operator"


@dataclass
class RegistryState:
    parties: dict[str, dict[str, Any]] = field(default_factory=dict)

    def role_of(self, party_id: str) -> str | None:
        party = self.parties.get(party_id)
        return None if party is None else str(party["role"])

    def signing_key(self, party_id: str, key_id: str) -> bytes:
        """The public key a submission must verify against; fails closed."""
        party = self.parties.get(party_id)
        if party is None:
            raise UnknownParty(f"no registered party {party_id!r}", field="submitter")
        key = party["keys"].get(key_id)
        if key is None:
            raise UnknownKey(f"party {party_id!r} has no key {key_id!r}", field="key_id")
        if key["revoked"]:
            raise RevokedKey(f"key {key_id!r} of {party_id!r} was revoked", field="key_id")
        return _raw_public_key(key["public_key"])

    @property
    def rules(self) -> int:
        """The version of the dossier rules in force (``RulesAdopted``; 1 until one is)."""
        operator = self.parties.get(OPERATOR)
        return FIRST_RULES if operator is None else int(operator.get("rules", FIRST_RULES))

    def audits(self, auditor: str) -> list[str]:
        party = self.parties.get(auditor)
        return [] if party is None else list(party.get("audits", []))


def decide_registry(state: RegistryState, payload: dict[str, Any], submitter: str) -> None:
    """Raise a ``Refusal`` if the operator's registry submission breaks a rule."""
    kind = payload["type"]
    genesis = not state.parties
    if genesis:
        if kind != "PartyRegistered" or payload["party_id"] != OPERATOR or payload["role"] != "operator":
            raise RoleViolation("the first registry entry registers the operator", field="payload.type")
    elif state.role_of(submitter) != "operator":
        raise RoleViolation("only the operator maintains the registry", field="submitter")
    party_id = payload["party_id"]
    if kind == "PartyRegistered":
        if party_id in state.parties:
            raise AlreadyExists(f"party {party_id!r} is registered already", field="payload.party_id")
        if payload["role"] == "operator" and not genesis:
            raise RoleViolation("there is one operator; rotate its key instead", field="payload.role")
        return
    party = state.parties.get(party_id)
    if party is None:
        raise NotFound(f"no registered party {party_id!r}", field="payload.party_id")
    if kind == "KeyAdded":
        new_id = key_id_for(b64decode(payload["public_key"], "payload.public_key", 32))
        if new_id in party["keys"]:
            raise AlreadyExists(f"key {new_id} is registered already", field="payload.public_key")
    elif kind == "KeyRevoked":
        key = party["keys"].get(payload["key_id"])
        if key is None:
            raise NotFound(f"party {party_id!r} has no key {payload['key_id']!r}", field="payload.key_id")
        if key["revoked"]:
            raise AlreadyExists("the key is revoked already", field="payload.key_id")
        live = [k for k, v in party["keys"].items() if not v["revoked"] and k != payload["key_id"]]
        if party_id == OPERATOR and not live:
            raise RoleViolation("add the operator's new key before revoking the last one", field="payload.key_id")
    elif kind == "RulesAdopted":
        if party_id != OPERATOR:
            raise RoleViolation("rules are adopted by the operator itself", field="payload.party_id")
        version = payload["rules_version"]
        if version <= state.rules:
            raise AlreadyExists(f"rules version {state.rules} is in force already; a ledger's rules only move forward",
                                rule="rules.not-newer", field="payload.rules_version")
        if version > LATEST_RULES:
            raise NotFound(f"rules version {version} is not known here (latest: {LATEST_RULES})",
                           rule="rules.unknown-version", field="payload.rules_version")
    elif kind == "AuditMandateGranted":
        if party["role"] != "auditor":
            raise RoleViolation("only an auditor receives an audit mandate", field="payload.party_id")
        if state.role_of(payload["funder"]) != "funder":
            raise NotFound(f"no registered funder {payload['funder']!r}", field="payload.funder")


def evolve_registry(state: RegistryState, payload: dict[str, Any]) -> None:
    """Apply an accepted registry payload (mutates ``state``)."""
    kind = payload["type"]
    party_id = payload["party_id"]
    if kind == "PartyRegistered":
        key = payload["public_key"]
        state.parties[party_id] = {
            "role": payload["role"],
            "keys": {key_id_for(b64decode(key, "public_key", 32)): {"public_key": key, "revoked": False}},
            "audits": [],
        }
    elif kind == "KeyAdded":
        key = payload["public_key"]
        state.parties[party_id]["keys"][key_id_for(b64decode(key, "public_key", 32))] = {
            "public_key": key,
            "revoked": False,
        }
    elif kind == "KeyRevoked":
        state.parties[party_id]["keys"][payload["key_id"]]["revoked"] = True
    elif kind == "RulesAdopted":
        state.parties[party_id]["rules"] = payload["rules_version"]
    elif kind == "AuditMandateGranted":
        if payload["funder"] not in state.parties[party_id]["audits"]:
            state.parties[party_id]["audits"].append(payload["funder"])


@lru_cache(maxsize=4096)
def _raw_public_key(text: str) -> bytes:
    """A registered key's raw bytes (decoded once: every submission asks for its submitter's)."""
    return b64decode(text, "public_key", length=32)
