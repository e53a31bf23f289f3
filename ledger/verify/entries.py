"""One line of entries.jsonl: canonical JSON of a recorded entry, and the bytes cut from it
that signatures are over (the payload's, for the envelope; the members a receipt repeats)."""

from __future__ import annotations

import binascii
import re
from typing import Any, NamedTuple

from ledger.bundle import layout
from ledger.domain.entry import ACCEPTED, REFUSED
from ledger.domain.envelope import ENVELOPE_FIELDS, b64decode, parse_envelope
from ledger.domain.errors import MalformedSubmission
from ledger.verify.canonical import CanonicalError, dumps, loads
from ledger.verify.errors import MalformedInput

ENTRY_FIELDS = {"envelope", "verdict", "refusal", "recorded_at", "log_index"}
REFUSAL_FIELDS = {"rule", "field", "detail", "conflicting_claim"}
RECORDED_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
_ENVELOPE_KEYS = set(ENVELOPE_FIELDS)
_SIGNATURE = re.compile(r"[A-Za-z0-9+/]{85}[AQgw]==")  # canonical base64 of 64 bytes
_KEY_ID_AT = b'{"envelope":{"key_id":"'
_PAYLOAD_AT = b'","payload":'  # the end of the key_id string, the start of the payload
_SIGNATURE_KEY = b',"signature":"'
_ENVELOPE_END = b'},"log_index":'
_VERDICT_KEY = b',"verdict":'
_VERDICT_MEMBERS = {verdict: b',"verdict":"' + verdict.encode("ascii") + b'"}' for verdict in (ACCEPTED, REFUSED)}
_NAME = rb'[\x20\x21\x23-\x5b\x5d-\x7e]{1,100}'  # a key id or submitter that is canonical JSON text as it stands
_HEAD = re.compile(rb'\{"envelope":\{"key_id":"(' + _NAME + rb')","payload":')
_TAIL = re.compile(rb',"signature":"([A-Za-z0-9+/]{85}[AQgw]==)","submitter":"(' + _NAME + rb')"\},"log_index":'
                   rb'(0|[1-9][0-9]{0,14}),"recorded_at":"([0-9]{4}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
                   rb'\.[0-9]{6}Z)","refusal":(?:null,"verdict":"accepted"|(\{.*\}),"verdict":"refused")\}')


class Entry(NamedTuple):
    """A line of entries.jsonl, parsed: the envelope's parts (the signature decoded), the
    ledger's verdict, and bytes cut from the line."""

    payload: dict[str, Any]
    submitter: str
    key_id: str
    signature: bytes
    verdict: str
    refusal: dict[str, Any] | None
    recorded_at: str
    log_index: int
    signed_payload: bytes  # the payload's canonical bytes: what the envelope's signature is over
    members: bytes  # ',"log_index":N,"recorded_at":"...","refusal":...' as a receipt repeats them
    verdict_member: bytes  # ',"verdict":"..."}', the line's (and its receipt's) last member


def read_entry(leaf: bytes, index: int) -> Entry:
    """Line ``index`` (without its newline), or ``MalformedInput`` (step 2) if it is not
    canonical JSON of the shape of a recorded entry."""
    entry = plain_entry(leaf)
    return parsed_entry(leaf, index) if entry is None else entry


def plain_entry(leaf: bytes) -> Entry | None:
    """``parsed_entry`` for a plainly right line (the usual case), or None to leave the line
    to it. Such a line is the entry template with its parts in place:

        {"envelope":{"key_id":"K","payload":P,"signature":"S","submitter":"U"},
         "log_index":N,"recorded_at":"R","refusal":F,"verdict":"V"}

    where K and U are 1 to 100 printable ASCII characters other than a quote or backslash
    (canonical as they stand), S is canonical base64 of 64 bytes, N an integer of at most
    15 digits, R matches ``RECORDED_AT``, and P and F (when not ``null``) are canonical JSON
    by ``loads``: P an object, F a refusal. The line is then the canonical encoding of the
    entry those parts make (whichever ``,"signature":"`` the parts were cut at), so parsing
    the whole line gives the same entry and the same cut bytes; only P and F are parsed."""
    head = _HEAD.match(leaf)
    if head is None:
        return None
    payload_at = head.end()
    signature_key_at = leaf.rfind(_SIGNATURE_KEY)
    tail = _TAIL.fullmatch(leaf, signature_key_at) if signature_key_at > payload_at else None
    if tail is None:
        return None
    signature, submitter, log_index, recorded_at, refusal_text = tail.groups()
    signed_payload = leaf[payload_at:signature_key_at]
    try:
        payload = loads(signed_payload)
        refusal = None if refusal_text is None else loads(refusal_text)
    except CanonicalError:
        return None
    if type(payload) is not dict or refusal_text is not None and not _is_refusal(refusal):
        return None
    verdict = ACCEPTED if refusal_text is None else REFUSED
    verdict_member = _VERDICT_MEMBERS[verdict]
    return Entry(payload, submitter.decode("ascii"), head[1].decode("ascii"), binascii.a2b_base64(signature), verdict,
                 refusal, recorded_at.decode("ascii"), int(log_index), signed_payload,
                 leaf[tail.end(2) + 2:len(leaf) - len(verdict_member)], verdict_member)


def parsed_entry(leaf: bytes, index: int) -> Entry:
    """``read_entry`` for any line: parsed whole, each part checked, failures named."""
    try:
        body = loads(leaf)
    except CanonicalError as exc:
        raise MalformedInput(2, exc.rule, f"{layout.ENTRIES} line {index + 1}: {exc}", log_index=index) from exc
    payload, submitter, key_id, signature, verdict, refusal, recorded_at, log_index = _shape(body, index)
    return Entry(payload, submitter, key_id, signature, verdict, refusal, recorded_at, log_index,
                 *_cut(leaf, payload, verdict, refusal, recorded_at, log_index))


def _shape(body: Any, index: int) -> tuple[Any, ...]:
    """The parts of a parsed line. The envelope is checked as ``ledger.domain.envelope.parse_envelope``
    does; one that is not plainly right (exact fields, strings, canonical base64 of a 64-byte
    signature) goes to ``parse_envelope`` itself, which accepts it or says why not."""
    if type(body) is not dict or body.keys() != ENTRY_FIELDS:
        raise MalformedInput(2, "entry.shape", f"expected exactly {sorted(ENTRY_FIELDS)}", log_index=index)
    envelope = body["envelope"]
    if type(envelope) is dict and envelope.keys() == _ENVELOPE_KEYS and type(envelope["payload"]) is dict \
            and type(submitter := envelope["submitter"]) is str and 0 < len(submitter) <= 100 \
            and type(key_id := envelope["key_id"]) is str and 0 < len(key_id) <= 100 \
            and type(text := envelope["signature"]) is str and _SIGNATURE.fullmatch(text):
        payload, signature = envelope["payload"], binascii.a2b_base64(text)
    else:
        try:
            parsed = parse_envelope(envelope)
            signature = b64decode(parsed.signature, "signature", 64)
        except MalformedSubmission as exc:
            raise MalformedInput(2, exc.rule, f"the envelope: {exc}", log_index=index) from exc
        payload, submitter, key_id = parsed.payload, parsed.submitter, parsed.key_id
    verdict, refusal, recorded_at, log_index = body["verdict"], body["refusal"], body["recorded_at"], body["log_index"]
    if type(log_index) is not int:
        raise MalformedInput(2, "entry.log-index", "log_index is not an integer", log_index=index)
    if type(recorded_at) is not str or not RECORDED_AT.fullmatch(recorded_at):
        raise MalformedInput(2, "entry.recorded-at", "recorded_at is not YYYY-MM-DDTHH:MM:SS.ffffffZ", log_index=index)
    if verdict == ACCEPTED and refusal is None or verdict == REFUSED and _is_refusal(refusal):
        return payload, submitter, key_id, signature, verdict, refusal, recorded_at, log_index
    raise MalformedInput(2, "entry.verdict", "an accepted entry has no refusal; a refused one has "
                         "{rule, field, detail, conflicting_claim} of strings or nulls", log_index=index)


def _is_refusal(refusal: Any) -> bool:
    return type(refusal) is dict and refusal.keys() == REFUSAL_FIELDS and type(refusal["rule"]) is str \
        and all(v is None or type(v) is str for v in refusal.values())


def _cut(leaf: bytes, payload: dict[str, Any], verdict: str, refusal: dict[str, Any] | None, recorded_at: str,
         log_index: int) -> tuple[bytes, bytes, bytes]:
    """(signed_payload, members, verdict_member), cut from a line that is canonical and has
    the entry's shape:

        {"envelope":{"key_id":"...","payload":{...},"signature":"...","submitter":"..."},
         "log_index":N,"recorded_at":"...","refusal":...,"verdict":"..."}

    RFC 8785 is compositional, so each member's bytes are its canonical bytes. In canonical
    JSON a quote inside a string is escaped, so the first ``","payload":`` ends the key_id
    string; and the last ``},"log_index":`` ends the envelope, the last ``,"signature":"``
    before it is the envelope's, and the last ``,"verdict":`` is the entry's, because what
    follows each is strings, an integer and a refusal of strings or nulls. Should a cut not
    be found, the bytes are serialised instead."""
    envelope_end = leaf.rfind(_ENVELOPE_END)
    verdict_at = leaf.rfind(_VERDICT_KEY)
    payload_at = leaf.find(_PAYLOAD_AT, len(_KEY_ID_AT)) + len(_PAYLOAD_AT)
    signature_at = leaf.rfind(_SIGNATURE_KEY, payload_at, envelope_end)
    if leaf.startswith(_KEY_ID_AT) and len(_PAYLOAD_AT) < payload_at < signature_at < envelope_end < verdict_at:
        return leaf[payload_at:signature_at], leaf[envelope_end + 1:verdict_at], leaf[verdict_at:]
    members = (b',"log_index":' + dumps(log_index) + b',"recorded_at":' + dumps(recorded_at) + b',"refusal":'
               + dumps(refusal))
    return dumps(payload), members, b',"verdict":' + dumps(verdict) + b"}"
