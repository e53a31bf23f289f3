"""Outflow definitions: named, versioned, pure functions of a dossier at a peildatum.

``judge(dossier, trajectory_id, peildatum) -> Verdict(outcome, reason, detail, credited_provider)``.
The eight built in are listed in ``registry.BUILTIN``; plugins come from the entry-point
group ``trajectledger.definitions``. A plugin that can be decided on the built-ins'
``TrajectoryFacts`` is best made with ``on_facts``: the read models then judge it without
loading dossiers.
"""

from projections.definitions.base import (
    FAILURE,
    OUTCOMES,
    PENDING,
    SUCCESS,
    Definition,
    Verdict,
    on_facts,
)
from projections.definitions.facts import FACTS_VERSION, Placement, TrajectoryFacts, trajectory_facts
from projections.definitions.registry import BUILTIN, BUILTIN_NAMES, ENTRY_POINT_GROUP, DefinitionRegistry, installed

__all__ = [
    "BUILTIN", "BUILTIN_NAMES", "ENTRY_POINT_GROUP", "FACTS_VERSION", "FAILURE", "OUTCOMES", "PENDING", "SUCCESS",
    "Definition", "DefinitionRegistry", "Placement", "TrajectoryFacts", "Verdict", "installed", "on_facts",
    "trajectory_facts",
]
