"""Which entries an auditor's export holds in full: the scope of an audit mandate. Pure.

An auditor reads what the funders it audits (``AuditMandateGranted``) read, by the API's own
rule (``api.access.Caller``: a trajectory or a claim on it by the trajectory's funder, a
benefit by the funder that pays it). ``Mandate`` is that rule for one auditor; anything with
the same members (``Reader``), the API's ``Caller`` included, can scope an export.

An entry is held when

* it is a registry entry (parties, keys, mandates: every signature is checked against them), or
* every trajectory, claim and benefit its payload names (``trajectory_id``, ``claim_id``,
  ``benefit_id``; a commission names its own trajectory, funded by its submitter; a benefit
  start, or a funder's evidence of employment naming no claim, is the submitter's own fact,
  ``OWN_FACTS``) is one the reader sees, and
* its submitter is a party of each (funder, provider, the provider named to follow up) or
  the reader itself (an auditor's own finding): a contest or evidence by another funder or
  provider names a party the auditor may not know works with this client (the API shows
  such a contest as by "another party").

The funder and provider of a trajectory, claim or benefit are the dossier's own
(``ledger.domain.dossier.state``), as the ledger recorded them: the state is folded from the
accepted entries in log order, as the API's dossier views read it. Otherwise the entry is
withheld, for one of ``layout.REASONS``. A dossier payload type that names none of these
is refused loudly (``ScopeError``), never held by default: a new event type must say whom
it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ledger.bundle.layout import OTHER_SUBMITTER, OUTSIDE_MANDATE, UNATTRIBUTED
from ledger.domain.dossier.state import DossierState, evolve
from ledger.domain.entry import ACCEPTED
from ledger.domain.errors import LedgerError
from ledger.domain.payloads import DOSSIER_TYPES, is_registry_type

REFERENCES = ("trajectory_id", "claim_id", "benefit_id")
CREATES = {"TrajectoryCommissioned": "trajectory_id", "BenefitStarted": "benefit_id", "PlacementClaimed": "claim_id"}
# a funder's own facts about its client: when they name no trajectory, claim or benefit, they are the submitter's
OWN_FACTS = frozenset({"BenefitStarted", "EmploymentVerified", "EmploymentNotFound"})


class ScopeError(LedgerError):
    rule = "scope.unknown-type"


class Reader(Protocol):
    @property
    def party_id(self) -> str: ...

    def sees(self, funder: str, provider: str) -> bool: ...

    def sees_benefit(self, funder: str) -> bool: ...


@dataclass(frozen=True)
class Mandate:
    """An auditor and the funders it audits: it reads what they funded (``api.access``)."""

    auditor: str
    funders: frozenset[str]

    @property
    def party_id(self) -> str:
        return self.auditor

    def sees(self, funder: str, provider: str) -> bool:
        return funder in self.funders

    def sees_benefit(self, funder: str) -> bool:
        return funder in self.funders


@dataclass(frozen=True)
class Parties:
    """Whose a trajectory, claim or benefit is: its funder, its provider (none for a benefit or
    a funder's own evidence), and every party that may write to it."""

    funder: str
    provider: str | None
    writers: frozenset[str]


class Scope:
    """Fed every entry in log order: ``withheld(body)`` says whether the reader gets it."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.dossiers: dict[str, DossierState] = {}

    def withheld(self, body: dict[str, Any]) -> str | None:
        """None if entry ``body`` ({envelope, verdict, refusal, recorded_at}) is held, else
        the reason it is withheld (``layout.REASONS``). Then the entry is followed: an accepted
        dossier entry evolves its dossier, as in the ledger."""
        envelope = body["envelope"]
        payload, submitter = envelope["payload"], envelope["submitter"]
        kind = payload.get("type")
        if is_registry_type(kind):
            return None
        if type(kind) is not str or kind not in DOSSIER_TYPES:
            raise ScopeError(f"entry of unknown payload type {kind!r}: its scope cannot be decided",
                             field="payload.type")
        client = payload["client_ref"]
        state = self.dossiers.get(client) or DossierState()
        reason = self._reason(state, payload, submitter)
        if body["verdict"] == ACCEPTED:
            state = self.dossiers.setdefault(client, state)
            try:
                evolve(state, payload, submitter, body["recorded_at"])
            except KeyError as exc:
                raise ScopeError(f"accepted {kind} refers to {exc}, which its dossier does not hold",
                                 rule="scope.inconsistent", field="payload") from exc
        return reason

    def _reason(self, state: DossierState, payload: dict[str, Any], submitter: str) -> str | None:
        named = self._parties(state, payload, submitter)
        if named is None:
            return UNATTRIBUTED
        for parties in named:
            seen = (self.reader.sees_benefit(parties.funder) if parties.provider is None
                    else self.reader.sees(parties.funder, parties.provider))
            if not seen:
                return OUTSIDE_MANDATE
        if submitter != self.reader.party_id and any(submitter not in parties.writers for parties in named):
            return OTHER_SUBMITTER
        return None

    @staticmethod
    def _parties(state: DossierState, payload: dict[str, Any], submitter: str) -> list[Parties] | None:
        """Whose is everything the payload names; None if it names something the dossier
        does not hold. A reference left null (an optional one) names nothing."""
        kind = payload["type"]
        created = CREATES.get(kind)
        found: list[Parties] = []
        if kind == "TrajectoryCommissioned":
            writers = {submitter, payload["provider"], payload.get("follow_up_by")} - {None}
            found.append(Parties(submitter, str(payload["provider"]), frozenset(map(str, writers))))
        tables = {"trajectory_id": state.trajectories, "claim_id": state.claims, "benefit_id": state.benefits}
        for name in REFERENCES:
            if payload.get(name) is None or name == created:
                continue
            item = tables[name].get(payload[name])
            if item is None:
                return None
            found.append(_whose(name, item))
        if not found and kind in OWN_FACTS:
            found.append(Parties(submitter, None, frozenset({submitter})))
        if not found:
            raise ScopeError(f"{kind} names no trajectory, claim or benefit: its scope cannot be decided",
                             field="payload.type")
        return found


def _whose(reference: str, item: dict[str, Any]) -> Parties:
    if reference == "benefit_id":
        return Parties(str(item["funder"]), None, frozenset({str(item["funder"])}))
    writers = {item["funder"], item["provider"], item.get("follow_up_by")} - {None}
    return Parties(str(item["funder"]), str(item["provider"]), frozenset(map(str, writers)))
