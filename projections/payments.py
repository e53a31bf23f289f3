"""What each provider is owed, per contract: under the definition the contract named,
and what it would be under each other definition.

no-cure-no-pay: the fee on success only. no-cure-less-pay: the base fee always, plus the
fee on success. A pending verdict owes the base fee now and keeps the fee pending.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

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


def payments(results: Iterable[TrajectoryResult], compare: Sequence[str]) -> list[ContractPayment]:
    rows: dict[tuple[str, str, str, str], ContractPayment] = {}
    for r in results:
        key = (r.funder, r.provider, r.contract, r.contract_definition)
        row = rows.get(key)
        if row is None:
            row = rows[key] = ContractPayment(*key, owed_if={name: 0 for name in compare})
        row.trajectories += 1
        verdict = r.contract_verdict
        if verdict is None:
            row.unjudged += 1
        else:
            now, later = owed(r.contract, r.fee_cents, r.base_fee_cents, verdict.outcome)
            row.owed_cents += now
            row.pending_cents += later
        for name in compare:
            row.owed_if[name] += owed(r.contract, r.fee_cents, r.base_fee_cents, r.verdicts[name].outcome)[0]
    return [rows[key] for key in sorted(rows)]
