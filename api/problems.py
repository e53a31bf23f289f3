"""Every error becomes RFC 9457 ``application/problem+json``, translated here, once.

``PROBLEMS`` is the one table from error classes (the ledger's, the projections' and the
API's own) to HTTP status, problem type and title; the most specific class wins (MRO).
Every problem carries ``status``, ``title``, ``detail`` and the extension members ``rule``
and ``field``; a recorded refusal also carries its ``receipt`` (and, for a double
claim, ``conflicting_claim`` - the claim id only, never who made it). No stack trace and
no input value is ever echoed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import sqlalchemy.exc
from eventsourcing import persistence
from eventsourcing.domain import OriginatorVersionError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from api.errors import AuthenticationFailed, Forbidden, NotVisible, PayloadTooLarge
from ledger.bundle.export import ExportError
from ledger.domain.errors import (
    AlreadyExists,
    BadSignature,
    DateInconsistent,
    DoubleClaim,
    FieldErrors,
    IdempotencyConflict,
    InvalidSubmission,
    InvalidTransition,
    LedgerBusy,
    LedgerError,
    MalformedSubmission,
    NotFound,
    OperatorKeyNotLive,
    Refusal,
    RevokedKey,
    RoleViolation,
    UnknownKey,
    UnknownParty,
    refusal_from_dict,
)
from ledger.domain.merkle import TreeInputError
from ledger.domain.receipt import Receipt
from ledger.infra.lookup_quota import TooManyLookups
from ledger.infra.transparency.published import NotWitnessed
from ledger.infra.transparency.service import BeyondLog
from ledger.infra.transparency.service import LogGap as TransparencyGap
from projections.errors import ProjectionError, UnknownDefinition

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:trajectledger:problem:"
ACCEPT_SIGNATURE = 'sig1=("@method" "@path" "@query");created;expires;alg="ed25519"'
log = logging.getLogger("api.problems")


@dataclass(frozen=True)
class Kind:
    status: int
    slug: str
    title: str
    headers: tuple[tuple[str, str], ...] = ()
    rule: str = "internal"  # for errors that are not LedgerErrors (which carry their own)
    expose: bool = False  # whether such an error's message is safe to show

    @property
    def type(self) -> str:
        return TYPE_PREFIX + self.slug


INTERNAL = Kind(500, "internal", "Internal error")
_UNVERIFIABLE = Kind(422, "unverifiable-envelope", "The envelope's signature cannot be verified")
_BUSY = Kind(503, "busy", "The ledger is busy; try again", (("Retry-After", "1"),), rule="ledger.busy")
_UNAVAILABLE = Kind(503, "unavailable", "The ledger's storage is unavailable; try again", (("Retry-After", "5"),),
                    rule="storage.unavailable")

PROBLEMS: dict[type[Exception], Kind] = {
    # not recorded: the envelope cannot be trusted
    MalformedSubmission: Kind(400, "malformed", "The submission is malformed"),
    UnknownParty: _UNVERIFIABLE,
    UnknownKey: _UNVERIFIABLE,
    RevokedKey: _UNVERIFIABLE,
    BadSignature: _UNVERIFIABLE,
    IdempotencyConflict: Kind(409, "envelope-id-reused", "This envelope id was used for another payload"),
    InvalidSubmission: Kind(400, "invalid-submission", "The submission is invalid"),
    # recorded as a refusal (the problem carries the receipt)
    DoubleClaim: Kind(409, "double-claim", "This job is claimed already"),
    AlreadyExists: Kind(409, "already-exists", "This exists already"),
    InvalidTransition: Kind(409, "invalid-transition", "Not possible in the current state"),
    RoleViolation: Kind(403, "role-not-allowed", "The submitter may not do this"),
    NotFound: Kind(422, "unknown-reference", "Refers to something the ledger does not hold"),
    DateInconsistent: Kind(422, "inconsistent-dates", "The dates are inconsistent"),
    Refusal: Kind(422, "refused", "Refused by a ledger rule"),
    # the API's own
    AuthenticationFailed: Kind(401, "unauthenticated", "The request signature is missing or not valid",
                               (("Accept-Signature", ACCEPT_SIGNATURE),)),
    Forbidden: Kind(403, "forbidden", "Not for this caller"),
    NotVisible: Kind(404, "not-found", "Not found"),
    PayloadTooLarge: Kind(413, "too-large", "The request is too large"),
    # the transparency log
    BeyondLog: Kind(404, "beyond-log", "The log has no tree of that size yet", rule="log.beyond-size", expose=True),
    TreeInputError: Kind(400, "bad-tree-position", "No such position in a tree of that size", rule="log.position",
                         expose=True),
    NotWitnessed: Kind(404, "not-witnessed", "No checkpoint is cosigned by the witness quorum yet", expose=True),
    TransparencyGap: Kind(500, "log-integrity", "The log cannot be hashed"),
    ExportError: Kind(500, "export-failed", "The export failed"),
    # projections
    UnknownDefinition: Kind(400, "unknown-definition", "No such outflow definition"),
    ProjectionError: Kind(500, "projection-failed", "The projections cannot give a trustworthy answer"),
    # availability
    TooManyLookups: Kind(429, "too-many-lookups", "Too many pseudonym lookups this hour"),
    OperatorKeyNotLive: Kind(503, "signing-key-revoked", "The ledger's signing key was revoked; it signs nothing "
                             "until restarted with a live key"),
    # contention the ledger's own retries did not absorb, and storage failures: 503, the client retries
    LedgerBusy: _BUSY,
    OriginatorVersionError: _BUSY,
    persistence.RecordConflictError: _BUSY,
    persistence.IntegrityError: _BUSY,  # named: its MRO reaches PersistenceError before RecordConflictError
    sqlalchemy.exc.IntegrityError: _BUSY,
    persistence.PersistenceError: _UNAVAILABLE,  # lost connection, lock timeout, ... (eventsourcing's PEP 249 errors)
    sqlalchemy.exc.DBAPIError: _UNAVAILABLE,  # the same, raised through SQLAlchemy
    sqlalchemy.exc.TimeoutError: _UNAVAILABLE,  # no pooled connection came free
    # storage errors that are bugs, not conditions: a retry cannot help
    persistence.ProgrammingError: INTERNAL,
    persistence.DataError: INTERNAL,
    persistence.NotSupportedError: INTERNAL,
    sqlalchemy.exc.ProgrammingError: INTERNAL,
    sqlalchemy.exc.DataError: INTERNAL,
    sqlalchemy.exc.NotSupportedError: INTERNAL,
    LedgerError: Kind(400, "bad-request", "The request cannot be handled"),
}
INVALID_REQUEST = Kind(400, "invalid-request", "The request is invalid")


def kind_of(exc: BaseException) -> Kind | None:
    for cls in type(exc).__mro__:
        if cls in PROBLEMS:
            return PROBLEMS[cls]
    return None


def problem(kind: Kind, detail: str, rule: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind.type, "title": kind.title, "status": kind.status, "detail": detail,
                            "rule": rule, "field": field}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def error_problem(exc: BaseException) -> tuple[Kind, dict[str, Any]]:
    """The problem for an error raised on purpose (or a storage outage)."""
    kind = kind_of(exc) or INTERNAL
    if isinstance(exc, LedgerError):
        extra: dict[str, Any] = {"conflicting_claim": exc.conflicting_claim} if isinstance(exc, Refusal) else {}
        if isinstance(exc, FieldErrors):
            extra["errors"] = exc.errors  # every invalid field of the payload
        return kind, problem(kind, exc.detail, exc.rule, exc.field, **extra)
    if kind.expose:
        return kind, problem(kind, str(exc), kind.rule)
    return kind, problem(kind, "try again later" if kind.status == 503 else "an internal error occurred", kind.rule)


def refusal_problem(receipt: Receipt) -> tuple[Kind, dict[str, Any]]:
    """A recorded refusal: the problem of its rule, with its receipt."""
    kind, body = error_problem(refusal_from_dict(receipt.refusal or {"rule": "refused", "detail": "refused"}))
    body["receipt"] = receipt.as_dict()
    return kind, body


def batch_item(index: int, result: Receipt | InvalidSubmission) -> dict[str, Any]:
    """One envelope's result in a batch, with the status it would have had alone."""
    if isinstance(result, Receipt) and result.accepted:
        return {"index": index, "status": 201, "receipt": result.as_dict()}
    kind, body = refusal_problem(result) if isinstance(result, Receipt) else error_problem(result)
    return {"index": index, "status": kind.status, "problem": body}


def response(kind: Kind, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=kind.status, media_type=MEDIA_TYPE, headers={**dict(kind.headers), **(headers or {})})


# --- handlers ------------------------------------------------------------------------------


async def _ledger_error(request: Request, exc: Exception) -> JSONResponse:
    """Answer a mapped error with its problem; a 5xx is logged here, once, with its traceback."""
    kind, body = error_problem(exc)
    if kind.status >= 500:
        log.warning("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, kind.slug, exc_info=exc)
    retry = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyLookups) else None
    return response(kind, {**body, "instance": request.url.path}, retry)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    errors = [{"field": ".".join(str(part) for part in e.get("loc", ())), "rule": f"request.{e.get('type', 'invalid')}",
               "detail": str(e.get("msg", "invalid"))} for e in getattr(exc, "errors", lambda: [])()]
    first = errors[0] if errors else {"field": None, "detail": "invalid request"}
    detail = f"{len(errors)} invalid field(s); first: {first['detail']}"
    body = problem(INVALID_REQUEST, detail, "request.invalid", first["field"], errors=errors, instance=request.url.path)
    return response(INVALID_REQUEST, body)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    rules = {404: "route.unknown", 405: "method.not-allowed"}
    kind = Kind(status, rules.get(status, f"http-{status}").replace(".", "-"), phrase)
    detail = exc.detail if isinstance(exc, HTTPException) and isinstance(exc.detail, str) else phrase
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    return response(kind, problem(kind, detail, rules.get(status, f"http.{status}"), instance=request.url.path), headers)


async def _last_resort(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc)
    return response(INTERNAL, problem(INTERNAL, "an internal error occurred", "internal", instance=request.url.path))


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    for cls in PROBLEMS:
        app.add_exception_handler(cls, _ledger_error)
    app.add_exception_handler(Exception, _last_resort)
