"""recorded_at and the Dutch calendar day the rules use as 'today'."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.canonical import canonical_bytes
from ledger.domain.entry import LEDGER_TZ, entry_body, entry_text, leaf_bytes, leaf_from_text, now_utc, recording_date, utc_text
from tests.strategies import JSON_VALUES, TEXT

MOMENTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1))


@given(MOMENTS)
def test_recorded_at_text_is_what_strftime_gives(moment: datetime) -> None:
    utc = moment.replace(tzinfo=timezone.utc)
    micros = int(utc.timestamp()) * 1_000_000 + utc.microsecond
    assert utc_text(micros) == utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_now_is_now() -> None:
    before = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    now = now_utc()
    assert before <= now <= datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    recording_date(now)  # a well-formed recorded_at


@given(MOMENTS)
def test_recording_date_is_the_day_in_amsterdam(moment: datetime) -> None:
    recorded_at = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert recording_date(recorded_at) == moment.replace(tzinfo=timezone.utc).astimezone(LEDGER_TZ).date()


@pytest.mark.parametrize("recorded_at, day", [
    ("2026-03-29T00:59:59.999999Z", "2026-03-29"),  # 01:59 CET, the night summer time starts
    ("2026-03-28T22:59:59.999999Z", "2026-03-28"),
    ("2026-10-24T21:59:59.999999Z", "2026-10-24"),  # 23:59 CEST
    ("2026-10-24T22:00:00.000000Z", "2026-10-25"),
])
def test_around_the_clock_changes(recorded_at: str, day: str) -> None:
    assert recording_date(recorded_at).isoformat() == day


@pytest.mark.parametrize("recorded_at", ["2026-06-30T22:00:00Z", "2026-06-30 22:00:00.000000Z", "2026-06-30T22:00:00.000000Z\n"])
def test_other_spellings_are_refused(recorded_at: str) -> None:
    with pytest.raises(ValueError):
        recording_date(recorded_at)


ENVELOPES = st.fixed_dictionaries({"payload": st.dictionaries(TEXT, JSON_VALUES, max_size=5), "submitter": TEXT,
                                   "key_id": TEXT, "signature": TEXT})
BODIES = st.builds(entry_body, ENVELOPES, st.sampled_from(["accepted", "refused"]),
                   st.none() | st.dictionaries(TEXT, JSON_VALUES, max_size=3), TEXT)


@given(BODIES, st.integers(min_value=0, max_value=2**53 - 1), st.booleans())
def test_entry_text_is_the_canonical_body_and_leaf(body: dict[str, Any], index: int, reuse_payload: bool) -> None:
    payload_text = canonical_bytes(body["envelope"]["payload"]) if reuse_payload else None
    text = entry_text(body, payload_text)
    assert text is not None
    assert text[0] + text[1] == canonical_bytes(body)
    assert leaf_from_text(text, index) == leaf_bytes(body, index)


@given(BODIES, st.sampled_from(["envelope", "verdict", "extra"]))
def test_entry_text_declines_other_shapes(body: dict[str, Any], change: str) -> None:
    if change == "extra":
        body = {**body, "log_index": 3}
    elif change == "envelope":
        body = {**body, "envelope": {**body["envelope"], "note": "x"}}
    else:
        body = {k: v for k, v in body.items() if k != "verdict"}
    assert entry_text(body) is None
