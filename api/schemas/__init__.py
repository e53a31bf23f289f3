"""Request and response bodies, as the OpenAPI document shows them (with examples).

JSON member names follow the ledger's own formats (snake_case, as in signed envelopes and
receipts, whose bytes are signed); query keys are lowerCamelCase. One module per area.
"""

from api.schemas.common import CLIENT_REF, MAX_BATCH, Page
from api.schemas.dossiers import (
    Activity,
    Assessment,
    Benefit,
    BenefitPage,
    Claim,
    ClaimPage,
    Contest,
    Dossier,
    Ended,
    Flag,
    Intake,
    Trajectory,
    TrajectoryPage,
)
from api.schemas.identity import Health, LedgerKey, Party, PartyKey, PartyPage, Pseudonym, PseudonymRequest
from api.schemas.log import ConsistencyProof, InclusionProof, SignedCheckpoint, SignedCheckpointPage
from api.schemas.reports import (
    DefinitionInfo,
    DefinitionVerdict,
    DifferencePage,
    FlaggedClaim,
    FlagPage,
    JudgedDifferently,
    Outcome,
    OutflowRates,
    RateRow,
)
from api.schemas.submissions import Batch, BatchItem, BatchResult, Envelope, FieldError, Problem, Receipt, Refusal

__all__ = [
    "CLIENT_REF", "MAX_BATCH", "Activity", "Assessment", "Batch", "BatchItem", "BatchResult", "Benefit", "BenefitPage",
    "Claim", "ClaimPage", "ConsistencyProof", "Contest", "DefinitionInfo", "DefinitionVerdict", "DifferencePage", "Dossier", "Ended", "Envelope",
    "FieldError", "Flag", "FlagPage", "FlaggedClaim", "Health", "InclusionProof", "Intake", "JudgedDifferently", "LedgerKey", "Outcome",
    "OutflowRates", "Page", "Party", "PartyKey", "PartyPage", "Problem", "Pseudonym", "PseudonymRequest", "RateRow",
    "Receipt", "Refusal", "SignedCheckpoint", "SignedCheckpointPage", "Trajectory", "TrajectoryPage",
]
