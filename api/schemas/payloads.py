"""JSON Schemas of the payload types, generated from the ledger's own field table.

``ledger.domain.payloads.FIELDS`` is the single source of truth: each type's fields and the
check function of each field. Every check function maps to a JSON Schema here (by the
function itself, or for the factories ``integer`` and ``one_of`` by the bounds and choices
their closures hold); a check function without a mapping raises ``UnmappedCheck``, so the
document cannot be built with a payload field it does not describe.

Only the OpenAPI document uses these schemas: requests are still validated by the ledger
itself (``validate_payload``), with its own rules and error names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Callable

from ledger.domain import identity
from ledger.domain import payloads as domain

REF = "#/components/schemas/"
# base64 of exactly 32 bytes (an Ed25519 public key): 43 characters and one '='
_BASE64_32 = r"^[A-Za-z0-9+/]{43}=$"
_KEY_ID = r"^ed25519:[0-9a-f]{16}$"


AUDITOR_TYPES = ("AuditFinding",)


class UnmappedCheck(TypeError):
    """A payload check function that has no JSON Schema mapping in ``api.schemas.payloads``."""


def _string(pattern: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", **extra, "pattern": pattern}


_DATE: dict[str, Any] = {"type": "string", "format": "date"}

# the plain check functions; the factories (integer, one_of) are read from their closures below
SIMPLE: dict[Callable[..., Any], dict[str, Any]] = {
    domain.uuid_text: _string(domain._UUID.pattern, format="uuid"),
    domain.iso_date: _DATE,
    domain.optional_date: {"anyOf": [_DATE, {"type": "null"}]},
    domain.optional_uuid: {"anyOf": [_string(domain._UUID.pattern, format="uuid"), {"type": "null"}]},
    domain.token: _string(domain._TOKEN.pattern),
    domain.version_label: _string(domain._VERSION.pattern),
    domain.sha256_hex: _string(domain._SHA256.pattern),
    domain.boolean: {"type": "boolean"},
    domain.public_key: _string(_BASE64_32, contentEncoding="base64", description="base64 of a 32-byte Ed25519 public key"),
    domain.key_id: _string(_KEY_ID),
    domain.token_list: {"type": "array", "maxItems": 100, "items": _string(domain._TOKEN.pattern)},
    domain.rung_mix: {"type": "array", "minItems": 6, "maxItems": 6, "items": {"type": "integer", "minimum": 0, "maximum": 100},
                      "description": "percentages of referrals per ladder rung 1-6, adding up to 100"},
    identity.validate_kvk: _string(identity._KVK.pattern, description="KvK number: 8 digits"),
    identity.validate_client_ref: _string(identity._CLIENT_REF.pattern, description="HMAC-SHA256 of the BSN, 64 lowercase hex"),
}


def _closure(check: Callable[..., Any]) -> dict[str, Any]:
    code = getattr(check, "__code__", None)
    cells = getattr(check, "__closure__", None) or ()
    return dict(zip(code.co_freevars, (cell.cell_contents for cell in cells))) if code else {}


def check_schema(check: Callable[..., Any], field: str = "?") -> dict[str, Any]:
    """The JSON Schema of one check function; ``UnmappedCheck`` if it has none."""
    if check in SIMPLE:
        return dict(SIMPLE[check])
    name = f"{getattr(check, '__module__', '')}.{getattr(check, '__qualname__', '')}"
    bound = _closure(check)
    if name == f"{domain.__name__}.integer.<locals>.check" and set(bound) == {"low", "high"}:
        return {"type": "integer", "minimum": bound["low"], "maximum": bound["high"]}
    if name == f"{domain.__name__}.optional_integer.<locals>.check" and set(bound) == {"within"}:
        return {"anyOf": [check_schema(bound["within"], field), {"type": "null"}]}
    if name == f"{domain.__name__}.one_of.<locals>.check" and set(bound) == {"choices"}:
        return {"type": "string", "enum": list(bound["choices"])}
    raise UnmappedCheck(f"payload field {field!r}: check {name} has no JSON Schema mapping in api.schemas.payloads")


def schema_name(kind: str) -> str:
    return f"{kind}Payload"


def payload_schema(kind: str, fields: dict[str, Callable[..., Any]] | None = None) -> dict[str, Any]:
    """One payload type: every field required (but the omittable), nothing else allowed, ``type`` fixed to the type."""
    fields = domain.FIELDS[kind] if fields is None else fields
    properties = {name: ({"type": "string", "const": kind, "enum": [kind]} if name == "type" else check_schema(check, f"{kind}.{name}"))
                  for name, check in fields.items()}
    signer = "the operator" if domain.is_registry_type(kind) else "an auditor" if kind in AUDITOR_TYPES else "a funder or provider"
    return {"title": schema_name(kind), "description": f"The payload of a {kind} envelope (signed by {signer})",
            "type": "object", "properties": properties, "required": required_fields(kind, list(fields)),
            "additionalProperties": False}


def required_fields(kind: str, names: Iterable[str]) -> list[str]:
    """Every field but those the type may leave out (``OMITTABLE``: added after payloads were stored)."""
    omittable = domain.OMITTABLE.get(kind, frozenset())
    return [name for name in names if name not in omittable]


def payload_schemas() -> dict[str, dict[str, Any]]:
    """``<Type>Payload`` for every type in ``FIELDS``, keyed by schema name."""
    return {schema_name(kind): payload_schema(kind) for kind in domain.FIELDS}


def payload_union(description: str = "") -> dict[str, Any]:
    """The envelope's ``payload``: one of the payload types, told apart by ``type``."""
    mapping = {kind: REF + schema_name(kind) for kind in domain.FIELDS}
    union: dict[str, Any] = {"oneOf": [{"$ref": ref} for ref in mapping.values()],
                             "discriminator": {"propertyName": "type", "mapping": mapping}}
    if description:
        union["description"] = description
    return union
