"""Read models and outflow definitions, computed from the ledger's entry sequence.

``projections`` reads recorded entries (``Ledger.entries``) and never writes to aggregates.
Definitions (``projections.definitions``) are pure functions of a dossier as known at a
date; ``projections.read_models`` keeps SQL tables current; ``projections.replay`` answers
"as known at T, measured at peildatum P" side by side for several definitions.
"""
