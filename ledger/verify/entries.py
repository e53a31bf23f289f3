"""One line of entries.jsonl: its shape, and the payload bytes its envelope signature is over."""

from __future__ import annotations

import re
from typing import Any

from ledger.entry import ACCEPTED, REFUSED
from ledger.envelope import Envelope, parse_envelope
from ledger.errors import MalformedSubmission
from ledger.verify.canonical import dumps
from ledger.verify.errors import MalformedInput

ENTRY_FIELDS = {"envelope", "verdict", "refusal", "recorded_at", "log_index"}
REFUSAL_FIELDS = {"rule", "field", "detail", "conflicting_claim"}
RECORDED_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def entry_shape(body: Any, index: int) -> tuple[Envelope, str, dict[str, Any] | None, str]:
    """(envelope, verdict, refusal, recorded_at), or ``MalformedInput`` (step 2) if the
    parsed line does not have the shape of a recorded entry."""
    if not isinstance(body, dict) or body.keys() != ENTRY_FIELDS:
        raise MalformedInput(2, "entry.shape", f"expected exactly {sorted(ENTRY_FIELDS)}", log_index=index)
    try:
        envelope = parse_envelope(body["envelope"])
    except MalformedSubmission as exc:
        raise MalformedInput(2, exc.rule, f"the envelope: {exc}", log_index=index) from exc
    verdict, refusal, recorded_at = body["verdict"], body["refusal"], body["recorded_at"]
    if not isinstance(body["log_index"], int) or isinstance(body["log_index"], bool):
        raise MalformedInput(2, "entry.log-index", "log_index is not an integer", log_index=index)
    if not isinstance(recorded_at, str) or not RECORDED_AT.fullmatch(recorded_at):
        raise MalformedInput(2, "entry.recorded-at", "recorded_at is not YYYY-MM-DDTHH:MM:SS.ffffffZ", log_index=index)
    if verdict == ACCEPTED and refusal is None:
        return envelope, verdict, refusal, recorded_at
    if verdict == REFUSED and isinstance(refusal, dict) and refusal.keys() == REFUSAL_FIELDS \
            and isinstance(refusal["rule"], str) and all(v is None or isinstance(v, str) for v in refusal.values()):
        return envelope, verdict, refusal, recorded_at
    raise MalformedInput(2, "entry.verdict", "an accepted entry has no refusal; a refused one has "
                         "{rule, field, detail, conflicting_claim} of strings or nulls", log_index=index)


def payload_bytes(leaf: bytes, envelope: Envelope) -> bytes:
    """The payload's canonical bytes (what its signature is over), cut from the entry's line.

    The line is canonical, so it begins with the envelope (the first key), whose payload
    follows key_id and precedes signature and submitter; RFC 8785 is compositional, so those
    bytes are the payload's canonical bytes. The end marker cannot occur later in the line:
    what follows the envelope is an integer, strings (where quotes are escaped) and a refusal
    of strings or nulls (``entry_shape``). Anything unexpected falls back to serialising."""
    prefix = b'{"envelope":{"key_id":' + dumps(envelope.key_id) + b',"payload":'
    end = leaf.rfind(b',"signature":' + dumps(envelope.signature) + b',"submitter":' + dumps(envelope.submitter)
                     + b'},"log_index":')
    if end > len(prefix) and leaf.startswith(prefix):
        return leaf[len(prefix):end]
    return dumps(envelope.payload)
