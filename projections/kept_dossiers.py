"""The dossiers one runner wrote in its previous batches, so that its next batch need not
read and decode them again (``read_models.ReadModels.catch_up``).

Every writer moves the read models' cursor in the transaction that writes its rows, so
while the cursor still reads the log index these were stored at, the stored dossiers are
these. When the cursor reads anything else, another runner (or a reset) came between, and
they are all dropped. A batch takes its dossiers out and puts them back only once its
transaction has committed, so a failed batch leaves nothing half-applied here.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.domain.dossier.state import DossierState

KEPT_DOSSIERS = 10_000  # the default bound: the least recently written go first


class KeptDossiers:
    def __init__(self, limit: int = KEPT_DOSSIERS) -> None:
        self.states: dict[str, DossierState] = {}
        self.at: int | None = None  # the log index they are stored at
        self.limit = limit

    def take(self, last: int, clients: Sequence[str]) -> dict[str, DossierState]:
        """Those of ``clients`` kept as stored at ``last``, taken out (a batch changes them)."""
        if self.at != last:
            self.states.clear()
            return {}
        states = self.states
        return {client: states.pop(client) for client in clients if client in states}

    def put(self, at: int, states: dict[str, DossierState]) -> None:
        """The dossiers a batch committed at ``at`` concerned, as now stored; it changed no other."""
        self.at = at
        self.states.update(states)
        while len(self.states) > self.limit:
            del self.states[next(iter(self.states))]
