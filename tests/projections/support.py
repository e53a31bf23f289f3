"""Building client dossiers through a real ledger, one signed submission at a time.

``Client`` wraps ``tests.support.World``: every method submits one signed payload and
checks the verdict, so a scenario reads like the story it tells.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.domain.dossier.state import DossierState
from ledger.domain.receipt import Receipt
from projections.history import dossiers_as_known_at
from tests.support import World, new_id, payload

MUNICIPALITY, UWV = "gemeente-haarlem", "uwv"
WERKFIT, JOBSTAP = "werkfit", "jobstap"


def day(text: str) -> date:
    return date.fromisoformat(text)


@dataclass
class Client:
    world: World
    ref: str

    @classmethod
    def named(cls, world: World, name: str) -> Client:
        return cls(world, hashlib.sha256(name.encode()).hexdigest())

    def _submit(self, submitter: str, kind: str, occurred_on: str, accept: bool = True, **fields: Any) -> Receipt:
        receipt = self.world.submit(submitter, payload(kind, self.ref, occurred_on=occurred_on, **fields))
        if accept and not receipt.accepted:
            raise AssertionError(f"{kind} refused: {receipt.refusal}")
        return receipt

    def commission(self, start: str, planned_end: str, funder: str = MUNICIPALITY, provider: str = WERKFIT,
                   definition: str = "six-month-rule", contract: str = "no-cure-no-pay", fee_cents: int = 300000,
                   base_fee_cents: int = 0) -> str:
        trajectory_id = new_id()
        self._submit(funder, "TrajectoryCommissioned", start, trajectory_id=trajectory_id, provider=provider,
                     start=start, planned_end=planned_end, definition=definition, contract=contract,
                     fee_cents=fee_cents, base_fee_cents=base_fee_cents)
        return trajectory_id

    def intake(self, trajectory_id: str, rung: int, on: str, provider: str = WERKFIT) -> None:
        self._submit(provider, "IntakeCompleted", on, trajectory_id=trajectory_id, rung=rung, rubric_version="2009")

    def assess(self, trajectory_id: str, rung: int, on: str, provider: str = WERKFIT) -> None:
        self._submit(provider, "LadderRungAssessed", on, trajectory_id=trajectory_id, rung=rung,
                     rubric_version="2009", assessor="consulent-1")

    def activity(self, trajectory_id: str, instrument: int, on: str, provider: str = WERKFIT) -> None:
        self._submit(provider, "ActivityRecorded", on, trajectory_id=trajectory_id, instrument=instrument)

    def claim(self, trajectory_id: str, application_date: str, job_start: str, contract_end: str | None = None,
              provider: str = WERKFIT, kvk: str = "12345678", secondment: bool = False, accept: bool = True) -> str:
        claim_id = new_id()
        self._submit(provider, "PlacementClaimed", job_start, accept=accept, trajectory_id=trajectory_id,
                     claim_id=claim_id, employer_kvk=kvk, application_date=application_date, job_start=job_start,
                     contract_end=contract_end, hours_per_week=32, secondment_via_provider=secondment,
                     evidence_sha256="ab" * 32)
        return claim_id

    def confirm(self, claim_id: str, on: str, funder: str = MUNICIPALITY) -> None:
        self._submit(funder, "PlacementConfirmed", on, claim_id=claim_id)

    def reject(self, claim_id: str, on: str, funder: str = MUNICIPALITY) -> None:
        self._submit(funder, "PlacementRejected", on, claim_id=claim_id, reason="no-evidence")

    def placed(self, trajectory_id: str, application_date: str, job_start: str, contract_end: str | None = None,
               provider: str = WERKFIT, funder: str = MUNICIPALITY, **over: Any) -> str:
        """A claim its funder confirms the same day."""
        claim_id = self.claim(trajectory_id, application_date, job_start, contract_end, provider, **over)
        self.confirm(claim_id, job_start, funder)
        return claim_id

    def employment_ended(self, claim_id: str, end: str, by: str = MUNICIPALITY) -> None:
        self._submit(by, "EmploymentEnded", end, claim_id=claim_id, end=end)

    def benefit(self, start: str, benefit: str = "WWB", funder: str = MUNICIPALITY) -> str:
        benefit_id = new_id()
        self._submit(funder, "BenefitStarted", start, benefit_id=benefit_id, benefit=benefit, start=start)
        return benefit_id

    def end_benefit(self, benefit_id: str, end: str, funder: str = MUNICIPALITY) -> None:
        self._submit(funder, "BenefitEnded", end, benefit_id=benefit_id, end=end)

    def end(self, trajectory_id: str, end: str, reason: str = "placed", by: str = WERKFIT) -> None:
        self._submit(by, "TrajectoryEnded", end, trajectory_id=trajectory_id, reason=reason, end=end)

    def verify(self, claim_id: str | None, period_from: str, period_to: str, kvk: str = "12345678",
               funder: str = MUNICIPALITY, found: bool = True, source: str = "polis") -> None:
        """The funder's wage-data check: EmploymentVerified (32 hours a week), or EmploymentNotFound."""
        fields: dict[str, Any] = dict(claim_id=claim_id, employer_kvk=kvk, period_from=period_from,
                                      period_to=period_to, source=source, evidence_sha256="cd" * 32)
        if found:
            self._submit(funder, "EmploymentVerified", period_to, hours_per_week=32, wage_cents=None, **fields)
        else:
            self._submit(funder, "EmploymentNotFound", period_to, **fields)

    def dossier(self) -> DossierState:
        """This client's dossier, rebuilt from the ledger's entries."""
        return dossiers_as_known_at(self.world.ledger)[self.ref]
