"""Who may add evidence and audit findings to a dossier, and what they must say (issue 15).

``EmploymentVerified`` / ``EmploymentNotFound``: a funder of the client (one that
commissioned a trajectory for this client) reports what wage data (UWV's polisadministratie,
a payslip, the employer) shows about an income relationship at one employer over a period,
for one claim or (``claim_id`` null) for every claim at that employer. ``AuditFinding``: an
auditor mandated for the claim's funder (``AuditMandateGranted``) records its finding on a
claim. Neither changes a claim's status: they sit beside it (``state.evidence``,
``state.findings``), and the projections read them.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from ledger.domain.dossier.state import DossierState
from ledger.domain.errors import DateInconsistent, NotFound, Refusal, RoleViolation

if TYPE_CHECKING:
    from ledger.domain.dossier.rules import Context


def _funders(state: DossierState) -> set[str]:
    return {t["funder"] for t in state.trajectories.values()}


def _known_claim(state: DossierState, claim_id: str | None) -> dict[str, Any] | None:
    if claim_id is None:
        return None
    claim = state.claims.get(claim_id)
    if claim is None:
        raise NotFound("no such claim for this client", field="payload.claim_id")
    return claim


def employment_evidence(state: DossierState, p: dict[str, Any], ctx: Context) -> None:
    if ctx.role != "funder" or ctx.submitter not in _funders(state):
        raise RoleViolation("only a funder of the client submits evidence of employment", field="submitter")
    _known_claim(state, p["claim_id"])
    start, end = date.fromisoformat(p["period_from"]), date.fromisoformat(p["period_to"])
    if end < start:
        raise DateInconsistent("period_to is before period_from", rule="dates.end-after-start", field="payload.period_to")
    if end > ctx.today:
        raise DateInconsistent(f"period_to {p['period_to']} is after today ({ctx.today}): evidence is of the past",
                               rule="dates.not-future", field="payload.period_to")
    if p["type"] == "EmploymentVerified" and p["hours_per_week"] is None and p["wage_cents"] is None:
        raise Refusal("verified employment states its hours per week or its wage (or both)",
                      rule="evidence.hours-or-wage", field="payload.hours_per_week")


def audit_finding(state: DossierState, p: dict[str, Any], ctx: Context) -> None:
    claim = state.claims.get(p["claim_id"])
    if ctx.role != "auditor":
        raise RoleViolation("only an auditor records an audit finding", field="submitter")
    if claim is None:
        raise NotFound("no such claim for this client", field="payload.claim_id")
    if claim["funder"] not in ctx.audits_of(ctx.submitter):
        raise RoleViolation(f"the auditor has no audit mandate for {claim['funder']!r}, the claim's funder",
                            field="submitter")
