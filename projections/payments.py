"""What each provider is owed, per contract: under the definition the contract named,
and what it would be under each other definition.

no-cure-no-pay: the fee on success only. no-cure-less-pay: the base fee always, plus the
fee on success. A pending verdict owes the base fee now and keeps the fee pending.

A placement made in cooperation (``PlacementCooperation``, issue 16) splits the fee - not the
base fee - by the recorded share (``split_fee``: the parts add up to the fee): the partner's
part is owed to the partner under the same funder, contract and definition, and
``cooperation_cents`` shows what moved (negative for the trajectory's provider). A referral the
provider declined (``ReferralDeclined``) was never a trajectory: nothing is owed for it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ledger.domain.dossier.cooperation import split_fee
from projections.definitions.base import PENDING, SUCCESS
from projections.evaluation import TrajectoryResult

NO_CURE_LESS_PAY = "no-cure-less-pay"


def owed(contract: str, fee_cents: int, base_fee_cents: int, outcome: str) -> tuple[int, int]:
    """(owed now, still pending) in cents for one trajectory."""
    base = base_fee_cents if contract == NO_CURE_LESS_PAY else 0
    if outcome == SUCCESS:
        return base + fee_cents, 0
    if outcome == PENDING:
        return base, fee_cents
    return base, 0


@dataclass
class ContractPayment:
    """One funder's contract with one provider: its type and the definition it named."""

    funder: str
    provider: str
    contract: str
    definition: str
    trajectories: int = 0
    owed_cents: int = 0
    pending_cents: int = 0
    unjudged: int = 0  # trajectories whose contract definition is not installed here
    owed_if: dict[str, int] = field(default_factory=dict)  # what it would be under each other definition
    cooperation_cents: int = 0  # fee moved to (+) or from (-) this provider by shared placements, in owed_cents


def payments(results: Iterable[TrajectoryResult], compare: Sequence[str],
             shares: Mapping[str, tuple[str, int]] | None = None, declined: Collection[str] = ()) -> list[ContractPayment]:
    """``shares``: trajectory_id -> (partner, partner's percent of the fee), for placements made
    in cooperation (``projections.indicators.cooperation.shares``); ``declined``: the ids of
    declined referrals (``projections.indicators.selection.declined_referrals``), left out."""
    rows: dict[tuple[str, str, str, str], ContractPayment] = {}

    def row_of(provider: str, r: TrajectoryResult) -> ContractPayment:
        key = (r.funder, provider, r.contract, r.contract_definition)
        row = rows.get(key)
        if row is None:
            row = rows[key] = ContractPayment(*key, owed_if={name: 0 for name in compare})
        return row

    for r in results:
        if r.trajectory_id in declined:
            continue
        row = row_of(r.provider, r)
        row.trajectories += 1
        share = (shares or {}).get(r.trajectory_id)
        partner = None if share is None else row_of(share[0], r)
        fee_part, partner_part = (r.fee_cents, 0) if share is None else split_fee(r.fee_cents, share[1])
        verdict = r.contract_verdict
        if verdict is None:
            row.unjudged += 1
        else:
            now, later = owed(r.contract, fee_part, r.base_fee_cents, verdict.outcome)
            row.owed_cents += now
            row.pending_cents += later
            if partner is not None:
                moved, pending = owed(r.contract, partner_part, 0, verdict.outcome)
                partner.owed_cents += moved
                partner.pending_cents += pending
                partner.cooperation_cents += moved
                row.cooperation_cents -= moved
        for name in compare:
            row.owed_if[name] += owed(r.contract, fee_part, r.base_fee_cents, r.verdicts[name].outcome)[0]
            if partner is not None:
                partner.owed_if[name] += owed(r.contract, partner_part, 0, r.verdicts[name].outcome)[0]
    return [rows[key] for key in sorted(rows)]
