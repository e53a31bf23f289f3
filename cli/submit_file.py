"""``trajectledger submit FILE``: the payloads in a file, signed into envelopes that are the
same every time the file is submitted.

A payload without an ``envelope_id`` gets one derived from the submitting party and the
payload itself (UUIDv5 over the RFC 8785 canonical JSON of ``{"submitter", "payload"}``), so
running a file again sends the same envelopes, and the ledger answers each one it recorded
before with its original receipt: nothing is recorded twice. A file that partly failed can be
fixed and run again; only the payloads that changed are new submissions. The consequence:
two identical payloads (in one file or in two) are one submission. Two genuinely identical
events are submitted by giving each its own ``envelope_id``, which is then used as given.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.canonical import canonical_bytes
from ledger.domain.envelope import Envelope, load_private_key, sign

# Fixed for good: another namespace would make every file already submitted new again.
SUBMIT_NAMESPACE = uuid.UUID("6f1c0d3e-8b52-4c7a-9e14-2a5b7c9d0e31")


def read_payloads(path: Path) -> list[dict[str, Any]]:
    """The payloads in a JSON file: one object or a list of them."""
    data = json.loads(path.read_text(encoding="utf-8"))
    payloads = data if isinstance(data, list) else [data]
    for number, payload in enumerate(payloads):
        if not isinstance(payload, dict):
            raise ValueError(f"{path}: item {number} is not a JSON object (a payload)")
    return payloads


def read_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        return load_private_key(path.read_bytes())
    except ValueError as exc:
        raise ValueError(f"--key {path}: {exc}") from exc


def derived_envelope_id(submitter: str, payload: dict[str, Any]) -> str:
    """The envelope id of a payload that carries none: the same party and payload, the same id."""
    name = canonical_bytes({"submitter": submitter, "payload": payload}).decode("utf-8")
    return str(uuid.uuid5(SUBMIT_NAMESPACE, name))


def signed_envelopes(payloads: list[dict[str, Any]], submitter: str, key: Ed25519PrivateKey) -> list[Envelope]:
    """Each payload signed, with its own ``envelope_id`` or the derived one."""
    return [sign(payload if "envelope_id" in payload else
                 {"envelope_id": derived_envelope_id(submitter, payload), **payload}, submitter, key)
            for payload in payloads]
