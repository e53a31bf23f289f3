"""The eventsourcing aggregates: thin shells around the pure domain state machines.

Each aggregate's only event after it opens is ``Recorded``: a signed submission with the
ledger's verdict. Accepted entries evolve the state; refused ones are kept as evidence and
change nothing. ``Recorded`` is an explicit event class triggered directly (the
``@event`` decorator's argument handling cost a quarter of recording an entry).
The state is plain JSON-able data so snapshots need no custom transcoding.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eventsourcing.domain import Aggregate, event

from ledger.domain.dossier.state import DossierState, evolve
from ledger.domain.entry import ACCEPTED
from ledger.domain.registry.state import RegistryState, evolve_registry

NAMESPACE = uuid.UUID("6f1b8a2e-3d4c-5b6a-9e8f-7a6b5c4d3e2f")
REGISTRY_ID = uuid.uuid5(NAMESPACE, "registry")


@lru_cache(maxsize=20_000)
def dossier_id(client_ref: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "dossier:" + client_ref)


class Dossier(Aggregate):
    """One client's trajectories, claims, benefit periods and assessments."""

    @event("Opened")
    def __init__(self, client_ref: str) -> None:
        self.client_ref = client_ref
        self.data: dict[str, Any] = {"trajectories": {}, "claims": {}, "benefits": {}, "evidence": {}, "findings": {}}

    @staticmethod
    def create_id(client_ref: str) -> uuid.UUID:
        return dossier_id(client_ref)

    @property
    def state(self) -> DossierState:
        for later in ("evidence", "findings"):  # added after 0.1: a snapshot taken before has neither
            if later not in self.data:
                self.data[later] = {}
        return DossierState(**self.data)  # shares the dicts: evolve mutates self.data

    @dataclass(frozen=True)  # as eventsourcing's metaclass makes it anyway: this tells type checkers the field
    class Recorded(Aggregate.Event):
        entry: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            entry = self.entry
            if entry["verdict"] == ACCEPTED:
                envelope = entry["envelope"]
                evolve(aggregate.state, envelope["payload"], envelope["submitter"], entry["recorded_at"])

    def record(self, entry: dict[str, Any]) -> None:
        self.trigger_event(self.Recorded, entry=entry)


class Registry(Aggregate):
    """The parties and their keys; maintained by the operator."""

    @event("Opened")
    def __init__(self) -> None:
        self.parties: dict[str, Any] = {}

    @staticmethod
    def create_id() -> uuid.UUID:
        return REGISTRY_ID

    @property
    def state(self) -> RegistryState:
        return RegistryState(parties=self.parties)

    @dataclass(frozen=True)  # as eventsourcing's metaclass makes it anyway: this tells type checkers the field
    class Recorded(Aggregate.Event):
        entry: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            if self.entry["verdict"] == ACCEPTED:
                evolve_registry(aggregate.state, self.entry["envelope"]["payload"])

    def record(self, entry: dict[str, Any]) -> None:
        self.trigger_event(self.Recorded, entry=entry)
