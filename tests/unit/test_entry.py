"""recorded_at and the Dutch calendar day the rules use as 'today'."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.entry import LEDGER_TZ, now_utc, recording_date, utc_text

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
