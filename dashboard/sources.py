"""What the pages read, whatever they read it from: the ``Source`` protocol and its plain data.

Both sources hand out the API's JSON shapes (``api.schemas``): rate rows, claims, flagged claims,
payment rows and dossier entries, so the pages and ``dashboard.figures`` have one input format.
A read the party's role may not make raises ``NotAvailable`` (the page says so); an action on a
read-only source raises ``ReadOnly``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ledger.domain.checkpoint import Checkpoint
from ledger.domain.errors import LedgerError

CLAIM_STATUSES = ("claimed", "confirmed", "rejected", "withdrawn")  # as the API's claims filter them


class DashboardError(LedgerError):
    rule = "dashboard"


class NotAvailable(DashboardError):
    """This party's role may not make this read (the API answered 403)."""

    rule = "dashboard.not-available"


class ReadOnly(DashboardError):
    """An action on a bundle: the audit office's dashboard changes nothing."""

    rule = "dashboard.read-only"


class ActionRefused(DashboardError):
    """The ledger did not record the action (a problem), or recorded it as refused."""

    rule = "dashboard.action"

    def __init__(self, message: str, *, rule: str | None = None, field: str | None = None,
                 receipt: dict[str, Any] | None = None) -> None:
        super().__init__(message, field=field)
        if rule:
            self.rule = rule
        self.receipt = receipt


@dataclass(frozen=True)
class Health:
    size: int  # entries in the log
    checkpoint_size: int  # the newest signed checkpoint's tree size
    checkpoint_root: str  # its root hash, hex
    checkpoint_time: str | None  # when it was signed (UTC, ISO 8601): the note's signed time line


def signed_time(checkpoint: Checkpoint) -> str | None:
    """The time line the operator signs into each checkpoint (``time <UTC>``), if there is one."""
    for line in checkpoint.extensions:
        if line.startswith("time "):
            return line.removeprefix("time ")
    return None


@dataclass(frozen=True)
class ProofCheck:
    """An entry's inclusion proof checked against the newest signed checkpoint."""

    log_index: int
    ok: bool
    tree_size: int
    detail: str  # what was checked, or why it failed


@dataclass(frozen=True)
class Who:
    mode: str  # "live" or "bundle"
    party: str | None  # the party the dashboard acts as (live), None on a bundle
    role: str  # funder, provider, auditor, operator; "auditor" on a bundle
    where: str  # the server's URL or the bundle's path
    trust: str = ""  # a bundle: what was verified, and what the operator key was trusted by


class Source(Protocol):
    who: Who

    def version(self) -> int:
        """The newest checkpoint's size: reads are cached per version (a new checkpoint invalidates)."""

    def health(self) -> Health: ...

    def rates(self, group_by: str) -> dict[str, Any]:
        """``GET /v1/outflow-rates`` under every installed definition: definitions, items (rate rows)."""

    def claims(self, status: str | None = None) -> list[dict[str, Any]]:
        """The claims the party may see (``GET /v1/claims``; of one status, or all), with flags for the roles that see them."""

    def claim_counts(self) -> dict[str, int]:
        """How many claims the party may see, per status (every status, zeros too)."""

    def flags(self) -> list[dict[str, Any]]:
        """Flagged claims (``GET /v1/flags``): one item per claim and flag."""

    def payments(self) -> dict[str, Any]:
        """``GET /v1/payments``: peildatum, definitions, items (per contract and start year)."""

    def entries(self, client_ref: str) -> list[dict[str, Any]]:
        """The dossier's entries the party may see, in log order, each with its ``log_index``."""

    def prove(self, entries: list[dict[str, Any]]) -> list[ProofCheck]:
        """Each entry's leaf recomputed and its inclusion proof checked against the newest checkpoint."""

    def act(self, action: str, client_ref: str, claim_id: str, reason: str | None) -> dict[str, Any]:
        """Confirm, reject or contest a claim: an envelope signed by the party; its verified receipt."""

    def checklist(self) -> list[tuple[int, str, str]] | None:
        """A bundle's verification checklist (step, what, result); None when live."""
