"""The offline verifier: ``verify_bundle(DIR)`` runs the numbered checklist of
``ledger.verify.checklist`` over an export bundle, with no database and no settings.

It depends on ``ledger.domain.merkle``, ``ledger.domain.checkpoint``, the envelope code and the pure rules
(``ledger.domain.registry``, ``ledger.domain.dossier``) - never on the application or storage.
"""

from ledger.verify.checklist import Verified, verify_bundle
from ledger.verify.errors import STEPS, MalformedInput, VerificationFailed, VerifyError
from ledger.verify.inputs import parse_trusted_key

__all__ = ["STEPS", "MalformedInput", "VerificationFailed", "Verified", "VerifyError", "parse_trusted_key",
           "verify_bundle"]
