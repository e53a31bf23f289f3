"""HTTP Message Signatures (RFC 9421) with Structured Field values (RFC 8941) and
Content-Digest (RFC 9530): the primitives a signed request is built from. The SDK signs
with them and the server (``api.signatures``) rebuilds the same signature base to verify.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.envelope import key_id_for, public_key_bytes

SIGNATURE_LABEL = "sig1"


def content_digest(body: bytes) -> str:
    """The Content-Digest field value for a body: ``sha-256=:<base64>:`` (RFC 9530)."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def sf_string(value: str) -> str:
    """An RFC 8941 sf-string: printable ASCII in quotes, with ``\\`` and ``"`` escaped."""
    if any(not " " <= ch <= "~" for ch in value):
        raise ValueError("an sf-string holds printable ASCII only")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_signature_params(components: Sequence[str], params: Sequence[tuple[str, int | str]]) -> str:
    """The ``@signature-params`` value: an inner list of component names with parameters,
    e.g. ``("@method" "@path" "@query");created=1700000000;keyid="ed25519:..."``."""
    text = "(" + " ".join(sf_string(name) for name in components) + ")"
    for name, value in params:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError(f"signature parameter {name} must be an integer or a string")
        text += f";{name}={value}" if isinstance(value, int) else f";{name}={sf_string(value)}"
    return text


def signature_base(components: Sequence[tuple[str, str]], signature_params: str) -> bytes:
    """RFC 9421 §2.5: one ``"<name>": <value>`` line per covered component, then the
    ``"@signature-params"`` line, without a final newline. ASCII only."""
    if any("\n" in value for _, value in components):
        raise ValueError("a component value may not contain a newline")
    lines = [f"{sf_string(name)}: {value}" for name, value in components]
    lines.append(f'"@signature-params": {signature_params}')
    return "\n".join(lines).encode("ascii")


def signature_headers(
    method: str, raw_path: str, raw_query: str, body: bytes, private_key: Ed25519PrivateKey,
    created: int, expires: int, label: str = SIGNATURE_LABEL,
) -> dict[str, str]:
    """Signature-Input, Signature (and Content-Digest when there is a body) for one request,
    covering ``@method``, ``@path``, ``@query`` and ``content-digest``."""
    headers: dict[str, str] = {}
    components = [("@method", method.upper()), ("@path", raw_path or "/"), ("@query", "?" + raw_query)]
    if body:
        headers["Content-Digest"] = content_digest(body)
        components.append(("content-digest", headers["Content-Digest"]))
    key_id = key_id_for(public_key_bytes(private_key))
    params = serialize_signature_params(
        [name for name, _ in components],
        [("created", created), ("expires", expires), ("keyid", key_id), ("alg", "ed25519")],
    )
    signature = private_key.sign(signature_base(components, params))
    headers["Signature-Input"] = f"{label}={params}"
    headers["Signature"] = f"{label}=:{base64.b64encode(signature).decode('ascii')}:"
    return headers
