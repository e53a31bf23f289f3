"""Parties (operator, funders, providers, auditors) and their Ed25519 keys."""

from ledger.domain.registry.state import RegistryState, decide_registry, evolve_registry

__all__ = ["RegistryState", "decide_registry", "evolve_registry"]
