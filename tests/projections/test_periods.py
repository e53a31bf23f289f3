"""Calendar arithmetic the definitions rely on."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections.periods import add_months, lasts_six_months, next_day, overlaps, quarter_end, six_months_through


@pytest.mark.parametrize(("day", "months", "expected"), [
    ("2024-08-31", 6, "2025-02-28"),  # clamped to the month's last day
    ("2023-08-31", 6, "2024-02-29"),  # a leap year
    ("2024-01-15", 6, "2024-07-15"),
    ("2024-11-30", 3, "2025-02-28"),
    ("2024-03-31", -12, "2023-03-31"),
])
def test_add_months(day: str, months: int, expected: str) -> None:
    assert add_months(day, months) == expected


def test_six_months_counts_the_last_day_as_worked() -> None:
    assert six_months_through("2024-01-15") == "2024-07-14"
    assert lasts_six_months("2024-03-01", "2024-08-31")
    assert not lasts_six_months("2024-03-01", "2024-08-30")


@pytest.mark.parametrize(("day", "later", "expected"), [
    ("2024-05-15", 0, "2024-06-30"),
    ("2024-05-15", 2, "2024-12-31"),
    ("2024-11-01", 2, "2025-06-30"),
    ("2024-01-01", 1, "2024-06-30"),
])
def test_quarter_end(day: str, later: int, expected: str) -> None:
    assert quarter_end(day, later) == expected


def test_overlaps_with_open_ends() -> None:
    assert overlaps("2024-01-01", "2024-03-01", "2024-03-01", None)
    assert not overlaps("2024-01-01", "2024-02-29", "2024-03-01", None)
    assert overlaps("2024-01-01", None, "2020-01-01", "2024-01-01")


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)), st.integers(-60, 60))
def test_add_months_moves_by_whole_months_and_back_within_the_clamp(day: date, months: int) -> None:
    moved = date.fromisoformat(add_months(day.isoformat(), months))
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day == day.day or (moved.day < day.day and (moved + timedelta(days=1)).day == 1)
    assert next_day(day.isoformat()) == (day + timedelta(days=1)).isoformat()
