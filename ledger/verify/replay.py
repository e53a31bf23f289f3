"""The ledger's rules, replayed: which key was live at each log index, and what the rules
decide for each submission - with exactly the functions the ledger calls (``Ledger._decide``).

Registry state is replayed from the accepted registry entries in log order, so a key
revoked at index N verifies nothing after N, and the operator keys live at a tree size are
those of the entries before it. Dossier states are kept per client (memory grows with the
number of clients, not with the number of entries).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.domain.dossier import Context, DossierState, decide, evolve
from ledger.domain.entry import ACCEPTED, REFUSED, recording_date
from ledger.domain.envelope import b64decode, key_id_for
from ledger.domain.errors import Refusal, UnknownParty
from ledger.domain.payloads import REGISTRY_TYPES
from ledger.domain.registry.state import OPERATOR, RegistryState, decide_registry, evolve_registry


class Replay:
    def __init__(self) -> None:
        self.registry = RegistryState()
        self.dossiers: dict[str, DossierState] = {}
        self.operator_keys: list[bytes] = []  # every operator key accepted, in log order
        self._signing_keys: dict[tuple[str, str], bytes] = {}
        self._dates: dict[str, date] = {}
        self._contexts: dict[str, Context] = {}  # per submitter, for one date; dropped when the registry changes
        self._today: date | None = None

    def signing_key(self, payload: dict[str, Any], submitter: str, key_id: str) -> bytes:
        """The public key this envelope must verify against now; raises ``InvalidSubmission``
        (unknown party or key, revoked key). The genesis entry is signed by the key it registers."""
        public_key = self._signing_keys.get((submitter, key_id))
        if public_key is not None:
            return public_key
        if not self.registry.parties:
            if (submitter == OPERATOR and payload.get("type") == "PartyRegistered"
                    and payload.get("party_id") == OPERATOR):
                public_key = b64decode(payload.get("public_key"), "payload.public_key", 32)
                if key_id_for(public_key) == key_id:
                    return public_key
            raise UnknownParty("the log must begin with the operator registering its own key", field="submitter")
        public_key = self._signing_keys[submitter, key_id] = self.registry.signing_key(submitter, key_id)
        return public_key

    def decide(self, payload: dict[str, Any], submitter: str, recorded_at: str) -> tuple[str, dict[str, Any] | None]:
        """(verdict, refusal) the rules give this submission against the state so far."""
        try:
            if payload["type"] in REGISTRY_TYPES:
                decide_registry(self.registry, payload, submitter)
            else:
                state = self.dossiers.get(payload["client_ref"]) or DossierState()
                decide(state, payload, self._context(submitter, self._recording_date(recorded_at)))
        except Refusal as exc:
            return REFUSED, exc.as_dict()
        return ACCEPTED, None

    def _context(self, submitter: str, today: date) -> Context:
        """The rules' context (frozen), made once per submitter and recording date."""
        if today != self._today:
            self._contexts.clear()
            self._today = today
        context = self._contexts.get(submitter)
        if context is None:
            role = self.registry.role_of(submitter) or ""
            context = self._contexts[submitter] = Context(
                submitter, role, today, self.registry.role_of, self.registry.rules, audits_of=self.registry.audits)
        return context

    def _recording_date(self, recorded_at: str) -> date:
        """``recording_date(recorded_at)``, computed once per UTC hour: Europe/Amsterdam's
        offset is a whole number of hours and changes on the hour (01:00 UTC), so every
        instant of an hour has the same local date - checked at both ends of the hour."""
        hour = recorded_at[:13]
        today = self._dates.get(hour)
        if today is None:
            first, last = recording_date(hour + ":00:00.000000Z"), recording_date(hour + ":59:59.999999Z")
            if first != last:
                return recording_date(recorded_at)
            today = self._dates[hour] = first
        return today

    def apply(self, payload: dict[str, Any], submitter: str, recorded_at: str) -> None:
        """Evolve the state with an accepted submission (as the aggregates do)."""
        if payload["type"] in REGISTRY_TYPES:
            evolve_registry(self.registry, payload)
            self._signing_keys.clear()
            self._contexts.clear()
            if payload["party_id"] == OPERATOR and payload["type"] in ("PartyRegistered", "KeyAdded"):
                self.operator_keys.append(b64decode(payload["public_key"], "payload.public_key", 32))
        else:
            state = self.dossiers.get(payload["client_ref"])
            if state is None:
                state = self.dossiers[payload["client_ref"]] = DossierState()
            evolve(state, payload, submitter, recorded_at)

    def live_operator_keys(self) -> list[bytes]:
        """The operator's unrevoked public keys now (empty before the genesis entry)."""
        party = self.registry.parties.get(OPERATOR)
        if party is None:
            return []
        return [b64decode(key["public_key"], "public_key", 32) for key in party["keys"].values() if not key["revoked"]]
