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
from typing import Any
from zoneinfo import ZoneInfo

from ledger.canonical import canonical_bytes

LEDGER_TZ = ZoneInfo("Europe/Amsterdam")
_RECORDED_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:[0-5]\d:[0-5]\d\.\d{6}Z")
ACCEPTED = "accepted"
REFUSED = "refused"


def entry_body(envelope: dict[str, Any], verdict: str, refusal: dict[str, Any] | None, recorded_at: str) -> dict[str, Any]:
    return {"envelope": envelope, "verdict": verdict, "refusal": refusal, "recorded_at": recorded_at}


def leaf_bytes(body: dict[str, Any], log_index: int) -> bytes:
    return canonical_bytes({**body, "log_index": log_index})


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
