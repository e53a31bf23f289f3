"""Who a client is, without ever storing who she is.

A BSN (burgerservicenummer) is checked with the 11-test and turned into a ``client_ref``
= HMAC-SHA256(pseudonymisation key, BSN). The ledger stores only the ``client_ref``.
Employers are identified by their 8-digit KvK number.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from ledger.domain.errors import MalformedSubmission

_BSN = re.compile(r"^[0-9]{9}$")
_KVK = re.compile(r"^[0-9]{8}$")
_CLIENT_REF = re.compile(r"^[0-9a-f]{64}$")
BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def validate_bsn(bsn: str, field: str = "bsn") -> str:
    """Return the BSN if it has 9 digits and passes the 11-test; else raise.

    The 11-test: sum of digit * weight (9..2, and -1 for the last digit) is a
    multiple of 11. 000000000 passes the arithmetic but is never issued.
    """
    if not isinstance(bsn, str) or not _BSN.fullmatch(bsn):
        raise MalformedSubmission("a BSN is exactly 9 digits", rule="bsn.format", field=field)
    if bsn == "000000000":
        raise MalformedSubmission("000000000 is not a BSN", rule="bsn.eleven-test", field=field)
    total = sum(int(d) * w for d, w in zip(bsn, BSN_WEIGHTS))
    if total % 11 != 0:
        raise MalformedSubmission("the BSN fails the 11-test", rule="bsn.eleven-test", field=field)
    return bsn


def client_ref(pseudonym_key: bytes, bsn: str) -> str:
    """The pseudonym under which a client's dossier is kept (hex HMAC-SHA256)."""
    if len(pseudonym_key) < 32:
        raise ValueError("the pseudonymisation key must be at least 32 bytes")
    validate_bsn(bsn)
    return hmac.new(pseudonym_key, bsn.encode("ascii"), hashlib.sha256).hexdigest()


def validate_client_ref(value: object, field: str = "client_ref") -> str:
    if not isinstance(value, str) or not _CLIENT_REF.fullmatch(value):
        raise MalformedSubmission(
            "a client_ref is 64 lowercase hex characters (HMAC-SHA256 of the BSN)",
            rule="client-ref.format",
            field=field,
        )
    return value


def validate_kvk(value: object, field: str = "employer_kvk") -> str:
    if not isinstance(value, str) or not _KVK.fullmatch(value):
        raise MalformedSubmission("a KvK number is exactly 8 digits", rule="kvk.format", field=field)
    return value
