"""The payload types a submitter may sign, and the shape of each.

A payload is ``{"envelope_id", "type", "occurred_on", ...fields}``. Registry payloads
(parties and keys) are signed by the operator; dossier payloads carry a ``client_ref``.
``validate_payload`` checks shape only (types, formats, ranges, no unknown fields);
the rules between facts live in ``ledger.domain.dossier`` and ``ledger.domain.registry``.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any, Callable

from ledger.domain.errors import FieldErrors, LedgerError, MalformedSubmission
from ledger.domain.identity import validate_client_ref, validate_kvk

ROLES = ("operator", "funder", "provider", "auditor")
CONTRACTS = ("no-cure-no-pay", "no-cure-less-pay")
BENEFITS = ("WWB", "WW", "Wajong", "WIA")
END_REASONS = (
    "placed", "completed", "voluntarily-stopped", "dropped-out",
    "sanctioned", "medical", "moved", "deceased",
)
INSTRUMENTS = range(1, 35)  # Table 1 of 'Fit or unfit' (Sol et al., 2011)
MEDIATION_INSTRUMENTS = frozenset({27, 28, 29, 30})  # vacancy acquisition, matching, mediation
RUNGS = range(1, 7)  # participatieladder
EVIDENCE_SOURCES = ("polis", "payslip", "employer")  # UWV's polisadministratie, a payslip, the employer's statement
AUDIT_OUTCOMES = ("upheld", "not-upheld", "unverifiable")
# issue 16: a provider declining a referral, the follow-up after a trajectory, cooperation on a placement
DECLINE_REASONS = ("no-capacity", "outside-target-group", "too-far-from-work", "health", "language", "other")
FOLLOW_UP_MOMENTS = {"6-months": 6, "12-months": 12, "18-months": 18}  # after the trajectory ended
FOLLOW_UP_STATUSES = ("employed", "self-employed", "in-education", "on-benefit", "other", "not-reached")
FOLLOW_UP_ANSWERS = ("yes", "maybe", "no", "no-answer")  # "would you have found this job without the trajectory?"

_TOKEN = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")

Check = Callable[[Any, str], Any]


def _fail(field: str, rule: str, detail: str) -> MalformedSubmission:
    return MalformedSubmission(detail, rule=rule, field=field)


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def uuid_text(value: Any, field: str) -> str:
    if isinstance(value, str) and _UUID.fullmatch(value):  # the canonical form: the common case, fast
        return value
    try:
        if not isinstance(value, str):
            raise ValueError
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise _fail(field, "uuid.format", "expected a UUID string") from exc


def iso_date(value: Any, field: str) -> str:
    if not isinstance(value, str) or len(value) != 10:
        raise _fail(field, "date.format", "expected a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise _fail(field, "date.format", "expected a valid date as YYYY-MM-DD") from exc


def optional_date(value: Any, field: str) -> str | None:
    return None if value is None else iso_date(value, field)


def optional_uuid(value: Any, field: str) -> str | None:
    return None if value is None else uuid_text(value, field)


def token(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        raise _fail(field, "token.format", "lowercase letters, digits and '-', 2 to 64 characters")
    return value


def version_label(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _VERSION.fullmatch(value):
        raise _fail(field, "version.format", "a version label of at most 32 characters")
    return value


def sha256_hex(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise _fail(field, "sha256.format", "64 lowercase hex characters")
    return value


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(field, "field.type", "expected true or false")
    return value


def integer(low: int, high: int) -> Check:
    def check(value: Any, field: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(field, "field.type", "expected an integer")
        if not low <= value <= high:
            raise _fail(field, "field.range", f"must be between {low} and {high}")
        return value

    return check


def optional_integer(low: int, high: int) -> Check:
    within = integer(low, high)

    def check(value: Any, field: str) -> int | None:
        return None if value is None else within(value, field)

    return check


def one_of(*choices: str) -> Check:
    def check(value: Any, field: str) -> str:
        if value not in choices:
            raise _fail(field, "field.choice", "must be one of: " + ", ".join(choices))
        return str(value)

    return check


def public_key(value: Any, field: str) -> str:
    from ledger.domain.envelope import b64decode

    b64decode(value, field, length=32)
    return str(value)


def token_list(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or len(value) > 100:
        raise _fail(field, "field.type", "expected a list of at most 100 party ids")
    return [token(item, f"{field}[{i}]") for i, item in enumerate(value)]


def rung_mix(value: Any, field: str) -> list[int]:
    """A target mix of referrals per ladder rung: six whole percentages (rungs 1-6) adding up to 100."""
    if not isinstance(value, list) or len(value) != len(RUNGS):
        raise _fail(field, "field.type", "expected a list of six percentages, rungs 1 to 6")
    for i, share in enumerate(value):
        integer(0, 100)(share, f"{field}[{i}]")
    if sum(value) != 100:
        raise _fail(field, "field.range", f"the six percentages add up to 100, not {sum(value)}")
    return value


def key_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"ed25519:[0-9a-f]{16}", value):
        raise _fail(field, "key-id.format", "expected 'ed25519:' and 16 hex digits")
    return value


REGISTRY_TYPES: dict[str, dict[str, Check]] = {
    "PartyRegistered": {"party_id": token, "role": one_of(*ROLES), "public_key": public_key},
    "KeyAdded": {"party_id": token, "public_key": public_key},
    "KeyRevoked": {"party_id": token, "key_id": key_id},
    "AuditMandateGranted": {"party_id": token, "funder": token},
    "RulesAdopted": {"party_id": token, "rules_version": integer(2, 10**6)},  # the operator moves the ledger to newer rules
}

DOSSIER_TYPES: dict[str, dict[str, Check]] = {
    "TrajectoryCommissioned": {
        "trajectory_id": uuid_text, "provider": token, "start": iso_date, "planned_end": iso_date,
        "definition": token, "contract": one_of(*CONTRACTS),
        "fee_cents": integer(0, 10**9), "base_fee_cents": integer(0, 10**9),
        # omittable (issue 16): the rung at referral, the contract's target mix per rung, who follows up
        "referral_rung": integer(1, 6), "target_mix": rung_mix, "follow_up_by": token,
    },
    "TrajectoryExtended": {"trajectory_id": uuid_text, "planned_end": iso_date},
    "IntakeCompleted": {"trajectory_id": uuid_text, "rung": integer(1, 6), "rubric_version": version_label},
    "LadderRungAssessed": {
        "trajectory_id": uuid_text, "rung": integer(1, 6), "rubric_version": version_label,
        "assessor": token,
    },
    "ActivityRecorded": {"trajectory_id": uuid_text, "instrument": integer(1, 34)},
    "PlacementClaimed": {
        "trajectory_id": uuid_text, "claim_id": uuid_text, "employer_kvk": validate_kvk,
        "application_date": iso_date, "job_start": iso_date, "contract_end": optional_date,
        "hours_per_week": integer(1, 60), "secondment_via_provider": boolean,
        "evidence_sha256": sha256_hex,
    },
    "PlacementWithdrawn": {"claim_id": uuid_text},
    "PlacementConfirmed": {"claim_id": uuid_text},
    "PlacementRejected": {"claim_id": uuid_text, "reason": token},
    "PlacementContested": {"claim_id": uuid_text, "reason": token},
    "EmploymentEnded": {"claim_id": uuid_text, "end": iso_date},
    "BenefitStarted": {"benefit_id": uuid_text, "benefit": one_of(*BENEFITS), "start": iso_date},
    "BenefitEnded": {"benefit_id": uuid_text, "end": iso_date},
    "AftercareContact": {"trajectory_id": uuid_text},
    "TrajectoryEnded": {"trajectory_id": uuid_text, "reason": one_of(*END_REASONS), "end": iso_date},
    # wage data checked by a funder of the client (issue 15): claim_id null = any claim at that employer
    "EmploymentVerified": {
        "claim_id": optional_uuid, "employer_kvk": validate_kvk, "period_from": iso_date, "period_to": iso_date,
        "hours_per_week": optional_integer(1, 80), "wage_cents": optional_integer(1, 10**8),
        "source": one_of(*EVIDENCE_SOURCES), "evidence_sha256": sha256_hex,
    },
    "EmploymentNotFound": {
        "claim_id": optional_uuid, "employer_kvk": validate_kvk, "period_from": iso_date, "period_to": iso_date,
        "source": one_of(*EVIDENCE_SOURCES), "evidence_sha256": sha256_hex,
    },
    "AuditFinding": {
        "claim_id": uuid_text, "outcome": one_of(*AUDIT_OUTCOMES), "reason": token, "evidence_sha256": sha256_hex,
    },
    # issue 16: the provider declines a referral before intake; the funder's follow-up; shared credit for a placement
    "ReferralDeclined": {"trajectory_id": uuid_text, "reason": one_of(*DECLINE_REASONS)},
    "FollowUpRecorded": {
        "trajectory_id": uuid_text, "moment": one_of(*FOLLOW_UP_MOMENTS), "status": one_of(*FOLLOW_UP_STATUSES),
        "found_without": one_of(*FOLLOW_UP_ANSWERS), "satisfaction": optional_integer(1, 5),
    },
    "PlacementCooperation": {"claim_id": uuid_text, "partner": token, "partner_share_percent": integer(1, 100)},
}
# fields added to a type after payloads of it were stored: they may be left out (absent = not stated)
OMITTABLE: dict[str, frozenset[str]] = {
    "TrajectoryCommissioned": frozenset({"referral_rung", "target_mix", "follow_up_by"}),  # issue 16
}

COMMON: dict[str, Check] = {"envelope_id": uuid_text, "type": token, "occurred_on": iso_date}


# every type's full field table, built once: the common fields, client_ref for dossier types
FIELDS: dict[str, dict[str, Check]] = {
    **{kind: {**COMMON, **checks} for kind, checks in REGISTRY_TYPES.items()},
    **{kind: {**COMMON, "client_ref": validate_client_ref, **checks} for kind, checks in DOSSIER_TYPES.items()},
}
_LABELS = {name: f"payload.{name}" for checks in FIELDS.values() for name in checks}


def is_registry_type(payload_type: object) -> bool:
    return type(payload_type) is str and payload_type in REGISTRY_TYPES


def validate_payload(payload: Any) -> dict[str, Any]:
    """Return the payload unchanged if its shape is right; else raise naming the bad field,
    or ``FieldErrors`` naming every bad field when there are several."""
    if not isinstance(payload, dict):
        raise _fail("payload", "field.type", "the payload is a JSON object")
    kind = payload.get("type")
    if not isinstance(kind, str):
        raise _fail("payload.type", "field.required", "required")
    fields = FIELDS.get(kind)
    if fields is None:
        raise _fail("payload.type", "type.unknown", f"unknown payload type {kind!r}")
    problems: list[LedgerError] = []
    expected = len(fields)  # the fields the payload must hold: all but the omittable it leaves out
    for name, check in fields.items():
        if name not in payload:
            if name in OMITTABLE.get(kind, ()):
                expected -= 1
                continue
            problems.append(_fail(_LABELS[name], "field.required", "required"))
        elif name != "type":
            value = payload[name]
            try:
                normalised = check(value, _LABELS[name])
            except MalformedSubmission as exc:
                problems.append(exc)
                continue
            if normalised != value:
                problems.append(_fail(_LABELS[name], "field.canonical", f"write it as {normalised!r}"))
    if problems or len(payload) != expected:  # every field is present: anything more is unknown
        problems += [_fail(f"payload.{name}", "field.unknown", f"not a field of {kind}")
                     for name in sorted(set(payload) - set(fields))]
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise FieldErrors.of(problems)
    return payload
