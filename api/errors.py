"""The API's own typed errors (rule + field, like the ledger's), translated with the
ledger's in one place: ``api/problems.py``."""

from __future__ import annotations

from ledger.domain.errors import LedgerError


class AuthenticationFailed(LedgerError):
    """No usable request signature: missing, malformed, expired, unknown or revoked key,
    or a signature that does not verify."""

    rule = "signature.invalid"


class Forbidden(LedgerError):
    """The caller's role may not use this operation."""

    rule = "role.forbidden"


class NotVisible(LedgerError):
    """Absent, or not the caller's to see (the two are not told apart)."""

    rule = "resource.not-found"


class PayloadTooLarge(LedgerError):
    rule = "request.too-large"
