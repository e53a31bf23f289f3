"""Two providers share the credit for one placement (issue 16, 'Schipper mag ik overvaren?').

A provider (the partner) brought the vacancy at which a client of another provider's
trajectory was placed. ``PlacementCooperation`` names the claim (so still one claim for the
job: the no-double-claim rule is untouched), the partner and the partner's share of the fee
in whole percent; it is signed by the claim's provider - the trajectory's provider - and that
signature is its consent. One cooperation per claim, on a live claim, with another
registered provider. The split is ``split_fee``: the two parts always add up to the fee.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from ledger.domain.dossier.state import LIVE_CLAIM, DossierState
from ledger.domain.errors import AlreadyExists, DateInconsistent, InvalidTransition, NotFound, Refusal, RoleViolation

if TYPE_CHECKING:
    from ledger.domain.dossier.rules import Context


def split_fee(fee_cents: int, partner_share_percent: int) -> tuple[int, int]:
    """(the trajectory provider's part, the partner's part): whole cents, the partner's rounded
    down, so the parts add up to the fee exactly and neither exceeds it."""
    if not 0 <= partner_share_percent <= 100 or fee_cents < 0:
        raise ValueError("a share is 0 to 100 percent of a fee of zero or more cents")
    partner = fee_cents * partner_share_percent // 100
    return fee_cents - partner, partner


def cooperation(state: DossierState, p: dict[str, Any], ctx: Context) -> None:
    claim = state.claims.get(p["claim_id"])
    if claim is None:
        raise NotFound("no such claim for this client", field="payload.claim_id")
    if ctx.submitter != claim["provider"]:
        raise RoleViolation("only the claim's provider (the trajectory's provider) consents to share its credit",
                            field="submitter")
    if claim["status"] not in LIVE_CLAIM:
        raise InvalidTransition(f"the claim is {claim['status']}", field="payload.claim_id")
    if claim.get("cooperation") is not None:
        raise AlreadyExists("the claim's cooperation was recorded already", field="payload.claim_id")
    if p["partner"] == claim["provider"]:
        raise Refusal("the partner is another provider than the claim's own", rule="cooperation.same-provider",
                      field="payload.partner")
    if ctx.role_of(p["partner"]) != "provider":
        raise NotFound(f"no registered provider {p['partner']!r}", field="payload.partner")
    if date.fromisoformat(p["occurred_on"]) < date.fromisoformat(claim["claimed_on"]):
        raise DateInconsistent(f"the cooperation is dated before the claim ({claim['claimed_on']})",
                               rule="dates.before-claim", field="payload.occurred_on")
