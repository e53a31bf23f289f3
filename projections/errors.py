"""Typed errors of the projections, each naming the rule it concerns (STYLE 5).

They extend ``ledger.domain.errors.LedgerError`` so the CLI and the API translate them in the
same one place as the ledger's own errors.
"""

from __future__ import annotations

from ledger.domain.errors import LedgerError


class ProjectionError(LedgerError):
    """The projections cannot give a trustworthy answer."""

    rule = "projection"


class UnknownDefinition(ProjectionError):
    rule = "definition.unknown"


class DuplicateDefinition(ProjectionError):
    """Two definitions (built-in or plugin) claim the same name."""

    rule = "definition.duplicate"


class InvalidPlugin(ProjectionError):
    """An entry point in ``trajectledger.definitions`` does not load a ``Definition``."""

    rule = "definition.plugin"


class LogGap(ProjectionError):
    """The entry source skipped a log index: applying on would silently lose an entry."""

    rule = "projection.log-gap"


class InconsistentHistory(ProjectionError):
    """An accepted entry refers to something the dossier (as known) does not hold."""

    rule = "projection.inconsistent"
