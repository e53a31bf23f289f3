"""A recorded entry: one signed submission and the ledger's verdict on it.

Every recorded entry (accepted or refused) is one leaf of the transparency log. The leaf
bytes are the RFC 8785 canonical JSON of the entry plus its dense ``log_index``, so anyone
can recompute the tree from an export with a few lines of code.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timezone
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any
from zoneinfo import ZoneInfo

from ledger.domain.canonical import canonical_bytes

LEDGER_TZ = ZoneInfo("Europe/Amsterdam")
_RECORDED_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:[0-5]\d:[0-5]\d\.\d{6}Z")
ACCEPTED = "accepted"
REFUSED = "refused"


def entry_body(envelope: dict[str, Any], verdict: str, refusal: dict[str, Any] | None, recorded_at: str) -> dict[str, Any]:
    return {"envelope": envelope, "verdict": verdict, "refusal": refusal, "recorded_at": recorded_at}


def leaf_bytes(body: dict[str, Any], log_index: int) -> bytes:
    return canonical_bytes({**body, "log_index": log_index})


_BODY_KEYS = frozenset(("envelope", "verdict", "refusal", "recorded_at"))
_ENVELOPE_KEYS = frozenset(("payload", "submitter", "key_id", "signature"))


def entry_text(body: dict[str, Any], payload_text: bytes | None = None) -> tuple[bytes, bytes] | None:
    """The canonical JSON of an entry body split where its leaf's "log_index" goes:
    ``head + tail == canonical_bytes(body)`` and
    ``head + b',"log_index":' + str(n) + tail == leaf_bytes(body, n)``.

    RFC 8785 writes an object as its members sorted by key, each value canonical on its
    own, so the text is put together from its parts - reusing ``payload_text``, the
    payload's canonical bytes already made to check its signature. None for a body of
    another shape than ``entry_body`` makes."""
    envelope = body.get("envelope")
    if body.keys() == _BODY_KEYS and type(envelope) is dict and envelope.keys() == _ENVELOPE_KEYS:
        payload = canonical_bytes(envelope["payload"]) if payload_text is None else payload_text
        head = b"".join((b'{"envelope":{"key_id":', _string(envelope["key_id"]), b',"payload":', payload,
                         b',"signature":', _string(envelope["signature"]),
                         b',"submitter":', _string(envelope["submitter"]), b"}"))
        refusal = body["refusal"]
        tail = b"".join((b',"recorded_at":', _string(body["recorded_at"]), b',"refusal":',
                         b"null" if refusal is None else canonical_bytes(refusal), b',"verdict":',
                         _string(body["verdict"]), b"}"))
        return head, tail
    return None


def _string(value: Any) -> bytes:
    """``canonical_bytes(value)``; for ASCII text (ids, the signature, the verdict, the time)
    without its checks: RFC 8785 escapes such text as the standard library does - the quote,
    the backslash, and control characters as \\b \\t \\n \\f \\r or \\u00xx in lower case."""
    if type(value) is str and value.isascii():
        return encode_basestring(value).encode("ascii")
    return canonical_bytes(value)


def leaf_from_text(text: tuple[bytes, bytes], log_index: int) -> bytes:
    """``leaf_bytes`` of the body whose ``entry_text`` is ``text``."""
    return b"%s,\"log_index\":%d%s" % (text[0], log_index, text[1])


def now_utc() -> str:
    """recorded_at: UTC, microseconds, ISO 8601 with 'Z'."""
    return utc_text(time.time_ns() // 1000)


def utc_text(microseconds: int) -> str:
    """A POSIX time in microseconds as recorded_at text (what ``datetime.strftime`` gives
    with "%Y-%m-%dT%H:%M:%S.%fZ", with the date part formatted once per second)."""
    seconds, micros = divmod(microseconds, 1_000_000)
    return f"{_utc_second(seconds)}.{micros:06d}Z"


@lru_cache(maxsize=4)
def _utc_second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def recording_date(recorded_at: str) -> date:
    """The day (in the Netherlands) on which an entry was recorded: 'today' for the rules."""
    if not _RECORDED_AT.fullmatch(recorded_at):
        raise ValueError(f"recorded_at {recorded_at!r} is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
    return _local_date(recorded_at[:13])


@lru_cache(maxsize=64)
def _local_date(utc_hour: str) -> date:
    """The local date of a UTC hour ('YYYY-MM-DDTHH'): Dutch time is UTC plus whole hours."""
    moment = datetime.strptime(utc_hour, "%Y-%m-%dT%H").replace(tzinfo=timezone.utc)
    return moment.astimezone(LEDGER_TZ).date()
