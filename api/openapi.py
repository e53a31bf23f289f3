"""The OpenAPI document, shaped to the Dutch API Design Rules (``../shared/adr/linter.yaml``).

FastAPI generates it from the routes; ``build`` then adjusts what the rules require:
paths relative to the server ``.../v1``, ``info.contact``, the ``API-Version`` header on
every response, RFC 9457 ``application/problem+json`` for every 4xx/5xx (FastAPI's own 422
validation response is replaced: invalid input is a 400 problem here), a 400 on every
operation that takes input, 500 and 503 everywhere, the request-signature scheme, and one
schema per payload type for the envelope's ``payload`` (``api.schemas.payloads``).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.schemas import Problem
from api.schemas.payloads import payload_schemas, payload_union
from api.settings import ApiSettings
from api.signatures import __doc__ as SIGNATURE_SCHEME
from api.version import API_PREFIX, API_VERSION

SEMVER = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$"
VERSION_HEADER = {
    "description": "The full semantic version of the API that answered",
    "schema": {"type": "string", "pattern": SEMVER, "examples": [API_VERSION]},
}
DESCRIPTIONS = {
    400: "Invalid input: the field and the rule are named",
    401: "No valid request signature (RFC 9421): missing, malformed, expired, unknown or revoked key",
    403: "The caller's role may not do this (for a submission: recorded as a refusal, with the receipt)",
    404: "Absent, or not the caller's to see",
    409: "Conflicts with what the ledger holds (for a refusal: recorded, with the receipt)",
    413: "The request body is larger than allowed",
    429: "Too many requests of this kind this hour: try again after Retry-After seconds",
    422: "Refused by a ledger rule (recorded, with the receipt) or an envelope that cannot be verified",
    500: "Internal error (no details are given)",
    503: "Busy or storage unavailable: try again (Retry-After)",
}
DESCRIPTION = """Shared, signed, append-only ledger of re-integration trajectories.

Writes are envelopes signed by their submitter (Ed25519 over the RFC 8785 canonical bytes of
the payload); the ledger verifies them. Reads carry an HTTP Message Signature by a
registered party's key, and show only what that party may see.

## Request signatures
"""


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Declared problem responses for a route (``responses=``)."""
    return {status: {"model": Problem, "description": DESCRIPTIONS.get(status, HTTPStatus(status).phrase)}
            for status in statuses}


def build(app: FastAPI, settings: ApiSettings) -> dict[str, Any]:
    document = get_openapi(
        title="trajectledger", version=API_VERSION, openapi_version="3.1.0", routes=app.routes,
        description=DESCRIPTION + _scheme_text(), tags=app.openapi_tags,
        contact={"name": settings.contact_name, "email": settings.contact_email, "url": settings.contact_url},
        servers=[{"url": settings.public_url.rstrip("/"), "description": "this ledger, API version 1"}],
    )
    document["paths"] = {_relative(path): item for path, item in document.get("paths", {}).items()}
    components = document.setdefault("components", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.get("schemas", {}).pop(name, None)
    if "Problem" not in components.get("schemas", {}):
        raise RuntimeError("no route declares a problem response: the Problem schema is missing")
    _describe_payloads(components.setdefault("schemas", {}))
    components["headers"] = {"API-Version": VERSION_HEADER}
    components["securitySchemes"] = {"httpSignature": {
        "type": "apiKey", "in": "header", "name": "Signature",
        "description": "RFC 9421 HTTP Message Signature with Signature-Input; see the API description",
    }}
    for item in document["paths"].values():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                _adjust(operation, method)
    return document


def _describe_payloads(schemas: dict[str, Any]) -> None:
    """The envelope's ``payload`` as one schema per payload type (generated from the ledger's
    field table), a ``oneOf`` with a discriminator on ``type``. The document only: the route
    still takes any object and the ledger validates the payload with its own rules."""
    envelope = schemas.get("Envelope", {}).get("properties", {})
    if "payload" not in envelope:
        raise RuntimeError("the Envelope schema has no payload property to describe")
    schemas.update(payload_schemas())
    envelope["payload"] = payload_union(envelope["payload"].get("description", ""))


def _relative(path: str) -> str:
    if not path.startswith(API_PREFIX + "/"):
        raise ValueError(f"every route is under {API_PREFIX}: {path}")
    return path[len(API_PREFIX):]


def _adjust(operation: dict[str, Any], method: str) -> None:
    responses = operation.setdefault("responses", {})
    auto = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if auto.get("$ref", "").endswith("/HTTPValidationError"):
        del responses["422"]
    takes_input = bool(operation.get("parameters")) or "requestBody" in operation or method != "get"
    wanted = ([400] if takes_input else []) + [500, 503]
    for status in wanted:
        responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
    for status, response in responses.items():
        response.setdefault("headers", {})["API-Version"] = {"$ref": "#/components/headers/API-Version"}
        if status[0] in "45":
            response["content"] = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _scheme_text() -> str:
    """The scheme as ``api.signatures`` documents it (its docstring, from 'The scheme' on)."""
    text = SIGNATURE_SCHEME or ""
    start = text.find("Every read")
    return text[start:].replace("::\n", ":\n").replace("``", "`") if start >= 0 else ""
