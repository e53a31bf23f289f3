"""Typed errors: every refusal names the rule it breaks and the field it concerns.

The domain raises these; the application records refusals; the API and the CLI each
translate them in one place (``api/problems.py``, ``cli/main.py``).

Two families, following sigstore-python's "malformed is not does-not-verify":

* ``InvalidSubmission`` - the envelope cannot be trusted (malformed, unknown key,
  bad or revoked signature). Nothing is recorded.
* ``Refusal`` - a correctly signed submission that breaks a ledger rule. It is recorded
  as a refusal, because an attempted double claim is itself audit evidence.
"""

from __future__ import annotations

from typing import Any


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""

    rule: str = "ledger"

    def __init__(self, detail: str, *, rule: str | None = None, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if rule is not None:
            self.rule = rule
        self.field = field

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "field": self.field, "detail": self.detail}

    def __str__(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        return f"{self.rule}{where}: {self.detail}"


# --- the envelope cannot be trusted: nothing is recorded ---------------------------


class InvalidSubmission(LedgerError):
    """The submission is not recorded at all."""


class MalformedSubmission(InvalidSubmission):
    """Bad encoding, missing or ill-typed field, unknown event type."""

    rule = "envelope.malformed"


class FieldErrors(MalformedSubmission):
    """Several fields of one payload are invalid. ``errors`` names each (rule, field,
    detail); the error's own rule and field are the first one's (``FieldErrors.of``)."""

    def __init__(self, detail: str, *, rule: str | None = None, field: str | None = None,
                 errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail, rule=rule, field=field)
        self.errors = errors or []

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "errors": self.errors}

    @classmethod
    def of(cls, errors: list[LedgerError]) -> FieldErrors:
        first = errors[0]
        return cls(f"{len(errors)} invalid fields: " + "; ".join(str(e) for e in errors),
                   rule=first.rule, field=first.field, errors=[e.as_dict() for e in errors])


class UnknownParty(InvalidSubmission):
    rule = "party.unknown"


class UnknownKey(InvalidSubmission):
    rule = "key.unknown"


class RevokedKey(InvalidSubmission):
    rule = "key.revoked"


class BadSignature(InvalidSubmission):
    rule = "signature.invalid"


class IdempotencyConflict(InvalidSubmission):
    """The envelope_id was used before for a different payload."""

    rule = "envelope.id-reused"


class LedgerBusy(LedgerError):
    """Contention did not clear after many retries; nothing was recorded. Try again."""

    rule = "ledger.busy"


class OperatorKeyNotLive(LedgerError):
    """The operator key this process signs with is not (or no longer) a live operator key
    of the registry - revoked, typically: it signs no more receipts or checkpoints. Restart
    it with a live operator key; what was recorded stands, and its receipts come from a
    ledger running with that key."""

    rule = "operator.key-not-live"


# --- correctly signed, but against the rules: recorded as a refusal -----------------


class Refusal(LedgerError):
    """A signed submission that breaks a rule; the ledger records it as refused."""

    def __init__(
        self,
        detail: str,
        *,
        rule: str | None = None,
        field: str | None = None,
        conflicting_claim: str | None = None,
    ) -> None:
        super().__init__(detail, rule=rule, field=field)
        self.conflicting_claim = conflicting_claim

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data["conflicting_claim"] = self.conflicting_claim
        return data


class RoleViolation(Refusal):
    rule = "role.not-allowed"


class NotFound(Refusal):
    rule = "reference.unknown"


class AlreadyExists(Refusal):
    rule = "reference.exists"


class DateInconsistent(Refusal):
    rule = "dates.inconsistent"


class DoubleClaim(Refusal):
    rule = "claim.unique-job"


class InvalidTransition(Refusal):
    rule = "state.transition"


REFUSAL_CLASSES: dict[str, type[Refusal]] = {
    cls.rule: cls
    for cls in (RoleViolation, NotFound, AlreadyExists, DateInconsistent, DoubleClaim, InvalidTransition)
}


def refusal_from_dict(data: dict[str, Any]) -> Refusal:
    """Rebuild a recorded refusal (for receipts and the verifier)."""
    cls = REFUSAL_CLASSES.get(data["rule"], Refusal)
    return cls(
        data["detail"],
        rule=data["rule"],
        field=data.get("field"),
        conflicting_claim=data.get("conflicting_claim"),
    )
