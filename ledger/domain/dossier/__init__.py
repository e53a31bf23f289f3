"""The client dossier: one per client_ref, the consistency boundary of the ledger."""

from ledger.domain.dossier.rules import Context, decide
from ledger.domain.dossier.state import DossierState, evolve

__all__ = ["Context", "DossierState", "decide", "evolve"]
