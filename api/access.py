"""Who may see what: the one place the API scopes reads to the caller. Pure.

* an operator administers the ledger and sees everything;
* a funder sees the trajectories it commissioned, the claims on them and the benefits it pays;
* a provider sees the trajectories commissioned to it and the claims on them (no benefits,
  no flags: they concern other parties' data);
* an auditor sees what the funders it audits (``AuditMandateGranted``) see.

Anything outside the caller's scope is reported as absent (404), never as forbidden, so a
read does not reveal that another party works with the same client.
"""

from __future__ import annotations

from dataclasses import dataclass

OPERATOR, FUNDER, PROVIDER, AUDITOR = "operator", "funder", "provider", "auditor"
ROLES = (OPERATOR, FUNDER, PROVIDER, AUDITOR)


@dataclass(frozen=True)
class Caller:
    party_id: str
    role: str
    audits: frozenset[str] = frozenset()

    def sees(self, funder: str, provider: str) -> bool:
        """A trajectory (or a claim on it) of this funder and provider."""
        if self.role == OPERATOR:
            return True
        if self.role == FUNDER:
            return funder == self.party_id
        if self.role == PROVIDER:
            return provider == self.party_id
        if self.role == AUDITOR:
            return funder in self.audits
        return False

    def sees_benefit(self, funder: str) -> bool:
        return self.role == OPERATOR or (self.role == FUNDER and funder == self.party_id) or (
            self.role == AUDITOR and funder in self.audits)

    @property
    def sees_flags(self) -> bool:
        return self.role in (OPERATOR, FUNDER, AUDITOR)

    @property
    def sees_all(self) -> bool:
        return self.role == OPERATOR
